"""The HTTP client against real servers on 127.0.0.1: retries, caps, redirects, kept-alive connections, rate
limits, deadlines, where requests may go and where the token goes."""

from __future__ import annotations

import gzip
import socket
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from collection_compiler import settings
from collection_compiler.adapters.http import MAX_REDIRECTS, FetchError, HttpClient
from collection_compiler.demo.fakes.server import FakeServer, Reply


class FakeClock:
    """A clock that `sleep` moves forward (starting now: rate-limit resets are Unix times)."""

    def __init__(self) -> None:
        self.now = time.time()
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 3))
        self.now += seconds


def _server() -> FakeServer:
    server = FakeServer()
    server.route("GET", r"/big", lambda r, m: Reply(200, b"x" * 5000))
    server.route("GET", r"/ok", lambda r, m: Reply.json({"fine": True}))
    server.route("GET", r"/gone", lambda r, m: Reply.json({"message": "Not Found"}, 404))
    return server


def test_retry_after_is_obeyed_and_4xx_is_final():
    clock = FakeClock()
    with _server() as server:
        server.fail(r"/ok", status=429, times=2, retry_after="3")
        client = HttpClient(settings.Settings(http_retries=3, http_backoff=0.1), sleep=clock.sleep, clock=clock.time)
        assert client.get_json(server.url + "/ok") == {"fine": True}
        assert clock.sleeps == [3.0, 3.0]
        server.fail(r"/ok", status=503, times=2, retry_after="soon")  # neither seconds nor a date: the backoff
        server.fail(r"/ok", status=503, times=1, retry_after="nan")
        clock.sleeps.clear()
        assert client.get_json(server.url + "/ok") == {"fine": True}
        assert clock.sleeps == [0.1, 0.2, 0.4]
        with pytest.raises(FetchError, match="HTTP 404: Not Found") as info:
            client.get(server.url + "/gone")
        assert info.value.status == 404 and len(server.requests_to("/gone")) == 1


def test_retries_end_in_a_clear_error_and_size_caps_hold():
    with _server() as server:
        server.fail(r"/ok", status=502, times=10)
        client = HttpClient(settings.Settings(http_retries=2), sleep=lambda s: None)
        with pytest.raises(FetchError, match=r"HTTP 502: injected fault \(after 3 attempts\)"):
            client.get(server.url + "/ok")
        with pytest.raises(FetchError, match="exceeds the limit of 1000 bytes"):
            client.get(server.url + "/big", max_bytes=1000)
        assert client.get(server.url + "/big", max_bytes=5000).content == b"x" * 5000


def test_the_token_goes_only_with_the_compilers_own_github_api_requests():
    with _server() as server:
        client = HttpClient(settings.Settings(github_token="secret", github_api=server.url + "/api"))
        client.get(server.url + "/ok", token=True)
        assert "authorization" not in server.log[-1].headers  # not the GitHub API
        server.route("GET", r"/api/x", lambda r, m: Reply.json({}))
        client.get(server.url + "/api/x")
        assert "authorization" not in server.log[-1].headers  # a URL from content, under the API all the same
        client.get(server.url + "/api/x", token=True)
        assert server.log[-1].headers["authorization"] == "Bearer secret"


def test_redirects_are_followed_a_bounded_number_of_times_and_the_token_stays_behind():
    with _server() as server, _server() as elsewhere:
        server.route("GET", r"/api/moved", lambda r, m: Reply(302, headers={"Location": "/api/x"}))
        server.route("GET", r"/api/x", lambda r, m: Reply.json({"here": True}))
        server.route("GET", r"/api/away", lambda r, m: Reply(307, headers={"Location": elsewhere.url + "/ok"}))
        server.route("GET", r"/loop", lambda r, m: Reply(301, headers={"Location": "/loop"}))
        client = HttpClient(settings.Settings(github_token="secret", github_api=server.url + "/api",
                                              allowed_hosts="127.0.0.1"))  # a redirect's target is untrusted

        response = client.get(server.url + "/api/moved", token=True)
        assert response.json() == {"here": True} and response.url == server.url + "/api/x"
        assert server.log[-2].headers["authorization"] == "Bearer secret"
        assert "authorization" not in server.log[-1].headers  # never after a redirect, even on the same host

        assert client.get_json(server.url + "/api/away", token=True) == {"fine": True}
        assert server.log[-1].headers["authorization"] == "Bearer secret"
        assert "authorization" not in elsewhere.log[-1].headers  # another host never sees the token

        with pytest.raises(FetchError, match=f"more than {MAX_REDIRECTS} redirects"):
            client.get(server.url + "/loop")
        assert len(server.requests_to("/loop")) == MAX_REDIRECTS + 1


def test_a_compressed_body_is_decoded_within_the_cap():
    document = b'{"name": "a model"}' * 100
    bomb = gzip.compress(b"\0" * 10_000_000)  # 10 kB that unpack to 10 MB
    with _server() as server:
        server.route("GET", r"/small", lambda r, m: Reply(200, gzip.compress(document), {"Content-Encoding": "gzip"}))
        server.route("GET", r"/bomb", lambda r, m: Reply(200, bomb, {"Content-Encoding": "gzip"}))
        client = HttpClient(settings.Settings())
        assert client.get(server.url + "/small").content == document
        with pytest.raises(FetchError, match="exceeds the limit of 100000 bytes"):
            client.get(server.url + "/bomb", max_bytes=100_000)


def test_urls_are_checked_and_encoded_before_they_are_sent():
    with _server() as server:
        server.route("GET", r"/with%20space/caf%C3%A9", lambda r, m: Reply(200, b"found"))
        client = HttpClient(settings.Settings(http_retries=3), sleep=lambda s: pytest.fail("no retry expected"))
        assert client.get(server.url + "/with space/café").content == b"found"
        for bad in ("file:///etc/passwd", "http://127.0.0.1:99999/x", "http://[::1/x", "https:///no-host"):
            with pytest.raises(FetchError, match="not an http"):
                client.get(bad)


def test_a_refused_connection_and_a_silent_server_are_named():
    with _server() as server:
        server.fail(r"/ok", hang=2.0)
        client = HttpClient(settings.Settings(http_retries=0, http_timeout=0.3))
        with pytest.raises(FetchError, match=r"timed out after 0.3 s \(after 1 attempts\)"):
            client.get(server.url + "/ok")
        closed_port = server.url.rsplit(":", 1)[1]
    with pytest.raises(FetchError, match=r"connection failed \(ConnectionRefusedError\)"):
        client.get(f"http://127.0.0.1:{closed_port}/ok")


@contextmanager
def _raw_server(answers_per_connection: int) -> Iterator[tuple[str, list[int]]]:
    """A keep-alive server that closes each connection after so many answers without saying so (as servers with
    an idle timeout do). Yields its URL and the number of connections it accepted."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted = [0]

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            accepted[0] += 1
            with connection:
                for _ in range(answers_per_connection):
                    if not connection.recv(65536):  # one GET a read: the client sends each in one piece
                        break
                    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok")

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", accepted
    finally:
        listener.close()


def test_connections_are_kept_alive_between_requests():
    with _raw_server(answers_per_connection=100) as (url, accepted):
        client = HttpClient(settings.Settings())
        assert [client.get(f"{url}/{n}").content for n in range(5)] == [b"ok"] * 5
        assert accepted[0] == 1


def test_a_kept_connection_the_server_closed_is_replaced_without_a_retry():
    with _raw_server(answers_per_connection=1) as (url, accepted):
        client = HttpClient(settings.Settings(http_retries=0))
        assert [client.get(f"{url}/{n}").content for n in range(3)] == [b"ok"] * 3
        assert accepted[0] == 3 and client.requests_made == 3


def _zenodo_like(server: FakeServer, **overrides: object) -> settings.Settings:
    """Settings that treat `server` as Zenodo, with the rate limits given."""
    return settings.Settings(zenodo_api=server.url + "/api", http_backoff=0.01, **overrides)  # type: ignore[arg-type]


def test_requests_are_paced_by_the_servers_rate_limit_headers():
    with _server() as server:
        server.route("GET", r"/api/records/(\d+)", lambda r, m: Reply.json({"id": m[1]}))
        server.limit(r"^/api/", 8, 1)
        client = HttpClient(_zenodo_like(server, rate_limits="zenodo=8/1", concurrency=16))
        # 40 requests from 16 threads against 8 a second: at least four windows, and no 429
        answers = list(client.map(lambda n: client.get_json(f"{server.url}/api/records/{n}"), range(40)))
        assert answers == [{"id": str(n)} for n in range(40)]
        assert server.throttled == 0 and len(server.log) == 40
        report = client.budget_report()["zenodo"]
        assert report["requests"] == 40 and report["throttled"] == 0 and report["waited_s"] > 0


def test_a_starting_budget_too_high_is_corrected_by_the_first_answers():
    with _server() as server:
        server.route("GET", r"/api/records/(\d+)", lambda r, m: Reply.json({"id": m[1]}))
        server.limit(r"^/api/", 5, 1)
        client = HttpClient(_zenodo_like(server, rate_limits="zenodo=60/60", concurrency=1))
        ids = [client.get_json(f"{server.url}/api/records/{n}")["id"] for n in range(12)]
        assert ids == [str(n) for n in range(12)]
        assert server.throttled == 0  # one at a time, each answer tells what is left


def test_a_429_with_retry_after_pauses_the_whole_class_and_the_stage_budget_ends_waiting():
    clock = FakeClock()
    with _server() as server:
        server.fail(r"/api/records/1", status=429, times=1, retry_after="3")
        server.route("GET", r"/api/records/(\d+)", lambda r, m: Reply.json({"id": m[1]}))
        client = HttpClient(_zenodo_like(server, http_retries=0), sleep=clock.sleep, clock=clock.time)
        with pytest.raises(FetchError, match="HTTP 429"):
            client.get(server.url + "/api/records/1")
        client.get(server.url + "/ok")  # another host: no wait
        assert clock.sleeps == []
        client.get(server.url + "/api/records/2")  # the same class waits out the pause
        assert clock.sleeps == [3.0]
        assert client.budget_report()["zenodo"]["throttled"] == 1

        server.fail(r"/api/records/3", status=429, times=1, retry_after="30")
        short = HttpClient(_zenodo_like(server, http_retries=2, stage_budget=5.0), sleep=clock.sleep, clock=clock.time)
        with pytest.raises(FetchError, match="beyond the stage's time budget"):
            short.get(server.url + "/api/records/3")


def test_untrusted_urls_must_not_reach_private_addresses_unless_allowed():
    with _server() as server:
        client = HttpClient(settings.Settings(http_retries=0))
        with pytest.raises(FetchError, match="non-public address 127.0.0.1"):
            client.get(server.url + "/ok", untrusted=True)
        for bad in ("file:///etc/passwd", "ftp://example.org/x", "gopher://127.0.0.1/"):
            with pytest.raises(FetchError, match="not an http"):
                client.get(bad, untrusted=True)
        assert server.log == []
        assert client.get_json(server.url + "/ok") == {"fine": True}  # a URL the compiler builds itself
        allowed = HttpClient(settings.Settings(allowed_hosts="example.org, 127.0.0.1"))
        assert allowed.get_json(server.url + "/ok", untrusted=True) == {"fine": True}
        endpoint = HttpClient(_zenodo_like(server))  # a configured endpoint's host and port
        assert endpoint.get_json(server.url + "/ok", untrusted=True) == {"fine": True}


@contextmanager
def _scripted_server(answer: Callable[[socket.socket, int], None], connections: int) -> Iterator[str]:
    """A server that reads each of its first `connections` requests and lets `answer(connection, n)` reply."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        for n in range(connections):
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with connection:
                connection.recv(65536)
                try:
                    answer(connection, n)
                except OSError:
                    return

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.close()


def _trickle(connection: socket.socket, _: int) -> None:
    """A large body announced, then one byte every 0.2 s."""
    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
    while True:
        connection.sendall(b"x")
        time.sleep(0.2)


def _break_off_first(connection: socket.socket, n: int) -> None:
    """The first answer breaks off half-way, the next is whole."""
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\n"
    connection.sendall(head + (b"01234" if n == 0 else b"0123456789"))


def test_every_request_has_an_overall_deadline():
    with _scripted_server(_trickle, connections=1) as url:
        client = HttpClient(settings.Settings(http_retries=0, http_timeout=5.0, request_deadline=1.0))
        started = time.monotonic()
        with pytest.raises(FetchError, match="deadline"):
            client.get(url + "/slow")
        assert time.monotonic() - started < 3.0  # the per-read timeout (5 s) alone would never end it


def test_a_capped_download_streams_to_disk_in_bounded_memory(tmp_path: Path):
    bomb = gzip.compress(b"\0" * 50_000_000)  # 50 kB that unpack to 50 MB
    with _server() as server:
        server.route("GET", r"/bomb", lambda r, m: Reply(200, bomb, {"Content-Encoding": "gzip"}))
        client = HttpClient(settings.Settings(http_retries=0))
        tracemalloc.start()
        try:
            target = client.download(server.url + "/bomb", tmp_path / "weights.bin", max_bytes=100_000_000)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert target.stat().st_size == 50_000_000
        assert peak < 5_000_000  # about a chunk, not the 50 MB the body unpacks to
        with pytest.raises(FetchError, match="exceeds the limit of 10000000 bytes"):
            client.download(server.url + "/bomb", tmp_path / "capped.bin", max_bytes=10_000_000)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["weights.bin"]  # no partial file left


def test_an_attempt_broken_off_mid_body_leaves_nothing_behind(tmp_path: Path):
    client = HttpClient(settings.Settings(http_retries=1, http_backoff=0.01))
    with _scripted_server(_break_off_first, connections=2) as url:
        assert client.get(url + "/x").content == b"0123456789"
    with _scripted_server(_break_off_first, connections=2) as url:
        assert client.download(url + "/x", tmp_path / "f.bin").read_bytes() == b"0123456789"
