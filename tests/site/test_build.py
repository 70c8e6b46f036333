import dataclasses
import json
import os
import re
import shutil
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

from collection_compiler.site import render_site
from collection_compiler.site.render import PACKAGED_TEMPLATES


def _html_files(out: Path) -> list[Path]:
    return sorted(out.rglob("*.html"))


class _Elements(HTMLParser):
    """Every element with its attributes, as a browser's tokenizer sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.script_text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.script_text.append(data)


def test_pages_are_written_at_real_paths(built: Path):
    for rel in ("index.html", "404.html", "feed.xml", "search-index.json", "search-index.js", "static/site.css",
                "static/search.js", "compatibility/index.html", "health/index.html", "partners/index.html",
                "partners/ilastik/index.html", "resources/10.5281/zenodo.1000001/index.html",
                "resources/10.5281/zenodo.1000001/2000012/index.html",
                "resources/10.5281/zenodo.1000001/2000011/index.html",
                "resources/10.5281/zenodo.1000001/2000012/citation.bib",
                "resources/10.5281/zenodo.1000001/2000012/CITATION.cff", "resources/ilastik/res-9/latest/index.html"):
        assert (built / rel).is_file(), rel


def test_resource_page_shows_tests_docs_downloads_and_versions(built: Path):
    page = (built / "resources/10.5281/zenodo.1000001/index.html").read_text("utf-8")
    assert page.count('<tr class="row-') == 3  # three testers
    assert "shape mismatch in output" not in page or "<details>" in page
    assert "<h3>Model 1</h3>" in page  # documentation fetched and rendered, its headings below the page's own
    assert page.count("<h1") == 1
    assert 'href="javascript' not in page and "&lt;b&gt;raw html&lt;/b&gt;" in page
    assert 'href="https://example.org/1/w.onnx"' in page  # weights per format
    assert 'href="2000012/index.html"' in page and 'href="2000011/index.html"' in page
    assert 'href="../../../static/site.css"' in page
    old = (built / "resources/10.5281/zenodo.1000001/2000011/index.html").read_text("utf-8")
    assert "See the latest version" in old and 'href="../../../../static/site.css"' in old
    assert re.search(r'<img src="../../../thumbnails/[0-9a-f]{32}\.jpg"', page)  # cover-1 is a JPEG


def test_every_text_field_with_a_payload_renders_inert(built: Path, xss_marker: str):
    pages = _html_files(built)
    assert len(pages) > 30
    for path in pages:
        parser = _Elements()
        parser.feed(path.read_text("utf-8"))
        inline = "".join(parser.script_text).strip()
        if path == built / "404.html":  # the one inline script: the site's own, allowed by its hash in the CSP
            assert inline == (PACKAGED_TEMPLATES / "404.js").read_text("utf-8").strip()
        else:
            assert not inline, f"{path}: inline script"
        for tag, attrs in parser.elements:
            assert not any(name.startswith("on") for name in attrs), (path, tag, attrs)
            if tag == "script" and path != built / "404.html":
                assert attrs["src"].endswith(("static/site.js", "static/search.js")), (path, attrs)
            for name in ("href", "src"):
                value = attrs.get(name) or ""
                if path == built / "404.html" and attrs.get("rel") == "icon" and value == "data:,":
                    continue  # "no icon": the 404 page cannot know where the site's icon is
                assert not value.strip().lower().startswith(("javascript:", "data:", "vbscript:")), (path, attrs)
    index = (built / "search-index.js").read_text("utf-8")
    assert "</script" not in index.lower() and "<" not in index


def test_search_index_is_slim_and_carries_tool_status(built: Path):
    index = json.loads((built / "search-index.json").read_text("utf-8"))
    assert len(index["items"]) == 12
    item = next(i for i in index["items"] if i["i"] == "10.5281/zenodo.1000001")
    assert set(item["s"]) == {"bioimageio.core", "ilastik", "deepimagej"} and item["s"]["deepimagej"] == "p"
    assert index["tools"] == {"bioimageio.core": "Tested by the hub", "deepimagej": "Tested in deepImageJ",
                              "ilastik": "Tested in ilastik"}  # the site's words, not tester ids
    assert index["words"]["not-applicable"] == "does not apply"
    assert all(len(i["d"]) <= 140 for i in index["items"])


def test_feed_is_valid_atom(built: Path):
    root = ET.fromstring((built / "feed.xml").read_bytes())
    ns = {"a": "http://www.w3.org/2005/Atom"}
    entries = root.findall("a:entry", ns)
    assert len(entries) == 12
    dates = [e.find("a:updated", ns).text for e in entries]
    assert dates == sorted(dates, reverse=True)


def test_rebuild_is_deterministic_and_reuses_covers_and_docs(built: Path, tmp_path: Path, assets, settings,
                                                             tree_with_assets):
    def fetched() -> int:  # what had to be downloaded; the broken test tensors are tried again on every build
        return sum(n for path, n in assets.hits.items() if path not in ("/pickled.npy", "/missing.npy"))

    hits = fetched()
    snapshot = {p: p.read_bytes() for p in built.rglob("*") if p.is_file()}
    mtimes = {p: os.stat(p).st_mtime_ns for p in snapshot}
    render_site(built, settings, None)  # in place: nothing changes, nothing is rewritten
    assert {p: p.read_bytes() for p in built.rglob("*") if p.is_file()} == snapshot
    assert all(os.stat(p).st_mtime_ns == m for p, m in mtimes.items())
    fresh = tmp_path / "fresh"
    tree_with_assets(fresh)
    render_site(fresh, settings, previous=built)
    assert fetched() == hits  # covers, docs and test pictures came from the previous deploy
    assert (fresh / "index.html").read_bytes() == (built / "index.html").read_bytes()


def test_missing_and_broken_files_do_not_stop_the_build(tmp_path: Path, make_tree, settings):
    out = tmp_path / "out"
    make_tree(out, 5)
    (out / "rdfs/10.5281/zenodo.1000002/2000021/rdf.yaml").write_text("{not: [valid", "utf-8")
    (out / "rdfs/10.5281/zenodo.1000003/2000031/summary.json").unlink()
    collection = json.loads((out / "collection.json").read_text("utf-8"))
    collection["collection"].append({"id": "../../etc", "name": "evil", "versions": ["1"]})
    (out / "collection.json").write_text(json.dumps(collection), "utf-8")
    render_site(out, settings, None)
    assert (out / "resources/10.5281/zenodo.1000003/index.html").is_file()
    assert not (out / "resources/10.5281/zenodo.1000002/index.html").exists()
    assert not (tmp_path / "etc").exists()
    assert "No test results yet." in (out / "resources/10.5281/zenodo.1000003/index.html").read_text("utf-8")


def test_rebuild_in_place_removes_pages_of_resources_that_left(built: Path, settings, assets):
    gone, kept = "10.5281/zenodo.1000001", "10.5281/zenodo.1000002"
    stale_thumbs = set((built / "thumbnails").glob("*.jpg")) | set((built / "thumbnails").glob("*.png"))
    stale_docs = set((built / "site-cache/docs").glob("*.md"))
    collection = json.loads((built / "collection.json").read_text("utf-8"))
    collection["collection"] = [e for e in collection["collection"] if e["id"] != gone]
    (built / "collection.json").write_text(json.dumps(collection), "utf-8")
    shutil.rmtree(built / "rdfs" / gone)
    # Every file that does not mention the removed resource (nor counts resources) must stay as it is.
    counting = {built / "index.html", built / "health/index.html", built / "partners/index.html",
                built / "thumbnails/index.json", built / "site-cache/rdf-facts.json"}
    untouched = [p for p in built.rglob("*") if p.is_file() and p not in counting
                 and gone not in p.read_text("utf-8", "replace")]
    assert built / "resources" / kept / "index.html" in untouched and len(untouched) > 60
    mtimes = {p: os.stat(p).st_mtime_ns for p in untouched}
    render_site(built, settings, built)  # --out = --previous: the gh-pages checkout updated in place
    assert not (built / "resources" / gone).exists()
    assert (built / "resources/10.5281").is_dir() and (built / "resources/ilastik/res-9/latest/index.html").is_file()
    missing = {p for p in untouched if not p.exists()}  # the removed resource's cover and docs (checked below)
    assert all(p.parent in (built / "thumbnails", built / "site-cache/docs") for p in missing)
    assert {p: os.stat(p).st_mtime_ns for p in untouched if p not in missing} == {
        p: m for p, m in mtimes.items() if p not in missing}
    # Exactly one cover and one cached doc (those of the removed resource) went away.
    thumbs = set((built / "thumbnails").glob("*.jpg")) | set((built / "thumbnails").glob("*.png"))
    assert thumbs < stale_thumbs and len(stale_thumbs - thumbs) == 1
    assert set(json.loads((built / "thumbnails/index.json").read_text("utf-8")).values()) == {p.name for p in thumbs}
    docs = set((built / "site-cache/docs").glob("*.md"))
    assert docs < stale_docs and len(stale_docs - docs) == 2  # both versions of the removed resource
    assert gone not in (built / "search-index.json").read_text("utf-8")
    collection["config"]["partners"] = [p for p in collection["config"]["partners"] if p["id"] != "deepimagej"]
    (built / "collection.json").write_text(json.dumps(collection), "utf-8")
    render_site(built, settings, built)
    assert not (built / "partners/deepimagej").exists() and (built / "partners/ilastik/index.html").is_file()


def test_prune_removes_only_unclaimed_files_and_empty_folders(tmp_path: Path):
    from collection_compiler.site.prune import prune

    root = tmp_path / "resources"
    keep = [root / "a/b/index.html", root / "c/index.html"]
    for path in [*keep, root / "a/b/old/index.html", root / "d/e/index.html", root / "c/.x.tmp"]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me")
    (root / "link").symlink_to(tmp_path)  # never followed
    assert prune(root, keep) == 4
    assert sorted(str(p.relative_to(root)) for p in root.rglob("*")) == ["a", "a/b", "a/b/index.html", "c",
                                                                         "c/index.html"]
    assert outside.read_text() == "keep me"
    assert prune(tmp_path / "missing", []) == 0


def _mark(path: Path) -> None:
    path.write_text(path.read_text("utf-8") + "<!-- untouched -->", "utf-8")


def test_rebuild_renders_only_pages_whose_inputs_changed(built: Path, settings, tmp_path: Path):
    same = built / "resources/10.5281/zenodo.1000002/index.html"
    changed = built / "resources/10.5281/zenodo.1000003/index.html"
    _mark(same)  # a page that is not rendered again keeps this mark
    _mark(changed)
    collection = json.loads((built / "collection.json").read_text("utf-8"))
    entry = next(e for e in collection["collection"] if e["id"] == "10.5281/zenodo.1000003")
    entry["download_count"] = 987654
    (built / "collection.json").write_text(json.dumps(collection), "utf-8")
    render_site(built, settings, built)
    assert same.read_text("utf-8").endswith("<!-- untouched -->")
    assert not changed.read_text("utf-8").endswith("<!-- untouched -->") and "987654" in changed.read_text("utf-8")
    # A deleted page is written again although its inputs did not change.
    (built / "resources/10.5281/zenodo.1000002/2000021/CITATION.cff").unlink()
    render_site(built, settings, built)
    assert (built / "resources/10.5281/zenodo.1000002/2000021/CITATION.cff").is_file()
    # A changed template (the cache's salt) renders every page again.
    repo = tmp_path / "repo"
    shutil.copytree(PACKAGED_TEMPLATES, repo / "site_templates")
    resource_html = repo / "site_templates/resource.html"
    resource_html.write_text(resource_html.read_text("utf-8").replace("</h1>", "</h1><p>template v2</p>", 1), "utf-8")
    render_site(built, dataclasses.replace(settings, repo_root=repo), built)
    assert "template v2" in same.read_text("utf-8") and not same.read_text("utf-8").endswith("<!-- untouched -->")


def test_without_the_page_cache_stale_pages_are_found_by_walking(built: Path, settings):
    (built / "site-cache/pages.json").unlink()
    (built / "resources/10.5281/zenodo.1000002/2000029/index.html").parent.mkdir()
    (built / "resources/10.5281/zenodo.1000002/2000029/index.html").write_text("old version page", "utf-8")
    (built / "resources/10.5281/zenodo.9999999/index.html").parent.mkdir(parents=True)
    (built / "resources/10.5281/zenodo.9999999/index.html").write_text("old resource page", "utf-8")
    render_site(built, settings, built)
    assert not (built / "resources/10.5281/zenodo.1000002/2000029").exists()
    assert not (built / "resources/10.5281/zenodo.9999999").exists()
    assert (built / "resources/10.5281/zenodo.1000002/2000021/index.html").is_file()
    cache = json.loads((built / "site-cache/pages.json").read_text("utf-8"))
    assert cache["pages"]["10.5281/zenodo.1000002"]["versions"] == ["2000022", "2000021"]
    assert all(isinstance(p["digest"], str) for p in cache["pages"].values())


def test_a_tampered_page_cache_never_leads_outside_the_tree(built: Path, settings, tmp_path: Path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep", "utf-8")
    (built / "site-cache/pages.json").write_text(json.dumps({"format": 1, "salt": "x", "pages": {
        "../..": {"digest": None, "versions": ["victim.txt"]}, "10.5281/zenodo.1": {"digest": 5, "versions": []},
        "a": {"digest": None, "versions": ["../../../victim.txt"]}}}), "utf-8")
    render_site(built, settings, built)
    assert victim.read_text("utf-8") == "keep"
    assert (built / "resources/10.5281/zenodo.1000002/index.html").is_file()


def test_unchanged_rdfs_are_not_parsed_again(built: Path, settings, monkeypatch):
    from collection_compiler.adapters import yamlio
    from collection_compiler.site import model

    parsed: list[str] = []

    def counting(data: bytes, source: str, *args):
        parsed.append(source)
        return yamlio.load_mapping(data, source, *args)

    # The real loader, counted: only the site's model module sees the counting wrapper.
    monkeypatch.setattr(model, "yamlio", type("CountingYaml", (), {
        "load_mapping": staticmethod(counting), "normalise": staticmethod(yamlio.normalise),
        "YamlLoadError": yamlio.YamlLoadError}))
    render_site(built, settings, built)
    assert parsed == []  # facts from site-cache/rdf-facts.json, no page to render
    rdf = built / "rdfs/10.5281/zenodo.1000002/2000022/rdf.yaml"
    data = json.loads(rdf.read_text("utf-8"))
    data["config"]["bioimageio"]["version_name"] = "v2-renamed"
    rdf.write_text(json.dumps(data), "utf-8")
    render_site(built, settings, built)
    # The changed RDF is parsed once, while reading (the render reuses it); its resource's pages are rendered again,
    # so the other version's RDF is parsed then, on demand.
    assert parsed == [str(rdf), str(rdf).replace("2000022", "2000021")]
    assert "v2-renamed" in (built / "resources/10.5281/zenodo.1000002/index.html").read_text("utf-8")
    # Facts extracted by other code (another salt) are not trusted: every RDF is parsed again.
    facts = built / "site-cache/rdf-facts.json"
    facts.write_text(facts.read_text("utf-8").replace('"salt":"', '"salt":"old'), "utf-8")
    parsed.clear()
    render_site(built, settings, built)
    assert len(parsed) == 11 * 2 + 1  # every version: 11 Zenodo resources with 2, one partner resource with 1


def test_how_to_use_fits_each_type(tmp_path: Path, make_tree, settings):
    out = tmp_path / "out"
    make_tree(out, 9)  # resource 6 is a dataset, 7 an application, 8 a notebook
    render_site(out, settings, None)

    def how(i: int) -> str:
        page = (out / f"resources/10.5281/zenodo.{1000000 + i}/index.html").read_text("utf-8")
        return page[page.index('<section id="use">'):].split("</section>")[0]

    notebook = how(8)
    assert "Open the notebook in your browser or download it:" in notebook
    assert '<a href="https://colab.research.google.com/8">Open in Colab</a>' in notebook
    assert '<a href="https://example.org/8/analysis.ipynb">Download the notebook (.ipynb)</a>' in notebook
    assert "Download the data:" in how(6) and '<a href="https://example.org/6.zip">Download</a>' in how(6)
    assert "Get the application:" in how(7)
    assert all("validate-format" not in how(i) for i in (6, 7, 8))
    assert "bioimageio.core" in how(1)  # models keep their code


def test_partner_logos_are_copies_and_no_page_loads_another_sites_image(built: Path):
    partners = (built / "partners/index.html").read_text("utf-8")
    assert re.search(r'<img src="../thumbnails/[0-9a-f]{32}\.png" alt="Logo of ilastik"', partners)
    for path in _html_files(built):
        parser = _Elements()
        parser.feed(path.read_text("utf-8"))
        for tag, attrs in parser.elements:
            if tag == "img":  # covers, test pictures and logos are the site's own copies
                assert not (attrs.get("src") or "").startswith(("http:", "https:", "//")), (path, attrs)
            if tag in ("a", "link"):  # links within the site are relative (the site URL is example.org/zoo)
                assert not (attrs.get("href") or "").startswith("https://example.org/zoo"), (path, attrs)
