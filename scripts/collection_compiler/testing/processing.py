"""Pre/postprocessing operations with the reference math (numpy only; runs inside the sandbox).

A step is `{"op", "kwargs"}` in 0.5 terms (see `description`). `axes` are the axes to reduce over when
computing statistics (None: all axes); std is the population std; quantiles use numpy's `linear`
method (clip percentiles: `inverted_cdf`, as the reference does). Statistics come from the tensors as
they were at the start of the stage (`stats_from`), which for a single-sample test equals both the
per-sample and the per-dataset statistics over the given axes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

Tensors = dict[str, np.ndarray]


class ProcessingError(ValueError):
    pass


def _reduce_axes(axis_ids: list[str], axes: list[str] | None, where: str) -> tuple[int, ...]:
    if axes is None:
        return tuple(range(len(axis_ids)))
    missing = [a for a in axes if a not in axis_ids]
    if missing:
        raise ProcessingError(f"{where}: axes {missing} are not axes of the tensor ({axis_ids})")
    return tuple(axis_ids.index(a) for a in axes)


def _along(values: Any, axis_ids: list[str], axis: str, ndim: int, where: str) -> np.ndarray:
    """`values` (a list, one per index along `axis`) shaped to broadcast against the tensor."""
    if axis not in axis_ids:
        raise ProcessingError(f"{where}: axis {axis!r} is not an axis of the tensor ({axis_ids})")
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    shape = [1] * ndim
    shape[axis_ids.index(axis)] = array.size
    return array.reshape(shape)


def _float(x: np.ndarray) -> np.ndarray:
    return x if x.dtype in (np.float32, np.float64) else x.astype(np.float32)


def _same_float(result: np.ndarray, like: np.ndarray) -> np.ndarray:
    return result.astype(np.float64 if like.dtype == np.float64 else np.float32, copy=False)


def binarize(x: np.ndarray, axis_ids: list[str], kw: dict[str, Any], ctx: Context) -> np.ndarray:
    threshold = kw.get("threshold")
    if isinstance(threshold, list):
        threshold = _along(threshold, axis_ids, str(kw.get("axis")), x.ndim, ctx.where)
    return x > threshold


def clip(x: np.ndarray, axis_ids: list[str], kw: dict[str, Any], ctx: Context) -> np.ndarray:
    lo, hi = kw.get("min"), kw.get("max")
    reduce = _reduce_axes(axis_ids, kw.get("axes"), ctx.where)
    ref = ctx.stats_source(ctx.tensor_id)
    if kw.get("min_percentile") is not None:
        lo = np.quantile(ref, float(kw["min_percentile"]) / 100, axis=reduce, keepdims=True, method="inverted_cdf")
    if kw.get("max_percentile") is not None:
        hi = np.quantile(ref, float(kw["max_percentile"]) / 100, axis=reduce, keepdims=True, method="inverted_cdf")
    if lo is None and hi is None:
        raise ProcessingError(f"{ctx.where}: clip needs a lower or an upper bound")
    return _same_float(np.clip(x, lo, hi), _float(x))


def scale_linear(x: np.ndarray, axis_ids: list[str], kw: dict[str, Any], ctx: Context) -> np.ndarray:
    gain, offset = kw.get("gain", 1.0), kw.get("offset", 0.0)
    if "axis" in kw:
        size = len(gain) if isinstance(gain, list) else len(offset) if isinstance(offset, list) else 1
        gain = _along(gain if isinstance(gain, list) else [gain] * size, axis_ids, kw["axis"], x.ndim, ctx.where)
        offset = _along(offset if isinstance(offset, list) else [offset] * size, axis_ids, kw["axis"], x.ndim,
                        ctx.where)
    x = _float(x)
    return _same_float(x * np.asarray(gain) + np.asarray(offset), x)


def sigmoid(x: np.ndarray, axis_ids: list[str], kw: dict[str, Any], ctx: Context) -> np.ndarray:
    """1 / (1 + exp(-x)) in float64, rounded to x's float type."""
    x = _float(x)
    return (1.0 / (1.0 + np.exp(-x.astype(np.float64)))).astype(x.dtype)


def softmax(x: np.ndarray, axis_ids: list[str], kw: dict[str, Any], ctx: Context) -> np.ndarray:
    axis = _reduce_axes(axis_ids, [kw.get("axis", "channel")], ctx.where)
    x = _float(x)
    shifted = np.exp(x.astype(np.float64) - x.max(axis=axis, keepdims=True))
    return _same_float(shifted / shifted.sum(axis=axis, keepdims=True), x)


def zero_mean_unit_variance(x: np.ndarray, axis_ids: list[str], kw: dict[str, Any], ctx: Context) -> np.ndarray:
    reduce = _reduce_axes(axis_ids, kw.get("axes"), ctx.where)
    ref = ctx.stats_source(ctx.tensor_id).astype(np.float64)
    mean, std = ref.mean(axis=reduce, keepdims=True), ref.std(axis=reduce, keepdims=True)
    x = _float(x)
    return _same_float((x - mean) / (std + float(kw.get("eps", 1e-6))), x)


def fixed_zero_mean_unit_variance(x: np.ndarray, axis_ids: list[str], kw: dict[str, Any], ctx: Context
                                  ) -> np.ndarray:
    mean, std = kw.get("mean"), kw.get("std")
    if "axis" in kw:
        mean = _along(mean, axis_ids, kw["axis"], x.ndim, ctx.where)
        std = _along(std, axis_ids, kw["axis"], x.ndim, ctx.where)
    x = _float(x)
    return _same_float((x - np.asarray(mean)) / (np.asarray(std) + float(kw.get("eps", 1e-6))), x)


def scale_range(x: np.ndarray, axis_ids: list[str], kw: dict[str, Any], ctx: Context) -> np.ndarray:
    reduce = _reduce_axes(axis_ids, kw.get("axes"), ctx.where)
    ref = ctx.stats_source(str(kw.get("reference_tensor") or ctx.tensor_id)).astype(np.float64)
    lo_p, hi_p = float(kw.get("min_percentile", 0.0)), float(kw.get("max_percentile", 100.0))
    if not lo_p < hi_p:
        raise ProcessingError(f"{ctx.where}: min_percentile {lo_p} must be below max_percentile {hi_p}")
    lo = np.quantile(ref, lo_p / 100, axis=reduce, keepdims=True)
    hi = np.quantile(ref, hi_p / 100, axis=reduce, keepdims=True)
    x = _float(x)
    return _same_float((x - lo) / (hi - lo + float(kw.get("eps", 1e-6))), x)


def scale_mean_variance(x: np.ndarray, axis_ids: list[str], kw: dict[str, Any], ctx: Context) -> np.ndarray:
    reduce = _reduce_axes(axis_ids, kw.get("axes"), ctx.where)
    reference = kw.get("reference_tensor")
    if not reference:
        raise ProcessingError(f"{ctx.where}: scale_mean_variance needs a reference_tensor")
    own = ctx.stats_source(ctx.tensor_id).astype(np.float64)
    ref = ctx.stats_source(str(reference)).astype(np.float64)
    eps = float(kw.get("eps", 1e-6))
    x = _float(x)
    out = (x - own.mean(axis=reduce, keepdims=True)) / (own.std(axis=reduce, keepdims=True) + eps)
    return _same_float(out * (ref.std(axis=reduce, keepdims=True) + eps) + ref.mean(axis=reduce, keepdims=True), x)


def ensure_dtype(x: np.ndarray, axis_ids: list[str], kw: dict[str, Any], ctx: Context) -> np.ndarray:
    return x.astype(np.dtype(kw["dtype"]), copy=False)


OPS: dict[str, Callable[..., np.ndarray]] = {f.__name__: f for f in (
    binarize, clip, scale_linear, sigmoid, softmax, zero_mean_unit_variance, fixed_zero_mean_unit_variance,
    scale_range, scale_mean_variance, ensure_dtype)}


class Context:
    """Where a step runs: its tensor, its field name for messages, and the stage-start statistics source."""

    def __init__(self, tensor_id: str, where: str, snapshot: Tensors):
        self.tensor_id = tensor_id
        self.where = where
        self._snapshot = snapshot

    def stats_source(self, tensor_id: str) -> np.ndarray:
        if tensor_id not in self._snapshot:
            raise ProcessingError(f"{self.where}: reference tensor {tensor_id!r} is not available")
        return self._snapshot[tensor_id]


def apply_stage(tensors: Tensors, specs: list[dict[str, Any]], stage: str, snapshot: Tensors | None = None
                ) -> Tensors:
    """Run each tensor's steps; statistics come from `snapshot` (default: the tensors as given)."""
    snapshot = dict(tensors) if snapshot is None else snapshot
    result = dict(tensors)
    for spec in specs:
        x = result[spec["id"]]
        axis_ids = [a["id"] for a in spec["axes"]]
        for i, step in enumerate(spec["steps"]):
            ctx = Context(spec["id"], f"{spec['id']} {stage} step {i} ({step['op']})", snapshot)
            op = OPS.get(step["op"])
            if op is None:
                raise ProcessingError(f"{ctx.where}: unknown operation")
            x = op(x, axis_ids, step.get("kwargs") or {}, ctx)
        result[spec["id"]] = x
    return result
