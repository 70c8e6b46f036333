"""Compare an output with its expected test tensor element-wise as `numpy.isclose` does: `|a - e| <= atol +
rtol * |e|` for finite values, an infinity equal only to itself, NaN equal only to NaN.

A mismatch share above the allowed elements per million fails; a smaller non-zero share is a warning.
Unlike the reference (which never counts NaN), a NaN on one side only counts as a mismatch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class Comparison:
    ok: bool
    message: str | None  # error when not ok, warning when ok but with tolerated mismatches
    mismatched: int
    size: int


def compare(name: str, actual: np.ndarray, expected: np.ndarray, tolerance: dict[str, Any]) -> Comparison:
    if actual.shape != expected.shape:
        return Comparison(False, f"output {name!r}: shape {list(actual.shape)} differs from the expected "
                                 f"{list(expected.shape)}", expected.size, expected.size)
    atol, rtol = float(tolerance["absolute_tolerance"]), float(tolerance["relative_tolerance"])
    allowed_ppm = float(tolerance["mismatched_elements_per_million"])
    a32, e32 = actual.astype(np.float32, copy=False), expected.astype(np.float32, copy=False)
    bad = mismatches(a32, e32, atol, rtol)
    count, size = int(bad.sum()), int(e32.size)
    if count == 0:
        return Comparison(True, None, 0, size)
    ppm = count / size * 1e6
    a, e = a32.astype(np.float64), e32.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf
        diff = np.abs(a - e)
        excess = np.where(bad, np.nan_to_num(diff - rtol * np.abs(e), nan=np.inf), -np.inf)
    worst = np.unravel_index(int(np.argmax(excess)), e.shape)
    where = tuple(int(i) for i in worst)
    message = (f"output {name!r}: {count} of {size} elements ({count / size:.4%}, {ppm:.0f} per million; "
               f"{allowed_ppm:g} allowed) differ by more than atol {atol:g} + rtol {rtol:g}·|expected|; worst at "
               f"{list(where)}: actual {a[where]:.6g}, expected {e[where]:.6g}, |difference| {diff[where]:.3g}")
    return Comparison(ppm <= allowed_ppm, message, count, size)


def mismatches(actual: np.ndarray, expected: np.ndarray, atol: float, rtol: float) -> np.ndarray:
    """Where `numpy.isclose(a, e, rtol, atol, equal_nan=True)` is false, in float64. The plain formula would let
    `+inf` match `-inf`, a finite value match an expected infinity, and (rtol 0) anything match an infinity
    (0·inf is NaN), so numpy's own rule decides."""
    return ~np.isclose(actual.astype(np.float64), expected.astype(np.float64), rtol=rtol, atol=atol, equal_nan=True)
