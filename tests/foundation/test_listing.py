"""A long Zenodo listing read half on a helper process (`zenodo.list_records`), against a real fake Zenodo."""

from __future__ import annotations

import multiprocessing
import os
import pickle
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import pytest

from collection_compiler.fakes.zenodo import FakeRecord, FakeZenodo
from collection_compiler.http import FetchError, HttpClient
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


def listing(server: FakeZenodo, helper: Any = None) -> list[Any]:
    settings = settings_for(server)
    with HttpClient(settings) as client:
        return zenodo.list_records(client, settings, CONFIG, helper)


class CountingHelper(ProcessPoolExecutor):
    """A real helper process that remembers what it was given."""

    def __init__(self) -> None:
        super().__init__(1, mp_context=multiprocessing.get_context("forkserver"))
        self.pages: list[int] = []

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future:
        if fn is zenodo.read_pages:
            self.pages += args[2]
        return super().submit(fn, *args, **kwargs)


def test_a_long_listing_read_half_on_a_helper_gives_the_same_candidates_in_the_same_order(server: FakeZenodo):
    alone = listing(server)
    assert len(alone) == PAGES * PAGE_SIZE - 1 and all(isinstance(c, zenodo.Candidate) for c in alone)
    with CountingHelper() as helper:
        shared = listing(server, helper)
    assert shared == alone  # every field of every candidate, in page order
    assert helper.pages == list(range(2 + (PAGES - 1) // 2, PAGES + 1))  # the upper half went to the helper


def test_a_short_listing_stays_in_this_process(server: FakeZenodo):
    short = zenodo.ZenodoConfig(page_size=PAGE_SIZE * 8)  # fewer pages than SPLIT_MIN_PAGES
    settings = settings_for(server)
    with CountingHelper() as helper, HttpClient(settings) as client:
        records = zenodo.list_records(client, settings, short, helper)
    assert len(records) == PAGES * PAGE_SIZE - 1 and helper.pages == []


class DeadHelper:
    """A helper whose process is gone: every job fails as a broken pool does."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        future.set_exception(BrokenProcessPool("the helper process died"))
        return future


def test_the_pages_of_a_helper_that_died_are_read_here(server: FakeZenodo):
    assert listing(server, DeadHelper()) == listing(server)


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
        assert helper.submit(zenodo.warm_up).result(timeout=60) is True  # a live process that imported zenodo
    finally:
        helper.shutdown()
