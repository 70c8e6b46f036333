"""Benchmark of the static site: build time, gzip size of the search index, and keystroke-to-results time in
headless Chromium, for N synthetic resources (default 10,000). Prints numbers; not part of pytest.

Every model version has its own test input and output (.npy, different content each, served over HTTP on
127.0.0.1), so the cold build draws every picture; the home page holds the plain list of every resource.

    .venv/bin/python benchmarks/bench_site.py [N] [--no-pictures]

`--no-pictures` leaves the test tensors out (to see what the pictures cost).
"""

from __future__ import annotations

import functools
import gzip
import http.server
import importlib.util
import io
import multiprocessing
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _synthetic():
    spec = importlib.util.spec_from_file_location("site_synthetic", REPO / "tests" / "site" / "synthetic.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Tensors(http.server.BaseHTTPRequestHandler):
    """/<n>/input.npy and /<n>/output.npy: a 64x80 test input and a 2-channel output, different for every n.
    Connections are kept open between requests, as Zenodo's are."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms wait for a delayed ACK

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        import numpy as np

        seed, name = self.path.strip("/").split("/")
        rng = np.random.default_rng(int(seed))
        image = rng.integers(0, 4000, (1, 1, 64, 80), dtype=np.uint16)
        array = image if name == "input.npy" else (image > 2000).astype(np.float32).repeat(2, axis=1)
        out = io.BytesIO()
        np.save(out, array)
        self.send_response(200)
        self.send_header("Content-Length", str(len(out.getvalue())))
        self.end_headers()
        self.wfile.write(out.getvalue())


def _serve(handler) -> http.server.ThreadingHTTPServer:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def _serve_elsewhere(handler) -> tuple[int, multiprocessing.Process]:
    """A server in a process of its own, as a remote one would be: its work is not the build's."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    process = multiprocessing.get_context("fork").Process(target=httpd.serve_forever, daemon=True)
    process.start()
    httpd.socket.close()  # the child serves; this process keeps no copy of the listening socket
    return httpd.server_address[1], process


def _keystrokes(out: Path) -> list[float]:
    from playwright.sync_api import sync_playwright

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(out))
    http.server.SimpleHTTPRequestHandler.log_message = lambda *a: None  # quiet; this process only
    httpd = _serve(handler)
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync"]
    times, facets = [], []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=flags)
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{httpd.server_address[1]}/index.html")
            page.wait_for_selector("#browse[data-ready=true]", timeout=60_000)
            for query in ("c", "ce", "cel", "cell", "cell s", "cell se", "seg", "nick-42", "", "unet 3d",
                          "segmentaton", "mitochondira", "nucleii", "qqqq") * 2:  # typos, and one no-result
                # From the input event to the next painted frame, measured inside the page.
                times.append(page.evaluate("""q => new Promise(done => {
                    const input = document.getElementById('q'); const t0 = performance.now();
                    input.value = q; input.dispatchEvent(new Event('input'));
                    requestAnimationFrame(() => setTimeout(() => done(performance.now() - t0), 0));
                })""", query))
                # Typing pace: let the deferred facet recount of this keystroke run before the next one, so its
                # cost is not hidden from the measurement (the recount starts 150 ms after the last keystroke).
                page.wait_for_timeout(300)
                facets.append(page.evaluate("window.__lastFacetMs"))
            browser.close()
    finally:
        httpd.shutdown()
    return times, facets


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else 10_000
    pictures = "--no-pictures" not in sys.argv
    sys.path.insert(0, str(REPO / "scripts"))
    from collection_compiler.settings import Settings
    from collection_compiler.site import render_site

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "site"
        port, tensors = _serve_elsewhere(_Tensors)
        url = f"http://127.0.0.1:{port}"
        _synthetic().make_tree(out, n, xss_every=50, tensors=lambda i: (
            f"{url}/{i}/input.npy", f"{url}/{i}/output.npy") if pictures else None)
        settings = Settings(repo_root=REPO, http_retries=0, allowed_hosts="127.0.0.1")  # the tensor server
        t0 = time.perf_counter()
        render_site(out, settings, None)
        cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        render_site(out, settings, None)
        warm = time.perf_counter() - t0
        tensors.terminate()
        raw = (out / "search-index.json").read_bytes()
        home = (out / "index.html").read_bytes()
        pictures = list((out / "previews").glob("*.png"))
        print(f"resources: {n}, test pictures drawn: {len(pictures)} "
              f"({sum(p.stat().st_size for p in pictures) / 1e6:.1f} MB)")
        print(f"build (cold): {cold:.1f} s   rebuild (nothing changed): {warm:.1f} s")
        print(f"search index: {len(raw) / 1e6:.2f} MB raw, {len(gzip.compress(raw, 9)) / 1e6:.3f} MB gzip -9")
        print(f"home page (with the list of every resource): {len(home) / 1e6:.2f} MB raw, "
              f"{len(gzip.compress(home, 9)) / 1e6:.3f} MB gzip -9")
        if Path("/usr/bin/chromium").exists():
            times, facets = _keystrokes(out)
            print(f"keystroke to painted results: median {statistics.median(times):.1f} ms, "
                  f"max {max(times):.1f} ms over {len(times)} queries")
            print(f"facet recount after typing pauses (JS only): median {statistics.median(facets):.1f} ms, "
                  f"max {max(facets):.1f} ms")
        else:
            print("keystroke timing skipped: install Chromium (apt-get install -y chromium)")


if __name__ == "__main__":
    main()
