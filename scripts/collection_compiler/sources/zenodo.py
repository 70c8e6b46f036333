"""Zenodo uploads: records carrying the hub keyword. A concept DOI is a resource; each record a version."""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

from .. import ids
from ..http import FetchError, HttpClient
from ..settings import Settings
from .candidates import Candidate, SourceOutcome, fingerprint

T = TypeVar("T")

log = logging.getLogger(__name__)

_FILE_NAME = re.compile(r"^[A-Za-z0-9_.\-]+$")


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


def list_records(client: HttpClient, settings: Settings, config: ZenodoConfig,
                 convert: Callable[[dict[str, Any]], T]) -> list[T]:
    """`convert` of every matching record, all versions: the first page tells the total, the others come
    concurrently, then pages are read one by one until an empty one (records may appear while we page). Each
    page is converted on the thread that fetched it, while other pages are still on their way."""

    def page(n: int) -> list[T]:
        url = search_url(settings, config, n)
        return [convert(hit) for hit in _hits(client.get_json(url), url)[0]]

    first_url = search_url(settings, config, 1)
    hits, total = _hits(client.get_json(first_url), first_url)
    records = [convert(hit) for hit in hits]
    if not records:
        return []
    known_pages = max(1, math.ceil((total or 0) / config.page_size))
    for chunk in client.map(page, range(2, known_pages + 1)):
        records.extend(chunk)
    n = known_pages + 1
    while chunk := page(n):
        records.extend(chunk)
        n += 1
    return records


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
    """A candidate, or the reason this record is not one. Runs for each of 30,000 hits of every listing, so each
    field is looked up once."""
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
    if not record_id.isdigit() or not ids.is_safe_id(concept):
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


def collect(client: HttpClient, settings: Settings, config: ZenodoConfig,
            needs_fetch: Callable[[Candidate], bool],
            on_fetched: Callable[[Candidate], None] = lambda candidate: None,
            on_listed: Callable[[list[Candidate]], None] = lambda candidates: None) -> SourceOutcome:
    """List the records and fetch the RDFs that `needs_fetch` asks for (new or changed versions; concurrently,
    bounded), handing the list to `on_listed` first and each to `on_fetched` as it arrives. The others keep
    raw=None."""
    outcome = SourceOutcome("zenodo")
    try:
        listed = list_records(client, settings, config, lambda hit: candidate_from_hit(hit, settings, config))
    except FetchError as e:
        outcome.error = str(e)
        return outcome
    seen: set[tuple[str, str]] = set()
    for candidate in listed:
        if isinstance(candidate, str):
            outcome.warnings.append(candidate)
        elif (candidate.resource_id, candidate.version_id) not in seen:
            seen.add((candidate.resource_id, candidate.version_id))
            outcome.candidates.append(candidate)
    to_fetch = [c for c in outcome.candidates if needs_fetch(c)]
    on_listed(to_fetch)

    def fetch(candidate: Candidate) -> bytes | str:
        try:
            return client.get(candidate.root_url, max_bytes=settings.max_yaml_bytes).content
        except FetchError as e:
            return str(e)

    # A version whose RDF could not be fetched keeps raw=None: its previous deploy is kept, if it has one.
    for candidate, result in zip(to_fetch, client.map(fetch, to_fetch), strict=True):
        if isinstance(result, str):
            outcome.warnings.append(f"{candidate.resource_id}/{candidate.version_id}: {result}")
        else:
            candidate.raw = result
            on_fetched(candidate)
    return outcome
