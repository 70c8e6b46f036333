"""The site in headless Chromium (Debian's), served by a real http.server on 127.0.0.1."""

from pathlib import Path

import pytest

pytestmark = pytest.mark.browser


def _open(browser, url: str):
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda d: (errors.append("dialog: " + d.message), d.dismiss()))
    page.goto(url)
    return page, errors


def _ready(page) -> None:
    page.wait_for_selector("#browse[data-ready=true]")


def _cards(page) -> list[str]:
    return page.locator("#cards .card h2 a").all_text_contents()  # off-screen cards skip rendering: no innerText


def test_search_filters_sort_and_url_state(browser, built: Path, serve):
    site = serve(built)
    page, errors = _open(browser, f"{site.url}/index.html")
    _ready(page)
    assert page.locator("#count").inner_text().startswith("12 of 12")
    page.fill("#q", "nick-5")
    assert _cards(page) == [t for t in _cards(page) if t.endswith(" 5")] and len(_cards(page)) == 1
    page.fill("#q", "")
    page.check("#facet-groups input[name=type][value=model]")
    models = len(_cards(page))
    page.check("#facet-groups input[name=tool][value=deepimagej]")
    both = len(_cards(page))
    assert 0 < both < models < 12  # filters combine with AND
    assert "type=model" in page.url and "tool=deepimagej" in page.url
    page.select_option("#sort", "name")
    names = _cards(page)
    assert names == sorted(names, key=str.casefold) and names != sorted(names)  # "a" and "A" sort together
    shared = page.url
    again, errors2 = _open(browser, shared)
    _ready(again)
    assert _cards(again) == names and again.locator("#sort").input_value() == "name"
    assert again.is_checked("#facet-groups input[name=tool][value=deepimagej]")
    assert errors == [] and errors2 == []
    assert page.evaluate("window.__xss") is None and again.evaluate("window.__xss") is None


def test_table_view_and_keyboard_tag_filter(browser, built: Path, serve):
    site = serve(built)
    page, errors = _open(browser, f"{site.url}/index.html?view=table")
    _ready(page)
    assert page.locator("#table").is_visible() and page.locator("#table tbody tr").count() == 12
    page.check("input[name=view][value=cards]")
    tag = page.locator("#cards button.tag").first
    name = tag.inner_text()
    tag.focus()
    page.keyboard.press("Enter")
    assert f"tag={name}" in page.url
    assert errors == []


def test_resource_page_shows_its_tests_and_payloads_stay_inert(browser, built: Path, serve):
    site = serve(built)
    page, errors = _open(browser, f"{site.url}/resources/10.5281/zenodo.1000001/index.html")
    rows = page.locator("#tests tbody tr")
    assert rows.count() == 3
    assert "passed" in rows.nth(1).inner_text() or "failed" in rows.nth(1).inner_text()
    assert errors == []
    for rid in ("10.5281/zenodo.1000000", "10.5281/zenodo.1000004"):  # full of payloads
        evil, evil_errors = _open(browser, f"{site.url}/resources/{rid}/index.html")
        assert evil.evaluate("window.__xss") is None
        assert "<script>window.__xss=1</script>" in evil.locator("h1").inner_text()  # shown as text
        assert not [e for e in evil_errors if "dialog" in e]
    home, _ = _open(browser, f"{site.url}/index.html")
    _ready(home)
    assert home.evaluate("window.__xss") is None


def test_site_works_from_a_local_folder(browser, built: Path):
    page, _ = _open(browser, (built / "index.html").as_uri())
    _ready(page)
    assert page.locator("#count").inner_text().startswith("12 of 12")


def test_typing_narrows_then_widens_and_facet_counts_follow(browser, built: Path, serve):
    site = serve(built)
    page, errors = _open(browser, f"{site.url}/index.html")
    _ready(page)
    page.locator("#q").press_sequentially("nick-1")  # one input event per key: each narrows the previous matches
    assert sorted(_cards(page)) == sorted(t for t in _cards(page) if t.endswith((" 1", " 10", " 11")))
    assert len(_cards(page)) == 3
    page.locator("#q").press("Backspace")  # "nick-": wider than the matches searched last
    assert len(_cards(page)) == 12 - 3  # resources 0, 4 and 8 hold payloads instead of a nickname
    page.locator("#q").press_sequentially("11")
    assert len(_cards(page)) == 1
    # Facet counts are recounted once typing pauses: they then describe the single match.
    page.wait_for_function("""() => [...document.querySelectorAll('#facet-groups input[name=type]')]
        .map(b => b.parentElement.querySelector('.count').textContent).join() === '(1)'""")
    assert "q=nick-11" in page.url  # the URL follows with the facets
    assert errors == []
