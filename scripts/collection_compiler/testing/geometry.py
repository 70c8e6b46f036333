"""The geometry of the 0.5 sweep, shared by the worker (which sizes the inputs) and the verdict (which checks the
output shapes the worker reports): pure functions of the job, no model code.

Batch sizes {1, 2} where a batch axis has no fixed size, size parameter n in {0, 1, 2} where an input axis is
parametrized; every output axis size is checked against the description (fixed, size reference with scale and
offset, data-dependent range).
"""

from __future__ import annotations

from typing import Any

import numpy as np

Axes = dict[tuple[str, str], dict[str, Any]]
Sizes = dict[tuple[str, str], int]


class SweepError(ValueError):
    """A sweep point whose input sizes cannot be resolved from the description."""


def sweep_points(job: dict[str, Any]) -> list[tuple[int, int]]:
    """(batch size, size parameter n) of every point."""
    axes = [a for t in job["inputs"] for a in t["axes"]]
    ns = [0, 1, 2] if any(a["size"]["kind"] == "param" for a in axes) else [0]
    batches = [1, 2] if any(a["size"]["kind"] == "batch" and a["size"].get("value") is None for a in axes) else [1]
    return [(b, n) for b in batches for n in ns]


def axes_by_key(job: dict[str, Any]) -> Axes:
    return {(t["id"], a["id"]): a for t in job["inputs"] + job["outputs"] for a in t["axes"]}


def input_shapes(job: dict[str, Any], n: int, batch: int) -> tuple[Sizes, dict[str, list[int]]]:
    """The resolved axis sizes so far and each input's shape at this point."""
    axes, sizes, shapes = axes_by_key(job), {}, {}
    for spec in job["inputs"]:
        shape = [resolve((spec["id"], a["id"]), sizes, axes, n, batch) for a in spec["axes"]]
        if any(s is None for s in shape):
            raise SweepError(f"input {spec['id']!r}: cannot resolve the axis sizes {shape}")
        shapes[spec["id"]] = shape
    return sizes, shapes


def resolve(key: tuple[str, str], sizes: Sizes, axes: Axes, n: int, batch: int, depth: int = 0) -> int | None:
    if key in sizes:
        return sizes[key]
    axis = axes.get(key)
    if axis is None or depth > 16:
        return None
    size = axis["size"]
    kind = size["kind"]
    value: int | None = None
    if kind == "batch":
        value = batch if size.get("value") is None else int(size["value"])
    elif kind == "fixed":
        value = int(size["value"])
    elif kind == "param":
        value = size["min"] + n * size["step"]
    elif kind == "ref":
        ref_key = (size["tensor_id"], size["axis_id"])
        ref = resolve(ref_key, sizes, axes, n, batch, depth + 1)
        if ref is not None:
            value = int(ref * axes[ref_key].get("scale", 1.0) / axis.get("scale", 1.0) + size["offset"])
    if value is not None:
        sizes[key] = value
    return value


def fit(array: np.ndarray, shape: list[int]) -> np.ndarray:
    """Centre-crop or symmetrically pad each axis to `shape`."""
    for i, target in enumerate(shape):
        current = array.shape[i]
        if target < current:
            start = (current - target) // 2
            array = np.take(array, range(start, start + target), axis=i)
        elif target > current:
            before = (target - current) // 2
            widths = [(0, 0)] * array.ndim
            widths[i] = (before, target - current - before)
            array = np.pad(array, widths, mode="symmetric" if current > 1 else "edge")
    return array


def shape_problems(spec: dict[str, Any], shape: list[int], sizes: Sizes, axes: Axes, n: int, batch: int) -> list[str]:
    """What is wrong with an output's `shape` at this point (data-dependent sizes join `sizes` as they come)."""
    if len(shape) != len(spec["axes"]):
        return [f"output {spec['id']!r} has {len(shape)} dimensions, the description has {len(spec['axes'])} axes"]
    problems = []
    for axis, actual in zip(spec["axes"], shape, strict=True):
        size = axis["size"]
        if size["kind"] == "data_dependent":
            sizes.setdefault((spec["id"], axis["id"]), int(actual))  # later references see the actual size
            low, high = size.get("min", 1), size.get("max")
            if actual < low or (high is not None and actual > high):
                problems.append(f"output {spec['id']!r} axis {axis['id']!r}: size {actual} outside [{low}, {high}]")
            continue
        expected = resolve((spec["id"], axis["id"]), sizes, axes, n, batch)
        if expected is not None and expected != actual:
            problems.append(f"output {spec['id']!r} axis {axis['id']!r}: size {actual}, expected {expected}")
    return problems
