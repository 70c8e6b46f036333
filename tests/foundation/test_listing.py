"""A long Zenodo listing (`zenodo.list_records`), against a real fake Zenodo."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from collection_compiler.adapters.http import HttpClient
from collection_compiler.demo.fakes.server import FakeServer, Reply
from collection_compiler.demo.fakes.zenodo import FakeRecord, FakeZenodo
from collection_compiler.settings import Settings
from collection_compiler.sources import zenodo

PAGE_SIZE = 2
PAGES = 12
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


def listing(server: FakeZenodo, config: zenodo.ZenodoConfig = CONFIG) -> list[Any]:
    settings = settings_for(server)
    with HttpClient(settings) as client:
        return zenodo.list_records(client, settings, config)


def test_a_long_listing_gives_every_record_once_in_page_order(server: FakeZenodo):
    listed = listing(server)
    assert all(isinstance(c, zenodo.Candidate) for c in listed)
    newest_first = sorted(server.records.values(), key=lambda r: (r.created, r.record_id), reverse=True)
    assert [c.version_id for c in listed] == [str(r.record_id) for r in newest_first]
    assert len({c.full_id for c in listed}) == PAGES * PAGE_SIZE - 1


def test_pages_beyond_the_total_are_read_until_an_empty_one(server: FakeZenodo):
    before = len(server.requests_to("/api/records$"))
    listing(server)
    assert len(server.requests_to("/api/records$")) - before == PAGES + 1  # every page, then the empty one


def test_a_search_total_beyond_reason_plans_a_bounded_number_of_pages():
    with FakeServer() as fake:  # a server that claims a quadrillion matches
        fake.route("GET", r"/api/records", lambda request, match: Reply.json(
            {"hits": {"hits": [], "total": 10**15}} if request.query.get("page") != "1" else
            {"hits": {"hits": [{"id": 7, "conceptrecid": "6", "files": [{"key": "rdf.yaml"}]}], "total": 10**15}}))
        settings = Settings(zenodo_api=fake.url + "/api", concurrency=2, http_retries=0)
        with HttpClient(settings) as client:
            records, pages = zenodo._first_page(client, settings, CONFIG)
    assert [c.version_id for c in records] == ["7"] and pages == zenodo.MAX_PLANNED_PAGES
