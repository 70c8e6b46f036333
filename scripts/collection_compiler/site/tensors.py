"""What a model takes and gives, in words: its tensors (0.4 and 0.5 formats alike), their axes and sizes, data
types and ranges, and the pre- and postprocessing steps. Untrusted RDF in; plain, length-capped text out."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from collection_compiler.site.safety import one_line, text

MAX_TENSORS = 20
MAX_AXES = 8
MAX_STEPS = 12
MAX_CHANNEL_NAMES = 8
AXIS_WORDS = {"b": "batch", "i": "index", "t": "time", "c": "channel", "z": "z", "y": "y", "x": "x"}


@dataclass
class Axis:
    name: str  # "batch", "channel (nuclei, membranes)", "y (µm)"
    size: str  # "1", "any", "at least 64, in steps of 16", "same as raw's y"


@dataclass
class Step:
    what: str  # the step in plain words
    parameters: str  # its kwargs as `key: value`, for those who want them


@dataclass
class Tensor:
    id: str
    description: str
    axes: list[Axis] = field(default_factory=list)
    data: str = ""  # "float32, values 0 to 1"
    steps: list[Step] = field(default_factory=list)


def _dicts(value: Any, limit: int) -> list[dict[str, Any]]:
    return [v for v in value[:limit] if isinstance(v, dict)] if isinstance(value, list) else []


def _number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return one_line(value, 40)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    return one_line(f"{value:g}" if isinstance(value, float) else value, 40)


def _numbers(value: Any) -> str:
    items = value if isinstance(value, list) else [value]
    return ", ".join(_number(v) for v in items[:MAX_AXES])


def tensors(rdf: dict[str, Any], kind: str) -> list[Tensor]:
    """The `kind` ("inputs" or "outputs") tensors of a model RDF, either format."""
    steps_key = "preprocessing" if kind == "inputs" else "postprocessing"
    letters = {one_line(t.get("name"), 64): t["axes"] for side in ("inputs", "outputs")
               for t in _dicts(rdf.get(side), MAX_TENSORS) if isinstance(t.get("axes"), str)}
    result = []
    for raw in _dicts(rdf.get(kind), MAX_TENSORS):
        axes = raw.get("axes")
        if isinstance(axes, str):  # 0.4: axes letters, sizes in `shape` and `halo`
            axis_views = _axes_04(axes[:MAX_AXES], raw.get("shape"), raw.get("halo"), letters)
            data = _data_04(raw)
        else:
            axis_views = [_axis_05(a) for a in _dicts(axes, MAX_AXES)]
            data = _data_05(raw.get("data"))
        result.append(Tensor(id=one_line(raw.get("id") or raw.get("name"), 64) or "?",
                             description=text(raw.get("description"), 300), axes=axis_views, data=data,
                             steps=[_step(s) for s in _dicts(raw.get(steps_key), MAX_STEPS)]))
    return result


# 0.4 ---------------------------------------------------------------------------------------------------------

def _axes_04(letters: str, shape: Any, halo: Any, axes_of: dict[str, str]) -> list[Axis]:
    halo = halo if isinstance(halo, list) else []
    result = []
    for n, letter in enumerate(letters):
        size = _size_04(shape, n, axes_of)
        if n < len(halo) and isinstance(halo[n], int | float) and halo[n]:
            size += f"; {_number(halo[n])} px border cropped"
        result.append(Axis(AXIS_WORDS.get(letter, one_line(letter, 4)), size))
    return result


def _at(value: Any, n: int) -> Any:
    return value[n] if isinstance(value, list) and n < len(value) else None


def _size_04(shape: Any, n: int, axes_of: dict[str, str]) -> str:
    if isinstance(shape, list):
        return _number(_at(shape, n)) or "?"
    if not isinstance(shape, dict):
        return "?"
    if "min" in shape:
        return _stepped(_at(shape.get("min"), n), _at(shape.get("step"), n))
    ref = one_line(shape.get("reference_tensor"), 64)
    scale, offset = _at(shape.get("scale"), n), _at(shape.get("offset"), n)
    offset = offset if isinstance(offset, int | float) and not isinstance(offset, bool) else 0
    if scale is None:
        return f"{_number(2 * offset)} (a new axis)"
    if scale == 0:  # a fixed size, whatever the reference
        return _number(2 * offset)
    # The reference's axes map in order onto the output's, skipping the axes the output inserts (scale null).
    ref_axes = axes_of.get(ref, "")
    k = sum(1 for s in (shape.get("scale") or [])[:n] if s is not None) if isinstance(shape.get("scale"), list) else n
    axis = AXIS_WORDS.get(ref_axes[k], ref_axes[k]) if k < len(ref_axes) else f"axis {k + 1}"
    return _reference(f"{ref}'s {axis}", scale, 2 * offset)


def _stepped(minimum: Any, step: Any) -> str:
    if not step:
        return _number(minimum) or "?"
    return f"at least {_number(minimum) or '?'}, in steps of {_number(step)}"


def _reference(what: str, scale: Any, offset: Any) -> str:
    words = f"same as {what}"
    if isinstance(scale, int | float) and not isinstance(scale, bool) and scale != 1:
        words += f" × {_number(scale)}"
    if isinstance(offset, int | float) and not isinstance(offset, bool) and offset:
        words += f" {'+' if offset > 0 else '−'} {_number(abs(offset))}"
    return words


def _data_04(raw: dict[str, Any]) -> str:
    return _typed(one_line(raw.get("data_type"), 20), raw.get("data_range"))


def _typed(dtype: str, value_range: Any) -> str:
    words = dtype or "float32"
    if isinstance(value_range, list) and len(value_range) == 2:
        low, high = (v if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) else None
                     for v in value_range)
        if low is not None and high is not None:
            words += f", values {_number(low)} to {_number(high)}"
        elif low is not None:
            words += f", values from {_number(low)}"
        elif high is not None:
            words += f", values up to {_number(high)}"
    return words


# 0.5 ---------------------------------------------------------------------------------------------------------

def _axis_05(raw: dict[str, Any]) -> Axis:
    kind = one_line(raw.get("type"), 20)
    axis_id = one_line(raw.get("id"), 32) or {"batch": "batch", "channel": "channel", "index": "index",
                                                "time": "time"}.get(kind, "x")
    name = AXIS_WORDS.get(axis_id, axis_id)
    if kind == "channel":
        names = [one_line(n, 40) for n in raw.get("channel_names", [])[:MAX_CHANNEL_NAMES + 1]] \
            if isinstance(raw.get("channel_names"), list) else []
        shown = ", ".join(names[:MAX_CHANNEL_NAMES]) + (", …" if len(names) > MAX_CHANNEL_NAMES else "")
        total = len(raw["channel_names"]) if names else 0
        return Axis(f"{name} ({shown})" if shown else name, str(total) if total else "?")
    unit = one_line(raw.get("unit"), 30)
    if unit:
        name += f" ({unit})"
    size = _size_05(raw.get("size"), kind)
    halo = raw.get("halo")
    if isinstance(halo, int) and not isinstance(halo, bool) and halo:
        size += f"; {halo} px border cropped"
    return Axis(name, size)


def _size_05(size: Any, kind: str) -> str:
    if size is None:
        return "any" if kind == "batch" else "?"
    if not isinstance(size, dict):
        return _number(size) or "?"
    if "tensor_id" in size:
        what = f"{one_line(size.get('tensor_id'), 64)}'s {one_line(size.get('axis_id'), 32)}"
        return _reference(what, None, size.get("offset"))
    if "step" in size:
        return _stepped(size.get("min"), size.get("step"))
    low, high = size.get("min", 1), size.get("max")
    return f"depends on the data ({_number(low)} to {_number(high)})" if high else "depends on the data"


def _data_05(data: Any) -> str:
    if isinstance(data, list):  # one description per channel, sharing one type
        first = data[0] if data and isinstance(data[0], dict) else {}
        return f"{one_line(first.get('type'), 20) or 'float32'}, described per channel"
    data = data if isinstance(data, dict) else {}
    if isinstance(data.get("values"), list):
        values = ", ".join(_number(v) for v in data["values"][:8]) + (", …" if len(data["values"]) > 8 else "")
        return f"{one_line(data.get('type'), 20) or 'uint8'}, one of: {values}"
    words = _typed(one_line(data.get("type"), 20), data.get("range"))
    unit = one_line(data.get("unit"), 30)
    return words + (f" ({unit})" if unit and unit != "arbitrary unit" else "")


# processing --------------------------------------------------------------------------------------------------

def _step(raw: dict[str, Any]) -> Step:
    name = one_line(raw.get("id") or raw.get("name"), 60)
    kwargs = raw.get("kwargs") if isinstance(raw.get("kwargs"), dict) else {}
    describe = _STEPS.get(name)
    what = describe(kwargs) if describe else name.replace("_", " ")
    parameters = "; ".join(f"{one_line(k, 40)}: {_value(v)}" for k, v in list(kwargs.items())[:12])
    return Step(what, parameters)


def _value(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value[:16]) + ("…" if len(value) > 16 else "") + "]"
    if isinstance(value, dict):
        return "{…}"
    return _number(value)


def _over(kwargs: dict[str, Any]) -> str:
    axes = kwargs.get("axes")
    letters = list(axes) if isinstance(axes, str) else axes if isinstance(axes, list) else []
    words = [AXIS_WORDS.get(one_line(a, 16), one_line(a, 16)) for a in letters[:MAX_AXES]]
    per = " per dataset" if kwargs.get("mode") == "per_dataset" else ""
    return (f" over {', '.join(words)}" if words else "") + per


def _zmuv(kwargs: dict[str, Any]) -> str:
    if kwargs.get("mode") == "fixed" or "mean" in kwargs:
        return f"subtract {_value(kwargs.get('mean'))} and divide by {_value(kwargs.get('std'))}"
    return "normalise to mean 0 and standard deviation 1" + _over(kwargs)


_STEPS = {
    "binarize": lambda k: f"turn into 0 or 1 at threshold {_value(k.get('threshold'))}",
    "clip": lambda k: f"clip values to {_value(k.get('min'))} … {_value(k.get('max'))}",
    "scale_linear": lambda k: f"multiply by {_value(k.get('gain', 1))} and add {_value(k.get('offset', 0))}",
    "sigmoid": lambda k: "apply a sigmoid (values become 0 to 1)",
    "softmax": lambda k: "apply a softmax" + _over(k),
    "zero_mean_unit_variance": _zmuv,
    "fixed_zero_mean_unit_variance": _zmuv,
    "scale_range": lambda k: (f"rescale so that percentile {_value(k.get('min_percentile', 0))} becomes 0 and "
                              f"percentile {_value(k.get('max_percentile', 100))} becomes 1" + _over(k)),
    "scale_mean_variance": lambda k: (f"match the mean and variance of {_value(k.get('reference_tensor'))}"
                                      + _over(k)),
    "ensure_dtype": lambda k: f"convert to {_value(k.get('dtype'))}",
}
