// Home page: instant search, facet filters, sorting and a table view over the slim search index.
// All data goes into the page through textContent and attributes, never through innerHTML.
"use strict";
(function () {
  var PAGE = 48;
  var STATUS = { p: ["passed", "\u2713"], f: ["failed", "\u2717"], n: ["not-applicable", "\u2013"], u: ["untested", "?"] };
  var LISTS = ["type", "tag", "tool", "license"];
  var root = document.getElementById("browse");
  var form = document.getElementById("filters");
  var input = document.getElementById("q");
  var sortSelect = document.getElementById("sort");
  var countEl = document.getElementById("count");
  var cardsEl = document.getElementById("cards");
  var tableEl = document.getElementById("table");
  var moreEl = document.getElementById("more");
  var groupsEl = document.getElementById("facet-groups");
  var counted = {}, data, items, orders = {}, state = emptyState(), shown = PAGE, results = [];

  function emptyState() { return { q: "", type: [], tag: [], tool: [], license: [], sort: "downloads", view: "cards" }; }
  function norm(s) { return String(s).toLowerCase().replace(/[-_]/g, ""); }
  function el(tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text != null) e.textContent = text; return e; }

  function prepare(index) {
    data = index;
    items = index.items.map(function (it, n) {
      it.n_ = n;
      it.hay = norm([it.n, it.k || "", it.i, it.d, (it.g || []).join(" "), (it.a || []).join(" ")].join("\u0001"));
      return it;
    });
    var byName = function (a, b) { return a.n < b.n ? -1 : a.n > b.n ? 1 : 0; };
    orders.name = items.slice().sort(byName);
    orders.downloads = items.slice().sort(function (a, b) { return (b.c - a.c) || byName(a, b); });
    orders.newest = items.slice().sort(function (a, b) { return a.r < b.r ? 1 : a.r > b.r ? -1 : byName(a, b); });
  }

  function readUrl() {
    var params = new URLSearchParams(location.search), s = emptyState();
    s.q = params.get("q") || "";
    LISTS.forEach(function (k) { s[k] = params.getAll(k); });
    if (orders[params.get("sort")]) s.sort = params.get("sort");
    if (params.get("view") === "table") s.view = "table";
    return s;
  }

  function writeUrl() {
    var params = new URLSearchParams();
    if (state.q) params.set("q", state.q);
    LISTS.forEach(function (k) { state[k].forEach(function (v) { params.append(k, v); }); });
    if (state.sort !== "downloads") params.set("sort", state.sort);
    if (state.view !== "cards") params.set("view", state.view);
    var query = params.toString();
    var url = location.pathname + (query ? "?" + query : "");
    if (url !== location.pathname + location.search) history.replaceState(null, "", url);
  }

  // Does `it` pass the filter of facet `only`? (the text terms are checked by the caller)
  function matches(it, terms, skip, only) {
    var j;
    if (only === "type") return !state.type.length || state.type.indexOf(it.t) >= 0;
    if (only === "license") return !state.license.length || state.license.indexOf(it.l || "") >= 0;
    if (only === "tag") { for (j = 0; j < state.tag.length; j++) if ((it.g || []).indexOf(state.tag[j]) < 0) return false; return true; }
    for (j = 0; j < state.tool.length; j++) if (it.s[state.tool[j]] !== "p") return false;
    return true;
  }

  function update() {
    var t0 = performance.now();
    var terms = state.q.split(/\s+/).map(norm).filter(Boolean);
    // One pass: an item counts for a facet when it passes every other filter (facet counts stay honest).
    var c = { type: {}, license: {}, tag: {}, tool: {} };
    var add = function (k, v) { if (v) c[k][v] = (c[k][v] || 0) + 1; };
    results = [];
    orders[state.sort].forEach(function (it) {
      for (var i = 0; i < terms.length; i++) if (it.hay.indexOf(terms[i]) < 0) return;
      var ok = { type: matches(it, [], "all", "type"), license: matches(it, [], "all", "license"),
                 tag: matches(it, [], "all", "tag"), tool: matches(it, [], "all", "tool") };
      var fails = LISTS.filter(function (k) { return !ok[k]; });
      if (!fails.length) results.push(it);
      if (fails.length > 1) return;
      if (!fails.length || fails[0] === "type") add("type", it.t);
      if (!fails.length || fails[0] === "license") add("license", it.l || "");
      if (!fails.length || fails[0] === "tag") (it.g || []).forEach(function (t) { add("tag", t); });
      if (!fails.length || fails[0] === "tool") Object.keys(it.s).forEach(function (t) { if (it.s[t] === "p") add("tool", t); });
    });
    counted = c;
    renderFacets();
    renderResults();
    writeUrl();
    window.__lastUpdateMs = performance.now() - t0;
  }


  function facet(title, key, values, label, limit) {
    var fs = el("fieldset"); fs.appendChild(el("legend", null, title));
    var list = Object.keys(values).sort(function (a, b) { return (values[b] - values[a]) || (a < b ? -1 : 1); });
    state[key].forEach(function (v) { if (list.indexOf(v) < 0) list.unshift(v); });
    list.slice(0, limit || 1e9).forEach(function (v) {
      var lab = el("label"), box = el("input");
      box.type = "checkbox"; box.name = key; box.value = v; box.checked = state[key].indexOf(v) >= 0;
      lab.appendChild(box); lab.appendChild(document.createTextNode(" " + (label ? label(v) : v) + " "));
      lab.appendChild(el("span", "count", "(" + (values[v] || 0) + ")"));
      fs.appendChild(lab);
    });
    if (list.length) groupsEl.appendChild(fs);
  }

  function renderFacets() {
    groupsEl.textContent = "";
    facet("Type", "type", counted.type);
    facet("Works with", "tool", counted.tool, function (t) { return data.tools[t] || t; });
    facet("Licence", "license", counted.license, null, 12);
    var tags = counted.tag, grouped = {};
    Object.keys(tags).forEach(function (t) { var c = data.categories[t] || "other"; (grouped[c] = grouped[c] || {})[t] = tags[t]; });
    state.tag.forEach(function (t) { var c = data.categories[t] || "other"; grouped[c] = grouped[c] || {}; });
    Object.keys(grouped).sort(function (a, b) { return a === "other" ? 1 : b === "other" ? -1 : a < b ? -1 : 1; })
      .forEach(function (c) {
        var sub = {}; Object.keys(grouped[c]).forEach(function (t) { sub[t] = grouped[c][t]; });
        var saved = state.tag; state.tag = saved.filter(function (t) { return (data.categories[t] || "other") === c; });
        facet("Tags: " + c, "tag", sub, null, 12);
        state.tag = saved;
      });
  }

  function badges(it, parent) {
    Object.keys(it.s).forEach(function (tool) {
      var st = STATUS[it.s[tool]] || STATUS.u, name = data.tools[tool] || tool;
      var b = el("span", "status status-" + st[0]);
      b.title = name + ": " + st[0];
      var icon = el("span", null, st[1]); icon.setAttribute("aria-hidden", "true");
      b.appendChild(icon); b.appendChild(document.createTextNode(" " + name));
      b.appendChild(el("span", "visually-hidden", ": " + st[0]));
      parent.appendChild(b);
    });
  }

  function link(it) { var a = el("a", null, it.n); a.href = "resources/" + it.i + "/index.html"; return a; }

  function card(it) {
    var li = el("li", "card"), img = el("img");
    img.src = it.h || "static/placeholder.svg"; img.alt = it.h ? "Cover of " + it.n : ""; img.loading = "lazy";
    li.appendChild(img);
    var body = el("div", "body"), h = el("h2");
    if (it.e) { var ic = el("span", null, it.e + " "); ic.setAttribute("aria-hidden", "true"); h.appendChild(ic); }
    h.appendChild(link(it)); body.appendChild(h);
    body.appendChild(el("p", "meta", [it.t, it.k, it.l].filter(Boolean).join(" \u00b7 ")));
    body.appendChild(el("p", "desc", it.d));
    var tags = el("ul", "tags");
    (it.g || []).slice(0, 4).forEach(function (t) {
      var b = el("button", "tag", t); b.type = "button"; b.setAttribute("data-tag", t);
      b.setAttribute("aria-label", "Filter by tag " + t);
      var li2 = el("li"); li2.appendChild(b); tags.appendChild(li2);
    });
    body.appendChild(tags);
    var st = el("p", "meta"); badges(it, st); body.appendChild(st);
    li.appendChild(body);
    return li;
  }

  function row(it) {
    var tr = el("tr"), name = el("th"); name.scope = "row"; name.appendChild(link(it)); tr.appendChild(name);
    tr.appendChild(el("td", null, it.t));
    var tools = el("td"); badges(it, tools); tr.appendChild(tools);
    tr.appendChild(el("td", null, it.l || ""));
    tr.appendChild(el("td", null, String(it.c)));
    tr.appendChild(el("td", null, it.r));
    return tr;
  }

  function renderResults() {
    countEl.textContent = results.length + " of " + items.length + " resources";
    var page = results.slice(0, shown), frag = document.createDocumentFragment();
    var table = state.view === "table";
    page.forEach(function (it) { frag.appendChild(table ? row(it) : card(it)); });
    cardsEl.textContent = ""; tableEl.tBodies[0].textContent = "";
    (table ? tableEl.tBodies[0] : cardsEl).appendChild(frag);
    cardsEl.hidden = table; tableEl.hidden = !table;
    moreEl.hidden = results.length <= shown;
  }

  function syncForm() {
    input.value = state.q; sortSelect.value = state.sort;
    form.querySelectorAll("input[name=view]").forEach(function (r) { r.checked = r.value === state.view; });
  }

  function start(index) {
    prepare(index);
    state = readUrl(); syncForm(); update();
    input.addEventListener("input", function () { state.q = input.value; shown = PAGE; update(); });
    sortSelect.addEventListener("change", function () { state.sort = sortSelect.value; shown = PAGE; update(); });
    form.addEventListener("change", function (e) {
      var t = e.target;
      if (t.name === "view") { state.view = t.value; update(); return; }
      if (LISTS.indexOf(t.name) < 0) return;
      var list = state[t.name].filter(function (v) { return v !== t.value; });
      if (t.checked) list.push(t.value);
      state[t.name] = list; shown = PAGE; update();
      var again = form.querySelector("input[name=" + t.name + "][value=\"" + CSS.escape(t.value) + "\"]");
      if (again) again.focus();
    });
    form.addEventListener("submit", function (e) { e.preventDefault(); });
    cardsEl.addEventListener("click", function (e) {
      var tag = e.target.getAttribute && e.target.getAttribute("data-tag");
      if (tag && state.tag.indexOf(tag) < 0) { state.tag.push(tag); shown = PAGE; update(); }
    });
    moreEl.addEventListener("click", function () { shown += PAGE; renderResults(); });
    document.getElementById("clear").addEventListener("click", function () {
      var view = state.view; state = emptyState(); state.view = view; shown = PAGE; syncForm(); update();
    });
    window.addEventListener("popstate", function () { state = readUrl(); syncForm(); update(); });
    root.setAttribute("data-ready", "true");
  }

  function loadScript() {
    var s = document.createElement("script");
    s.src = root.getAttribute("data-index-script");
    s.onload = function () { start(window.SEARCH_INDEX); };
    s.onerror = function () { countEl.textContent = "The catalogue index could not be loaded."; };
    document.head.appendChild(s);
  }

  // fetch() is refused for file:// pages; the same index as a script keeps a local copy of the site usable.
  if (location.protocol === "file:") { loadScript(); return; }
  fetch(root.getAttribute("data-index")).then(function (r) {
    if (!r.ok) throw new Error("HTTP " + r.status);
    return r.json();
  }).then(start, loadScript);
})();
