"""Shared helpers for the validation tests: the real fixtures, small hand-written models, a local file server."""

from __future__ import annotations

import copy
import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "real-rdfs"
if not FIXTURES.is_dir():
    FIXTURES = Path("/work/shared/fixtures/real-rdfs")




MODEL_V04: dict[str, Any] = {
    "format_version": "0.4.9", "type": "model", "name": "tiny unet", "description": "a tiny test model",
    "authors": [{"name": "Ada", "orcid": "0000-0002-1825-0097"}], "cite": [{"text": "x", "doi": "10.1234/abc"}],
    "documentation": "README.md", "license": "MIT", "timestamp": "2024-01-02T03:04:05",
    "tags": ["2d", "pytorch"], "maintainers": [{"github_user": "ada"}],
    "inputs": [{"name": "raw", "axes": "bcyx", "data_type": "float32", "shape": [1, 1, 8, 8],
                "preprocessing": [{"name": "zero_mean_unit_variance",
                                   "kwargs": {"mode": "per_sample", "axes": "yx"}}]}],
    "outputs": [{"name": "prob", "axes": "bcyx", "data_type": "float32", "halo": [0, 0, 1, 1],
                 "shape": {"reference_tensor": "raw", "scale": [1, 1, 1, 1], "offset": [0, 0, 0, 0]}}],
    "test_inputs": ["test_input.npy"], "test_outputs": ["test_output.npy"],
    "weights": {"torchscript": {"source": "weights.pt", "pytorch_version": "2.1"}},
}

MODEL_V05: dict[str, Any] = {
    "format_version": "0.5.4", "type": "model", "name": "tiny unet", "description": "a tiny test model",
    "authors": [{"name": "Ada", "github_user": "ada"}], "cite": [{"text": "x", "doi": "10.1234/abc"}],
    "documentation": "README.md", "license": "MIT", "tags": ["2d", "pytorch"],
    "inputs": [{"id": "raw", "axes": [{"type": "batch"}, {"type": "channel", "channel_names": ["c0"]},
                                       {"type": "space", "id": "y", "size": {"min": 8, "step": 8}},
                                       {"type": "space", "id": "x", "size": {"min": 8, "step": 8}}],
                "test_tensor": {"source": "test_input.npy"},
                "preprocessing": [{"id": "zero_mean_unit_variance", "kwargs": {"axes": ["x", "y"]}}]}],
    "outputs": [{"id": "prob", "axes": [{"type": "batch"}, {"type": "channel", "channel_names": ["p"]},
                                        {"type": "space", "id": "y", "halo": 1,
                                         "size": {"tensor_id": "raw", "axis_id": "y"}},
                                        {"type": "space", "id": "x", "halo": 1,
                                         "size": {"tensor_id": "raw", "axis_id": "x"}}],
                 "test_tensor": {"source": "test_output.npy"}, "data": {"range": [0.0, 1.0]}}],
    "weights": {"torchscript": {"source": "weights.pt", "pytorch_version": "2.1"}},
}


@pytest.fixture
def model_v04() -> dict[str, Any]:
    return copy.deepcopy(MODEL_V04)


@pytest.fixture
def model_v05() -> dict[str, Any]:
    return copy.deepcopy(MODEL_V05)


@pytest.fixture
def write_package() -> Any:
    return _write_package


@pytest.fixture
def fixtures_dir() -> Path:
    if not FIXTURES.is_dir():
        pytest.skip("shared fixtures not available")
    return FIXTURES


def _write_package(folder: Path, rdf: dict[str, Any]) -> Path:
    """A model folder with real files: README, weights bytes and `.npy` test tensors matching MODEL_V04/V05."""
    from collection_compiler.adapters.yamlio import dump_yaml

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    np.save(folder / "test_input.npy", rng.random((1, 1, 8, 8), dtype=np.float32))
    np.save(folder / "test_output.npy", rng.random((1, 1, 8, 8), dtype=np.float32))
    (folder / "README.md").write_text("# Tiny\n\n## Validation\nchecked by hand\n", "utf-8")
    (folder / "weights.pt").write_bytes(b"not really torchscript, but bytes with a hash")
    (folder / "rdf.yaml").write_text(dump_yaml(rdf), "utf-8")
    return folder / "rdf.yaml"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def file_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real HTTP server on 127.0.0.1 serving `tmp_path/served`."""
    root = tmp_path / "served"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()
