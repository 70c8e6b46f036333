"""One HTTP client for every outside call: timeouts, bounded retries with backoff, `Retry-After`,
size caps, and a bounded thread pool for concurrent fetches."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
from requests.adapters import HTTPAdapter

from . import __version__
from .settings import Settings

T = TypeVar("T")
R = TypeVar("R")

RETRY_STATUS = {429, 500, 502, 503, 504}


class FetchError(RuntimeError):
    """A request that failed for good (after retries): names the URL and the reason."""

    def __init__(self, url: str, reason: str, status: int | None = None):
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
        self.status = status


@dataclass
class Response:
    url: str
    status: int
    content: bytes
    headers: dict[str, str]

    def json(self) -> Any:
        import json

        try:
            return json.loads(self.content)
        except ValueError as e:
            raise FetchError(self.url, f"malformed JSON response ({e})") from None


class HttpClient:
    def __init__(self, settings: Settings, sleep: Callable[[float], None] = time.sleep):
        self.settings = settings
        self._sleep = sleep
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max(4, settings.concurrency), max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["User-Agent"] = f"collection-compiler/{__version__}"
        self.requests_made = 0

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _auth_headers(self, url: str) -> dict[str, str]:
        # The token only ever goes to the configured GitHub API, never to Zenodo or partner hosts.
        if self.settings.github_token and url.startswith(self.settings.github_api + "/"):
            return {"Authorization": f"Bearer {self.settings.github_token}"}
        return {}

    def request(self, method: str, url: str, *, max_bytes: int | None = None, ok: Iterable[int] = (200,),
                headers: dict[str, str] | None = None, **kwargs: Any) -> Response:
        """Send with retries on connection errors, timeouts, 429 and 5xx. Raises FetchError otherwise."""
        limit = self.settings.max_download_bytes if max_bytes is None else max_bytes
        all_headers = {**self._auth_headers(url), **(headers or {})}
        ok = set(ok)
        attempts = self.settings.http_retries + 1
        last = "no attempt made"
        status: int | None = None
        for attempt in range(attempts):
            wait = self.settings.http_backoff * (2**attempt)
            try:
                self.requests_made += 1
                with self.session.request(method, url, headers=all_headers, stream=True,
                                          timeout=self.settings.http_timeout, **kwargs) as r:
                    status = r.status_code
                    if status in ok:
                        return Response(r.url, status, _read_capped(r, url, limit), dict(r.headers))
                    last = f"HTTP {status}{_reason(r)}"
                    if status not in RETRY_STATUS:
                        raise FetchError(url, last, status)
                    wait = max(wait, self._retry_after(r.headers.get("Retry-After")))
            except requests.Timeout:
                last, status = f"timed out after {self.settings.http_timeout:g} s", None
            except requests.ConnectionError as e:
                last, status = f"connection failed ({type(e).__name__})", None
            if attempt + 1 < attempts:
                self._sleep(wait)
        raise FetchError(url, f"{last} (after {attempts} attempts)", status)

    def get(self, url: str, **kwargs: Any) -> Response:
        return self.request("GET", url, **kwargs)

    def get_json(self, url: str, **kwargs: Any) -> Any:
        return self.get(url, max_bytes=kwargs.pop("max_bytes", 50_000_000), **kwargs).json()

    def _retry_after(self, value: str | None) -> float:
        if not value:
            return 0.0
        try:
            seconds = float(value)
        except ValueError:
            parsed = email.utils.parsedate_to_datetime(value)
            seconds = parsed.timestamp() - time.time() if parsed else 0.0
        return min(max(seconds, 0.0), self.settings.max_retry_after)

    def map(self, func: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """`func` over `items` on at most `concurrency` threads, results in input order."""
        items = list(items)
        if self.settings.concurrency <= 1 or len(items) <= 1:
            yield from map(func, items)
            return
        with ThreadPoolExecutor(max_workers=self.settings.concurrency) as pool:
            yield from pool.map(func, items)


def _reason(r: requests.Response) -> str:
    try:
        text = r.raw.read(2000, decode_content=True).decode("utf-8", "replace")
    except Exception:  # noqa: BLE001 - only decoration for the message
        return ""
    try:
        import json

        message = json.loads(text).get("message")
    except (ValueError, AttributeError):
        message = None
    return f": {message}" if isinstance(message, str) and message else ""


def _read_capped(r: requests.Response, url: str, limit: int) -> bytes:
    declared = r.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise FetchError(url, f"response of {declared} bytes exceeds the limit of {limit} bytes")
    chunks, size = [], 0
    for chunk in r.iter_content(1 << 16):
        size += len(chunk)
        if size > limit:
            raise FetchError(url, f"response exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
