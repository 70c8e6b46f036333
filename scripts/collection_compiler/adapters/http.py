"""One HTTP client for every outside call, on one `requests.Session`: kept-alive connections, timeouts, an
overall deadline per request and a time budget per stage, bounded retries with backoff, pacing by the services'
rate-limit headers (`ratelimit`), size caps on the decoded body (streamed to disk for large files), redirects
followed one by one, the GitHub token only on the compiler's own GitHub API requests, untrusted URLs checked
(`outbound`), and a bounded thread pool for concurrent fetches.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import os
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol, TypeVar
from urllib.parse import quote, urlencode, urljoin, urlsplit, urlunsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter

from collection_compiler import __version__
from collection_compiler.adapters import outbound, ratelimit
from collection_compiler.adapters.files import json_bytes, parse_json
from collection_compiler.settings import Settings

T = TypeVar("T")
R = TypeVar("R")

RETRY_STATUS = {429, 500, 502, 503, 504}
REDIRECT_STATUS = {301, 302, 303, 307, 308}
MAX_REDIRECTS = 5  # GitHub raw and Zenodo files may redirect
CHUNK = 1 << 16  # bytes read (and decoded) at a time: a download holds about this much in memory
USER_AGENT = f"collection-compiler/{__version__}"
# What a connection or a body read raises: worth another attempt (requests wraps urllib3's and the OS's errors
# while sending; a streamed body's read raises them bare).
_TRANSPORT_ERRORS = (requests.RequestException, urllib3.exceptions.HTTPError, OSError)
_URL_SAFE = "/?&=%:@!$'()*+,;~[]#"  # what stays as it is in a URL (`quote` keeps letters, digits, "-._")


class _Retry(Exception):
    """An answer worth another attempt (429, 5xx); `paused` when the server's budget headers already paused."""

    def __init__(self, reason: str, status: int, paused: bool):
        super().__init__(reason)
        self.reason, self.status, self.paused = reason, status, paused


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
    headers: Mapping[str, str]  # case-insensitive

    def json(self) -> Any:
        try:
            return parse_json(self.content)
        except ValueError as e:
            raise FetchError(self.url, f"malformed JSON response ({e})") from None


@dataclass(frozen=True)
class _Call:
    """One request as the caller asked for it."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None
    ok: frozenset[int]
    limit: int
    token: bool
    untrusted: bool


class HttpClient:
    def __init__(self, settings: Settings, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.time, shares: Mapping[str, float] | None = None):
        """`shares`: the part of a class's budget this client may use, where another process spends the rest."""
        self.settings = settings
        self._sleep, self._clock = sleep, clock
        self.session = requests.Session()
        self.session.trust_env = False  # no ~/.netrc credentials or proxies from the environment
        adapter = HTTPAdapter(pool_connections=8, pool_maxsize=max(4, settings.concurrency), max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update({"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"})
        self.budgets = ratelimit.Budgets(settings.rate_limits, clock, sleep, shares)
        self._stage_end = time.monotonic() + settings.stage_budget
        self._count_lock = threading.Lock()
        self.requests_made = 0
        # The bound holds across nested and parallel `map`s (partners are fetched while Zenodo downloads).
        self._slots = threading.BoundedSemaphore(max(1, settings.concurrency))

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- the public calls ------------------------------------------------------------------------------
    def request(self, method: str, url: str, *, max_bytes: int | None = None, ok: Iterable[int] = (200,),
                headers: dict[str, str] | None = None, json: Any = None, params: dict[str, str] | None = None,
                token: bool = False, untrusted: bool = False) -> Response:
        """Send with retries on connection errors, timeouts, 429 and 5xx. Raises FetchError otherwise.
        `json` is sent as the body, `params` are added to the query string. `token`: a request the compiler
        builds to the GitHub API, which carries the token (never after a redirect). `untrusted`: a URL from an
        RDF or a partner file (see `outbound`)."""
        body = _Memory()
        response = self._send(self._call(method, url, max_bytes, ok, headers, json, params, token, untrusted), body)
        return Response(response.url, response.status, b"".join(body.chunks), response.headers)

    def get(self, url: str, **kwargs: Any) -> Response:
        return self.request("GET", url, **kwargs)

    def get_json(self, url: str, **kwargs: Any) -> Any:
        return self.get(url, max_bytes=kwargs.pop("max_bytes", 50_000_000), **kwargs).json()

    def download(self, url: str, target: Path, *, max_bytes: int | None = None, untrusted: bool = False) -> Path:
        """The body written to `target` (through a temp file and a rename), decoded and capped as it streams:
        memory stays at about one chunk whatever the cap."""
        part = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.part")
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with part.open("wb") as file:
                self._send(self._call("GET", url, max_bytes, (200,), None, None, None, False, untrusted),
                           _File(file))
            os.replace(part, target)
        finally:
            part.unlink(missing_ok=True)
        return target

    def budget_report(self) -> dict[str, ratelimit.BudgetReport]:
        """Requests, 429s, waiting and the remaining budget, per endpoint class (for health.json)."""
        return self.budgets.report()

    def map(self, func: Callable[[T], R], items: Iterable[T], threads: int | None = None) -> Iterator[R]:
        """`func` over `items` on at most `threads` (default `concurrency`) threads, results in input order."""
        items = list(items)
        threads = min(threads or self.settings.concurrency, self.settings.concurrency)
        if threads <= 1 or len(items) <= 1:
            yield from map(func, items)
            return
        with ThreadPoolExecutor(max_workers=threads) as pool:
            yield from pool.map(func, items)

    # ---- one request: attempts, redirects, budgets ---------------------------------------------------------
    def _call(self, method: str, url: str, max_bytes: int | None, ok: Iterable[int], headers: dict[str, str] | None,
              body_json: Any, params: dict[str, str] | None, token: bool, untrusted: bool) -> _Call:
        if params:
            url = f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"
        body = None
        if body_json is not None:
            body, headers = json_bytes(body_json, indent=None), {"Content-Type": "application/json", **(headers or {})}
        limit = self.settings.max_download_bytes if max_bytes is None else max_bytes
        return _Call(method, url, dict(headers or {}), body, frozenset(ok), limit, token, untrusted)

    def _send(self, call: _Call, sink: _Sink) -> _Answer:
        attempts = self.settings.http_retries + 1
        deadline = min(time.monotonic() + self.settings.request_deadline, self._stage_end)
        last, status = "no attempt made", None
        for attempt in range(attempts):
            sink.reset()  # an attempt that broke off mid-body leaves nothing behind
            try:
                return self._attempt(call, sink, deadline)
            except _Retry as retry:
                last, status = retry.reason, retry.status
                wait = 0.0 if retry.paused else self.settings.http_backoff * (2**attempt)
            except _TRANSPORT_ERRORS as e:
                last, status = _describe(e, self.settings.http_timeout), None
                wait = self.settings.http_backoff * (2**attempt)
            if attempt + 1 < attempts and wait:
                self._sleep(min(wait, max(0.0, deadline - time.monotonic())))
        raise FetchError(call.url, f"{last} (after {attempts} attempts)", status)

    def _attempt(self, call: _Call, sink: _Sink, deadline: float) -> _Answer:
        """One request and its redirects: the answer, FetchError when final, _Retry when worth another attempt."""
        with self._count_lock:
            self.requests_made += 1
        method, url, body = call.method, call.url, call.body
        for hop in range(MAX_REDIRECTS + 1):
            url = self._checked(url, call.untrusted or hop > 0)
            budget = self.budgets[self._budget_class(url)]
            self._acquire(budget, url, deadline)
            with self._slots:
                answer = self._exchange(call, method, url, body, hop, budget, deadline, sink)
            if answer.location is None:
                return answer
            url = urljoin(url, answer.location)
            if answer.status == 303:
                method, body = "GET", None
        raise FetchError(call.url, f"more than {MAX_REDIRECTS} redirects")

    def _checked(self, url: str, untrusted: bool) -> str:
        """The URL as sent (what a request line cannot carry percent-encoded); FetchError when refused."""
        try:
            if untrusted:
                outbound.check_untrusted(url, self.settings)
            else:
                outbound.origin(url)
        except outbound.RefusedUrl as e:
            raise FetchError(url, str(e)) from None
        parts = urlsplit(url)
        return urlunsplit(parts._replace(path=quote(parts.path or "/", safe=_URL_SAFE),
                                         query=quote(parts.query, safe=_URL_SAFE), fragment=""))

    def _acquire(self, budget: ratelimit.Budget, url: str, deadline: float) -> None:
        try:
            budget.acquire(self._clock() + max(0.0, deadline - time.monotonic()))
        except ratelimit.BudgetExhausted as e:
            raise FetchError(url, str(e)) from None

    def _budget_class(self, url: str) -> str:
        """Zenodo search, the rest of Zenodo's API, the GitHub API, raw GitHub, or any other host by name."""
        s = self.settings
        if url.startswith(s.zenodo_api + "/"):
            return "zenodo-search" if urlsplit(url).path.rstrip("/") == urlsplit(s.zenodo_api).path + "/records" \
                else "zenodo"
        if url.startswith(s.github_api + "/"):
            return "github-api"
        if url.startswith(s.github_raw + "/"):
            return "github-raw"
        return urlsplit(url).hostname or "other"

    def _headers(self, call: _Call, url: str, hop: int) -> dict[str, str]:
        # The token goes only with the compiler's own GitHub API requests, never after a redirect and never to
        # a URL that came from content (those are built without `token`).
        headers = dict(call.headers)
        if call.token and hop == 0 and self.settings.github_token and url.startswith(self.settings.github_api + "/"):
            headers["Authorization"] = f"Bearer {self.settings.github_token}"
        return headers

    def _exchange(self, call: _Call, method: str, url: str, body: bytes | None, hop: int, budget: ratelimit.Budget,
                  deadline: float, sink: _Sink) -> _Answer:
        left = deadline - time.monotonic()
        if left <= 0:
            budget.answered({}, 0, None)
            raise FetchError(call.url, f"no answer within the deadline of {self.settings.request_deadline:g} s")
        timeout = min(self.settings.http_timeout, left)

        def send() -> requests.Response:
            return self.session.request(method, url, headers=self._headers(call, url, hop), data=body, stream=True,
                                        allow_redirects=False, timeout=(timeout, timeout))

        try:
            try:
                r = send()
            except requests.ConnectionError as e:
                if not _dropped(e):
                    raise
                r = send()  # a kept-alive connection the server had closed: once more, on a new connection
        except requests.RequestException:
            budget.answered({}, 0, None)
            raise
        with r:
            retry_after = self._retry_after(r.headers.get("Retry-After"))
            budget.answered(r.headers, r.status_code, retry_after)
            return self._answer(call, r, retry_after, deadline, sink)

    def _answer(self, call: _Call, r: requests.Response, retry_after: float | None, deadline: float,
                sink: _Sink) -> _Answer:
        location = r.headers.get("Location") if r.status_code in REDIRECT_STATUS else None
        if location:
            return _Answer(r.url, r.status_code, r.headers, location)
        if r.status_code in call.ok:
            _read_capped(r, call.url, call.limit, deadline, sink)
            return _Answer(r.url, r.status_code, r.headers, None)
        reason = f"HTTP {r.status_code}{_reason(r)}"
        if r.status_code not in RETRY_STATUS:
            raise FetchError(call.url, reason, r.status_code)
        paused = r.status_code == 429 or retry_after is not None
        raise _Retry(reason, r.status_code, paused)

    def _retry_after(self, value: str | None) -> float | None:
        if not value:
            return None
        try:
            seconds = float(value)
        except ValueError:
            try:
                seconds = email.utils.parsedate_to_datetime(value).timestamp() - time.time()
            except (TypeError, ValueError):  # neither seconds nor an HTTP date: the usual backoff applies
                return None
        if seconds != seconds:  # "nan" parses as a float
            return None
        return min(max(seconds, 0.0), self.settings.max_retry_after)


@dataclass(frozen=True)
class _Answer:
    url: str
    status: int
    headers: Mapping[str, str]
    location: str | None  # where a redirect points


class _Sink(Protocol):
    """Where a body goes, a chunk at a time; emptied before each attempt."""

    def write(self, chunk: bytes) -> object: ...

    def reset(self) -> None: ...


class _Memory:
    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def write(self, chunk: bytes) -> None:
        self.chunks.append(chunk)

    def reset(self) -> None:
        self.chunks.clear()


class _File:
    def __init__(self, file: BinaryIO) -> None:
        self.file = file

    def write(self, chunk: bytes) -> None:
        self.file.write(chunk)

    def reset(self) -> None:
        self.file.seek(0)
        self.file.truncate()


def _describe(error: Exception, timeout: float) -> str:
    if isinstance(error, (requests.Timeout, urllib3.exceptions.TimeoutError, TimeoutError)):
        return f"timed out after {timeout:g} s"
    # the OS error under urllib3's and requests' wrappers names the failure best
    os_error = next((c for c in _causes(error) if type(c).__module__ == "builtins" and isinstance(c, OSError)), None)
    return f"connection failed ({type(os_error or error).__name__})"


def _causes(error: BaseException) -> Iterator[BaseException]:
    """`error` and what it wraps, outermost first (requests and urllib3 wrap the OS error in several layers)."""
    cause: BaseException | None = error
    for _ in range(10):
        if cause is None:
            return
        yield cause
        cause = cause.__cause__ or cause.__context__ or next(
            (a for a in getattr(cause, "args", ()) if isinstance(a, BaseException)), None) or getattr(
            cause, "reason", None)


def _dropped(error: BaseException) -> bool:
    """Whether the server closed the connection before answering (what a kept-alive connection it had already
    closed looks like when the close was still on its way), as opposed to a refused or failed connection."""
    dropped = (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected)
    return any(isinstance(cause, dropped) for cause in _causes(error))


def _reason(r: requests.Response) -> str:
    try:
        text = r.raw.read(2000, decode_content=True).decode("utf-8", "replace")
    except Exception:  # noqa: BLE001 - only decoration for the message
        return ""
    try:
        message = json.loads(text).get("message")
    except (ValueError, AttributeError):
        message = None
    return f": {message}" if isinstance(message, str) and message else ""


def _read_capped(r: requests.Response, url: str, limit: int, deadline: float, sink: _Sink) -> None:
    """The body to `sink`, at most `limit` bytes once decoded (a compressed body is decoded here, a chunk at a
    time, so a small body cannot unpack beyond the cap or hold more than a chunk in memory), within `deadline`
    (a server sending a byte every few seconds is cut off)."""
    declared = r.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > limit and "Content-Encoding" not in r.headers:
        raise FetchError(url, f"response of {declared} bytes exceeds the limit of {limit} bytes")
    encoding = (r.headers.get("Content-Encoding") or "identity").strip().lower()
    if encoding not in ("identity", "gzip", "deflate"):
        raise FetchError(url, f"unsupported Content-Encoding {encoding!r}")
    decoder = zlib.decompressobj(zlib.MAX_WBITS | 32) if encoding != "identity" else None  # gzip or zlib header
    size = 0
    try:
        while chunk := r.raw.read1(CHUNK, decode_content=False):
            for piece in _decoded(decoder, chunk):
                size += len(piece)
                if size > limit:
                    raise FetchError(url, f"response exceeds the limit of {limit} bytes")
                sink.write(piece)
            if time.monotonic() > deadline:
                raise FetchError(url, "the answer took longer than the request's deadline")
    except zlib.error as e:
        raise FetchError(url, f"corrupt {encoding} body ({e})") from None


def _decoded(decoder: Any, chunk: bytes) -> Iterator[bytes]:
    """`chunk` decoded in pieces of at most `CHUNK` bytes (a gzip bomb unpacks a thousandfold)."""
    if decoder is None:
        yield chunk
        return
    while chunk:
        piece = decoder.decompress(chunk, CHUNK)
        chunk = decoder.unconsumed_tail
        if piece:
            yield piece
        elif not chunk:
            return
