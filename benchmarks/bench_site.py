"""Benchmark of the static site: build time, gzip size of the search index, and keystroke-to-results time in
headless Chromium, for N synthetic resources (default 10,000). Prints numbers; not part of pytest.

    .venv/bin/python benchmarks/bench_site.py [N]
"""

from __future__ import annotations

import functools
import gzip
import http.server
import importlib.util
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


def _keystrokes(out: Path) -> list[float]:
    from playwright.sync_api import sync_playwright

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(out))
    http.server.SimpleHTTPRequestHandler.log_message = lambda *a: None  # quiet; this process only
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync"]
    times, facets = [], []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=flags)
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{httpd.server_address[1]}/index.html")
            page.wait_for_selector("#browse[data-ready=true]", timeout=60_000)
            for query in ("c", "ce", "cel", "cell", "cell s", "cell se", "seg", "nick-42", "", "unet 3d") * 2:
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
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    sys.path.insert(0, str(REPO / "scripts"))
    from collection_compiler.settings import Settings
    from collection_compiler.site import render_site

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "site"
        _synthetic().make_tree(out, n, xss_every=50)
        settings = Settings(repo_root=REPO)
        t0 = time.perf_counter()
        render_site(out, settings, None)
        cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        render_site(out, settings, None)
        warm = time.perf_counter() - t0
        raw = (out / "search-index.json").read_bytes()
        print(f"resources: {n}")
        print(f"build (cold): {cold:.1f} s   rebuild (nothing changed): {warm:.1f} s")
        print(f"search index: {len(raw) / 1e6:.2f} MB raw, {len(gzip.compress(raw, 9)) / 1e6:.3f} MB gzip -9")
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
