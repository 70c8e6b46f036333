"""Wall time of `collection test` per runner versus the bare floor (fresh process: import the runtime, load
the weights, one inference). Prints a Markdown table; not part of the test suite.

    .venv/bin/python benchmarks/bench_model_tests.py [--repeat 3] [--device cpu|cuda] [--size 256] [--runner onnx]
    .venv/bin/python benchmarks/bench_model_tests.py --sandbox [--repeat 20]

`--sandbox`: the bubblewrap sandbox's start-up cost per model test, as a fresh worker process started bare and
inside the sandbox (`testing.isolation.wrap`), with and without importing torch.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLOOR = {
    "onnx": """
import numpy as np, onnxruntime as ort
providers = ["CUDAExecutionProvider", "CPUExecutionProvider"] if "{device}" == "cuda" else ["CPUExecutionProvider"]
s = ort.InferenceSession("{folder}/weights.onnx", providers=providers)
s.run(None, {{s.get_inputs()[0].name: np.load("{folder}/test_input.npy")}})
""",
    "torchscript": """
import numpy as np, torch
m = torch.jit.load("{folder}/weights_ts.pt", map_location="{device}").eval()
with torch.no_grad():
    m(torch.from_numpy(np.load("{folder}/test_input.npy")).to("{device}")).cpu()
""",
    "pytorch_state_dict": """
import importlib.util, numpy as np, torch
spec = importlib.util.spec_from_file_location("arch", "{folder}/tiny_arch.py")
arch = importlib.util.module_from_spec(spec); spec.loader.exec_module(arch)
m = arch.TinyNet(); m.load_state_dict(torch.load("{folder}/weights.pt", weights_only=True)); m.to("{device}").eval()
with torch.no_grad():
    m(torch.from_numpy(np.load("{folder}/test_input.npy")).to("{device}")).cpu()
""",
}


def _timed(command: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return elapsed


def _build(folder: Path, size: int) -> Path:
    spec = importlib.util.spec_from_file_location("model_builders", ROOT / "tests" / "testing" / "conftest.py")
    builders = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builders)
    rdf = builders.single_model(folder)
    builders.add_docs(folder)
    if size != 24:  # a larger test image: rebuild the test tensors at that size with the same weights
        import numpy as np
        import torch

        model = builders._module(folder).TinyNet()
        model.load_state_dict(torch.load(folder / "weights.pt", weights_only=True))
        x = np.random.default_rng(0).normal(5.0, 3.0, (1, 1, size, size)).astype(np.float32)
        with torch.no_grad():
            raw = model(torch.from_numpy(builders.zmuv(x, (1, 2, 3)))).numpy()
        np.save(folder / "test_input.npy", x)
        np.save(folder / "test_output.npy", (1 / (1 + np.exp(-raw.astype(np.float64)))).astype(np.float32))
    return rdf


def _compile_package() -> None:
    """Write the package's bytecode, as an install does: with PYTHONDONTWRITEBYTECODE set (as in some shells
    and CI images) an editable checkout would otherwise recompile its modules on every `collection` start,
    a cost the floor, importing installed numpy and runtimes, never pays."""
    import compileall
    import re

    # not the demo models' code: a __pycache__ beside their files would become part of the demo's uploads
    compileall.compile_dir(ROOT / "scripts" / "collection_compiler", quiet=1, rx=re.compile(r"demo_data"))


def sandbox_overhead(repeat: int) -> None:
    from collection_compiler.testing import isolation

    if isolation.working_tool() is None:
        raise SystemExit("bubblewrap cannot run here")
    print("| worker start | bare (s) | in the sandbox (s) | overhead (s) |  \n|---|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        for label, code in (("interpreter only", "pass"), ("interpreter + import torch", "import torch")):
            bare = [sys.executable, "-I", "-c", code]
            wrapped = isolation.wrap(bare, scratch)
            _timed(bare), _timed(wrapped)  # warm the page cache
            pairs = [(_timed(bare), _timed(wrapped)) for _ in range(repeat)]
            plain, boxed = (statistics.median(p[i] for p in pairs) for i in (0, 1))
            print(f"| {label} | {plain:.3f} | {boxed:.3f} | {boxed - plain:+.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sandbox", action="store_true", help="measure the sandbox's start-up cost only")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--size", type=int, default=24, help="test image edge length")
    parser.add_argument("--runner", action="append", choices=tuple(FLOOR), help="only this runner (repeatable)")
    args = parser.parse_args()
    if args.sandbox:
        sandbox_overhead(args.repeat)
        return
    _compile_package()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "model"
        _build(folder, args.size)
        work = Path(tmp) / "work"
        print("| runner | floor (s) | collection test (s) | ratio |  \n|---|---|---|---|")
        for wf, script in FLOOR.items():
            if args.runner and wf not in args.runner:
                continue
            floor_cmd = [sys.executable, "-c", script.format(folder=folder, device=args.device)]
            test_cmd = [str(Path(sys.executable).with_name("collection")), "test", str(folder), "--weight-format", wf,
                        "--device", args.device, "--no-io", "--work-dir", str(work)]
            _timed(floor_cmd), _timed(test_cmd)  # warm the page cache and the file cache
            # Alternate the two, so that load from other work on the machine falls on both alike.
            pairs = [(_timed(floor_cmd), _timed(test_cmd)) for _ in range(args.repeat)]
            floor = statistics.median(f for f, _ in pairs)
            test = statistics.median(t for _, t in pairs)
            print(f"| {wf} | {floor:.2f} | {test:.2f} | {test / floor:.2f}x |")


if __name__ == "__main__":
    main()
