"""One HTTP client for every outside call: timeouts, bounded retries with backoff, `Retry-After`,
size caps, and a bounded thread pool for concurrent fetches.

Built on urllib3 (the transport under `requests`): a cold run makes ~30,000 requests from threads that share
the GIL, and `requests`' per-request bookkeeping costs three times the CPU of urllib3's (1.6 vs 0.55 ms).
"""

from __future__ import annotations

import email.utils
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode, urljoin

import urllib3
from urllib3.exceptions import HTTPError, MaxRetryError, TimeoutError

from . import __version__
from .files import parse_json
from .settings import Settings

T = TypeVar("T")
R = TypeVar("R")

RETRY_STATUS = {429, 500, 502, 503, 504}
USER_AGENT = f"collection-compiler/{__version__}"
# Redirects are followed (GitHub raw and Zenodo files may redirect); everything else is retried by `request`.
_FOLLOW_REDIRECTS_ONLY = urllib3.Retry(total=None, connect=0, read=0, redirect=5, status=0, other=0,
                                       raise_on_status=False)


class _Retry(Exception):
    """An answer worth another attempt (429, 5xx)."""

    def __init__(self, reason: str, status: int, wait: float):
        super().__init__(reason)
        self.reason, self.status, self.wait = reason, status, wait


class FetchError(RuntimeError):
    """A request that failed for good (after retries): names the URL and the reason."""

    def __init__(self, url: str, reason: str, status: int | None = None):
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
        self.status = status

    def __reduce__(self) -> tuple[type[FetchError], tuple[str, str, int | None]]:
        return FetchError, (self.url, self.reason, self.status)  # raised on a helper process, re-raised here


@dataclass
class Response:
    url: str
    status: int
    content: bytes
    headers: dict[str, str]

    def json(self) -> Any:
        try:
            return parse_json(self.content)
        except ValueError as e:
            raise FetchError(self.url, f"malformed JSON response ({e})") from None


class HttpClient:
    def __init__(self, settings: Settings, sleep: Callable[[float], None] = time.sleep):
        self.settings = settings
        self._sleep = sleep
        self.pool = urllib3.PoolManager(
            num_pools=8, maxsize=max(4, settings.concurrency), retries=_FOLLOW_REDIRECTS_ONLY,
            timeout=urllib3.Timeout(connect=settings.http_timeout, read=settings.http_timeout))
        self.requests_made = 0
        # The bound holds across nested and parallel `map`s (partners are fetched while Zenodo downloads).
        self._slots = threading.BoundedSemaphore(max(1, settings.concurrency))

    def close(self) -> None:
        self.pool.clear()

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
                headers: dict[str, str] | None = None, json: Any = None, params: dict[str, str] | None = None
                ) -> Response:
        """Send with retries on connection errors, timeouts, 429 and 5xx. Raises FetchError otherwise.
        `json` is sent as the body, `params` are added to the query string."""
        if params:
            url = f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"
        limit = self.settings.max_download_bytes if max_bytes is None else max_bytes
        all_headers = {"User-Agent": USER_AGENT, **self._auth_headers(url), **(headers or {})}
        ok = set(ok)
        attempts = self.settings.http_retries + 1
        last = "no attempt made"
        status: int | None = None
        for attempt in range(attempts):
            wait = self.settings.http_backoff * (2**attempt)
            try:
                with self._slots:
                    return self._attempt(method, url, all_headers, json, ok, limit)
            except _Retry as retry:
                last, status = retry.reason, retry.status
                wait = max(wait, retry.wait)
            except HTTPError as e:
                last, status = _describe(e, self.settings.http_timeout), None
            if attempt + 1 < attempts:
                self._sleep(wait)
        raise FetchError(url, f"{last} (after {attempts} attempts)", status)

    def _attempt(self, method: str, url: str, headers: dict[str, str], json: Any, ok: set[int], limit: int
                 ) -> Response:
        """One request: the response, FetchError when final, _Retry when worth another attempt."""
        self.requests_made += 1
        r = self.pool.request(method, url, headers=headers, json=json, preload_content=False)
        try:
            if r.status in ok:
                final_url = urljoin(url, r.url) if r.url else url
                return Response(final_url, r.status, _read_capped(r, url, limit), dict(r.headers))
            reason = f"HTTP {r.status}{_reason(r)}"
            if r.status not in RETRY_STATUS:
                raise FetchError(url, reason, r.status)
            raise _Retry(reason, r.status, self._retry_after(r.headers.get("Retry-After")))
        finally:
            r.release_conn()

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

    def map(self, func: Callable[[T], R], items: Iterable[T], threads: int | None = None) -> Iterator[R]:
        """`func` over `items` on at most `threads` (default `concurrency`) threads, results in input order."""
        items = list(items)
        threads = min(threads or self.settings.concurrency, self.settings.concurrency)
        if threads <= 1 or len(items) <= 1:
            yield from map(func, items)
            return
        with ThreadPoolExecutor(max_workers=threads) as pool:
            yield from pool.map(func, items)


def _describe(error: HTTPError, timeout: float) -> str:
    cause = error.reason if isinstance(error, MaxRetryError) else error
    if isinstance(cause, TimeoutError):
        return f"timed out after {timeout:g} s"
    return f"connection failed ({type(cause).__name__})"


def _reason(r: urllib3.BaseHTTPResponse) -> str:
    try:
        text = r.read(2000, decode_content=True).decode("utf-8", "replace")
    except Exception:  # noqa: BLE001 - only decoration for the message
        return ""
    try:
        message = json.loads(text).get("message")
    except (ValueError, AttributeError):
        message = None
    return f": {message}" if isinstance(message, str) and message else ""


def _read_capped(r: urllib3.BaseHTTPResponse, url: str, limit: int) -> bytes:
    declared = r.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise FetchError(url, f"response of {declared} bytes exceeds the limit of {limit} bytes")
    chunks, size = [], 0
    for chunk in r.stream(1 << 16, decode_content=True):
        size += len(chunk)
        if size > limit:
            raise FetchError(url, f"response exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
