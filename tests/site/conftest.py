"""Fixtures of the site tests: a real HTTP server on 127.0.0.1, synthetic trees, headless Chromium."""

from __future__ import annotations

import functools
import http.server
import importlib.util
import io
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
REPO = Path(__file__).resolve().parents[2]


def _load_synthetic():
    spec = importlib.util.spec_from_file_location("site_synthetic", Path(__file__).with_name("synthetic.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


synthetic = _load_synthetic()


class Server:
    """A static file server over a folder, counting the requests per path."""

    def __init__(self, root: Path):
        self.root = root
        self.hits: dict[str, int] = {}
        server = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                server.hits[self.path] = server.hits.get(self.path, 0) + 1
                super().do_GET()

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                     functools.partial(Handler, directory=str(root)))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve() -> Iterator:
    servers: list[Server] = []

    def start(root: Path) -> Server:
        servers.append(Server(root))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


def image_bytes(fmt: str, size: tuple[int, int] = (900, 700), color: str = "teal") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, fmt)
    return out.getvalue()


@pytest.fixture
def assets(tmp_path: Path, serve) -> Server:
    """Covers and documentation served over HTTP: cover-<i>.png (some really JPEG), doc-<i>.md."""
    root = tmp_path / "assets"
    root.mkdir()
    for i in range(12):
        (root / f"cover-{i}.png").write_bytes(image_bytes("JPEG" if i % 2 else "PNG"))
        (root / f"doc-{i}.md").write_text(
            f"# Model {i}\n\nSee [the paper](paper.html) and <b>raw html</b>.\n\n"
            "[bad](javascript:alert(1))\n\n| a | b |\n|---|---|\n| 1 | 2 |\n", "utf-8")
    (root / "broken.png").write_bytes(b"this is not an image")
    for name, array in synthetic.tensor_arrays().items():
        np.save(root / f"{name}.npy", array)
    np.save(root / "pickled.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    return serve(root)


@pytest.fixture
def settings(tmp_path: Path):
    from collection_compiler.settings import Settings

    return Settings(repo_root=REPO, http_retries=0, http_backoff=0.0, concurrency=4,
                    site_url="https://example.org/zoo", allowed_hosts="127.0.0.1")  # documents served locally


@pytest.fixture
def browser():
    if not CHROMIUM.exists():
        pytest.skip("browser tests need Chromium at /usr/bin/chromium: install it with "
                    "`apt-get update && apt-get install -y chromium` (Debian)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def make_image():
    return image_bytes


@pytest.fixture
def make_tree():
    return synthetic.make_tree


@pytest.fixture
def xss_marker() -> str:
    return synthetic.XSS


@pytest.fixture
def built(tmp_path: Path, assets, settings):
    """A small built site (12 resources, 2 versions each, every 4th full of XSS payloads) with its assets."""
    from collection_compiler.site import render_site

    out = tmp_path / "out"
    synthetic.tree_with_assets(out, assets.url)
    render_site(out, settings, None)
    return out


@pytest.fixture
def tree_with_assets(assets):
    """Writes the tree of `built` (without rendering it) into a folder."""
    return lambda out: synthetic.tree_with_assets(out, assets.url)
