"""Model 0.5 rules the schema cannot express (spec brief §2.2–§2.6, §3)."""

from __future__ import annotations

from typing import Any

from collection_compiler.validation import values
from collection_compiler.validation.common_checks import ALERT, WARNING, Collector, as_dict, as_list
from collection_compiler.validation.values import int_or_none, num

AXIS_ALIASES = {"b": "batch", "t": "time", "i": "index", "c": "channel"}
DEFAULT_AXIS_ID = {"batch": "batch", "channel": "channel", "index": "index", "time": "time", "space": "x"}
DTYPE_LIMITS = {"uint8": (0, 255), "int8": (-128, 127), "uint16": (0, 65535), "int16": (-32768, 32767),
                "uint32": (0, 2**32 - 1), "int32": (-(2**31), 2**31 - 1), "uint64": (0, 2**64 - 1),
                "int64": (-(2**63), 2**63 - 1)}


def axis_id(axis: dict[str, Any]) -> str:
    raw = axis.get("id", DEFAULT_AXIS_ID.get(str(axis.get("type")), ""))
    return AXIS_ALIASES.get(raw, raw) if isinstance(raw, str) else ""


def tensor_id(tensor: dict[str, Any], is_input: bool) -> Any:
    return tensor.get("id", "input" if is_input else "output")


def field_checks(data: dict[str, Any], out: Collector) -> None:
    for kind in ("inputs", "outputs"):
        for i, t in enumerate(as_list(data.get(kind))):
            if isinstance(t, dict):
                _tensor(t, (kind, i), kind == "inputs", out)
    for wf, entry in as_dict(data.get("weights")).items():
        entry = as_dict(entry)
        if entry.get("parent") == wf:
            out.error(("weights", wf, "parent"), "Value error, A weights entry may not be its own parent.")
        opset = int_or_none(entry.get("opset_version")) if wf == "onnx" else None
        if opset is not None and opset < 7:
            out.error(("weights", wf, "opset_version"), "Input should be greater than or equal to 7")
        for key, suffixes in (("dependencies", (".yaml", ".yml")), ("external_data", (".data",))):
            src = as_dict(entry.get(key)).get("source")
            problem = values.suffix_problem(src, suffixes) if isinstance(src, str) else None
            if problem:
                out.error(("weights", wf, key), f"Value error, {problem}")
        arch = as_dict(entry.get("architecture"))
        if arch.get("callable") is not None and not values.is_identifier(arch.get("callable")):
            out.error(("weights", wf, "architecture", "callable"), "Value error, not a valid identifier")


def _tensor(t: dict[str, Any], loc: tuple[Any, ...], is_input: bool, out: Collector) -> None:
    tid = t.get("id")
    if tid is not None and not (values.is_lower_identifier(tid) and len(tid) <= 32):
        out.error((*loc, "id"), f"Value error, '{tid}' is not a lowercase identifier of at most 32 characters")
    ids = _axes(as_list(t.get("axes")), loc, out)
    _data(t, loc, out)
    key = "preprocessing" if is_input else "postprocessing"
    for k, step in enumerate(as_list(t.get(key))):
        _processing(as_dict(step), (*loc, key, k), ids, out)


def _axes(axes: list[Any], loc: tuple[Any, ...], out: Collector) -> set[str]:
    """Check a tensor's axes; their ids."""
    ids: set[str] = set()
    batches = 0
    for j, axis in enumerate(axes):
        if not isinstance(axis, dict):
            continue
        aid = axis_id(axis)
        if not (values.is_identifier(aid) and len(aid) <= 16):  # 0.5.14 accepts upper case here
            out.error((*loc, "axes", j, "id"), f"Value error, '{aid}' is not a valid (Python) identifier (<=16 chars)")
        if aid in ids:
            out.error((*loc, "axes"), f"Value error, Duplicate axis ids: {{'{aid}'}}")
        ids.add(aid)
        batches += axis.get("type") == "batch"
        _axis(axis, aid, (*loc, "axes", j), out)
    if batches > 1:
        out.error((*loc, "axes"), "Value error, only one batch axis is allowed")
    return ids


def _axis(axis: dict[str, Any], aid: str, loc: tuple[Any, ...], out: Collector) -> None:
    if axis.get("type") == "batch" and "id" in axis and aid != "batch":
        out.error((*loc, "id"), "Value error, a batch axis must have id 'batch'")
    size = axis.get("size")
    _axis_size(size, (*loc, "size"), out)
    scale = num(axis.get("scale", 1.0))
    if scale is not None and scale <= 0:
        out.error((*loc, "scale"), "Input should be greater than 0")
    halo = int_or_none(axis.get("halo")) if "halo" in axis else None
    if "halo" in axis and (halo is None or halo < 1 or not isinstance(size, dict) or "tensor_id" not in size):
        out.error(loc, "Value error, an axis with halo needs halo >= 1 and a size reference")


def _axis_size(size: Any, loc: tuple[Any, ...], out: Collector) -> None:
    """A parametrized size (min, step), a data-dependent one (min, max) or a fixed one."""
    if isinstance(size, dict) and "step" in size:
        if (int_or_none(size.get("min")) or 0) < 1 or (int_or_none(size.get("step")) or 0) < 1:
            out.error(loc, "Value error, min and step must be > 0")
    elif isinstance(size, dict) and "max" in size and size.get("max") is not None:
        lo, hi = int_or_none(size.get("min", 1)), int_or_none(size.get("max"))
        if lo is not None and hi is not None and lo >= hi:
            out.error(loc, "Value error, DataDependentSize requires min < max")
    elif int_or_none(size) is not None and int_or_none(size) < 1:  # type: ignore[operator]
        out.error(loc, "Input should be greater than 0")


def _data(t: dict[str, Any], loc: tuple[Any, ...], out: Collector) -> None:
    data = t.get("data")
    descrs = data if isinstance(data, list) else [data] if isinstance(data, dict) else []
    types = {as_dict(d).get("type", "uint8" if "values" in as_dict(d) else "float32") for d in descrs}
    if len(types) > 1:
        out.error((*loc, "data"), f"Value error, per-channel data descriptions must share one type, not {types}")
    if isinstance(data, list):
        channel = next((a for a in as_list(t.get("axes")) if as_dict(a).get("type") == "channel"), None)
        n = len(as_list(as_dict(channel).get("channel_names")))
        if channel is None or n != len(data):
            out.error((*loc, "data"), f"Value error, got {len(data)} data descriptions for {n} channels")
    for d in descrs:
        d = as_dict(d)
        unit = d.get("unit")
        if isinstance(unit, str) and unit != "arbitrary unit" and not values.si_unit_ok(unit):
            out.error((*loc, "data"), f"Value error, '{unit}' is neither 'arbitrary unit' nor an SI unit")
        dtype = d.get("type", "uint8")
        limits = DTYPE_LIMITS.get(dtype)
        for v in as_list(d.get("values")):
            if limits and isinstance(v, float) and not isinstance(v, bool):
                out.error((*loc, "data", "values"), f"Value error, float value {v} for integer type {dtype}")
            elif limits and isinstance(v, int) and not isinstance(v, bool) and not limits[0] <= v <= limits[1]:
                out.error((*loc, "data", "values"), f"Value error, {v} does not fit {dtype}")
            elif isinstance(v, str) and not str(dtype).startswith("uint"):
                out.error((*loc, "data", "values"), f"Value error, string labels need an unsigned type, not {dtype}")


def _processing(step: dict[str, Any], loc: tuple[Any, ...], axis_ids: set[str], out: Collector) -> None:
    kw, kloc, op = as_dict(step.get("kwargs")), (*loc, "kwargs"), step.get("id")
    _processing_axes(kw, kloc, axis_ids, out)
    if op == "scale_linear":
        _scale_linear_axis(kw, kloc, out)
    if op == "fixed_zero_mean_unit_variance":
        stds = kw.get("std") if isinstance(kw.get("std"), list) else [kw.get("std")]
        if any(num(v) is not None and num(v) < 1e-6 for v in stds):  # type: ignore[operator]
            out.error((*kloc, "std"), "Input should be greater than or equal to 0.000001")
    eps = num(kw.get("eps")) if "eps" in kw else None
    if eps is not None and not 0 < eps <= 0.1:
        out.error((*kloc, "eps"), "Value error, eps must be in (0, 0.1]")
    if op in ("scale_range", "clip"):
        lo, hi = num(kw.get("min_percentile", 0)), num(kw.get("max_percentile", 100))
        if lo is not None and hi is not None and lo >= hi:
            out.error(kloc, f"Value error, min_percentile {lo} >= max_percentile {hi}")
    if op == "clip":
        _clip(kw, kloc, out)
    if op in ("scale_linear", "fixed_zero_mean_unit_variance"):
        _per_axis(kw, kloc, ("gain", "offset") if op == "scale_linear" else ("mean", "std"), out)
    if op == "scale_linear":
        _redundant_scaling(kw, kloc, out)


def _processing_axes(kw: dict[str, Any], kloc: tuple[Any, ...], axis_ids: set[str], out: Collector) -> None:
    """`axes` (a list) and `axis` (one) name axes of the tensor, never the batch axis."""
    axes = kw.get("axes")
    if isinstance(axes, list):
        named = {AXIS_ALIASES.get(a, a) for a in axes if isinstance(a, str)}
        if not named <= axis_ids:
            out.error(kloc, f"Value error, processing axes {sorted(named - axis_ids)} not among the tensor's axes")
    axis = kw.get("axis")
    if isinstance(axis, str) and AXIS_ALIASES.get(axis, axis) == "batch":
        out.error((*kloc, "axis"), "Predicate '_is_not_batch' failed")
    elif isinstance(axis, str) and AXIS_ALIASES.get(axis, axis) not in axis_ids:
        out.error((*kloc, "axis"), f"Value error, axis '{axis}' not among the tensor's axes")


def _scale_linear_axis(kw: dict[str, Any], kloc: tuple[Any, ...], out: Collector) -> None:
    """scale_linear takes `axis` only with a list of gains or offsets (one per position along it)."""
    if "axis" in kw and not any(isinstance(kw.get(k), list) for k in ("gain", "offset")):
        out.error((*kloc, "axis"), "Extra inputs are not permitted", "extra_forbidden")


def _redundant_scaling(kw: dict[str, Any], kloc: tuple[Any, ...], out: Collector) -> None:
    gains = [num(g) for g in (kw.get("gain") if isinstance(kw.get("gain"), list) else [kw.get("gain", 1.0)])]
    offs = [num(o) for o in (kw.get("offset") if isinstance(kw.get("offset"), list) else [kw.get("offset", 0.0)])]
    if all(g == 1 for g in gains) and all(o == 0 for o in offs):
        out.error(kloc, "Value error, Redundant linear scaling not allowed. Set `gain` != 1.0 and/or "
                        "`offset` != 0.0.")


def _clip(kw: dict[str, Any], kloc: tuple[Any, ...], out: Collector) -> None:
    for fixed, pct in (("min", "min_percentile"), ("max", "max_percentile")):
        if fixed in kw and pct in kw:
            out.error(kloc, f"Value error, '{fixed}' and '{pct}' exclude each other")
    if not any(k in kw for k in ("min", "max", "min_percentile", "max_percentile")):
        out.error(kloc, "Value error, clip needs at least one of min, max, min_percentile, max_percentile")
    if "axes" in kw and not any(k in kw for k in ("min_percentile", "max_percentile")):
        out.error(kloc, "Value error, 'axes' is only allowed with a percentile bound")


def _per_axis(kw: dict[str, Any], kloc: tuple[Any, ...], keys: tuple[str, str], out: Collector) -> None:
    lists = [kw.get(k) for k in keys if isinstance(kw.get(k), list)]
    if lists and "axis" not in kw:
        out.error(kloc, f"Value error, lists for {keys} need an 'axis'")
    if len(lists) == 2 and len(lists[0]) != len(lists[1]):
        out.error(kloc, f"Value error, {keys[0]} and {keys[1]} must have the same length")


# ---------------------------------------------------------------- model-level rules

def _axes_of(tensors: list[dict[str, Any]]) -> dict[tuple[Any, str], dict[str, Any]]:
    return {(t["_tid"], axis_id(a)): a for t in tensors for a in as_list(t.get("axes")) if isinstance(a, dict)}


def _duplicate_input_ids(inputs: list[dict[str, Any]], out: Collector) -> None:
    """The reference finds duplicates among the input ids only (its check sees the inputs while the outputs are
    still being read), so an output may reuse an input's id; it reports them at `outputs`."""
    seen: set[Any] = set()
    duplicates = []
    for t in inputs:
        if t["_tid"] in seen:
            duplicates.append(t["_tid"])
        seen.add(t["_tid"])
    if duplicates:
        out.error(("outputs",), f"Value error, Duplicate tensor ids: {[str(d) for d in duplicates]}")


def model_checks(data: dict[str, Any], out: Collector) -> None:
    inputs = [{**t, "_tid": tensor_id(t, True)} for t in as_list(data.get("inputs")) if isinstance(t, dict)]
    outputs = [{**t, "_tid": tensor_id(t, False)} for t in as_list(data.get("outputs")) if isinstance(t, dict)]
    _duplicate_input_ids(inputs, out)
    in_axes, all_axes = _axes_of(inputs), _axes_of(inputs + outputs)
    for kind, items, valid in (("inputs", inputs, in_axes), ("outputs", outputs, all_axes)):
        for i, t in enumerate(items):
            for j, axis in enumerate(as_list(t.get("axes"))):
                _size_reference(as_dict(axis), t["_tid"], (kind, i, "axes", j), valid, out)
            key = "preprocessing" if kind == "inputs" else "postprocessing"
            allowed = {x["_tid"] for x in inputs}  # statistics always come from an input tensor
            for step in as_list(t.get(key)):
                ref = as_dict(as_dict(step).get("kwargs")).get("reference_tensor")
                if ref is not None and ref not in allowed:
                    out.error((), f"Value error, `reference_tensor`s {[ref]} not found. Valid input tensor "
                                  f"references are: {set(map(str, allowed))}.")
    parents = [wf for wf, e in as_dict(data.get("weights")).items() if as_dict(e).get("parent") is None]
    for wf, e in as_dict(data.get("weights")).items():
        parent = as_dict(e).get("parent")
        if parent is not None and parent not in as_dict(data.get("weights")):
            out.error(("weights", wf, "parent"), f"Value error, parent '{parent}' is not a present weights format")
    if len(parents) != 1:
        out.warn(("weights",), f"exactly one weights entry should have no parent, found {len(parents)}", WARNING)
    parent = as_dict(data.get("parent")).get("id")
    if parent is not None and parent == data.get("id"):
        out.error(("parent",), "Value error, a model may not be its own parent")


def _size_reference(axis: dict[str, Any], tid: Any, loc: tuple[Any, ...],
                    valid: dict[tuple[Any, str], dict[str, Any]], out: Collector) -> None:
    size = axis.get("size")
    if not isinstance(size, dict) or "tensor_id" not in size:
        return
    key = (size.get("tensor_id"), AXIS_ALIASES.get(size.get("axis_id"), size.get("axis_id")))
    target = valid.get(key)
    if key == (tid, axis_id(axis)):
        out.error((*loc, "size"), "Value error, an axis may not reference itself")
        return
    if target is None:
        out.error((*loc, "size"), f"Value error, referenced axis {key[0]}.{key[1]} not found")
        return
    if target.get("type") == "batch":
        out.error((*loc, "size"), "Value error, a batch axis cannot be referenced")
        return
    target_size = target.get("size") if target.get("type") != "channel" else len(as_list(target.get("channel_names")))
    if not (int_or_none(target_size) is not None or (isinstance(target_size, dict) and "step" in target_size)):
        out.error((*loc, "size"), "Value error, the referenced axis must have a fixed or parameterized size")
        return
    if (axis.get("type") == "channel") != (target.get("type") == "channel"):
        out.error((*loc, "size"), "Value error, a channel axis may only reference a channel axis")
    if axis.get("unit") != target.get("unit"):
        out.error((*loc, "size"), f"Value error, units differ: {axis.get('unit')!r} vs {target.get('unit')!r}")
    halo = int_or_none(axis.get("halo"))
    if halo:
        ref_min = int_or_none(target_size) if not isinstance(target_size, dict) else int_or_none(target_size["min"])
        scale, ref_scale = num(axis.get("scale", 1.0)) or 1.0, num(target.get("scale", 1.0)) or 1.0
        min_size = int((ref_min or 0) * ref_scale / scale + (size.get("offset") or 0))
        if min_size - 2 * halo < 1:
            out.error((*loc, "halo"), f"Value error, minimal size {min_size} of axis is too small for halo {halo}")
        if (halo * scale / ref_scale) != int(halo * scale / ref_scale):
            out.error((*loc, "halo"), "Value error, halo·scale/reference scale must be an integer")


def warnings(data: dict[str, Any], out: Collector) -> None:
    for kind in ("inputs", "outputs"):
        for i, t in enumerate(as_list(data.get(kind))):
            if isinstance(t, dict) and "test_tensor" not in t:
                out.warn((kind, i, "test_tensor"), "missing test tensor (needed for testing)", ALERT, "fair")
    if data.get("run_mode"):
        out.warn(("run_mode",), "run_mode has limited support", WARNING)
    desc = data.get("description")
    if isinstance(desc, str) and len(desc) > 512:
        out.warn(("description",), "description longer than 512 characters", WARNING)
