"""The verdict on a test, reached outside the sandbox: the worker only writes its outputs as `.npy` files; this
process reads them as data (no pickles, no links, bounded size) and compares them with the expected test outputs,
which the worker never sees. Model code can therefore neither patch the comparison nor copy the answer."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import numpy as np

from .compare import compare
from .worker import TestFailure, load_tensor

MIN_OUTPUT_CAP = 64 * 1024**2  # an output file may be this large, or four times its expected tensor


def judge(result: dict[str, Any], job: dict[str, Any], expected: dict[str, Path], scratch: Path) -> dict[str, Any]:
    """`result` (the worker's, or the sandbox's failure) with the comparison's status, errors and warnings."""
    if result.get("status") != "ran":
        return result
    errors, warnings = [str(e) for e in result.get("errors") or []], []
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
    return {**result, "status": "failed" if errors else "passed", "errors": errors, "warnings": warnings}


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
