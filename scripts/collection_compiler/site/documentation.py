"""Each version's documentation Markdown: fetched with a size cap, cached in the tree, reused from the
previous deploy while the URL and the RDF are unchanged, then rendered and sanitised."""

from __future__ import annotations

import logging
from pathlib import Path

from collection_compiler.adapters.files import sha256_bytes, write_text_atomic
from collection_compiler.adapters.http import FetchError, HttpClient
from collection_compiler.settings import Settings
from collection_compiler.site.model import Resource
from collection_compiler.site.prune import prune
from collection_compiler.site.safety import render_markdown, safe_url

log = logging.getLogger(__name__)

CACHE = "site-cache/docs"
MAX_DOC_BYTES = 1_000_000


def _key(url: str, rdf_sha256: str) -> str:
    return sha256_bytes(f"{url}\n{rdf_sha256}")


def fetch_documentation(resources: list[Resource], out: Path, previous: Path | None,
                        settings: Settings) -> dict[tuple[str, str], str]:
    """{(rid, vid): sanitised HTML} for every version whose documentation could be read."""
    wanted: dict[tuple[str, str], tuple[str, str]] = {}
    for resource in resources:
        for version in resource.versions:
            url = safe_url(version.facts.get("documentation"))
            if url:
                wanted[(resource.rid, version.vid)] = (url, _key(url, version.rdf_sha256))
    sources: dict[str, str] = {}
    todo: dict[str, str] = {}
    for url, key in wanted.values():
        cached = _cached(key, out, previous)
        if cached is not None:
            sources[key] = cached
        else:
            todo[key] = url
    if todo:
        with HttpClient(settings) as client:
            keys = sorted(todo)
            for key, source in zip(keys, client.map(lambda k: _fetch(client, todo[k]), keys), strict=True):
                if source is not None:
                    sources[key] = source
    html = {}
    for ref, (url, key) in wanted.items():
        if key in sources:
            write_text_atomic(out / CACHE / f"{key}.md", sources[key])
            html[ref] = render_markdown(sources[key], base=url)
    prune(out / CACHE, [out / CACHE / f"{key}.md" for key in sources])  # docs of versions no longer published
    return html


def _cached(key: str, out: Path, previous: Path | None) -> str | None:
    for root in (out, previous):
        if root is not None:
            try:
                return (root / CACHE / f"{key}.md").read_text("utf-8")
            except (FileNotFoundError, UnicodeDecodeError):
                continue
    return None


def _fetch(client: HttpClient, url: str) -> str | None:
    try:
        return client.get(url, max_bytes=MAX_DOC_BYTES, untrusted=True).content.decode("utf-8", "replace")
    except FetchError as e:
        log.warning("documentation %s: %s", url, e)
        return None
