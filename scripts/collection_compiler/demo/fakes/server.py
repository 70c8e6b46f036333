"""A small real HTTP server on 127.0.0.1 with a route table, a request log, fault injection and rate limits.

The offline demo and the tests use it (through the Zenodo and GitHub fakes) in place of the real services.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, value: Any, status: int = 200) -> Reply:
        return cls(status, json.dumps(value).encode(), {"Content-Type": "application/json"})

    @classmethod
    def not_found(cls, message: str = "Not Found") -> Reply:
        return cls.json({"message": message}, 404)


Handler = Callable[[Request, re.Match[str]], Reply]


@dataclass
class Fault:
    """Answer requests whose path matches with `status` (or hang for `hang` seconds), `times` times."""

    pattern: re.Pattern[str]
    status: int = 500
    times: int = 1
    retry_after: str | None = None
    hang: float = 0.0


@dataclass
class RateLimit:
    """At most `limit` requests to paths matching `pattern` per window of `period` whole seconds, as Zenodo and
    GitHub enforce them: windows start at multiples of the period (so the reset is a whole Unix second), every
    answer carries `X-RateLimit-Limit`, `-Remaining` and `-Reset`, and a request beyond the budget draws 429
    with `Retry-After`. A 304 (a conditional request that found nothing new) is free, as on GitHub."""

    pattern: re.Pattern[str]
    limit: int
    period: int
    window: int = -1
    used: int = 0

    def take(self, now: float) -> tuple[bool, dict[str, str]]:
        """Whether the request is within the budget, and the headers its answer carries."""
        window = math.floor(now / self.period)
        if window != self.window:
            self.window, self.used = window, 0
        allowed = self.used < self.limit
        self.used += allowed
        reset = (window + 1) * self.period
        headers = {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Remaining": str(self.limit - self.used),
                   "X-RateLimit-Reset": str(reset)}
        if not allowed:
            headers["Retry-After"] = str(max(1, math.ceil(reset - now)))
        return allowed, headers


class FakeServer:
    def __init__(self, latency: float = 0.0):
        self.latency = latency
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self.log: list[Request] = []
        self.faults: list[Fault] = []
        self.limits: list[RateLimit] = []
        self.throttled = 0  # requests answered 429 for being beyond a rate limit
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None

    # routing -----------------------------------------------------------------------------------------
    def route(self, method: str, pattern: str, handler: Handler) -> None:
        self.routes.append((method, re.compile(pattern), handler))

    def fail(self, pattern: str, status: int = 500, times: int = 1, retry_after: str | None = None,
             hang: float = 0.0) -> None:
        with self._lock:
            self.faults.append(Fault(re.compile(pattern), status, times, retry_after, hang))

    def limit(self, pattern: str, limit: int, period: int) -> None:
        """Enforce a rate limit on paths matching `pattern` (the first matching limit counts a request);
        `limit` 0 removes the limits on that pattern."""
        with self._lock:
            self.limits = [rl for rl in self.limits if rl.pattern.pattern != pattern]
            if limit > 0:
                self.limits.append(RateLimit(re.compile(pattern), limit, period))

    def _rate_limit(self, path: str) -> tuple[RateLimit | None, bool, dict[str, str]]:
        with self._lock:
            for rate_limit in self.limits:
                if rate_limit.pattern.search(path):
                    allowed, headers = rate_limit.take(time.time())
                    self.throttled += not allowed
                    return rate_limit, allowed, headers
        return None, True, {}

    def _fault_for(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.times > 0 and fault.pattern.search(path):
                    fault.times -= 1
                    return fault
        return None

    def handle(self, request: Request) -> Reply:
        with self._lock:
            self.log.append(request)
        if self.latency:
            time.sleep(self.latency)
        rate_limit, allowed, limit_headers = self._rate_limit(request.path)
        if not allowed:
            return Reply(429, b'{"message": "rate limit exceeded"}', limit_headers)
        reply = self._reply(request)
        if reply.status == 304 and rate_limit is not None:
            with self._lock:
                rate_limit.used = max(0, rate_limit.used - 1)
                limit_headers["X-RateLimit-Remaining"] = str(rate_limit.limit - rate_limit.used)
        return Reply(reply.status, reply.body, {**reply.headers, **limit_headers})

    def _reply(self, request: Request) -> Reply:
        fault = self._fault_for(request.path)
        if fault is not None:
            if fault.hang:
                time.sleep(fault.hang)
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            return Reply(fault.status, b'{"message": "injected fault"}', headers)
        for method, pattern, handler in self.routes:
            match = pattern.fullmatch(request.path)
            if match and method == request.method:
                return handler(request, match)
        return Reply.not_found()

    def requests_to(self, pattern: str) -> list[Request]:
        regex = re.compile(pattern)
        return [r for r in self.log if regex.search(r.path)]

    # lifecycle ---------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeServer:
        self._httpd = _ListeningServer(("127.0.0.1", 0), _make_handler(self))
        threading.Thread(target=self._httpd.serve_forever, name=type(self).__name__, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _ListeningServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # clients open up to `concurrency` connections at once; the default queue holds 5

    def server_activate(self) -> None:
        super().server_activate()
        # A connection reset before it is accepted leaves the socket ready with nothing to accept: a blocking
        # accept would then hang the serving loop (and `stop`) until the next client came.
        self.socket.setblocking(False)


def _make_handler(server: FakeServer) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # else headers and body wait on delayed ACKs (40 ms a request)

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            request = Request(self.command, parts.path, {k: v[-1] for k, v in parse_qs(parts.query).items()},
                              {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length))
            reply = server.handle(request)
            self.send_response(reply.status)
            for key, value in reply.headers.items():
                self.send_header(key, value)
            if reply.status != 304:
                self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            if self.command != "HEAD" and reply.status != 304:
                self.wfile.write(reply.body)

        do_GET = do_POST = do_PATCH = do_PUT = do_HEAD = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet by design
            pass

    return _Handler
