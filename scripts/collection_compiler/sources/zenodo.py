"""Zenodo uploads: records carrying the hub keyword. A concept DOI is a resource; each record a version."""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable
from concurrent.futures import BrokenExecutor, Executor, Future
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from .. import ids
from ..http import FetchError, HttpClient
from ..parallel import gc_paused
from ..settings import Settings
from .candidates import Candidate, SourceOutcome, fingerprint

log = logging.getLogger(__name__)

_FILE_NAME = re.compile(r"^[A-Za-z0-9_.\-]+$")
SPLIT_MIN_PAGES = 40  # a shorter listing is read in one process: a helper would hardly start before it ends


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
                 helper: Executor | None = None) -> list[Candidate | str]:
    """Every matching record, all versions, as a candidate or the reason it is not one: the first page tells the
    total, the others come concurrently, then pages are read one by one until an empty one (records may appear
    while we page). Each page is read on the thread that fetched it, while others are still on their way.

    Reading 30,000 hits is CPU work that the threads of one process cannot share, so with a `helper` process
    and enough pages, the upper half of them is fetched and read there (each side with half the connections)
    while this process reads the lower half."""
    first_url = search_url(settings, config, 1)
    hits, total = _hits(client.get_json(first_url), first_url)
    records = [candidate_from_hit(hit, settings, config) for hit in hits]
    if not records:
        return []
    known_pages = max(1, math.ceil((total or 0) / config.page_size))
    here = list(range(2, known_pages + 1))
    there: list[int] = []
    elsewhere, threads = None, None
    if helper is not None and len(here) >= SPLIT_MIN_PAGES and settings.concurrency >= 2:
        here, there = here[:len(here) // 2], here[len(here) // 2:]
        share = settings.concurrency // 2
        elsewhere = helper.submit(read_pages, settings.with_overrides(concurrency=share), config, there)
        threads = settings.concurrency - share
    records += _pages(client, settings, config, here, threads)
    if elsewhere is not None:
        records.extend(_helper_result(elsewhere, there, client, settings, config))
    n = known_pages + 1
    while chunk := _page(client, settings, config, n):
        records.extend(chunk)
        n += 1
    return records


def _page(client: HttpClient, settings: Settings, config: ZenodoConfig, n: int) -> list[Candidate | str]:
    url = search_url(settings, config, n)
    return [candidate_from_hit(hit, settings, config) for hit in _hits(client.get_json(url), url)[0]]


def _pages(client: HttpClient, settings: Settings, config: ZenodoConfig, numbers: list[int],
           threads: int | None = None) -> list[Candidate | str]:
    """Pages `numbers` in order, each read on the thread that fetched it."""
    return [c for chunk in client.map(lambda n: _page(client, settings, config, n), numbers, threads) for c in chunk]


@gc_paused()
def read_pages(settings: Settings, config: ZenodoConfig, numbers: list[int]) -> list[Candidate | str]:
    """Pages `numbers` of the listing, read on a helper process with its own connections."""
    with HttpClient(settings) as client:
        return _pages(client, settings, config, numbers)


def _helper_result(future: Future[list[Candidate | str]], numbers: list[int], client: HttpClient,
                   settings: Settings, config: ZenodoConfig) -> list[Candidate | str]:
    """The helper's pages, or (the helper process died) the same pages read here."""
    try:
        return future.result()
    except BrokenExecutor:
        log.warning("the listing helper process stopped; reading its %d pages here", len(numbers))
        return _pages(client, settings, config, numbers)


def warm_up() -> bool:
    """A first job for a new helper process: unpickling it imports this module and the HTTP client."""
    return True


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
            on_listed: Callable[[list[Candidate]], None] = lambda candidates: None,
            helper: Executor | None = None) -> SourceOutcome:
    """List the records (half of a long listing on `helper`, see `list_records`) and fetch the RDFs that
    `needs_fetch` asks for (new or changed versions; concurrently, bounded), handing the list to `on_listed` first
    and each to `on_fetched` as it arrives. The others keep raw=None."""
    outcome = SourceOutcome("zenodo")
    try:
        listed = list_records(client, settings, config, helper)
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
