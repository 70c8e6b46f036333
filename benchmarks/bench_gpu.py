"""Model tests on CPU versus GPU: `collection test` wall time per weights format on a model large enough for the
GPU to matter, the first inference's warm-up cost, and how far the GPU's outputs are from the CPU's (with and
without TF32). Prints Markdown tables; not part of the test suite. Needs a CUDA build of torch (and
onnxruntime-gpu for the ONNX rows).

    .venv/bin/python benchmarks/bench_gpu.py [--size 1536] [--width 32] [--depth 8] [--repeat 3] [--format onnx]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FORMATS = ("torchscript", "pytorch_state_dict", "onnx")
ARCHITECTURE = '''
import torch


class Deep(torch.nn.Module):
    """A plain stack of 3x3 convolutions: heavy enough per pixel for a GPU to show."""

    def __init__(self, width=32, depth=8):
        super().__init__()
        layers = [torch.nn.Conv2d(1, width, 3, padding=1), torch.nn.ReLU()]
        for _ in range(depth - 2):
            layers += [torch.nn.Conv2d(width, width, 3, padding=1), torch.nn.ReLU()]
        layers.append(torch.nn.Conv2d(width, 2, 3, padding=1))
        self.net = torch.nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)
'''


def _builders() -> Any:
    spec = importlib.util.spec_from_file_location("model_builders", ROOT / "tests" / "testing" / "conftest.py")
    builders = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builders)
    return builders


def build(folder: Path, size: int, width: int, depth: int) -> Path:
    """A 0.5 model (zero_mean_unit_variance in, sigmoid out) in all three weights formats, outputs made on the CPU."""
    import torch

    from collection_compiler.adapters import yamlio

    b = _builders()
    folder.mkdir(parents=True)
    (folder / "deep_arch.py").write_text(ARCHITECTURE)
    spec = importlib.util.spec_from_file_location("deep_arch", folder / "deep_arch.py")
    arch = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(arch)
    torch.manual_seed(0)
    model = arch.Deep(width, depth).eval()
    x = np.random.default_rng(0).normal(5.0, 3.0, (1, 1, size, size)).astype(np.float32)
    with torch.no_grad():
        raw = model(torch.from_numpy(b.zmuv(x, (1, 2, 3)))).numpy()
    np.save(folder / "test_input.npy", x)
    np.save(folder / "test_output.npy", (1 / (1 + np.exp(-raw.astype(np.float64)))).astype(np.float32))
    paths = b.export_weights(model, folder, (torch.from_numpy(x[..., :64, :64]),), FORMATS)
    paths["architecture"] = folder / "deep_arch.py"
    rdf = b._rdf("0.5", b.weights_block(paths, "0.5", "Deep", {"width": width, "depth": depth}))
    rdf["inputs"] = [{"id": "raw", "axes": b._axes05(1, "raw"), "test_tensor": {"source": "test_input.npy"},
                      "preprocessing": [{"id": "zero_mean_unit_variance", "kwargs": {"axes": ["channel", "y", "x"]}}]}]
    rdf["outputs"] = [{"id": "prob", "axes": b._axes05(2, "p", ref="raw"), "test_tensor": {"source": "test_output.npy"},
                       "data": {"range": [0.0, 1.0]}, "postprocessing": [{"id": "sigmoid"}]}]
    (folder / "rdf.yaml").write_text(yamlio.dump_yaml(rdf))
    b.add_docs(folder)
    return folder / "rdf.yaml"


def timed_test(rdf: Path, weight_format: str, device: str, work: Path) -> dict[str, Any]:
    summary_path = work / f"{weight_format}-{device}.json"
    command = [str(Path(sys.executable).with_name("collection")), "test", str(rdf), "--weight-format", weight_format,
               "--device", device, "--no-io", "--work-dir", str(work), "--summary", str(summary_path)]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if not summary_path.is_file():
        raise SystemExit(f"{' '.join(command)} wrote no summary:\n{done.stdout}\n{done.stderr}")
    summary = json.loads(summary_path.read_text("utf-8"))
    detail = next(d for d in summary["details"] if d.get("weights_format") == weight_format)
    return {"wall": wall, "status": detail["status"], "error": detail.get("error"),
            "timings": detail.get("timings", {}),
            "device_name": detail.get("device_name"), "runtime": detail.get("runtime")}


def wall_table(rdf: Path, work: Path, repeat: int, formats: list[str]) -> None:
    print("| weights format | device | verdict | wall, median (s) | load (s) | reproduce (s) | device name | runtime |")
    print("|---|---|---|---|---|---|---|---|")
    for weight_format in formats:
        for device in ("cpu", "cuda"):
            runs = [timed_test(rdf, weight_format, device, work) for _ in range(repeat)]
            last = runs[-1]
            wall = statistics.median(r["wall"] for r in runs)
            verdict = last["status"] + (f" ({last['error'][:80]})" if last["error"] else "")
            print(f"| {weight_format} | {device} | {verdict} | {wall:.2f} | {last['timings'].get('load_s', 0):.2f} | "
                  f"{last['timings'].get('reproduce_s', 0):.2f} | {last['device_name']} | {last['runtime']} |",
                  flush=True)


def _weights(rdf: Path, weight_format: str) -> dict[str, Any]:
    from collection_compiler.adapters import yamlio

    data = yamlio.load_yaml_file(rdf)
    entry = data["weights"][weight_format]
    weights: dict[str, Any] = {"path": str(rdf.parent / entry["source"])}
    if weight_format == "pytorch_state_dict":
        arch = entry["architecture"]
        weights["architecture"] = {"path": str(rdf.parent / arch["source"]), "sha256": arch["sha256"],
                                   "callable": arch["callable"], "kwargs": arch.get("kwargs", {})}
    return weights


def warmup_and_agreement(rdf: Path, repeat: int, formats: list[str]) -> None:
    """In one process: first inference versus the steady state on CUDA, and the largest difference from the CPU."""

    from collection_compiler.testing import runners

    x = np.random.default_rng(1).normal(size=np.load(rdf.parent / "test_input.npy").shape).astype(np.float32)
    print("\n| weights format | load on cuda (s) | first inference (s) | later inference, median (s) | "
          "CPU inference (s) | max abs difference GPU vs CPU |")
    print("|---|---|---|---|---|---|")
    for weight_format in formats:
        try:
            started = time.perf_counter()
            predict, _ = runners.load(weight_format, _weights(rdf, weight_format), "cuda")
        except runners.RunnerError as e:
            print(f"| {weight_format} | not run: {e} | | | | |")
            continue
        loaded = time.perf_counter()
        first = predict([x])[0]
        first_s = time.perf_counter() - loaded
        later = []
        for _ in range(repeat):
            t = time.perf_counter()
            predict([x])
            later.append(time.perf_counter() - t)
        cpu_predict, _ = runners.load(weight_format, _weights(rdf, weight_format), "cpu")
        t = time.perf_counter()
        reference = cpu_predict([x])[0]
        cpu_s = time.perf_counter() - t
        diff = float(np.max(np.abs(first.astype(np.float64) - reference)))
        print(f"| {weight_format} | {loaded - started:.2f} | {first_s:.3f} | {statistics.median(later):.4f} | "
              f"{cpu_s:.3f} | {diff:.2e} |", flush=True)
    tf32_difference(rdf, x)


def tf32_difference(rdf: Path, x: np.ndarray) -> None:
    """What the runner's TF32 switch is for: the same torchscript model with TF32 allowed, against the CPU."""
    import torch

    model = torch.jit.load(str(rdf.parent / "weights_ts.pt"), map_location="cpu").eval()
    with torch.no_grad():
        reference = model(torch.from_numpy(x)).numpy().astype(np.float64)
        model = model.cuda()
        for allowed in (False, True):
            torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = allowed
            out = model(torch.from_numpy(x).cuda()).cpu().numpy()
            print(f"\ntorchscript with TF32 {'allowed' if allowed else 'off'}: largest difference from the CPU "
                  f"{float(np.max(np.abs(out - reference))):.2e}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=1536, help="test image edge length")
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--depth", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--format", action="append", choices=FORMATS, help="only this weights format (repeatable)")
    args = parser.parse_args()
    formats = args.format or list(FORMATS)
    import torch

    if not torch.cuda.is_available():
        raise SystemExit("no CUDA device: this benchmark needs a GPU")
    print(f"device: {torch.cuda.get_device_name(0)}; torch {torch.__version__}, CUDA {torch.version.cuda}, "
          f"cuDNN {torch.backends.cudnn.version()}; model: {args.depth} 3x3 convolutions of width {args.width} "
          f"on a {args.size}x{args.size} test image\n")
    with tempfile.TemporaryDirectory() as tmp:
        rdf = build(Path(tmp) / "model", args.size, args.width, args.depth)
        wall_table(rdf, Path(tmp) / "work", args.repeat, formats)
        warmup_and_agreement(rdf, args.repeat, formats)


if __name__ == "__main__":
    main()
