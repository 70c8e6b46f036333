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
  var hintEl = document.getElementById("hint");
  var panel = document.getElementById("filter-panel");
  var counted = {}, data, items, orders = {}, state = emptyState(), shown = PAGE, results = [];
  var FACET_DELAY = 150, facetTimer = 0, matched = { list: [] };
  var vocabulary = [], typos = {}, nameWords = null;
  var facetRows = {}, fieldsets = {}, cardCache = { nodes: {}, size: 0 }, rowCache = { nodes: {}, size: 0 };

  function emptyState() { return { q: "", type: [], tag: [], tool: [], license: [], sort: "downloads", view: "cards" }; }
  function norm(s) { return String(s).toLowerCase().replace(/[-_]/g, ""); }
  var SPLIT = /[^a-z0-9\u00c0-\uffff]+/;
  function el(tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text != null) e.textContent = text; return e; }

  function prepare(index) {
    data = index;
    items = index.items.map(function (it, n) {
      it.n_ = n;
      it.top = norm(it.n + "\u0001" + (it.k || ""));  // name and nickname rank first
      it.hay = norm([it.n, it.k || "", it.i, it.d, (it.g || []).join(" "), (it.a || []).join(" ")].join("\u0001"));
      it.nl = it.n.toLowerCase();
      it.G = it.g || []; it.L = it.l || "";
      it.P = Object.keys(it.s).filter(function (t) { return it.s[t] === "p"; });  // tools it works with
      return it;
    });
    var words = {};
    items.forEach(function (it) {  // typos are forgiven in words, not in numbers and ids
      it.hay.split(SPLIT).forEach(function (w) { if (w.length > 2 && !/[0-9]/.test(w)) words[w] = 1; });
    });
    vocabulary = Object.keys(words);
    indexNames();
    var byName = function (a, b) { return a.nl < b.nl ? -1 : a.nl > b.nl ? 1 : a.n < b.n ? -1 : a.n > b.n ? 1 : 0; };
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

  function has(list, values) { for (var j = 0; j < values.length; j++) if (list.indexOf(values[j]) < 0) return false; return true; }
  function bump(counts, v) { if (v) counts[v] = (counts[v] || 0) + 1; }

  // Is `a` at most one edit (insert, delete, replace, swap of neighbours) away from the first `lb` letters of
  // `b`? Compared in place: this runs over the whole vocabulary for a new word.
  function oneEdit(a, b, lb) {
    var la = a.length, i = 0, j;
    if (lb > b.length || la - lb > 1 || lb - la > 1) return false;
    while (i < la && i < lb && a.charCodeAt(i) === b.charCodeAt(i)) i++;
    if (i === la && i === lb) return true;
    if (la > lb) { for (j = i; j < lb && a.charCodeAt(j + 1) === b.charCodeAt(j); j++); return j === lb; }
    if (la < lb) { for (j = i; j < la && a.charCodeAt(j) === b.charCodeAt(j + 1); j++); return j === la; }
    for (j = i + 1; j < la && a.charCodeAt(j) === b.charCodeAt(j); j++);
    if (j === la) return true;  // one letter replaced
    if (a.charCodeAt(i) !== b.charCodeAt(i + 1) || a.charCodeAt(i + 1) !== b.charCodeAt(i)) return false;
    for (j = i + 2; j < la && a.charCodeAt(j) === b.charCodeAt(j); j++);
    return j === la;  // two neighbours swapped
  }

  // Words of the catalogue that a term of 4 or more letters may mean with one typo: whole words ("nucleii" for
  // "nuclei") or their beginnings ("segmantat" for "segmentation"). Computed once per term. Numbers and ids
  // ("nick-5", "1000001") are taken exactly: one digit off is another resource.
  function typoWords(term) {
    if (term.length < 4 || /[0-9]/.test(term)) return [];
    if (typos[term]) return typos[term];
    var found = [], n = term.length;
    for (var k = 0; k < vocabulary.length && found.length < 40; k++) {
      var w = vocabulary[k];
      if (w.length < n - 1 || w.indexOf(term) >= 0) continue;
      if (oneEdit(term, w, w.length) || oneEdit(term, w, n) || oneEdit(term, w, n + 1) ||
          (n > 4 && oneEdit(term, w, n - 1))) found.push(w);
    }
    return (typos[term] = found);
  }

  function holds(text, term, alternatives) {
    if (text.indexOf(term) >= 0) return true;
    for (var j = 0; j < alternatives.length; j++) if (text.indexOf(alternatives[j]) >= 0) return true;
    return false;
  }

  // Items whose text holds every term (exactly, as a prefix or with one typo), in the current sort order; those
  // whose name or nickname holds every term come first.
  function textMatches(terms) {
    var base = orders[state.sort], nt = terms.length;
    if (!nt) return (matched = { list: base }).list;  // the orders are never mutated
    var alts = terms.map(typoWords), first = [], rest = [];
    for (var k = 0; k < base.length; k++) {
      var it = base[k], i = 0;
      while (i < nt && holds(it.hay, terms[i], alts[i])) i++;
      if (i < nt) continue;
      for (i = 0; i < nt && holds(it.top, terms[i], alts[i]); i++);
      (i === nt ? first : rest).push(it);
    }
    matched = { list: first.concat(rest) };
    return matched.list;
  }

  // Edit distance of a and b, or max + 1 when larger (enough to rank suggestions).
  function distance(a, b, max) {
    if (Math.abs(a.length - b.length) > max) return max + 1;
    var prev = [], cur, i, j;
    for (j = 0; j <= b.length; j++) prev[j] = j;
    for (i = 1; i <= a.length; i++) {
      cur = [i];
      var low = i;
      for (j = 1; j <= b.length; j++) {
        cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        if (cur[j] < low) low = cur[j];
      }
      if (low > max) return max + 1;
      prev = cur;
    }
    return prev[b.length];
  }

  // The closest names to the query when nothing matched: items whose name words are nearest to the terms.
  // Words of names and nicknames, for suggestions (numbers left out: "42" is not close to anything).
  function indexNames() {
    nameWords = {};
    items.forEach(function (it) {
      it.top.split(SPLIT).forEach(function (w) {
        if (w.length > 1 && !/[0-9]/.test(w)) (nameWords[w] = nameWords[w] || []).push(it);
      });
    });
  }

  function suggestions(terms) {
    var score = new Map();
    terms.forEach(function (t) {
      Object.keys(nameWords).forEach(function (w) {
        var d = Math.min(distance(t, w, 3), distance(t, w.slice(0, t.length), 3) + 0.5);
        if (d <= 3) nameWords[w].forEach(function (it) { score.set(it, (score.get(it) || 0) + 4 - d); });
      });
    });
    return Array.from(score.keys()).sort(function (a, b) { return (score.get(b) - score.get(a)) || (b.c - a.c); }).slice(0, 5);
  }

  // Which facet filters does `it` fail? 0 = none, 1..4 = exactly that one (LISTS order), -1 = more than one.
  function failing(it) {
    var failed = 0;
    if (state.type.length && state.type.indexOf(it.t) < 0) failed = 1;
    if (state.license.length && state.license.indexOf(it.L) < 0) { if (failed) return -1; failed = 2; }
    if (state.tag.length && !has(it.G, state.tag)) { if (failed) return -1; failed = 3; }
    if (state.tool.length && !has(it.P, state.tool)) { if (failed) return -1; failed = 4; }
    return failed;
  }

  // Results first (what the user waits for); facet counts and the URL after: right away, or once typing pauses.
  function update(lazyFacets) {
    var t0 = performance.now();
    var terms = state.q.split(/\s+/).map(norm).filter(Boolean), list = textMatches(terms);
    results = [];
    for (var k = 0; k < list.length; k++) if (!failing(list[k])) results.push(list[k]);
    renderResults();
    renderHint(terms);
    clearTimeout(facetTimer);
    // history.replaceState costs several ms in Chromium: while typing, it waits for the pause with the facets.
    if (lazyFacets) facetTimer = setTimeout(function () { recount(); writeUrl(); }, FACET_DELAY);
    else { recount(); writeUrl(); }
    window.__lastUpdateMs = performance.now() - t0;
  }

  // An item counts for a facet value when it passes every *other* filter, so the counts stay honest.
  function recount() {
    var t0 = performance.now();
    var c = { type: {}, license: {}, tag: {}, tool: {} }, list = matched.list, i;
    for (var k = 0; k < list.length; k++) {
      var it = list[k], f = failing(it);
      if (f < 0) continue;
      if (!f || f === 1) bump(c.type, it.t);
      if (!f || f === 2) bump(c.license, it.L);
      if (!f || f === 3) for (i = 0; i < it.G.length; i++) bump(c.tag, it.G[i]);
      if (!f || f === 4) for (i = 0; i < it.P.length; i++) bump(c.tool, it.P[i]);
    }
    counted = c;
    renderFacets();
    var active = LISTS.reduce(function (n, k) { return n + state[k].length; }, 0);
    panel.firstElementChild.textContent = active ? "Filters (" + active + ")" : "Filters";
    window.__lastFacetMs = performance.now() - t0;
  }

  // Keep `parent`'s children equal to `nodes`, moving or removing only what differs (no rebuild, less layout).
  function sync(parent, nodes) {
    for (var i = 0; i < nodes.length; i++) {
      if (parent.childNodes[i] !== nodes[i]) parent.insertBefore(nodes[i], parent.childNodes[i] || null);
    }
    while (parent.childNodes.length > nodes.length) parent.removeChild(parent.lastChild);
  }

  function facetRow(key, v, text) {
    var id = key + "\u0001" + v, row = facetRows[id];
    if (!row) {
      var lab = el("label"), box = el("input"), count = el("span", "count");
      box.type = "checkbox"; box.name = key; box.value = v;
      lab.appendChild(box); lab.appendChild(document.createTextNode(" " + text + " ")); lab.appendChild(count);
      row = facetRows[id] = { label: lab, box: box, count: count, n: -1 };
    }
    return row;
  }

  // A facet's fieldset, its nodes reused across updates: only changed counts and checks touch the DOM.
  function facet(title, key, values, label, limit) {
    var fs = fieldsets[title];
    if (!fs) { fs = fieldsets[title] = el("fieldset"); fs.appendChild(el("legend", null, title)); }
    var list = Object.keys(values).sort(function (a, b) { return (values[b] - values[a]) || (a < b ? -1 : 1); });
    state[key].forEach(function (v) { if (list.indexOf(v) < 0) list.unshift(v); });
    var nodes = [fs.firstChild];
    list.slice(0, limit || 1e9).forEach(function (v) {
      var row = facetRow(key, v, label ? label(v) : v), n = values[v] || 0, checked = state[key].indexOf(v) >= 0;
      if (row.box.checked !== checked) row.box.checked = checked;
      if (row.n !== n) { row.count.textContent = "(" + n + ")"; row.n = n; }
      nodes.push(row.label);
    });
    sync(fs, nodes);
    return list.length ? fs : null;
  }

  function renderFacets() {
    var sets = [facet("Type", "type", counted.type),
      facet("Tests passed", "tool", counted.tool, function (t) { return data.tools[t] || t; }),
      facet("Licence", "license", counted.license, null, 12)];
    var tags = counted.tag, grouped = {};
    Object.keys(tags).forEach(function (t) { var c = data.categories[t] || "other"; (grouped[c] = grouped[c] || {})[t] = tags[t]; });
    state.tag.forEach(function (t) { var c = data.categories[t] || "other"; grouped[c] = grouped[c] || {}; });
    Object.keys(grouped).sort(function (a, b) { return a === "other" ? 1 : b === "other" ? -1 : a < b ? -1 : 1; })
      .forEach(function (c) {
        var saved = state.tag; state.tag = saved.filter(function (t) { return (data.categories[t] || "other") === c; });
        sets.push(facet("Tags: " + c, "tag", grouped[c], null, 12));
        state.tag = saved;
      });
    sync(groupsEl, sets.filter(Boolean));
  }

  function badges(it, parent) {
    Object.keys(it.s).forEach(function (tool) {
      var st = STATUS[it.s[tool]] || STATUS.u, words = (data.tools[tool] || tool) + ": " + data.words[st[0]];
      var b = el("span", "status status-" + st[0]);
      b.title = words;
      var icon = el("span", null, st[1]); icon.setAttribute("aria-hidden", "true");
      b.appendChild(icon); b.appendChild(document.createTextNode(" " + words));
      parent.appendChild(b);
    });
  }

  function link(it) { var a = el("a", null, it.n); a.href = "resources/" + it.i + "/index.html"; return a; }

  function card(it) {
    var li = el("li", "card"), img;
    if (it.h) {
      var test = it.h.indexOf("previews/") === 0;  // no cover: the model's test input
      img = el("img", test ? "preview" : null); img.src = it.h; img.loading = "lazy"; img.decoding = "async";
      img.alt = (test ? "Test input of " : "Cover of ") + it.n;
    } else img = el("div", "placeholder");  // drawn by CSS: an SVG image per card cost more to paint than the rest
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

  // Cards and rows are built once per item and reused while typing; the cache is dropped when it grows large.
  function cached(cache, it, make) {
    if (!cache.nodes[it.n_]) {
      if (++cache.size > 2000) { cache.nodes = {}; cache.size = 1; }
      cache.nodes[it.n_] = make(it);
    }
    return cache.nodes[it.n_];
  }

  function filtered() { return LISTS.some(function (k) { return state[k].length > 0; }); }

  // Nothing found: say so, offer to drop the filters, and suggest the closest names.
  function renderHint(terms) {
    hintEl.textContent = "";
    hintEl.hidden = results.length > 0;
    if (results.length) return;
    var what = state.q ? "No resource matches \u201c" + state.q + "\u201d" : "No resource matches";
    hintEl.appendChild(el("p", null, what + (filtered() ? " with these filters." : ".")));
    if (filtered()) {
      var drop = el("button", null, "Search without filters"); drop.type = "button"; drop.id = "drop-filters";
      hintEl.appendChild(drop);
    }
    var near = terms.length ? suggestions(terms) : [];
    if (!near.length) return;
    var p = el("p", null, "Closest names: ");
    near.forEach(function (it, n) { if (n) p.appendChild(document.createTextNode(", ")); p.appendChild(link(it)); });
    hintEl.appendChild(p);
  }

  function renderResults() {
    var text = results.length + " of " + items.length + (items.length === 1 ? " resource" : " resources");
    if (countEl.textContent !== text) countEl.textContent = text;
    var table = state.view === "table", nodes = [], end = Math.min(shown, results.length);
    for (var i = 0; i < end; i++) nodes.push(table ? cached(rowCache, results[i], row) : cached(cardCache, results[i], card));
    sync(table ? tableEl.tBodies[0] : cardsEl, nodes);
    sync(table ? cardsEl : tableEl.tBodies[0], []);
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
    input.addEventListener("input", function () { state.q = input.value; shown = PAGE; update(true); });
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
    hintEl.addEventListener("click", function (e) {
      if (e.target.id !== "drop-filters") return;
      LISTS.forEach(function (k) { state[k] = []; }); shown = PAGE; update(); input.focus();
    });
    document.getElementById("clear").addEventListener("click", function () {
      var view = state.view; state = emptyState(); state.view = view; shown = PAGE; syncForm(); update();
    });
    window.addEventListener("popstate", function () { state = readUrl(); syncForm(); update(); });
    // The list of every resource serves pages without JavaScript; the cards replace it.
    var all = document.getElementById("all"); if (all) all.parentNode.removeChild(all);
    if (window.matchMedia("(min-width: 761px)").matches) panel.open = true;  // phones: filters behind a tap
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
