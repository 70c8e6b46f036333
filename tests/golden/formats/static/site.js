// Copy buttons: the value sits in a data attribute (escaped by the template), never in code.
"use strict";
document.addEventListener("click", function (event) {
  var button = event.target.closest ? event.target.closest("button.copy") : null;
  if (!button) return;
  var value = button.getAttribute("data-copy") || "";
  var done = function () { button.textContent = "Copied"; setTimeout(function () { button.textContent = "Copy"; }, 1500); };
  if (navigator.clipboard && navigator.clipboard.writeText) {
    navigator.clipboard.writeText(value).then(done, function () { button.textContent = "Copy failed"; });
  } else {
    button.textContent = "Copy failed";
  }
});
