"""Zenodo uploads: records carrying the hub keyword. A concept DOI is a resource; each record a version."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from collection_compiler.adapters.http import FetchError, HttpClient
from collection_compiler.catalogue import ids
from collection_compiler.settings import Settings
from collection_compiler.sources.candidates import Candidate, SourceOutcome, fingerprint

_FILE_NAME = re.compile(r"^[A-Za-z0-9_.\-]+$")
# A search's `total` is the server's word: pages beyond this many are read one by one until an empty one, not
# requested ahead. A million records at 100 a page.
MAX_PLANNED_PAGES = 10_000


@dataclass(frozen=True)
class ZenodoConfig:
    keywords: tuple[str, ...] = ("bioimage.io",)
    page_size: int = 100
    skip_keywords: tuple[str, ...] = ("backup.bioimage.io",)
    skip_records: tuple[str, ...] = ()

    @classmethod
    def from_template(cls, template: dict[str, Any]) -> ZenodoConfig:
        section = ((template.get("config") or {}).get("sources") or {}).get("zenodo") or {}
        return cls(
            keywords=tuple(section.get("keywords") or cls.keywords),
            page_size=int(section.get("page_size") or cls.page_size),
            skip_keywords=tuple(section.get("skip_keywords") or ()),
            skip_records=tuple(str(r) for r in section.get("skip_records") or ()),
        )


def search_url(settings: Settings, config: ZenodoConfig, page: int) -> str:
    query = " OR ".join(f'keywords:"{k}"' for k in config.keywords)
    return (f"{settings.zenodo_api}/records?q={quote(query)}&all_versions=true&sort=newest"
            f"&size={config.page_size}&page={page}")


def _hits(payload: Any, url: str) -> tuple[list[dict[str, Any]], int | None]:
    hits = payload.get("hits") if isinstance(payload, dict) else None
    if not isinstance(hits, dict) or not isinstance(hits.get("hits"), list):
        raise FetchError(url, "malformed search response: no hits.hits list")
    total = hits.get("total")
    if isinstance(total, dict):  # older API: {"value": n}
        total = total.get("value")
    return [h for h in hits["hits"] if isinstance(h, dict)], total if isinstance(total, int) else None


def list_records(client: HttpClient, settings: Settings, config: ZenodoConfig) -> list[Candidate | str]:
    """Every matching record, all versions, as a candidate or the reason it is not one: the first page tells the
    number of pages, the others come concurrently, then pages are read one by one until an empty one (records may
    appear while we page)."""
    records, last = _first_page(client, settings, config)
    if not records:
        return []
    records += _pages(client, settings, config, range(2, last + 1))
    n = last + 1
    while chunk := _page(client, settings, config, n):
        records.extend(chunk)
        n += 1
    return records


def _first_page(client: HttpClient, settings: Settings, config: ZenodoConfig) -> tuple[list[Candidate | str], int]:
    """Page 1 and the number of pages its total tells (at most `MAX_PLANNED_PAGES`)."""
    url = search_url(settings, config, 1)
    hits, total = _hits(client.get_json(url), url)
    pages = min(max(1, math.ceil((total or 0) / config.page_size)), MAX_PLANNED_PAGES)
    return [candidate_from_hit(hit, settings, config) for hit in hits], pages


def _page(client: HttpClient, settings: Settings, config: ZenodoConfig, n: int) -> list[Candidate | str]:
    url = search_url(settings, config, n)
    return [candidate_from_hit(hit, settings, config) for hit in _hits(client.get_json(url), url)[0]]


def _pages(client: HttpClient, settings: Settings, config: ZenodoConfig, numbers: range) -> list[Candidate | str]:
    """Pages `numbers`, concurrently, in order."""
    return [c for chunk in client.map(lambda n: _page(client, settings, config, n), numbers) for c in chunk]


def _owners(hit: dict[str, Any]) -> list[int | str]:
    raw = hit.get("owners")
    if raw is None:
        owned_by = ((hit.get("parent") or {}).get("access") or {}).get("owned_by")
        raw = [owned_by] if isinstance(owned_by, dict) else owned_by or []
    owners: list[int | str] = []
    for owner in raw if isinstance(raw, list) else []:
        value = owner.get("id", owner.get("user")) if isinstance(owner, dict) else owner
        if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
            owners.append(int(value))
    return owners


def _rdf_file(hit: dict[str, Any]) -> dict[str, Any] | None:
    """`rdf.yaml`, else the first `*.bioimageio.yaml` by name (only files with a safe name count)."""
    named: dict[str, dict[str, Any]] = {}
    for file in hit.get("files") or []:
        key = file.get("key") if isinstance(file, dict) else None
        if key == "rdf.yaml":
            return file
        if isinstance(key, str) and (key == "bioimageio.yaml" or key.endswith(".bioimageio.yaml")) \
                and _FILE_NAME.match(key):
            named.setdefault(key, file)
    return named[min(named)] if named else None


def _file_url(settings: Settings, record_id: str, file: dict[str, Any]) -> str:
    link = (file.get("links") or {}).get("self")
    if isinstance(link, str) and link.startswith(settings.zenodo_api + "/"):
        return link
    return f"{settings.zenodo_api}/records/{record_id}/files/{file['key']}/content"


def candidate_from_hit(hit: dict[str, Any], settings: Settings, config: ZenodoConfig) -> Candidate | str:
    """A candidate, or the reason this record is not one."""
    record_id = str(hit.get("id", ""))
    metadata = hit.get("metadata")
    if not isinstance(metadata, dict):
        metadata = {}
    keywords = metadata.get("keywords")
    if record_id in config.skip_records or (
            isinstance(keywords, list) and any(k in keywords for k in config.skip_keywords)):
        return f"record {record_id}: skipped (backup or listed in skip_records)"
    concept = hit.get("conceptdoi")
    if not concept:
        concept_record = hit.get("conceptrecid")
        concept = f"10.5281/zenodo.{concept_record}" if concept_record else None
    if not ids.is_zenodo_ids(concept, record_id):
        return f"record {record_id!r}: no usable record id or concept DOI ({concept!r})"
    rdf_file = _rdf_file(hit)
    if rdf_file is None:
        return f"record {record_id} ({concept}): no rdf.yaml or *.bioimageio.yaml file"
    version = metadata.get("version")
    bioimageio = {
        "created": str(hit.get("created") or ""),
        "doi": hit.get("doi"),
        "owners": _owners(hit),
        "version_name": str(version) if version else f"version from {metadata.get('publication_date', '?')}",
    }
    url = _file_url(settings, record_id, rdf_file)
    stats = hit.get("stats")
    downloads = stats.get("unique_downloads") if isinstance(stats, dict) else None
    return Candidate(
        resource_id=concept, version_id=record_id, source="zenodo", root_url=url,
        fingerprint=fingerprint(rdf_file.get("checksum"), rdf_file.get("size"), url, bioimageio),
        bioimageio=bioimageio, download_count=downloads if isinstance(downloads, int) else None)


def collect(client: HttpClient, settings: Settings, config: ZenodoConfig, needs_fetch: Callable[[Candidate], bool],
            on_fetched: Callable[[Candidate], object] = lambda candidate: None) -> SourceOutcome:
    """List the records and download the RDFs that `needs_fetch` asks for (new or changed versions; concurrently,
    bounded by the client), each handed to `on_fetched` on its download thread (the stage parses it there, while
    the other downloads wait on the network). The others, and those whose download failed, keep raw=None: their
    previous deploy is kept, if they have one."""
    outcome = SourceOutcome("zenodo")
    try:
        listed = list_records(client, settings, config)
    except FetchError as e:
        outcome.error = str(e)
        return outcome
    seen: set[str] = set()
    for candidate in listed:
        if isinstance(candidate, str):
            outcome.warnings.append(candidate)
        elif candidate.full_id not in seen:
            seen.add(candidate.full_id)
            outcome.candidates.append(candidate)
    to_fetch = [c for c in outcome.candidates if needs_fetch(c)]

    def fetch(candidate: Candidate) -> str | None:
        try:
            candidate.raw = client.get(candidate.root_url, max_bytes=settings.max_yaml_bytes).content
        except FetchError as e:
            return f"{candidate.full_id}: {e}"
        on_fetched(candidate)
        return None

    outcome.warnings += [error for error in client.map(fetch, to_fetch) if error]
    return outcome
