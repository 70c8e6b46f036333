"""A fake Zenodo REST API (records search with all versions, record files) on 127.0.0.1.

Responses follow the shape of Zenodo's InvenioRDM API: `hits.hits[]` records with `id`, `conceptrecid`,
`doi`, `conceptdoi`, `created`, `updated`, `metadata`, `files[]` (`key`, `size`, `checksum`, `links.self`),
`stats` and `parent.access.owned_by`. Its base URL for `COLLECTION_ZENODO_API` is `<url>/api`.

It enforces Zenodo's published rate limits scaled from a minute to a second (search 30, the rest of the API 60
per window; `limit` changes them), with the same headers and 429 answers.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from collection_compiler.demo.fakes.server import FakeServer, Reply, Request


@dataclass
class FakeRecord:
    record_id: int
    concept_id: int
    created: str
    keywords: list[str]
    files: dict[str, bytes] = field(default_factory=dict)
    title: str = "a record"
    version: str | None = None
    unique_downloads: int = 0
    owner: int = 1


SEARCH = r"^/api/records/?$"
API = r"^/api/"


class FakeZenodo(FakeServer):
    def __init__(self, latency: float = 0.0, search_limit: int = 30, api_limit: int = 60, period: int = 1):
        super().__init__(latency)
        self.limit(SEARCH, search_limit, period)  # checked first: a search counts against the search budget only
        self.limit(API, api_limit, period)
        self.records: dict[int, FakeRecord] = {}
        self.route("GET", r"/api/records", self._search)
        self.route("GET", r"/api/records/(\d+)", self._record)
        self.route("GET", r"/api/records/(\d+)/files/([^/]+)/content", self._file)
        self.route("HEAD", r"/api/records/(\d+)/files/([^/]+)/content", self._file)
        self._hits_cache: dict[int, dict[str, Any]] = {}
        self._search_cache: dict[frozenset[str], list[FakeRecord]] = {}  # a real index does not re-sort per page
        # Encoded pages: this server shares the benchmark's cores, and encoding 100 hits per request would make
        # it, not the compiler, the bottleneck of a large listing. Changes go through `add`, which clears both.
        self._page_cache: dict[tuple[frozenset[str], int, int], bytes] = {}

    @property
    def api(self) -> str:
        return self.url + "/api"

    def add(self, record: FakeRecord) -> FakeRecord:
        self.records[record.record_id] = record
        self._hits_cache.pop(record.record_id, None)
        self._search_cache.clear()
        self._page_cache.clear()
        return record

    def hit(self, record: FakeRecord) -> dict[str, Any]:
        cached = self._hits_cache.get(record.record_id)
        if cached is not None:
            return cached
        base = f"{self.api}/records/{record.record_id}"
        hit = {
            "id": record.record_id,
            "recid": str(record.record_id),
            "conceptrecid": str(record.concept_id),
            "doi": f"10.5281/zenodo.{record.record_id}",
            "conceptdoi": f"10.5281/zenodo.{record.concept_id}",
            "created": record.created,
            "updated": record.created,
            "metadata": {"title": record.title, "keywords": record.keywords,
                         "publication_date": record.created[:10],
                         **({"version": record.version} if record.version else {})},
            "files": [
                {"key": key, "size": len(data), "checksum": "md5:" + hashlib.md5(data).hexdigest(),
                 "links": {"self": f"{base}/files/{key}/content"}}
                for key, data in sorted(record.files.items())
            ],
            "stats": {"unique_downloads": record.unique_downloads, "downloads": record.unique_downloads * 2},
            "parent": {"access": {"owned_by": {"user": str(record.owner)}}},
            "links": {"self": base},
        }
        self._hits_cache[record.record_id] = hit
        return hit

    def _search(self, request: Request, _: re.Match[str]) -> Reply:
        wanted = set(re.findall(r'keywords:"([^"]+)"', request.query.get("q", "")))
        size = max(1, min(int(request.query.get("size", 10)), 1000))
        page = max(1, int(request.query.get("page", 1)))
        key = frozenset(wanted)
        body = self._page_cache.get((key, size, page))
        if body is None:
            if key not in self._search_cache:
                self._search_cache[key] = sorted(
                    (r for r in self.records.values() if not wanted or wanted & set(r.keywords)),
                    key=lambda r: (r.created, r.record_id), reverse=True)
            matching = self._search_cache[key]
            chunk = matching[(page - 1) * size: page * size]
            body = Reply.json({"hits": {"hits": [self.hit(r) for r in chunk], "total": len(matching)},
                               "links": {}}).body
            self._page_cache[(key, size, page)] = body
        return Reply(200, body, {"Content-Type": "application/json"})

    def _record(self, _: Request, match: re.Match[str]) -> Reply:
        record = self.records.get(int(match[1]))
        return Reply.json(self.hit(record)) if record else Reply.not_found()

    def _file(self, _: Request, match: re.Match[str]) -> Reply:
        record = self.records.get(int(match[1]))
        if record is None or match[2] not in record.files:
            return Reply.not_found()
        return Reply(200, record.files[match[2]], {"Content-Type": "application/octet-stream"})
