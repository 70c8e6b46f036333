"""Model 0.4 rules the schema cannot express (spec brief §1.2–§1.5, §3).

`field_checks` are the reference's field/node validators (reported with the schema errors);
`model_checks` are its model-level validators, run only when every field is valid, as in the reference.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from collection_compiler.validation import values
from collection_compiler.validation.common_checks import ALERT, INFO, WARNING, Collector, as_dict, as_list
from collection_compiler.validation.values import int_or_none, ints, num

AXES_V04 = "bitczyx"


def field_checks(data: dict[str, Any], out: Collector) -> None:
    for key in ("test_inputs", "test_outputs"):
        for i, src in enumerate(as_list(data.get(key))):
            problem = values.suffix_problem(src, (".npy",))
            if problem:
                out.error((key, i), f"Value error, {problem}")
    for kind in ("inputs", "outputs"):
        for i, tensor in enumerate(as_list(data.get(kind))):
            if isinstance(tensor, dict):
                _tensor(tensor, (kind, i), kind == "inputs", out)
    _weights(as_dict(data.get("weights")), out)


def _tensor(t: dict[str, Any], loc: tuple[Any, ...], is_input: bool, out: Collector) -> None:
    axes = t.get("axes")
    _name_and_axes(t.get("name"), axes, loc, out)
    _shape(t, loc, is_input, out)
    if not is_input:
        _output_axes_quirk(t, loc, out)
    procs_key = "preprocessing" if is_input else "postprocessing"
    for j, step in enumerate(as_list(t.get(procs_key))):
        if isinstance(step, dict):
            _processing(step, (*loc, procs_key, j), axes if isinstance(axes, str) else None, out)
    data_range = t.get("data_range")
    if isinstance(data_range, list) and len(data_range) != 2:
        out.error((*loc, "data_range"), "Value error, data_range must be a [min, max] pair")


def _name_and_axes(name: Any, axes: Any, loc: tuple[Any, ...], out: Collector) -> None:
    if isinstance(name, str) and not values.is_lower_identifier(name):
        out.error((*loc, "name"), f"Value error, '{name}' is not a valid lowercase identifier")
    if isinstance(axes, str):
        bad = sorted({a for a in axes if a not in AXES_V04})
        if bad:
            out.error((*loc, "axes"), f"Value error, invalid axes {''.join(bad)!r}; allowed are {AXES_V04!r}")
        elif len(set(axes)) != len(axes):
            out.error((*loc, "axes"), f"Value error, duplicate axes in {axes!r}")


def _shape(t: dict[str, Any], loc: tuple[Any, ...], is_input: bool, out: Collector) -> None:
    """The shape against the axes, a parametrized or implicit shape's own rules, an input's batch, the halo."""
    shape, axes = t.get("shape"), t.get("axes")
    n_dims = _shape_len(shape)
    if isinstance(axes, str) and n_dims is not None and n_dims != len(axes):
        out.error((*loc, "shape"), f"Value error, shape has {n_dims} entries but axes {axes!r} has {len(axes)}")
    if isinstance(shape, dict):
        _shape_dict(shape, (*loc, "shape"), out)
    if is_input and isinstance(shape, (list, dict)) and isinstance(axes, str) and "b" in axes:
        _batch(shape, axes.index("b"), loc, out)
    halo = t.get("halo")
    if isinstance(halo, list) and n_dims is not None and len(halo) != n_dims:
        out.error(loc, f"Value error, halo {halo} has to have same length as shape {shape}!")


def _output_axes_quirk(t: dict[str, Any], loc: tuple[Any, ...], out: Collector) -> None:
    """The reference requires a string `axes` in output postprocessing steps whose kwargs know `axes`."""
    for step in as_list(t.get("postprocessing")):
        step = as_dict(step)
        if step.get("name") in ("scale_linear", "scale_mean_variance") and "kwargs" in step:
            axes = as_dict(step.get("kwargs")).get("axes")
            if not isinstance(axes, str):
                out.error(loc, f"Value error, Expected {axes} to be a string")
                return


def _shape_len(shape: Any) -> int | None:
    if isinstance(shape, list):
        return len(shape)
    if isinstance(shape, dict):
        for key in ("min", "scale"):
            if isinstance(shape.get(key), list):
                return len(shape[key])
    return None


def _shape_dict(shape: dict[str, Any], loc: tuple[Any, ...], out: Collector) -> None:
    if "min" in shape:
        mins, steps = as_list(shape.get("min")), as_list(shape.get("step"))
        if not mins:
            out.error((*loc, "min"), "List should have at least 1 item", "too_short")
        if len(mins) != len(steps):
            out.error(loc, "Value error, `min` and `step` required to have the same length")
        return
    scale, offset = as_list(shape.get("scale")), as_list(shape.get("offset"))
    if len(scale) != len(offset):
        out.error(loc, f"Value error, scale {scale} has to have same length as offset {offset}!")
    for i, (s, o) in enumerate(zip(scale, offset, strict=False)):
        o_num = num(o)
        if o_num is not None and (not math.isfinite(o_num) or 2 * o_num != int(2 * o_num)):
            out.error((*loc, "offset", i), "Value error, offset must be a multiple of 0.5")
        if s is None and not o_num:
            out.error((*loc, "offset", i), "Value error, an offset for a new (scale null) axis must not be 0")


def _batch(shape: Any, b: int, loc: tuple[Any, ...], out: Collector) -> None:
    if isinstance(shape, list):
        if b < len(shape) and int_or_none(shape[b]) not in (None, 1):
            out.error(loc, f"Value error, Input shape has batch size other than 1 ({shape[b]})")
        return
    mins, steps = ints(shape.get("min")), ints(shape.get("step"))
    if mins and b < len(mins) and mins[b] != 1:
        out.error(loc, f"Value error, Input shape has minimal batch size other than 1 ({mins[b]})")
    if steps and b < len(steps) and steps[b] != 0:
        out.error(loc, f"Value error, Input shape has step in batch dimension other than 0 ({steps[b]})")


def _processing(step: dict[str, Any], loc: tuple[Any, ...], tensor_axes: str | None, out: Collector) -> None:
    kw, kloc = as_dict(step.get("kwargs")), (*loc, "kwargs")
    axes = kw.get("axes")
    if isinstance(axes, str) and not set(axes) <= set("czyx"):  # statistics never reduce over b, i or t
        out.error((*kloc, "axes"), f"Value error, '{axes}' is not restricted to 'czyx'")
    elif isinstance(axes, str) and tensor_axes is not None and not set(axes) <= set(tensor_axes):
        out.error(kloc, f"Value error, processing axes {axes!r} not a subset of tensor axes {tensor_axes!r}")
    eps = num(kw.get("eps")) if "eps" in kw else None
    if eps is not None and not 0 < eps <= 0.1:
        out.error((*kloc, "eps"), "Value error, eps must be in (0, 0.1]")
    check = _STEP_CHECKS.get(str(step.get("name")))
    if check is not None:
        check(kw, kloc, out)


def _zero_mean_unit_variance(kw: dict[str, Any], kloc: tuple[Any, ...], out: Collector) -> None:
    fixed = kw.get("mode", "fixed") == "fixed"
    if fixed and not ("mean" in kw and "std" in kw):
        out.error(kloc, "Value error, mode 'fixed' requires 'mean' and 'std'")
    elif not fixed and ("mean" in kw or "std" in kw):
        out.error(kloc, f"Value error, 'mean' and 'std' are only allowed with mode 'fixed', not {kw.get('mode')!r}")


def _scale_linear(kw: dict[str, Any], kloc: tuple[Any, ...], out: Collector) -> None:
    gains = [num(g) for g in (kw.get("gain", 1.0) if isinstance(kw.get("gain"), list) else [kw.get("gain", 1.0)])]
    offs = [num(o) for o in (kw.get("offset", 0.0) if isinstance(kw.get("offset"), list) else
                             [kw.get("offset", 0.0)])]
    if all(g == 1 for g in gains) and all(o == 0 for o in offs):
        out.error(kloc, "Value error, Redundant linear scaling not allowd. Set `gain` != 1.0 and/or "
                        "`offset` != 0.0.")


def _scale_range(kw: dict[str, Any], kloc: tuple[Any, ...], out: Collector) -> None:
    lo, hi = num(kw.get("min_percentile", 0)), num(kw.get("max_percentile", 100))
    bad = False
    for key, value, low, high in (("min_percentile", lo, 0, 100), ("max_percentile", hi, 1, 100)):
        if value is None:
            continue
        if value < low or (key == "max_percentile" and value == low):
            out.error((*kloc, key), f"Input should be greater than{' or equal to' if low == 0 else ''} {low}")
            bad = True
        elif value > high or (key == "min_percentile" and value == high):
            inclusive = " or equal to" if key == "max_percentile" else ""
            out.error((*kloc, key), f"Input should be less than{inclusive} {high}")
            bad = True
    if not bad and lo is not None and hi is not None and lo >= hi:
        out.error(kloc, f"Value error, min_percentile {lo} >= max_percentile {hi}")


_STEP_CHECKS: dict[str, Callable[[dict[str, Any], tuple[Any, ...], Collector], None]] = {
    "zero_mean_unit_variance": _zero_mean_unit_variance, "scale_linear": _scale_linear, "scale_range": _scale_range}


def _weights(weights: dict[str, Any], out: Collector) -> None:
    for wf, entry in weights.items():
        if not isinstance(entry, dict):
            continue
        loc = ("weights", wf)
        if entry.get("parent") == wf:
            out.error((*loc, "parent"), "Value error, Weights entry can't be it's own parent.")
        if wf == "pytorch_state_dict":
            _architecture(entry, loc, out)
        if wf == "onnx" and "opset_version" in entry:
            opset = int_or_none(entry.get("opset_version"))
            if opset is not None and opset < 7:
                out.error((*loc, "opset_version"), "Input should be greater than or equal to 7")


def _architecture(entry: dict[str, Any], loc: tuple[Any, ...], out: Collector) -> None:
    arch = entry.get("architecture")
    if not isinstance(arch, str):
        return
    from_file = ":" in arch  # "<file or URL>:<callable>"; otherwise "<package>.<module>.<callable>"
    if from_file:
        callable_name = arch.rsplit(":", 1)[1]
        if not values.is_identifier(callable_name):
            out.error((*loc, "architecture"), f"Value error, '{callable_name}' is not a valid identifier")
        if not entry.get("architecture_sha256"):
            out.error(loc, "Value error, Missing required `architecture_sha256` for `architecture` with source "
                           "file.")
    else:
        parts = arch.split(".")
        if len(parts) < 2 or not all(values.is_identifier(p) for p in parts):
            out.error((*loc, "architecture"), f"Value error, '{arch}' is neither '<file>:<callable>' nor an "
                                              "importable '<package>.<module>.<callable>'")
        elif entry.get("architecture_sha256"):
            out.error(loc, "Value error, Got `architecture_sha256` for architecture that does not have a source.")


# ---------------------------------------------------------------- model-level rules

def model_checks(data: dict[str, Any], out: Collector) -> None:
    inputs = [t for t in as_list(data.get("inputs")) if isinstance(t, dict)]
    outputs = [t for t in as_list(data.get("outputs")) if isinstance(t, dict)]
    _unique_names(inputs, outputs, out)
    tensors = {t.get("name"): t for t in inputs + outputs}
    input_names = {t.get("name") for t in inputs}
    for i, t in enumerate(outputs):
        shape = t.get("shape")
        if isinstance(shape, dict):
            ref = shape.get("reference_tensor")
            if ref not in tensors:
                out.error(("outputs", i, "shape", "reference_tensor"),
                          f"Value error, '{ref}' not found. Must be one of {sorted(map(str, tensors))}")
                continue
            ref_dims = _shape_len(tensors[ref].get("shape"))
            n_scales = sum(s is not None for s in as_list(shape.get("scale")))
            if ref_dims is not None and n_scales != ref_dims:
                out.error((), f"Value error, Referenced tensor '{ref}' with {ref_dims} dimensions does not match "
                              f"output tensor '{t.get('name')}' with {n_scales} dimensions.")
    if out.errors:
        return
    for t in outputs:
        _halo(t, tensors, out)
    for kind, items, allowed in (("inputs", inputs, "preprocessing"), ("outputs", outputs, "postprocessing")):
        for i, t in enumerate(items):
            for j, step in enumerate(as_list(t.get(allowed))):
                ref = as_dict(as_dict(step).get("kwargs")).get("reference_tensor")
                if ref is None:
                    continue
                valid = input_names - ({t.get("name")} if kind == "inputs" else set())
                if ref not in valid:
                    out.error((kind, i, allowed, j, "kwargs", "reference_tensor"),
                              f"Value error, '{ref}' not found in {sorted(map(str, valid))}")


def _unique_names(inputs: list[dict[str, Any]], outputs: list[dict[str, Any]], out: Collector) -> None:
    seen: set[Any] = set()
    for kind, items in (("inputs", inputs), ("outputs", outputs)):
        for i, t in enumerate(items):
            name = t.get("name")
            if name in seen:
                out.error((kind, i, "name"), f"Value error, Duplicate tensor descriptor name '{name}'")
            seen.add(name)


def min_shape(tensor: dict[str, Any], tensors: dict[Any, dict[str, Any]], depth: int = 0) -> list[int] | None:
    """The smallest valid shape of a tensor, resolving implicit shapes recursively (cycles give None)."""
    shape = tensor.get("shape")
    if isinstance(shape, list):
        return ints(shape)
    if not isinstance(shape, dict) or depth > len(tensors):
        return None
    if "min" in shape:
        return ints(shape.get("min"))
    ref = tensors.get(shape.get("reference_tensor"))
    ref_min = min_shape(ref, tensors, depth + 1) if ref is not None else None
    if ref_min is None:
        return None
    result, r = [], 0
    for s, o in zip(as_list(shape.get("scale")), as_list(shape.get("offset")), strict=False):
        if s is None:
            ref_size, scale = 1, 0.0
        else:
            if r >= len(ref_min):
                return None
            ref_size, scale, r = ref_min[r], num(s) or 0.0, r + 1
        result.append(int(ref_size * scale + 2 * (num(o) or 0.0)))
    return result


def _halo(t: dict[str, Any], tensors: dict[Any, dict[str, Any]], out: Collector) -> None:
    halo = ints(t.get("halo"))
    if not halo:
        return
    shape = min_shape(t, tensors)
    if shape is None or len(shape) != len(halo):
        return
    if any(s - 2 * h < 1 for s, h in zip(shape, halo, strict=True)):
        out.error((), f"Value error, Minimal shape {shape} of output {t.get('name')} is too small for halo {halo}.")


# ---------------------------------------------------------------- warnings

def warnings(data: dict[str, Any], out: Collector) -> None:
    if not data.get("cite"):
        out.warn(("cite",), "missing citation ('cite')", WARNING, "fair")
    weights = as_dict(data.get("weights"))
    for wf, entry in weights.items():
        entry = as_dict(entry)
        loc = ("weights", wf)
        if "attachments" in entry:
            out.warn((*loc, "attachments"), "weights attachments are discouraged", ALERT)
        if "dependencies" in entry:
            out.warn((*loc, "dependencies"), "custom dependencies are discouraged", WARNING)
        version_key = {"onnx": "opset_version", "torchscript": "pytorch_version",
                       "pytorch_state_dict": "pytorch_version"}.get(wf, "tensorflow_version")
        if version_key not in entry:
            out.warn((*loc, version_key), f"missing '{version_key}'", ALERT)
    run_mode = as_dict(data.get("run_mode"))
    if run_mode and run_mode.get("name") != "deepimagej":
        out.warn(("run_mode",), f"run mode '{run_mode.get('name')}' has limited support", WARNING)
    if not data.get("maintainers") and not any(as_dict(a).get("github_user") for a in as_list(data.get("authors"))):
        out.warn(("maintainers",), "no maintainer and no author with a github_user", INFO)
