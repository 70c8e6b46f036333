// The links above assume the site's published path. Served elsewhere (another host, a fork, a local copy),
// the site's root is the nearest folder above this URL that holds the search index.
"use strict";
(function () {
  var parts = location.pathname.split("/").slice(0, -1), tries = [];
  for (var n = parts.length; n >= 1; n--) tries.push(parts.slice(0, n).join("/") + "/");
  function next(i) {
    if (i >= tries.length) return;
    fetch(tries[i] + "search-index.json", { method: "HEAD" }).then(function (r) {
      if (!r.ok) throw new Error(String(r.status));
      document.querySelectorAll("a[data-path]").forEach(function (a) { a.href = tries[i] + a.getAttribute("data-path"); });
    }).catch(function () { next(i + 1); });
  }
  if (location.protocol !== "file:") next(0);
})();
