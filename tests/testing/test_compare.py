"""Comparison of outputs with tolerances, and where the tolerances come from."""

from __future__ import annotations

import numpy as np

from collection_compiler.testing.compare import compare
from collection_compiler.testing.description import ModelPlan, tolerance

TOL = {"absolute_tolerance": 1e-3, "relative_tolerance": 1e-3, "mismatched_elements_per_million": 100}
E = np.linspace(-5, 5, 10_000, dtype=np.float32).reshape(100, 100)


def test_noise_within_tolerance_passes():
    noisy = E + np.random.default_rng(0).uniform(-5e-4, 5e-4, E.shape).astype(np.float32)
    assert compare("o", noisy, E, TOL).ok


def test_a_few_mismatches_within_the_allowed_share_only_warn():
    actual = E.copy()
    actual[3, 4] += 1.0  # 1 of 10,000 elements = 100 per million: allowed
    result = compare("o", actual, E, TOL)
    assert result.ok and result.mismatched == 1
    assert "1 of 10000 elements" in result.message


def test_too_many_mismatches_fail_with_share_and_worst_element():
    actual = E.copy()
    actual[0, :2] += 0.5
    actual[7, 9] += 3.0
    result = compare("o", actual, E, TOL)
    assert not result.ok
    assert "3 of 10000 elements (0.0300%" in result.message
    assert "worst at [7, 9]" in result.message and "|difference| 3" in result.message


def test_strict_tolerance_counts_every_mismatch():
    actual = E.copy()
    actual[1, 1] += 0.01
    assert not compare("o", actual, E, {**TOL, "mismatched_elements_per_million": 0}).ok


def test_relative_tolerance_scales_with_expected_magnitude():
    expected = np.array([1000.0, 1.0], np.float32)
    actual = expected + np.array([0.9, 0.9], np.float32)  # 0.9 <= 1e-3 + 1e-3*1000, but > 1e-3 + 1e-3*1
    result = compare("o", actual, expected, {**TOL, "mismatched_elements_per_million": 0})
    assert result.mismatched == 1 and "worst at [1]" in result.message


def test_shape_and_nan_mismatches_fail():
    assert "shape [2, 2] differs" in compare("o", np.zeros((2, 2)), np.zeros((2, 3)), TOL).message
    strict = {**TOL, "mismatched_elements_per_million": 0}
    assert not compare("o", np.array([np.nan, 1.0]), np.array([0.0, 1.0]), strict).ok


def test_mismatch_count_matches_the_plain_formula_with_nan_and_inf():
    rng = np.random.default_rng(1)
    expected = rng.normal(0, 10, 400_001).astype(np.float32)
    actual = (expected + rng.normal(0, 0.02, expected.size)).astype(np.float32)
    actual[:5], expected[3:8] = np.nan, np.nan  # NaN on one side (0-2, 5-7) and on both (3, 4)
    actual[10:12], expected[10:13] = np.inf, np.inf  # inf - inf is NaN too, yet no mismatch
    actual[-3], expected[65_537] = np.nan, np.nan
    a, e = actual.astype(np.float64), expected.astype(np.float64)
    plain = ~np.isclose(a, e, rtol=1e-3, atol=1e-3, equal_nan=True)  # on the whole arrays at once
    result = compare("o", actual.reshape(7, -1), expected.reshape(7, -1), {**TOL, "mismatched_elements_per_million": 0})
    assert result.mismatched == int(plain.sum()) > 8
    assert compare("o", actual[20:], expected[20:], TOL).mismatched == int(plain[20:].sum())


STRICT = {**TOL, "mismatched_elements_per_million": 0}


def test_plus_infinity_does_not_match_minus_infinity():
    result = compare("o", np.array([np.inf, 1.0]), np.array([-np.inf, 1.0]), STRICT)
    assert not result.ok and result.mismatched == 1


def test_a_finite_value_does_not_match_an_expected_infinity():
    assert compare("o", np.array([1e30, 1.0]), np.array([np.inf, 1.0]), STRICT).mismatched == 1
    assert compare("o", np.array([np.inf, 1.0]), np.array([1e30, 1.0]), STRICT).mismatched == 1


def test_with_relative_tolerance_0_only_an_infinity_matches_an_infinity():
    """0·inf is NaN: the plain formula's limit `atol + 0·|inf|` compared false with everything."""
    no_rtol = {**STRICT, "relative_tolerance": 0.0}
    assert compare("o", np.array([5.0, -np.inf]), np.array([np.inf, np.inf]), no_rtol).mismatched == 2
    assert compare("o", np.array([np.inf, -np.inf]), np.array([np.inf, -np.inf]), no_rtol).ok


def test_nan_matches_only_nan():
    assert compare("o", np.array([np.nan, 1.0]), np.array([np.nan, 1.0]), STRICT).ok
    assert compare("o", np.array([1.0, np.inf]), np.array([np.nan, np.nan]), STRICT).mismatched == 2


def _plan(generation: str, config: dict) -> ModelPlan:
    return ModelPlan("x", generation, [], [], {}, config)


def test_tolerance_precedence_for_05():
    config = {"bioimageio": {
        "reproducibility_tolerance": [
            {"weights_formats": ["onnx"], "output_ids": ["a"], "absolute_tolerance": 0.1,
             "mismatched_elements_per_million": 5},
            {"output_ids": ["b"], "relative_tolerance": 0.01}],
        "test_kwargs": {"torchscript": {"absolute_tolerance": 0.2}}}}
    plan = _plan("0.5", config)
    first = tolerance(plan, "onnx", "a")
    assert (first["absolute_tolerance"], first["mismatched_elements_per_million"]) == (0.1, 5)
    assert tolerance(plan, "torchscript", "b")["relative_tolerance"] == 0.01
    legacy = tolerance(plan, "torchscript", "a")
    assert legacy["absolute_tolerance"] == 0.2 and legacy["source"] == "config.bioimageio.test_kwargs.torchscript"
    default = tolerance(plan, "pytorch_state_dict", "a")
    assert default == {"absolute_tolerance": 1e-3, "relative_tolerance": 1e-3,
                       "mismatched_elements_per_million": 100, "source": "defaults for model 0.5"}


def test_tolerance_for_04_uses_test_kwargs_decimal_and_no_mismatches():
    plan = _plan("0.4", {"bioimageio": {"test_kwargs": {"onnx": {"decimal": 2}}}})
    onnx = tolerance(plan, "onnx", "o")
    assert onnx["absolute_tolerance"] == 1.5e-2 and onnx["relative_tolerance"] == 0.0
    assert tolerance(plan, "torchscript", "o")["mismatched_elements_per_million"] == 0
