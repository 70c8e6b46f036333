"""A long Zenodo listing shared with a helper process (`zenodo.list_records`), against a real fake Zenodo."""

from __future__ import annotations

import multiprocessing
import os
import pickle
from collections.abc import Iterator
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import pytest

from collection_compiler.adapters.http import FetchError, HttpClient
from collection_compiler.demo.fakes.server import FakeServer, Reply
from collection_compiler.demo.fakes.zenodo import FakeRecord, FakeZenodo
from collection_compiler.settings import Settings
from collection_compiler.sources import zenodo

PAGE_SIZE = 2
PAGES = zenodo.SPLIT_MIN_PAGES + 6
CONFIG = zenodo.ZenodoConfig(page_size=PAGE_SIZE)


@pytest.fixture(scope="module")
def server() -> Iterator[FakeZenodo]:
    with FakeZenodo() as fake:
        for n in range(PAGES * PAGE_SIZE - 1):  # the last page half full
            concept = 5000 + 10 * (n // 3)
            fake.add(FakeRecord(6000 + n, concept, f"2024-01-{n % 28 + 1:02d}T00:00:00+00:00", ["bioimage.io"],
                                {"rdf.yaml": f"name: m{n}\n".encode()}, version=f"{n}.0", unique_downloads=n))
        yield fake


def settings_for(server: FakeZenodo) -> Settings:
    return Settings(zenodo_api=server.api, concurrency=4, http_retries=1, http_backoff=0.01, http_timeout=10.0)


def listing(server: FakeZenodo, helper: zenodo.ListingHelper | None = None, config: zenodo.ZenodoConfig = CONFIG
            ) -> list[Any]:
    settings = settings_for(server)
    shares = zenodo.SHARED_LISTING if helper is not None and helper.listing else None
    with HttpClient(settings, shares=shares) as client:
        return zenodo.list_records(client, settings, config, helper)


@pytest.fixture
def helper() -> Iterator[zenodo.ListingHelper]:
    started = zenodo.ListingHelper.create()  # a real process from the fork server
    yield started
    started.shutdown()


def helper_pages(helper: zenodo.ListingHelper) -> set[int]:
    return {n for batch in helper.batches for n in batch.result()}


def test_a_long_listing_shared_with_a_helper_gives_the_same_candidates_in_the_same_order(
        server: FakeZenodo, helper: zenodo.ListingHelper):
    alone = listing(server)
    assert len(alone) == PAGES * PAGE_SIZE - 1 and all(isinstance(c, zenodo.Candidate) for c in alone)
    helper.start(settings_for(server), CONFIG)
    shared = listing(server, helper)
    assert shared == alone  # every field of every candidate, in page order
    theirs = helper_pages(helper)
    assert theirs <= set(range(2, PAGES + 1))
    if theirs:  # the helper reads from the top down, this process from the bottom up
        assert theirs == set(range(min(theirs), PAGES + 1))


def test_a_helper_that_started_early_reads_the_pages_this_process_has_not_come_to(
        server: FakeZenodo, helper: zenodo.ListingHelper):
    helper.start(settings_for(server), CONFIG)
    for batch in helper.batches:  # this process is busy elsewhere (reading the previous state) until it is done
        batch.result(timeout=60)
    assert helper_pages(helper) == set(range(2, PAGES + 1))
    before = len(server.requests_to("/api/records$"))
    shared = listing(server, helper)
    assert len(server.requests_to("/api/records$")) - before == 1  # only the empty page after the last is asked here
    assert shared == listing(server)


def test_a_short_listing_stays_in_this_process(server: FakeZenodo, helper: zenodo.ListingHelper):
    short = zenodo.ZenodoConfig(page_size=PAGE_SIZE * 8)  # fewer pages than SPLIT_MIN_PAGES
    helper.start(settings_for(server), short)
    assert helper.batches == []
    assert len(listing(server, helper, short)) == PAGES * PAGE_SIZE - 1


def test_page_claims_are_taken_from_both_ends_until_they_meet():
    claims = zenodo.PageClaims(multiprocessing.get_context("forkserver"))
    assert claims.take(from_top=False) is None  # nothing offered yet
    claims.offer(2, 6)
    taken = [claims.take(from_top=True), claims.take(from_top=False), claims.take(from_top=True),
             claims.take(from_top=False), claims.take(from_top=True), claims.take(from_top=False)]
    assert taken == [6, 2, 5, 3, 4, None]


class DyingExecutor:
    """A helper whose process dies after it claimed the top pages: its batches fail as a broken pool's do."""

    def __init__(self, claims: zenodo.PageClaims, pages: int):
        self.claims, self.pages = claims, pages

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future:
        while self.pages:
            self.pages -= 1
            self.claims.take(from_top=True)
        future: Future = Future()
        future.set_exception(BrokenProcessPool("the helper process died"))
        return future

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        pass


def test_the_pages_a_helper_claimed_before_it_died_are_read_here(server: FakeZenodo):
    claims = zenodo.PageClaims(multiprocessing.get_context("forkserver"))
    dying = zenodo.ListingHelper(DyingExecutor(claims, pages=5), claims)
    dying.start(settings_for(server), CONFIG)
    assert dying.batches and claims.take(from_top=True) == PAGES - 5  # five pages were claimed and lost
    assert listing(server, dying) == listing(server)


class GoneExecutor(DyingExecutor):
    """A helper whose process died before the listing: a broken pool takes no job."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future:
        raise BrokenProcessPool("the helper process died")


def test_a_helper_that_died_before_the_listing_leaves_every_page_to_this_process(server: FakeZenodo):
    claims = zenodo.PageClaims(multiprocessing.get_context("forkserver"))
    gone = zenodo.ListingHelper(GoneExecutor(claims, pages=0), claims)
    gone.start(settings_for(server), CONFIG)
    assert gone.batches == [] and gone.first_page is not None
    assert listing(server, gone) == listing(server)


def test_a_first_page_that_fails_before_the_state_is_read_fails_the_listing_when_it_is_read(server: FakeZenodo):
    claims = zenodo.PageClaims(multiprocessing.get_context("forkserver"))
    early = zenodo.ListingHelper(DyingExecutor(claims, pages=0), claims)
    server.fail("/api/records$", status=503, times=2)  # both attempts
    early.start(settings_for(server), CONFIG)
    assert isinstance(early.first_page, FetchError) and early.batches == []
    with pytest.raises(FetchError, match="HTTP 503"):
        listing(server, early)


def test_a_search_total_beyond_reason_plans_a_bounded_number_of_pages():
    with FakeServer() as fake:  # a server that claims a quadrillion matches
        fake.route("GET", r"/api/records", lambda request, match: Reply.json(
            {"hits": {"hits": [], "total": 10**15}} if request.query.get("page") != "1" else
            {"hits": {"hits": [{"id": 7, "conceptrecid": "6", "files": [{"key": "rdf.yaml"}]}], "total": 10**15}}))
        settings = Settings(zenodo_api=fake.url + "/api", concurrency=2, http_retries=0)
        with HttpClient(settings) as client:
            records, pages = zenodo._first_page(client, settings, CONFIG)
    assert [c.version_id for c in records] == ["7"] and pages == zenodo.MAX_PLANNED_PAGES


def test_a_fetch_error_survives_the_trip_back_from_a_helper_process():
    error = pickle.loads(pickle.dumps(FetchError("http://zenodo/api/records?page=30", "HTTP 500", 500)))
    assert (error.url, error.reason, error.status) == ("http://zenodo/api/records?page=30", "HTTP 500", 500)
    assert str(error) == "http://zenodo/api/records?page=30: HTTP 500"


def test_update_starts_a_helper_only_where_the_previous_state_tells_of_a_large_collection(tmp_path):
    from collection_compiler.layout import SiteTree
    from collection_compiler.stages.update import LARGE_STATE_BYTES, _listing_helper

    state = SiteTree(tmp_path).source_state
    state.parent.mkdir(parents=True)
    state.write_bytes(b" " * (LARGE_STATE_BYTES - 1))
    settings = Settings(previous=tmp_path, concurrency=4)
    assert _listing_helper(settings) is None
    assert _listing_helper(Settings(concurrency=4)) is None  # no previous deploy
    state.write_bytes(b" " * LARGE_STATE_BYTES)
    assert _listing_helper(settings.with_overrides(concurrency=1)) is None
    helper = _listing_helper(settings)
    if (os.cpu_count() or 1) < 2:
        assert helper is None
        return
    assert helper is not None
    try:
        assert helper.executor.submit(zenodo.warm_up).result(timeout=60) is True  # a live process with zenodo
    finally:
        helper.shutdown()
