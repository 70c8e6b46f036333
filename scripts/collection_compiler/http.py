"""One HTTP client for every outside call: timeouts, bounded retries with backoff, `Retry-After`,
size caps, redirects, kept-alive connections, and a bounded thread pool for concurrent fetches.

Built on the standard library's `http.client`: a cold run makes ~31,000 requests from threads that share the
GIL, and every millisecond of CPU per request is half a millisecond of wall time on two cores. Per request
(measured ad hoc, see the README), urllib3 costs about 1 ms of CPU and `http.client` with the little this
module adds about 0.56 ms; `requests`, on top of urllib3, costs more still.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote, urlencode, urljoin, urlsplit

from . import __version__
from .files import json_bytes, parse_json
from .settings import Settings

T = TypeVar("T")
R = TypeVar("R")

RETRY_STATUS = {429, 500, 502, 503, 504}
REDIRECT_STATUS = {301, 302, 303, 307, 308}
MAX_REDIRECTS = 5  # GitHub raw and Zenodo files may redirect
USER_AGENT = f"collection-compiler/{__version__}"
_DEFAULT_PORTS = {"http": 80, "https": 443}
_URL_SAFE = "/?&=%:@!$'()*+,;~[]"  # what stays as it is in a request target (`quote` keeps letters, digits, "-._")
# What a kept-alive connection raises when the server closed it while it was idle: worth one fresh connection.
_STALE_CONNECTION = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, ConnectionAbortedError)

Origin = tuple[str, str, int]  # scheme, host, port


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


class _Connections:
    """Kept-alive connections by origin; each is used by one thread at a time and put back when its response
    was read to the end."""

    def __init__(self, timeout: float, keep: int):
        self._timeout = timeout
        self._keep = keep  # idle connections kept per origin
        self._idle: dict[Origin, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()
        self._tls: ssl.SSLContext | None = None  # made once: loading the system's certificates takes milliseconds

    def take(self, origin: Origin) -> tuple[http.client.HTTPConnection, bool]:
        """A connection to `origin`, and whether it was kept from an earlier request."""
        with self._lock:
            idle = self._idle.get(origin)
            if idle:
                return idle.pop(), True
        scheme, host, port = origin
        if scheme == "https":
            self._tls = self._tls or ssl.create_default_context()  # verifies certificates and host names
            return http.client.HTTPSConnection(host, port, timeout=self._timeout, context=self._tls), False
        return http.client.HTTPConnection(host, port, timeout=self._timeout), False

    def give_back(self, origin: Origin, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(origin, [])
            if len(idle) < self._keep:
                idle.append(connection)
                return
        connection.close()

    def close(self) -> None:
        with self._lock:
            idle = [c for connections in self._idle.values() for c in connections]
            self._idle.clear()
        for connection in idle:
            connection.close()


class HttpClient:
    def __init__(self, settings: Settings, sleep: Callable[[float], None] = time.sleep):
        self.settings = settings
        self._sleep = sleep
        self._connections = _Connections(settings.http_timeout, keep=max(4, settings.concurrency))
        self.requests_made = 0
        # The bound holds across nested and parallel `map`s (partners are fetched while Zenodo downloads).
        self._slots = threading.BoundedSemaphore(max(1, settings.concurrency))

    def close(self) -> None:
        self._connections.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _headers(self, url: str, extra: dict[str, str] | None) -> dict[str, str]:
        # The token only ever goes to the configured GitHub API, never to Zenodo or partner hosts; it is decided
        # again for every URL of a redirect chain.
        headers = {"User-Agent": USER_AGENT, **(extra or {})}
        if self.settings.github_token and url.startswith(self.settings.github_api + "/"):
            headers["Authorization"] = f"Bearer {self.settings.github_token}"
        return headers

    def request(self, method: str, url: str, *, max_bytes: int | None = None, ok: Iterable[int] = (200,),
                headers: dict[str, str] | None = None, json: Any = None, params: dict[str, str] | None = None
                ) -> Response:
        """Send with retries on connection errors, timeouts, 429 and 5xx. Raises FetchError otherwise.
        `json` is sent as the body, `params` are added to the query string."""
        if params:
            url = f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"
        limit = self.settings.max_download_bytes if max_bytes is None else max_bytes
        body = None
        if json is not None:
            body, headers = json_bytes(json, indent=None), {"Content-Type": "application/json", **(headers or {})}
        ok = set(ok)
        attempts = self.settings.http_retries + 1
        last = "no attempt made"
        status: int | None = None
        for attempt in range(attempts):
            wait = self.settings.http_backoff * (2**attempt)
            try:
                with self._slots:
                    return self._attempt(method, url, headers, body, ok, limit)
            except _Retry as retry:
                last, status = retry.reason, retry.status
                wait = max(wait, retry.wait)
            except (OSError, http.client.HTTPException) as e:
                last, status = _describe(e, self.settings.http_timeout), None
            if attempt + 1 < attempts:
                self._sleep(wait)
        raise FetchError(url, f"{last} (after {attempts} attempts)", status)

    def _attempt(self, method: str, url: str, headers: dict[str, str] | None, body: bytes | None, ok: set[int],
                 limit: int) -> Response:
        """One request and its redirects: the response, FetchError when final, _Retry when worth another attempt."""
        self.requests_made += 1
        for _ in range(MAX_REDIRECTS + 1):
            with self._exchange(method, url, self._headers(url, headers), body) as r:
                location = r.getheader("Location") if r.status in REDIRECT_STATUS else None
                if location:
                    url = urljoin(url, location)
                    if r.status == 303:
                        method, body = "GET", None
                    continue
                if r.status in ok:
                    return Response(url, r.status, _read_capped(r, url, limit), dict(r.getheaders()))
                reason = f"HTTP {r.status}{_reason(r)}"
                if r.status not in RETRY_STATUS:
                    raise FetchError(url, reason, r.status)
                raise _Retry(reason, r.status, self._retry_after(r.getheader("Retry-After")))
        raise FetchError(url, f"more than {MAX_REDIRECTS} redirects")

    @contextmanager
    def _exchange(self, method: str, url: str, headers: dict[str, str], body: bytes | None
                  ) -> Iterator[http.client.HTTPResponse]:
        """The response to one request on a kept-alive connection, which goes back for reuse only when the
        response was read to the end (otherwise the rest of it would be read as the next response)."""
        origin, target = _split(url)
        connection, kept = self._connections.take(origin)
        try:
            try:
                connection.request(method, target, body, headers)
                response = connection.getresponse()
            except _STALE_CONNECTION:
                if not kept:
                    raise
                connection.close()  # the server closed it while idle: the next request opens a fresh one
                connection.request(method, target, body, headers)
                response = connection.getresponse()
            yield response
        except BaseException:
            connection.close()
            raise
        if response.isclosed():
            self._connections.give_back(origin, connection)
        else:
            connection.close()

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
            try:
                seconds = email.utils.parsedate_to_datetime(value).timestamp() - time.time()
            except (TypeError, ValueError):  # neither seconds nor an HTTP date: the usual backoff applies
                seconds = 0.0
        if seconds != seconds:  # "nan" parses as a float
            seconds = 0.0
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


def _split(url: str) -> tuple[Origin, str]:
    """Where an http(s) URL's request goes, and its request target, percent-encoded where a request line cannot
    carry a character (spaces, non-ASCII: URLs come from RDFs). FetchError for any other URL."""
    try:
        parts = urlsplit(url)
        port = parts.port  # raises for a port that is not a number in range
    except ValueError:
        parts, port = None, None
    if parts is None or parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise FetchError(url, "not an http(s) URL")
    target = quote((parts.path or "/") + (f"?{parts.query}" if parts.query else ""), safe=_URL_SAFE)
    return (parts.scheme, parts.hostname, port or _DEFAULT_PORTS[parts.scheme]), target


def _describe(error: Exception, timeout: float) -> str:
    if isinstance(error, TimeoutError):
        return f"timed out after {timeout:g} s"
    return f"connection failed ({type(error).__name__})"


def _reason(r: http.client.HTTPResponse) -> str:
    try:
        text = r.read(2000).decode("utf-8", "replace")
    except Exception:  # noqa: BLE001 - only decoration for the message
        return ""
    try:
        message = json.loads(text).get("message")
    except (ValueError, AttributeError):
        message = None
    return f": {message}" if isinstance(message, str) and message else ""


def _read_capped(r: http.client.HTTPResponse, url: str, limit: int) -> bytes:
    """The body, at most `limit` bytes once decoded (a compressed body the server sent unasked is decoded)."""
    declared = r.getheader("Content-Length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise FetchError(url, f"response of {declared} bytes exceeds the limit of {limit} bytes")
    encoding = (r.getheader("Content-Encoding") or "identity").strip().lower()
    if encoding not in ("identity", "gzip", "deflate"):
        raise FetchError(url, f"unsupported Content-Encoding {encoding!r}")
    decoder = zlib.decompressobj(zlib.MAX_WBITS | 32) if encoding != "identity" else None  # gzip or zlib header
    chunks, size = [], 0
    while chunk := r.read(1 << 16):
        if decoder is not None:
            chunk = decoder.decompress(chunk, limit + 1 - size)  # a small body cannot unpack beyond the cap
        size += len(chunk)
        if size > limit:
            raise FetchError(url, f"response exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
