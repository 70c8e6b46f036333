"""The verdict on a test, reached outside the sandbox: the worker only writes its outputs as `.npy` files; this
process reads them as data (no pickles, no links, bounded size) and compares them with the expected test outputs,
which the worker never sees, and checks the output shapes the sweep reports. Model code can therefore neither
patch the comparison nor copy the answer."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import numpy as np

from collection_compiler.testing import geometry
from collection_compiler.testing.compare import compare
from collection_compiler.testing.worker import TestFailure, load_tensor

MIN_OUTPUT_CAP = 64 * 1024**2  # an output file may be this large, or four times its expected tensor


def judge(result: dict[str, Any], job: dict[str, Any], expected: dict[str, Path], scratch: Path) -> dict[str, Any]:
    """`result` (the worker's, or the sandbox's failure) with the comparison's status, errors and warnings."""
    if result.get("status") != "ran":
        return result
    errors, warnings = [str(e) for e in result.get("errors") or []], []
    swept, sweep_errors = judge_sweep(job, result.get("sweep"))
    for index, spec in enumerate(job["outputs"]):
        try:
            want = load_tensor(str(expected[spec["id"]]), spec, "output")
            got = read_output(scratch / "outputs", f"{index}.npy", spec["id"], want.nbytes)
        except TestFailure as e:
            errors.append(str(e))
            continue
        comparison = compare(spec["id"], got, want, spec["tolerance"])
        if comparison.message:
            (warnings if comparison.ok else errors).append(comparison.message)
    errors += sweep_errors
    return {**result, "status": "failed" if errors else "passed", "errors": errors, "warnings": warnings,
            "sweep": swept}


def judge_sweep(job: dict[str, Any], reported: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """Each sweep point's verdict from the output shapes the worker reported (points are the parent's own)."""
    points = geometry.sweep_points(job) if job.get("sweep") else []
    reported = reported if isinstance(reported, list) else []
    judged, errors = [], []
    for index, (batch, n) in enumerate(points):
        entry = reported[index] if index < len(reported) and isinstance(reported[index], dict) else {}
        error = _point_error(job, entry, batch, n)
        judged.append({"batch_size": batch, "n": n, "status": "failed" if error else "passed", "error": error})
        if error:
            errors.append(f"sweep batch_size {batch}, n {n}: {error}")
    return judged, errors


def _point_error(job: dict[str, Any], entry: dict[str, Any], batch: int, n: int) -> str | None:
    if entry.get("error"):
        return str(entry["error"])[:2000]
    shapes = entry.get("shapes")
    if not isinstance(shapes, dict):
        return "the test reported no output shapes"
    try:
        sizes, _ = geometry.input_shapes(job, n, batch)
    except geometry.SweepError as e:
        return str(e)
    axes = geometry.axes_by_key(job)
    problems = []
    for spec in job["outputs"]:
        shape = shapes.get(spec["id"])
        if not isinstance(shape, list) or not all(type(d) is int for d in shape):
            problems.append(f"output {spec['id']!r}: no shape reported")
            continue
        problems += geometry.shape_problems(spec, shape, sizes, axes, n, batch)
    return "; ".join(problems) or None


def read_output(folder: Path, name: str, output_id: str, expected_bytes: int) -> np.ndarray:
    """An output file the sandbox wrote: a plain file (never a link the model placed), of bounded size."""
    cap = max(MIN_OUTPUT_CAP, 4 * expected_bytes)
    what = f"output {output_id!r}"
    if folder.is_symlink() or not folder.is_dir():
        raise TestFailure(f"{what}: the test wrote no outputs folder")
    try:
        fd = os.open(folder / name, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        raise TestFailure(f"{what}: the test wrote no output file") from None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > cap:
            raise TestFailure(f"{what}: the output file is not a plain file of at most {cap} bytes")
        try:
            array = np.load(f, allow_pickle=False)
        except (ValueError, OSError, EOFError) as e:
            raise TestFailure(f"{what}: not a readable .npy array ({e})") from None
    if not isinstance(array, np.ndarray) or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise TestFailure(f"{what}: the output is not a numeric array")
    return array
