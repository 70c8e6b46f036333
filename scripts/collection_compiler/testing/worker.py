"""The sandboxed test of one (version, weights format): `python -I -m collection_compiler.testing.worker JOB RESULT`.

Runs in its own process (see `sandbox`), in a scratch folder holding copies of the files it needs. It
applies its own resource limits first, then loads the runtime and the model (model code runs only here),
runs pre -> model -> post on the test inputs and writes the outputs as `.npy` files (the parent, outside the
sandbox, compares them with the test outputs, which this process never sees) and, for 0.5 models, runs a small
sweep of batch sizes and size parameters, reporting the output shapes for the parent to check. The result is a
JSON file.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
import traceback  # here, not on failure: after a MemoryError an import may fail too
from typing import Any

# numpy loads numpy.random lazily; under the memory limit a CUDA build of torch leaves too little address space
# to map it later (seen on a GPU runner: 'failed to map segment from shared object'), so it loads here.
import numpy as np
import numpy.random  # noqa: F401

from collection_compiler.testing import geometry, processing


class TestFailure(RuntimeError):
    pass


def set_limits(limits: dict[str, Any], device: str) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    memory = limits.get("memory_bytes")
    # RLIMIT_AS counts address space, which CUDA reserves in huge amounts: on CUDA the parent's RSS watchdog
    # is the memory limit instead.
    if memory and device == "cpu":
        resource.setrlimit(resource.RLIMIT_AS, (int(memory), int(memory)))
    file_size = limits.get("file_bytes")
    if file_size:
        resource.setrlimit(resource.RLIMIT_FSIZE, (int(file_size), int(file_size)))


def load_tensor(path: str, spec: dict[str, Any], what: str) -> np.ndarray:
    try:
        array = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as e:
        raise TestFailure(f"{what} {spec['id']!r}: cannot read test tensor ({e})") from None
    ndim = len(spec["axes"])
    while array.ndim > ndim and array.shape[0] == 1:  # tolerate leading singletons
        array = array[0]
    if array.ndim != ndim:
        raise TestFailure(f"{what} {spec['id']!r}: test tensor has {array.ndim} dimensions "
                          f"{list(array.shape)}, the description has {ndim} axes")
    return array


def run_pipeline(predict: Any, job: dict[str, Any], inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    processed = processing.apply_stage(inputs, job["inputs"], "preprocessing")
    raw = predict([processed[t["id"]] for t in job["inputs"]])
    if len(raw) != len(job["outputs"]):
        raise TestFailure(f"the model returned {len(raw)} outputs, the description has {len(job['outputs'])}")
    outputs = {}
    for spec, value in zip(job["outputs"], raw, strict=True):
        if value is None:
            raise TestFailure(f"output {spec['id']!r} is None")
        outputs[spec["id"]] = np.asarray(value)
    return processing.apply_stage(outputs, job["outputs"], "postprocessing", {**inputs, **outputs})


def save_outputs(outputs: dict[str, np.ndarray], job: dict[str, Any]) -> list[str]:
    """The outputs as plain `.npy` files (no pickles) for the parent to compare: the comparison never runs in
    this process, where model code could change it."""
    os.makedirs("outputs", exist_ok=True)
    paths = []
    for index, spec in enumerate(job["outputs"]):
        path = os.path.join("outputs", f"{index}.npy")
        np.save(path, np.asarray(outputs[spec["id"]]), allow_pickle=False)
        paths.append(path)
    return paths


# ------------------------------------------------------------------ parametrized sweep (0.5)


def sweep(predict: Any, job: dict[str, Any], inputs: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    """Per point of the sweep, the output shapes (the parent checks them) or the error that stopped the point."""
    results = []
    for batch, n in geometry.sweep_points(job):
        entry: dict[str, Any] = {"batch_size": batch, "n": n, "error": None, "shapes": {}}
        try:
            _, shapes = geometry.input_shapes(job, n, batch)
            fitted = {spec["id"]: geometry.fit(inputs[spec["id"]], shapes[spec["id"]]) for spec in job["inputs"]}
            outputs = run_pipeline(predict, job, fitted)
            entry["shapes"] = {spec["id"]: [int(d) for d in np.shape(outputs[spec["id"]])] for spec in job["outputs"]}
        except Exception as e:  # noqa: BLE001 - each point is reported, the sweep goes on
            known = isinstance(e, TestFailure | geometry.SweepError)
            entry["error"] = str(e) if known else f"{type(e).__name__}: {e}"
        results.append(entry)
    return results


# ------------------------------------------------------------------ main


def run(job: dict[str, Any]) -> dict[str, Any]:
    """Run the model on the test inputs and write its outputs; status `ran` (the parent judges them) or failed."""
    from collection_compiler.testing import runners

    started = time.perf_counter()
    np.random.seed(0)
    inputs = {t["id"]: load_tensor(t["test_tensor"], t, "input") for t in job["inputs"]}
    predict, info = runners.load(job["weight_format"], job["weights"], job["device"])
    loaded = time.perf_counter()
    written = save_outputs(run_pipeline(predict, job, inputs), job)
    reproduced = time.perf_counter()
    swept = sweep(predict, job, inputs) if job.get("sweep") else []
    done = time.perf_counter()
    return {**info, "status": "ran", "outputs": written, "errors": [], "warnings": [],
            "sweep": swept, "timings": {"load_s": round(loaded - started, 4),
                                        "reproduce_s": round(reproduced - loaded, 4),
                                        "sweep_s": round(done - reproduced, 4)}}


def preimport(weight_format: str) -> None:
    """Import the runtime (never model code) while the parent still validates and fetches."""
    from collection_compiler.testing import runners  # noqa: F401

    if weight_format == "onnx":
        import onnxruntime  # noqa: F401
    elif weight_format in ("torchscript", "pytorch_state_dict"):
        import torch  # noqa: F401


def main(argv: list[str]) -> int:
    """`JOB RESULT`, or `--serve FORMAT`: load the runtime, then read `JOB RESULT` from stdin. The job's
    limits apply before any of its code runs (importing the runtime is not the model's code)."""
    if argv[0] == "--serve":
        weight_format = argv[1]
        preimport(weight_format)
        request = sys.stdin.readline().split()
        if len(request) != 2:
            return 0  # the parent gave up on this description (e.g. static validation failed)
        job_path, result_path = request
    else:
        job_path, result_path = argv[0], argv[1]
    with open(job_path, encoding="utf-8") as f:
        job = json.load(f)
    try:
        set_limits(job.get("limits") or {}, job["device"])
        result = run(job)
    except MemoryError:
        result = {"status": "failed", "errors": ["out of memory: the test exceeded its memory limit"],
                  "traceback": traceback.format_exc().splitlines()[-20:]}
    except Exception as e:  # noqa: BLE001 - any failure of model code becomes a failed result
        message = str(e) if isinstance(e, TestFailure) else f"{type(e).__name__}: {e}"
        result = {"status": "failed", "errors": [message], "traceback": traceback.format_exc().splitlines()[-30:]}
    with open(result_path, "w", encoding="utf-8") as f:
        f.write(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    # The result is written and the parent waits for this exit: skip the runtime's teardown (its threads
    # and allocators take tens of milliseconds to wind down).
    os._exit(code)
