"""Zenodo uploads: records carrying the hub keyword. A concept DOI is a resource; each record a version."""

from __future__ import annotations

import functools
import itertools
import logging
import math
import multiprocessing
import re
from collections.abc import Callable
from concurrent.futures import BrokenExecutor, Executor, Future
from dataclasses import dataclass, field
from multiprocessing.context import BaseContext
from typing import Any
from urllib.parse import quote

from collection_compiler.adapters.http import FetchError, HttpClient
from collection_compiler.adapters.parallel import gc_paused, helper_process
from collection_compiler.catalogue import ids
from collection_compiler.settings import Settings
from collection_compiler.sources.candidates import Candidate, SourceOutcome, fingerprint

log = logging.getLogger(__name__)

_FILE_NAME = re.compile(r"^[A-Za-z0-9_.\-]+$")
SPLIT_MIN_PAGES = 40  # a shorter listing is read in one process: a helper would hardly start before it ends
HELPER_BATCH_PAGES = 16  # a helper's pages come back in batches, each while it reads the next
# A search's `total` is the server's word: pages beyond this many are read one by one until an empty one, not
# planned (and claimed, and handed out in batches) ahead. A million records at 100 a page.
MAX_PLANNED_PAGES = 10_000
# While a helper process reads half of a listing, each process may spend half of the search budget: the server
# counts both, and each sees only its own requests on their way.
SHARED_LISTING = {"zenodo-search": 0.5}


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


class PageClaims:
    """The pages of a listing left to read, shared by this process and a helper process: this process takes them
    from the bottom, the helper from the top, until none is left, so whichever side is faster reads more. (Given
    to the helper when it starts: shared memory cannot travel with a job.)"""

    def __init__(self, context: BaseContext) -> None:
        self._bounds = context.Array("i", [1, 0])  # [next from the bottom, next from the top]: none yet

    def offer(self, first: int, last: int) -> None:
        with self._bounds.get_lock():
            self._bounds.get_obj()[:] = [first, last]

    def take(self, from_top: bool) -> int | None:
        with self._bounds.get_lock():
            bounds = self._bounds.get_obj()
            low, high = bounds
            if low > high:
                return None
            if from_top:
                bounds[1] = high - 1
                return high
            bounds[0] = low + 1
            return low


_claims: PageClaims | None = None  # on a helper process: the claims it was started with
_client: HttpClient | None = None  # on a helper process: its connections, kept from batch to batch


def _install_claims(claims: PageClaims) -> None:
    global _claims
    _claims = claims


@dataclass
class ListingHelper:
    """A helper process that reads a long listing from the top while this process reads it from the bottom (see
    `list_records`). `start` it as early as possible: it reads while this process does other work."""

    executor: Executor
    claims: PageClaims
    first_page: tuple[list[Candidate | str], int] | FetchError | None = None  # page 1 and the number of pages
    batches: list[Future[dict[int, list[Candidate | str]]]] = field(default_factory=list)

    @classmethod
    def create(cls) -> ListingHelper:
        claims = PageClaims(multiprocessing.get_context("forkserver"))
        return cls(helper_process(warm_up, _install_claims, (claims,)), claims)

    def start(self, settings: Settings, config: ZenodoConfig) -> None:
        """Read page 1 here (it tells the number of pages) and, for a long listing, set the helper reading."""
        try:
            with HttpClient(settings) as client:
                self.first_page = _first_page(client, settings, config)
        except FetchError as e:
            self.first_page = e
            return
        last = self.first_page[1]
        if last - 1 >= SPLIT_MIN_PAGES and settings.concurrency >= 2:
            self.claims.offer(2, last)
            share = settings.with_overrides(concurrency=settings.concurrency // 2)
            try:
                self.batches = [self.executor.submit(read_top_pages, share, config, HELPER_BATCH_PAGES)
                                for _ in range(math.ceil((last - 1) / HELPER_BATCH_PAGES))]
            except BrokenExecutor:  # the process is already gone: `list_records` reads every page here
                log.warning("the listing helper process stopped before the listing; its pages are read here")

    def shutdown(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)

    @property
    def listing(self) -> bool:
        """Whether the helper is reading pages (then this process has half of the search budget)."""
        return bool(self.batches)


def list_records(client: HttpClient, settings: Settings, config: ZenodoConfig,
                 helper: ListingHelper | None = None) -> list[Candidate | str]:
    """Every matching record, all versions, as a candidate or the reason it is not one: the first page tells the
    number of pages, the others come concurrently, then pages are read one by one until an empty one (records may
    appear while we page). Each page is read on the thread that fetched it, while others are still on their way.

    Reading 30,000 hits is CPU work that the threads of one process cannot share: a started `helper` has been
    reading pages from the top since page 1 came (with half of the connections), and this process now reads them
    from the bottom until the two meet."""
    first = helper.first_page if helper is not None else None
    if isinstance(first, FetchError):
        raise first
    records, last = first or _first_page(client, settings, config)
    if not records:
        return []
    numbers = range(2, last + 1)
    if helper is None or not helper.batches:
        records += _pages(client, settings, config, numbers)
    else:
        threads = settings.concurrency - settings.concurrency // 2
        pages = _read_claimed(client, settings, config, lambda: helper.claims.take(from_top=False), threads)
        pages.update(_helper_result(helper.batches))
        missing = iter([n for n in numbers if n not in pages])  # the helper's, when it stopped
        pages.update(_read_claimed(client, settings, config, functools.partial(next, missing, None), threads))
        records += [c for n in numbers for c in pages[n]]
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
    """Pages `numbers` in order, each read on the thread that fetched it."""
    return [c for chunk in client.map(lambda n: _page(client, settings, config, n), numbers) for c in chunk]


def _read_claimed(client: HttpClient, settings: Settings, config: ZenodoConfig, take: Callable[[], int | None],
                  threads: int) -> dict[int, list[Candidate | str]]:
    """The pages `take` hands out, by number, read on `threads` threads that each take the next one when done."""
    pages: dict[int, list[Candidate | str]] = {}

    def read(_: int) -> None:
        while (n := take()) is not None:
            pages[n] = _page(client, settings, config, n)

    list(client.map(read, range(threads), threads))  # raises what a reader raised
    return pages


@gc_paused()
def read_top_pages(settings: Settings, config: ZenodoConfig, limit: int) -> dict[int, list[Candidate | str]]:
    """On the helper process: up to `limit` pages from the top of the listing."""
    global _client
    assert _claims is not None, "a listing helper is started with its page claims"
    claims, taken = _claims, itertools.count()
    _client = _client or HttpClient(settings, shares=SHARED_LISTING)
    return _read_claimed(_client, settings, config, lambda: claims.take(from_top=True) if next(taken) < limit else None,
                         settings.concurrency)


def _helper_result(batches: list[Future[dict[int, list[Candidate | str]]]]) -> dict[int, list[Candidate | str]]:
    """The helper's pages, without those of the batches it did not finish (the caller reads those here)."""
    pages: dict[int, list[Candidate | str]] = {}
    try:
        for batch in batches:
            pages.update(batch.result())
    except BrokenExecutor:
        log.warning("the listing helper process stopped; its pages are read here")
    return pages


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


def collect(client: HttpClient, settings: Settings, config: ZenodoConfig,
            needs_fetch: Callable[[Candidate], bool],
            on_fetched: Callable[[Candidate], None] = lambda candidate: None,
            on_listed: Callable[[list[Candidate]], None] = lambda candidates: None,
            helper: ListingHelper | None = None) -> SourceOutcome:
    """List the records (part of a long listing on `helper`, see `list_records`) and fetch the RDFs that
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
