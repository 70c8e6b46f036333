"""Safe values for pages: plain text from untrusted data, http(s)-only URLs, sanitised Markdown.

Jinja2 autoescape handles escaping; these helpers make sure nothing but text and http(s) URLs ever
reaches a template, and that rendered Markdown passes an allow-list sanitiser (nh3).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin, urlsplit

import nh3
from markdown_it import MarkdownIt

URL_SCHEMES = frozenset({"http", "https"})
HEADING_SHIFT = 2  # a document's "# Title" becomes an h3
MAX_TEXT = 20_000


def text(value: Any, limit: int = MAX_TEXT) -> str:
    """A display string from an untrusted value: strings and numbers only, whitespace kept, length capped."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int | float):
        return str(value)
    if not isinstance(value, str):
        return ""
    value = value.replace("\x00", "").strip()  # NUL marks page-relative paths in rendered pages
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def one_line(value: Any, limit: int = 300) -> str:
    return " ".join(text(value, limit * 4).split())[:limit]


def safe_url(value: Any, base: str | None = None) -> str | None:
    """`value` as an absolute http(s) URL (resolved against `base` when relative), else None."""
    raw = text(value, 4000)
    if not raw or any(c in raw for c in "\r\n\t\x00") or raw.startswith("//"):
        return None
    if base:
        raw = urljoin(base, raw)
    try:
        parts = urlsplit(raw)
    except ValueError:
        return None
    if parts.scheme.lower() not in URL_SCHEMES or not parts.netloc:
        return None
    return raw


def text_list(value: Any, limit: int = 200) -> list[str]:
    """Strings of a list (or a single string), non-text items dropped."""
    items = value if isinstance(value, list) else [value]
    return [t for t in (one_line(v, 200) for v in items[:limit]) if t]


_ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl", "dt", "em", "h1", "h2",
    "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "s", "span", "strong", "sub",
    "summary", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
}
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"}, "img": {"src", "alt", "title", "width", "height"},
    "td": {"align"}, "th": {"align"}, "ol": {"start"},
}


def _markdown(base: str | None) -> MarkdownIt:
    # html=False: raw HTML in the Markdown is shown as text, not passed on.
    md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table").enable("strikethrough")

    def fix_links(state: Any) -> None:
        for token in state.tokens:
            for child in [token, *(token.children or [])]:
                for attr in ("href", "src"):
                    if attr in (child.attrs or {}):
                        url = safe_url(child.attrs[attr], base)
                        if url is None:
                            del child.attrs[attr]
                        else:
                            child.attrs[attr] = url

    def demote_headings(state: Any) -> None:
        # The page has its own h1 and a "Documentation" h2: the document's headings go below them.
        for token in state.tokens:
            if token.type in ("heading_open", "heading_close"):
                token.tag = f"h{min(int(token.tag[1]) + HEADING_SHIFT, 6)}"

    md.core.ruler.push("absolute_http_links", fix_links)
    md.core.ruler.push("demote_headings", demote_headings)
    return md


def render_markdown(source: str, base: str | None = None) -> str:
    """Markdown to sanitised HTML; relative links resolve against `base`; only http(s) links survive."""
    html = _markdown(base).render(source)
    return nh3.clean(html, tags=_ALLOWED_TAGS, attributes=_ALLOWED_ATTRIBUTES, url_schemes=set(URL_SCHEMES),
                     link_rel="noopener noreferrer nofollow", strip_comments=True)
