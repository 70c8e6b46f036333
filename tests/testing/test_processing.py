"""Each processing operation against an independent numpy reference, in 0.5 and 0.4 spelling."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from collection_compiler.testing import processing
from collection_compiler.testing.description import DescriptionError, read_plan

AXES = [{"id": "batch"}, {"id": "channel"}, {"id": "y"}, {"id": "x"}]
RNG = np.random.default_rng(42)
X = RNG.normal(3.0, 2.0, (1, 3, 5, 7)).astype(np.float32)
REF = RNG.uniform(-10, 10, (1, 3, 5, 7)).astype(np.float32)


def run(steps: list[dict[str, Any]], x: np.ndarray = X, extra: dict[str, np.ndarray] | None = None) -> np.ndarray:
    tensors = {"t": x, **(extra or {})}
    return processing.apply_stage(tensors, [{"id": "t", "axes": AXES, "steps": steps}], "pre")["t"]


def close(a: np.ndarray, b: np.ndarray) -> None:
    assert a.shape == b.shape
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_binarize_scalar_and_per_channel():
    assert run([{"op": "binarize", "kwargs": {"threshold": 3.0}}]).dtype == bool
    np.testing.assert_array_equal(run([{"op": "binarize", "kwargs": {"threshold": 3.0}}]), X > 3.0)
    per_channel = run([{"op": "binarize", "kwargs": {"threshold": [0.0, 3.0, 6.0], "axis": "channel"}}])
    for c, t in enumerate((0.0, 3.0, 6.0)):
        np.testing.assert_array_equal(per_channel[:, c], X[:, c] > t)


def test_clip_fixed_and_percentile():
    close(run([{"op": "clip", "kwargs": {"min": 1.0, "max": 4.0}}]), np.clip(X, 1.0, 4.0))
    out = run([{"op": "clip", "kwargs": {"min_percentile": 10, "max": 5.0, "axes": ["y", "x"]}}])
    lo = np.quantile(X, 0.1, axis=(2, 3), keepdims=True, method="inverted_cdf")
    close(out, np.clip(X, lo, 5.0))


def test_scale_linear_scalar_and_along_axis():
    close(run([{"op": "scale_linear", "kwargs": {"gain": 2.0, "offset": -1.0}}]), X * 2 - 1)
    out = run([{"op": "scale_linear", "kwargs": {"gain": [1.0, 2.0, 3.0], "offset": 0.5, "axis": "channel"}}])
    close(out, X * np.array([1, 2, 3], np.float32).reshape(1, 3, 1, 1) + 0.5)


def test_sigmoid_and_softmax():
    close(run([{"op": "sigmoid", "kwargs": {}}]), 1 / (1 + np.exp(-X.astype(np.float64))))
    out = run([{"op": "softmax", "kwargs": {"axis": "channel"}}])
    e = np.exp(X.astype(np.float64))
    close(out, e / e.sum(axis=1, keepdims=True))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_and_zero_mean_unit_variance_are_bit_identical_to_the_formulas(dtype):
    """Verdicts must not move: float64 arithmetic rounded once to the input's float type."""
    x = RNG.normal(0.0, 8.0, (1, 3, 200, 300)).astype(dtype)
    before = x.copy()
    sigmoid = run([{"op": "sigmoid", "kwargs": {}}], x)
    zmuv = run([{"op": "zero_mean_unit_variance", "kwargs": {"axes": ["y", "x"], "eps": 1e-6}}], x)
    x64 = x.astype(np.float64)
    mean, std = x64.mean(axis=(2, 3), keepdims=True), x64.std(axis=(2, 3), keepdims=True)
    assert np.array_equal(sigmoid, (1.0 / (1.0 + np.exp(-x64))).astype(dtype))
    assert np.array_equal(zmuv, ((x - mean) / (std + 1e-6)).astype(dtype))
    assert sigmoid.dtype == zmuv.dtype == dtype
    assert np.array_equal(x, before)  # the input is not written to


@pytest.mark.parametrize(("axes", "reduce"), [(None, (0, 1, 2, 3)), (["y", "x"], (2, 3)),
                                              (["batch", "channel", "y", "x"], (0, 1, 2, 3))])
def test_zero_mean_unit_variance_population_std(axes, reduce):
    out = run([{"op": "zero_mean_unit_variance", "kwargs": {"axes": axes, "eps": 1e-6}}])
    x = X.astype(np.float64)
    close(out, (x - x.mean(axis=reduce, keepdims=True)) / (x.std(axis=reduce, keepdims=True, ddof=0) + 1e-6))
    assert out.dtype == np.float32


def test_fixed_zero_mean_unit_variance_per_channel():
    out = run([{"op": "fixed_zero_mean_unit_variance",
                "kwargs": {"mean": [1.0, 2.0, 3.0], "std": [1.0, 2.0, 4.0], "axis": "channel"}}])
    mean, std = np.array([1, 2, 3.0]).reshape(1, 3, 1, 1), np.array([1, 2, 4.0]).reshape(1, 3, 1, 1)
    close(out, (X - mean) / (std + 1e-6))


def test_scale_range_with_linear_quantiles_and_reference_tensor():
    out = run([{"op": "scale_range", "kwargs": {"axes": ["y", "x"], "min_percentile": 5, "max_percentile": 95}}])
    lo = np.quantile(X.astype(np.float64), 0.05, axis=(2, 3), keepdims=True)
    hi = np.quantile(X.astype(np.float64), 0.95, axis=(2, 3), keepdims=True)
    close(out, (X - lo) / (hi - lo + 1e-6))
    out = run([{"op": "scale_range", "kwargs": {"max_percentile": 99, "reference_tensor": "r"}}], extra={"r": REF})
    lo, hi = np.quantile(REF.astype(np.float64), [0.0, 0.99])
    close(out, (X - lo) / (hi - lo + 1e-6))


def test_scale_range_rejects_inverted_percentiles():
    with pytest.raises(processing.ProcessingError, match="min_percentile"):
        run([{"op": "scale_range", "kwargs": {"min_percentile": 90, "max_percentile": 10}}])


def test_scale_mean_variance_matches_reference_statistics():
    out = run([{"op": "scale_mean_variance", "kwargs": {"reference_tensor": "r", "axes": ["y", "x"]}}],
              extra={"r": REF})
    x, r = X.astype(np.float64), REF.astype(np.float64)
    ax = (2, 3)
    expected = ((x - x.mean(ax, keepdims=True)) / (x.std(ax, keepdims=True) + 1e-6)
                * (r.std(ax, keepdims=True) + 1e-6) + r.mean(ax, keepdims=True))
    close(out, expected)
    np.testing.assert_allclose(out.mean(axis=ax), REF.mean(axis=ax), rtol=1e-4, atol=1e-4)


def test_ensure_dtype_is_a_plain_cast():
    out = run([{"op": "ensure_dtype", "kwargs": {"dtype": "uint8"}}], x=np.array([[[[-1.7, 2.9, 300.0]]]]))
    np.testing.assert_array_equal(out, np.array([[[[-1.7, 2.9, 300.0]]]]).astype(np.uint8))


def test_statistics_come_from_the_stage_start():
    """As in the reference, zero_mean_unit_variance after scale_linear uses the unscaled statistics."""
    out = run([{"op": "scale_linear", "kwargs": {"gain": 10.0}}, {"op": "zero_mean_unit_variance", "kwargs": {}}])
    x = X.astype(np.float64)
    close(out, (x * 10 - x.mean()) / (x.std() + 1e-6))


def test_unknown_axis_names_the_step():
    with pytest.raises(processing.ProcessingError, match=r"t pre step 0 \(zero_mean_unit_variance\).*'z'"):
        run([{"op": "zero_mean_unit_variance", "kwargs": {"axes": ["z"]}}])


# ---------------------------------------------------------------- 0.4 spelling and implicit dtype steps


def _plan04(pre: list[dict[str, Any]], data_type: str = "uint8") -> dict[str, Any]:
    return {"type": "model", "format_version": "0.4.10", "weights": {"onnx": {"source": "w.onnx"}},
            "inputs": [{"name": "t", "axes": "bcyx", "data_type": data_type, "preprocessing": pre}],
            "outputs": [{"name": "o", "axes": "bcyx", "data_type": "float32"}],
            "test_inputs": ["a.npy"], "test_outputs": ["b.npy"]}


def _steps04(pre: list[dict[str, Any]], data_type: str = "float32") -> list[dict[str, Any]]:
    plan = read_plan(_plan04(pre, data_type))
    return [{"id": "t", "axes": plan.inputs[0].axes, "steps": plan.inputs[0].steps}]


def test_v04_per_dataset_reduces_over_batch_too():
    x = RNG.normal(0, 1, (2, 3, 4, 4)).astype(np.float32)
    specs = _steps04([{"name": "zero_mean_unit_variance", "kwargs": {"mode": "per_dataset", "axes": "yx"}}])
    out = processing.apply_stage({"t": x}, specs, "pre")["t"]
    x64 = x.astype(np.float64)
    close(out, (x64 - x64.mean((0, 2, 3), keepdims=True)) / (x64.std((0, 2, 3), keepdims=True) + 1e-6))


def test_v04_fixed_lists_index_the_axis_left_out():
    specs = _steps04([{"name": "zero_mean_unit_variance",
                       "kwargs": {"mode": "fixed", "axes": "yx", "mean": [1, 2, 3], "std": [2, 2, 2]}}])
    out = processing.apply_stage({"t": X}, specs, "pre")["t"]
    close(out, (X - np.array([1, 2, 3.0]).reshape(1, 3, 1, 1)) / (2 + 1e-6))


def test_v04_inputs_cast_to_data_type_then_float32():
    specs = _steps04([{"name": "scale_linear", "kwargs": {"gain": 0.5}}], data_type="uint8")
    out = processing.apply_stage({"t": np.array([[[[3.9, 255.0]]]])}, specs, "pre")["t"]
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [[[[1.5, 127.5]]]])


def test_v05_implicit_dtype_steps():
    rdf = {"type": "model", "format_version": "0.5.4", "weights": {"onnx": {"source": "w.onnx"}},
           "inputs": [{"id": "i", "axes": [{"type": "space", "id": "x", "size": 4}], "data": {"type": "uint8"},
                       "test_tensor": {"source": "i.npy"},
                       "preprocessing": [{"id": "scale_linear", "kwargs": {"gain": 2.0}}]}],
           "outputs": [{"id": "o", "axes": [{"type": "space", "id": "x", "size": 4}], "data": {"type": "uint16"},
                        "test_tensor": {"source": "o.npy"}, "postprocessing": [{"id": "binarize",
                                                                                 "kwargs": {"threshold": 1}}]}]}
    plan = read_plan(rdf)
    assert [s["op"] for s in plan.inputs[0].steps] == ["ensure_dtype", "scale_linear", "ensure_dtype"]
    assert plan.inputs[0].steps[-1]["kwargs"] == {"dtype": "uint8"}
    assert [s["op"] for s in plan.outputs[0].steps] == ["binarize"]  # no dtype step after binarize


def test_bad_description_names_the_field():
    with pytest.raises(DescriptionError, match=r"inputs\.0\.preprocessing\.0\.name: unknown processing 'blur'"):
        read_plan(_plan04([{"name": "blur"}]))
    rdf = _plan04([])
    rdf["test_outputs"] = []
    with pytest.raises(DescriptionError, match="test_outputs"):
        read_plan(rdf)
