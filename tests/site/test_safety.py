import re

from collection_compiler.site.safety import one_line, render_markdown, safe_url, text


def test_safe_url_keeps_only_absolute_http_links():
    assert safe_url("https://zenodo.org/x.png") == "https://zenodo.org/x.png"
    assert safe_url("img/a.png", base="https://example.org/doc/README.md") == "https://example.org/doc/img/a.png"
    for bad in ("javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,<b>", "vbscript:x", "img/a.png",
                "//evil.org/x", "file:///etc/passwd", "https://a.org/\nx", 42, None, ["https://a.org"]):
        assert safe_url(bad) is None, bad


def test_text_accepts_only_scalars_and_caps_length():
    assert text({"a": 1}) == "" and text(None) == "" and text(True) == ""
    assert text(3) == "3"
    assert len(text("x" * 50, 10)) == 10
    assert one_line("a\n  b\tc") == "a b c"


def test_markdown_is_sanitised_and_links_are_absolute_http():
    html = render_markdown(
        "# Title\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n[rel](docs/more.md) "
        "[js](javascript:alert(1)) ![pic](pic.png)\n\n| a |\n|---|\n| 1 |\n",
        base="https://zenodo.org/records/1/files/README.md")
    assert "<script" not in html and not re.search(r"<[^>]*onerror", html)
    assert "&lt;img src=x" in html  # raw HTML is shown as text, not passed on
    assert 'href="https://zenodo.org/records/1/files/docs/more.md"' in html
    assert 'src="https://zenodo.org/records/1/files/pic.png"' in html
    assert not re.search(r"(href|src)=\"(?!https?:)", html)
    assert "<table>" in html and "<h3>Title</h3>" in html  # demoted below the page's h1 and h2
    assert 'rel="noopener noreferrer nofollow"' in html
