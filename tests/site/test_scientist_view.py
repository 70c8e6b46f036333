"""What a scientist choosing a model sees, in headless Chromium: what a model takes and gives, its test pictures,
the site on a 390 px phone and without JavaScript, a forgiving search, and a 404 page that works on any host."""

import functools
import http.server
import threading
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

V05, V04 = "10.5281/zenodo.1000001", "10.5281/zenodo.1000002"  # the synthetic tree's models alternate formats
PHONE = {"width": 390, "height": 844}


def _page(browser, url: str, **context):
    page = browser.new_context(**context).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(url)
    return page, errors


def _io_text(browser, url: str) -> str:
    page, errors = _page(browser, url)
    assert errors == []
    return " ".join(page.locator("#io").inner_text().split())


def test_inputs_and_outputs_of_a_05_model_in_words(browser, built: Path, serve):
    site = serve(built)
    text = _io_text(browser, f"{site.url}/resources/{V05}/index.html")
    for words in ("Input raw", "Fluorescence image", "uint16", "channel (dapi): 1",
                  "y (micrometer): at least 64, in steps of 16",
                  "rescale so that percentile 1 becomes 0 and percentile 99.8 becomes 1 over x, y",
                  "Output mask", "float32, values 0 to 1", "channel (foreground, boundary): 2",
                  "y: same as raw's y; 8 px border cropped", "apply a sigmoid", "batch: any"):
        assert words in text, words
    page, _ = _page(browser, f"{site.url}/resources/{V05}/index.html")
    assert "@keeper1" in page.locator("section", has_text="Maintainers").inner_text()
    downloads = page.locator("#download").inner_text()
    assert "Weights: ONNX (needs opset 15)" in downloads and "Weights: TorchScript (needs PyTorch 2.1)" in downloads


def test_inputs_and_outputs_of_a_04_model_in_words(browser, built: Path, serve):
    site = serve(built)
    text = _io_text(browser, f"{site.url}/resources/{V04}/2000021/index.html")  # an older version's page too
    for words in ("Input raw", "float32", "batch: 1", "channel: 1", "y: at least 64, in steps of 16",
                  "normalise to mean 0 and standard deviation 1 over y, x", "Output probability",
                  "float32, values 0 to 1", "x: same as raw's x; 8 px border cropped", "apply a sigmoid"):
        assert words in text, words


def test_test_pictures_show_input_and_output_and_load(browser, built: Path, serve):
    site = serve(built)
    page, errors = _page(browser, f"{site.url}/resources/{V05}/index.html")
    pictures = page.locator("#pictures img")
    assert pictures.count() == 2  # one input, one output (its two channels side by side in one picture)
    alts = [pictures.nth(k).get_attribute("alt") for k in range(2)]
    assert alts == ["Test input raw", "Expected output mask"]
    for k in range(2):
        pictures.nth(k).scroll_into_view_if_needed()
        assert page.evaluate("img => img.complete && img.naturalWidth > 0", pictures.nth(k).element_handle())
    output = pictures.nth(1).element_handle()
    assert page.evaluate("img => img.naturalWidth > img.naturalHeight * 2", output)  # channels as a row
    assert errors == []
    broken, _ = _page(browser, f"{site.url}/resources/10.5281/zenodo.1000005/index.html")
    assert broken.locator("#pictures").count() == 0 and broken.locator("#io").count() == 1  # a pickle and a 404


def test_phone_first_result_on_the_first_screen_and_no_sideways_scroll(browser, built: Path, serve):
    site = serve(built)
    page, errors = _page(browser, f"{site.url}/index.html", viewport=PHONE)
    page.wait_for_selector("#browse[data-ready=true]")
    top = page.locator("#cards .card").first.bounding_box()["y"]
    assert top < PHONE["height"] - 200, top  # the first result is on the first screen, not under the filters
    assert not page.locator("#filter-panel").get_attribute("open")
    page.click("#filter-panel summary")
    assert page.locator("#facet-groups input[name=type]").first.is_visible()
    for path in ("index.html", f"resources/{V05}/index.html", f"resources/{V04}/2000021/index.html",
                 "resources/10.5281/zenodo.1000004/index.html",  # payloads: long unbroken strings
                 "compatibility/index.html", "partners/index.html", "partners/ilastik/index.html",
                 "health/index.html", "404.html"):
        page.goto(f"{site.url}/{path}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], (path, width)
    assert errors == []


def test_without_javascript_every_resource_is_a_link(browser, built: Path, serve):
    site = serve(built)
    page, _ = _page(browser, f"{site.url}/index.html", java_script_enabled=False)
    links = page.locator("#all a")
    assert links.count() == 12
    assert page.locator("#count").inner_text() == "12 resources" and page.locator("#q").is_hidden()  # no dead box
    names = links.all_inner_texts()
    assert names == sorted(names, key=str.casefold)
    links.nth(1).click()
    assert page.locator("h1").inner_text().endswith(names[1].strip())  # after the nickname icon
    with_js, errors = _page(browser, f"{site.url}/index.html")
    with_js.wait_for_selector("#browse[data-ready=true]")
    assert with_js.locator("#all").count() == 0 and errors == []  # the cards replace the plain list


def _search(page, query: str) -> list[str]:
    page.fill("#q", query)
    return page.locator("#cards .card h2 a").all_text_contents()


def test_search_forgives_typos_and_prefixes_and_ranks_names_first(browser, built: Path, serve):
    site = serve(built)
    page, errors = _page(browser, f"{site.url}/index.html")
    page.wait_for_selector("#browse[data-ready=true]")
    exact = _search(page, "mitochondria")
    assert 0 < len(exact) < 12
    assert _search(page, "mitochondira") == exact  # two letters swapped
    assert _search(page, "MITOCHONRIA") == exact  # one letter missing, any case
    assert _search(page, "mitoch") == exact  # a prefix
    named = [n for n in exact if "mitochondria" in n.lower()]
    assert named and exact[: len(named)] == named  # name matches first, then description, tag, author matches
    assert _search(page, "nick-1") == [n for n in _search(page, "nick-1") if n.endswith((" 1", " 10", " 11"))]
    assert errors == []


def test_no_results_says_so_and_suggests_the_closest_names(browser, built: Path, serve):
    site = serve(built)
    page, errors = _page(browser, f"{site.url}/index.html")
    page.wait_for_selector("#browse[data-ready=true]")
    assert page.locator("#hint").is_hidden()
    assert _search(page, "fluorescence qqqq") == []
    hint = page.locator("#hint")
    assert hint.is_visible() and "No resource matches “fluorescence qqqq”" in hint.inner_text()
    closest = hint.locator("a").all_inner_texts()
    assert closest and all("fluorescence" in n.lower() for n in closest[:1])
    page.fill("#q", "")
    page.check("#facet-groups input[name=type][value=dataset]")
    assert _search(page, "nick-1") == []  # resources 1, 10 and 11 are models
    assert "with these filters" in hint.inner_text()
    page.click("#drop-filters")
    assert len(page.locator("#cards .card").all()) == 3 and hint.is_hidden()
    assert errors == []


class _SiteWith404(http.server.SimpleHTTPRequestHandler):
    """Serves the site below /copy/ on a host of its own, answering missing paths with the site's 404 page,
    as GitHub Pages does."""

    def log_message(self, *args: object) -> None:
        pass

    def send_error(self, code, message=None, explain=None):
        if code != 404:
            return super().send_error(code, message, explain)
        body = (Path(self.directory) / "copy" / "404.html").read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def test_not_found_page_is_styled_and_leads_home_on_any_host(browser, built: Path, tmp_path: Path):
    host = tmp_path / "host"
    host.mkdir()
    (host / "copy").symlink_to(built, target_is_directory=True)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_SiteWith404, directory=str(host)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        page, errors = _page(browser, f"http://127.0.0.1:{httpd.server_address[1]}/copy/resources/gone/1/index.html")
        assert page.locator("h1").inner_text() == "Page not found"
        assert page.evaluate("getComputedStyle(document.body).fontFamily").startswith("system-ui")  # styled
        page.wait_for_function("document.querySelector('main a').href.endsWith('/copy/index.html')")
        page.locator("main a").first.click()
        page.wait_for_selector("#browse[data-ready=true]")
        assert errors == [] or all("404" in e for e in errors)  # the 404 status itself, and the probes' misses
    finally:
        httpd.shutdown()
        httpd.server_close()
