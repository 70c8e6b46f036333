"""Small real models built at test time (state dict + architecture file, TorchScript, ONNX), their
descriptions in model format 0.4 and 0.5, and a real HTTP server on 127.0.0.1 serving them."""

from __future__ import annotations

import functools
import hashlib
import http.server
import shutil
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from collection_compiler.adapters import yamlio
from collection_compiler.settings import Settings

ARCHITECTURE = '''
import torch


class TinyNet(torch.nn.Module):
    """One 1x1 convolution: channels in -> channels out."""

    def __init__(self, channels_in=1, channels_out=2):
        super().__init__()
        self.conv = torch.nn.Conv2d(channels_in, channels_out, 1)

    def forward(self, x):
        return self.conv(x)


class TwoInTwoOut(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 1, 1)

    def forward(self, a, b):
        return self.conv(a) + b, a * 2.0


class Sleeper(TinyNet):
    def forward(self, x):
        import time
        while True:
            time.sleep(1)


class Crasher(TinyNet):
    def forward(self, x):
        import os
        import signal
        os.kill(os.getpid(), signal.SIGSEGV)


class EnvProbe(TinyNet):
    def forward(self, x):
        import os
        raise RuntimeError("environment: " + " ".join(sorted(os.environ)))


class Hog(TinyNet):
    def forward(self, x):
        hog = torch.ones(4 * 1024 ** 3 // 4)  # 4 GiB
        return self.conv(x) + hog[0]
'''


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _module(folder: Path) -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"tiny_arch_{abs(hash(folder))}", folder / "tiny_arch.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def zmuv(x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """Independent reference of zero_mean_unit_variance (population std, eps 1e-6)."""
    x64 = x.astype(np.float64)
    return ((x64 - x64.mean(axis=axes, keepdims=True)) / (x64.std(axis=axes, keepdims=True) + 1e-6)).astype(
        np.float32)


def export_weights(model: Any, folder: Path, examples: tuple[Any, ...], formats: tuple[str, ...]) -> dict[str, Path]:
    import torch

    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\..*")
    warnings.filterwarnings("ignore", message=".*legacy TorchScript-based ONNX export.*")
    paths = {}
    if "pytorch_state_dict" in formats:
        paths["pytorch_state_dict"] = folder / "weights.pt"
        torch.save(model.state_dict(), paths["pytorch_state_dict"])
    if "torchscript" in formats:
        paths["torchscript"] = folder / "weights_ts.pt"
        torch.jit.save(torch.jit.trace(model, examples), paths["torchscript"])
    if "onnx" in formats:
        paths["onnx"] = folder / "weights.onnx"
        names = [f"in{i}" for i in range(len(examples))]
        axes = {n: {0: "b", 2: "y", 3: "x"} for n in names}
        torch.onnx.export(model, examples, paths["onnx"], input_names=names, dynamic_axes=axes, opset_version=17,
                          dynamo=False)
    return paths


def weights_block(paths: dict[str, Path], generation: str, callable_name: str = "TinyNet",
                  kwargs: dict[str, Any] | None = None) -> dict[str, Any]:
    arch = paths["architecture"]
    kwargs = kwargs or {}
    block: dict[str, Any] = {}
    for wf, path in paths.items():
        if wf == "architecture":
            continue
        entry: dict[str, Any] = {"source": path.name, "sha256": sha(path)}
        if wf == "pytorch_state_dict":
            if generation == "0.5":
                entry["architecture"] = {"source": arch.name, "sha256": sha(arch), "callable": callable_name,
                                         "kwargs": kwargs}
                entry["pytorch_version"] = "2.13"
            else:
                entry.update(architecture=f"{arch.name}:{callable_name}", architecture_sha256=sha(arch),
                             kwargs=kwargs)
        elif wf == "torchscript":
            entry["pytorch_version"] = "2.13"
        elif wf == "onnx":
            entry["opset_version"] = 17
        block[wf] = entry
    return block


def _axes05(channels: int, name: str, ref: str | None = None) -> list[dict[str, Any]]:
    channel = {"type": "channel", "channel_names": [f"{name}{i}" for i in range(channels)]}
    if ref is None:
        space = [{"type": "space", "id": a, "size": {"min": 8, "step": 8}} for a in ("y", "x")]
    else:
        space = [{"type": "space", "id": a, "size": {"tensor_id": ref, "axis_id": a}} for a in ("y", "x")]
    return [{"type": "batch"}, channel, *space]


def single_model(folder: Path, generation: str = "0.5",
                 formats: tuple[str, ...] = ("pytorch_state_dict", "torchscript", "onnx")) -> Path:
    """A 1->2 channel model with zero_mean_unit_variance preprocessing and sigmoid postprocessing."""
    import torch

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tiny_arch.py").write_text(ARCHITECTURE)
    torch.manual_seed(1)
    model = _module(folder).TinyNet().eval()
    x = np.random.default_rng(0).normal(5.0, 3.0, (1, 1, 16, 24)).astype(np.float32)
    with torch.no_grad():
        raw = model(torch.from_numpy(zmuv(x, (1, 2, 3)))).numpy()
    np.save(folder / "test_input.npy", x)
    np.save(folder / "test_output.npy", (1 / (1 + np.exp(-raw.astype(np.float64)))).astype(np.float32))
    paths = export_weights(model, folder, (torch.from_numpy(x),), formats)
    paths["architecture"] = folder / "tiny_arch.py"
    rdf = _rdf(generation, weights_block(paths, generation))
    if generation == "0.5":
        zmuv_step = {"id": "zero_mean_unit_variance", "kwargs": {"axes": ["channel", "y", "x"]}}
        rdf["inputs"] = [{"id": "raw", "axes": _axes05(1, "raw"), "test_tensor": {"source": "test_input.npy"},
                          "preprocessing": [zmuv_step]}]
        rdf["outputs"] = [{"id": "prob", "axes": _axes05(2, "p", ref="raw"),
                           "test_tensor": {"source": "test_output.npy"}, "data": {"range": [0.0, 1.0]},
                           "postprocessing": [{"id": "sigmoid"}]}]
    else:
        rdf["inputs"] = [{"name": "raw", "axes": "bcyx", "data_type": "float32",
                          "shape": {"min": [1, 1, 8, 8], "step": [0, 0, 8, 8]},
                          "preprocessing": [{"name": "zero_mean_unit_variance",
                                             "kwargs": {"mode": "per_sample", "axes": "cyx"}}]}]
        rdf["outputs"] = [{"name": "prob", "axes": "bcyx", "data_type": "float32",
                           "shape": {"reference_tensor": "raw", "scale": [1, 0, 1, 1], "offset": [0, 1, 0, 0]},
                           "postprocessing": [{"name": "sigmoid"}]}]
        rdf.update(test_inputs=["test_input.npy"], test_outputs=["test_output.npy"])
    (folder / "rdf.yaml").write_text(yamlio.dump_yaml(rdf))
    return folder / "rdf.yaml"


def multi_model(folder: Path, formats: tuple[str, ...] = ("pytorch_state_dict", "torchscript", "onnx")) -> Path:
    """Two inputs, two outputs (0.5), scale_range on the first input with the second as reference."""
    import torch

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tiny_arch.py").write_text(ARCHITECTURE)
    torch.manual_seed(2)
    model = _module(folder).TwoInTwoOut().eval()
    rng = np.random.default_rng(1)
    a = rng.uniform(0, 255, (1, 1, 16, 16)).astype(np.float32)
    b = rng.normal(0, 1, (1, 1, 16, 16)).astype(np.float32)
    lo, hi = np.quantile(b.astype(np.float64), [0.01, 0.99])
    a_pre = ((a - lo) / (hi - lo + 1e-6)).astype(np.float32)
    with torch.no_grad():
        out1, out2 = (t.numpy() for t in model(torch.from_numpy(a_pre), torch.from_numpy(b)))
    for name, array in (("a", a), ("b", b), ("o1", out1), ("o2", out2 * 0.5 + 1)):
        np.save(folder / f"{name}.npy", array)
    paths = export_weights(model, folder, (torch.from_numpy(a_pre), torch.from_numpy(b)), formats)
    paths["architecture"] = folder / "tiny_arch.py"
    rdf = _rdf("0.5", weights_block(paths, "0.5", "TwoInTwoOut"))
    rdf["inputs"] = [
        {"id": "a", "axes": _axes05(1, "a"), "test_tensor": {"source": "a.npy", "sha256": sha(folder / "a.npy")},
         "preprocessing": [{"id": "scale_range", "kwargs": {"axes": ["channel", "y", "x"], "min_percentile": 1,
                                                            "max_percentile": 99, "reference_tensor": "b"}}]},
        {"id": "b", "axes": _axes05(1, "b", ref="a"), "test_tensor": {"source": "b.npy"}}]
    rdf["outputs"] = [
        {"id": "o1", "axes": _axes05(1, "o", ref="a"), "test_tensor": {"source": "o1.npy"}},
        {"id": "o2", "axes": _axes05(1, "o", ref="a"), "test_tensor": {"source": "o2.npy"},
         "postprocessing": [{"id": "scale_linear", "kwargs": {"gain": 0.5, "offset": 1.0}}]}]
    (folder / "rdf.yaml").write_text(yamlio.dump_yaml(rdf))
    return folder / "rdf.yaml"


def _rdf(generation: str, weights: dict[str, Any]) -> dict[str, Any]:
    base = {"type": "model", "name": "Tiny test model", "description": "A tiny model built by the test suite",
            "authors": [{"name": "Test Author"}], "cite": [{"text": "Test", "doi": "10.5281/zenodo.1234567"}],
            "license": "MIT", "tags": ["test"], "documentation": "README.md", "weights": weights}
    if generation == "0.5":
        return {**base, "format_version": "0.5.4"}
    return {**base, "format_version": "0.4.10", "timestamp": "2024-01-01T00:00:00"}


def add_docs(folder: Path) -> None:
    (folder / "README.md").write_text("# Tiny\n\n## Validation\n\nNone.\n")


@pytest.fixture(scope="session")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Session-wide built models (building and exporting takes a few seconds)."""
    root = tmp_path_factory.mktemp("models")
    built = {"single05": single_model(root / "single05"), "single04": single_model(root / "single04", "0.4"),
             "multi05": multi_model(root / "multi05")}
    for path in built.values():
        add_docs(path.parent)
    return built


@pytest.fixture()
def model_copy(tmp_path: Path, models: dict[str, Path]) -> Callable[[str], Path]:
    """A private copy of a built model folder (tests may edit it); returns the rdf.yaml path."""

    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(models[name].parent, target)
        return target / "rdf.yaml"

    return copy


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture()
def http_folder() -> Iterator[Callable[[Path], str]]:
    """Serve folders over real HTTP on 127.0.0.1; returns a function folder -> base URL."""
    servers = []

    def serve(folder: Path) -> str:
        handler = functools.partial(_QuietHandler, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    # the test servers run on 127.0.0.1, which URLs from descriptions may not name otherwise
    return Settings(work_dir=tmp_path / "work", http_retries=0, http_timeout=10, allowed_hosts="127.0.0.1")


@pytest.fixture(autouse=True)
def _trusted_models_without_bubblewrap(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where bubblewrap cannot run, these tests' own models run unsandboxed (with the loud warning), as
    `allow_unsandboxed_models` would let them; the sandbox itself is tested in tests/hostile, skipped there."""
    from collection_compiler.testing import isolation

    if isolation.working_tool() is None:
        wrap = isolation.wrap
        monkeypatch.setattr(isolation, "wrap", lambda argv, scratch, allow=False: wrap(argv, scratch, True))
