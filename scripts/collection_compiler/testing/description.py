"""Read a model description (0.4 or 0.5) into a plain test plan the sandboxed worker can run.

Everything is normalised to one shape: axes as lists of axis dicts with long ids, processing as
`{"op", "kwargs"}` steps in 0.5 terms with the implicit dtype steps made explicit (0.4: cast to
`data_type`, preprocess, cast to float32; outputs: postprocess, cast to `data_type`), and tolerances
resolved per output. Pure Python: no numpy, no model runtime, no model code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# the weights formats this tester runs (`runtimes` names the module each needs)
RUNNABLE = ("onnx", "pytorch_state_dict", "torchscript")
NOT_APPLICABLE = {
    "keras_hdf5": "Keras HDF5 weights are not run by this tester (it has no TensorFlow runtime)",
    "tensorflow_saved_model_bundle": "TensorFlow SavedModel weights are not run by this tester "
                                     "(it has no TensorFlow runtime)",
    "tensorflow_js": "TensorFlow.js weights cannot be run outside a JavaScript runtime",
}
KNOWN_FORMATS = RUNNABLE + tuple(NOT_APPLICABLE)
LONG_AXIS_IDS = {"b": "batch", "t": "time", "i": "index", "c": "channel"}
LETTER_TYPES = {"b": "batch", "c": "channel", "i": "index", "t": "time", "x": "space", "y": "space", "z": "space"}
DEFAULT_AXIS_IDS = {"batch": "batch", "channel": "channel", "index": "index", "time": "time", "space": "x"}
DTYPES = ("float32", "float64", "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64", "bool")


class DescriptionError(ValueError):
    """The description cannot be tested: the message names the field."""


@dataclass
class FileRef:
    field: str
    source: str
    sha256: str | None = None


@dataclass
class TensorPlan:
    id: str
    axes: list[dict[str, Any]]
    steps: list[dict[str, Any]]
    test_tensor: FileRef
    data_type: str


@dataclass
class ModelPlan:
    format_version: str
    generation: str  # "0.4" or "0.5"
    inputs: list[TensorPlan]
    outputs: list[TensorPlan]
    weights: dict[str, dict[str, Any]]
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def parametrized(self) -> bool:
        return self.generation == "0.5"


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise DescriptionError(f"{where} must be a mapping")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise DescriptionError(f"{where} must be a non-empty list")
    return value


def read_plan(rdf: dict[str, Any]) -> ModelPlan:
    if rdf.get("type") != "model":
        raise DescriptionError(f"type: only models have dynamic tests, this is {rdf.get('type')!r}")
    version = str(rdf.get("format_version", ""))
    generation = ".".join(version.split(".")[:2])
    if generation in ("0.3", "0.4"):
        inputs, outputs = _tensors_04(rdf)
    elif generation == "0.5":
        inputs, outputs = _tensors_05(rdf)
    else:
        raise DescriptionError(f"format_version: {version!r} is not a model format this tester knows (0.4, 0.5)")
    weights = _mapping(rdf.get("weights"), "weights")
    if not weights:
        raise DescriptionError("weights: no weights entry")
    config = rdf.get("config") if isinstance(rdf.get("config"), dict) else {}
    return ModelPlan(version, "0.4" if generation == "0.3" else generation, inputs, outputs,
                     {str(k): v for k, v in weights.items()}, config)


# ---------------------------------------------------------------- 0.4


def _tensors_04(rdf: dict[str, Any]) -> tuple[list[TensorPlan], list[TensorPlan]]:
    raw_in, raw_out = _list(rdf.get("inputs"), "inputs"), _list(rdf.get("outputs"), "outputs")
    tests_in, tests_out = _list(rdf.get("test_inputs"), "test_inputs"), _list(rdf.get("test_outputs"), "test_outputs")
    if len(tests_in) != len(raw_in) or len(tests_out) != len(raw_out):
        raise DescriptionError(f"test_inputs/test_outputs: {len(tests_in)}/{len(tests_out)} files for "
                               f"{len(raw_in)}/{len(raw_out)} tensors")
    inputs = [_tensor_04(t, f"inputs.{i}", FileRef(f"test_inputs.{i}", tests_in[i]), True)
              for i, t in enumerate(raw_in)]
    outputs = [_tensor_04(t, f"outputs.{i}", FileRef(f"test_outputs.{i}", tests_out[i]), False)
               for i, t in enumerate(raw_out)]
    return inputs, outputs


def _tensor_04(raw: Any, where: str, test: FileRef, is_input: bool) -> TensorPlan:
    raw = _mapping(raw, where)
    letters = raw.get("axes")
    if not isinstance(letters, str) or not letters or any(c not in LETTER_TYPES for c in letters):
        raise DescriptionError(f"{where}.axes: {letters!r} is not a string of letters from 'bitczyx'")
    axes = [{"id": LONG_AXIS_IDS.get(c, c), "type": LETTER_TYPES[c], "size": {"kind": "unknown"}} for c in letters]
    dtype = _dtype(raw.get("data_type", "float32"), f"{where}.data_type")
    key = "preprocessing" if is_input else "postprocessing"
    declared = [_step_04(s, f"{where}.{key}.{i}", letters) for i, s in enumerate(raw.get(key) or [])]
    # 0.4: inputs are cast to data_type, preprocessed and handed to the model as float32
    steps = [_ensure(dtype), *declared, _ensure("float32")] if is_input else [*declared, _ensure(dtype)]
    return TensorPlan(str(raw.get("name", where)), axes, steps, test, dtype)


def _axes_04(value: Any, where: str, mode: str | None = None) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, str) or any(c not in LETTER_TYPES for c in value):
        raise DescriptionError(f"{where}.kwargs.axes: {value!r} is not a string of axis letters")
    ids = [LONG_AXIS_IDS.get(c, c) for c in value]
    if mode == "per_dataset" and "batch" not in ids:
        ids.insert(0, "batch")
    return ids


def _complement_axis(letters: str, axes: list[str] | None, where: str) -> str:
    """The one non-batch axis not reduced over: 0.4 lists of gains/means are indexed along it."""
    reduced = set(axes or [])
    rest = [LONG_AXIS_IDS.get(c, c) for c in letters if c != "b" and LONG_AXIS_IDS.get(c, c) not in reduced]
    if len(rest) != 1:
        raise DescriptionError(f"{where}.kwargs: a list of values needs exactly one axis outside 'axes', "
                               f"found {rest}")
    return rest[0]


def _step_04(raw: Any, where: str, letters: str) -> dict[str, Any]:
    raw = _mapping(raw, where)
    name = raw.get("name")
    kwargs = dict(_mapping(raw.get("kwargs") or {}, f"{where}.kwargs"))
    mode = kwargs.pop("mode", None)
    if name == "zero_mean_unit_variance":
        if mode is None:
            mode = "fixed" if "mean" in kwargs else "per_sample"
        axes = _axes_04(kwargs.get("axes"), where, mode)
        if mode == "fixed":
            mean, std = kwargs.get("mean"), kwargs.get("std")
            if mean is None or std is None:
                raise DescriptionError(f"{where}.kwargs: mode 'fixed' needs 'mean' and 'std'")
            step = {"mean": mean, "std": std, "eps": kwargs.get("eps", 1e-6)}
            if isinstance(mean, list) or isinstance(std, list):
                step["axis"] = _complement_axis(letters, axes, where)
            return {"op": "fixed_zero_mean_unit_variance", "kwargs": step}
        return {"op": name, "kwargs": {"axes": axes, "eps": kwargs.get("eps", 1e-6)}}
    if name in ("scale_range", "scale_mean_variance"):
        axes = _axes_04(kwargs.get("axes"), where, mode)
        if axes is None and name == "scale_mean_variance" and mode != "per_dataset":
            axes = [LONG_AXIS_IDS.get(c, c) for c in letters if c != "b"]
        return {"op": name, "kwargs": {**kwargs, "axes": axes}}
    if name == "scale_linear":
        axes = _axes_04(kwargs.pop("axes", None), where)
        gain, offset = kwargs.get("gain", 1.0), kwargs.get("offset", 0.0)
        step = {"gain": gain, "offset": offset}
        if isinstance(gain, list) or isinstance(offset, list):
            step["axis"] = _complement_axis(letters, axes, where)
        return {"op": name, "kwargs": step}
    if name in ("binarize", "clip", "sigmoid"):
        return {"op": name, "kwargs": kwargs}
    raise DescriptionError(f"{where}.name: unknown processing {name!r}")


# ---------------------------------------------------------------- 0.5


def _tensors_05(rdf: dict[str, Any]) -> tuple[list[TensorPlan], list[TensorPlan]]:
    inputs = [_tensor_05(t, f"inputs.{i}", True) for i, t in enumerate(_list(rdf.get("inputs"), "inputs"))]
    outputs = [_tensor_05(t, f"outputs.{i}", False) for i, t in enumerate(_list(rdf.get("outputs"), "outputs"))]
    return inputs, outputs


def _tensor_05(raw: Any, where: str, is_input: bool) -> TensorPlan:
    raw = _mapping(raw, where)
    axes = [_axis_05(a, f"{where}.axes.{i}") for i, a in enumerate(_list(raw.get("axes"), f"{where}.axes"))]
    data = raw.get("data") or {}
    first = data[0] if isinstance(data, list) and data else data
    dtype = _dtype(first.get("type", "uint8" if "values" in first else "float32") if isinstance(first, dict)
                   else "float32", f"{where}.data.type")
    test = _mapping(raw.get("test_tensor"), f"{where}.test_tensor")
    key = "preprocessing" if is_input else "postprocessing"
    declared = [_step_05(s, f"{where}.{key}.{i}") for i, s in enumerate(raw.get(key) or [])]
    ends_open = not declared or declared[-1]["op"] not in ("ensure_dtype", "binarize")
    if is_input:
        steps = ([] if declared and declared[0]["op"] == "ensure_dtype" else [_ensure(dtype)]) + declared
        if ends_open:
            steps.append(_ensure(dtype))
    else:
        steps = declared + ([_ensure(dtype)] if ends_open else [])
    tensor_id = str(raw.get("id", "input" if is_input else "output"))
    return TensorPlan(tensor_id, axes, steps, FileRef(f"{where}.test_tensor.source", test.get("source"),
                                                    test.get("sha256")), dtype)


def _axis_05(raw: Any, where: str) -> dict[str, Any]:
    raw = _mapping(raw, where)
    kind = raw.get("type")
    if kind not in DEFAULT_AXIS_IDS:
        raise DescriptionError(f"{where}.type: unknown axis type {kind!r}")
    axis_id = str(raw.get("id") or DEFAULT_AXIS_IDS[kind])
    axis_id = LONG_AXIS_IDS.get(axis_id, axis_id)
    scale = raw.get("scale", 1.0)
    if kind == "batch":
        size: dict[str, Any] = {"kind": "batch", "value": raw.get("size")}
    elif kind == "channel":
        names = _list(raw.get("channel_names"), f"{where}.channel_names")
        size = {"kind": "fixed", "value": len(names)}
    else:
        size = _size_05(raw.get("size"), where)
    return {"id": axis_id, "type": kind, "size": size, "scale": float(scale), "halo": int(raw.get("halo") or 0)}


def _size_05(raw: Any, where: str) -> dict[str, Any]:
    if isinstance(raw, bool):
        raise DescriptionError(f"{where}.size: {raw!r} is not a size")
    if isinstance(raw, int | float) and raw == int(raw) and raw > 0:
        return {"kind": "fixed", "value": int(raw)}
    if isinstance(raw, dict) and "tensor_id" in raw:
        axis_id = str(raw.get("axis_id"))
        return {"kind": "ref", "tensor_id": str(raw["tensor_id"]), "axis_id": LONG_AXIS_IDS.get(axis_id, axis_id),
                "offset": int(raw.get("offset") or 0)}
    if isinstance(raw, dict) and "step" in raw:
        return {"kind": "param", "min": int(raw.get("min", 1)), "step": int(raw["step"])}
    if isinstance(raw, dict):
        return {"kind": "data_dependent", "min": int(raw.get("min", 1)), "max": raw.get("max")}
    raise DescriptionError(f"{where}.size: {raw!r} is not a size")


def _step_05(raw: Any, where: str) -> dict[str, Any]:
    raw = _mapping(raw, where)
    op = raw.get("id")
    kwargs = dict(_mapping(raw.get("kwargs") or {}, f"{where}.kwargs"))
    known = ("binarize", "clip", "ensure_dtype", "fixed_zero_mean_unit_variance", "scale_linear", "scale_mean_variance",
             "scale_range", "sigmoid", "softmax", "zero_mean_unit_variance")
    if op not in known:
        raise DescriptionError(f"{where}.id: unknown processing {op!r}")
    if "axes" in kwargs and kwargs["axes"] is not None:
        kwargs["axes"] = [LONG_AXIS_IDS.get(str(a), str(a)) for a in _list(kwargs["axes"], f"{where}.kwargs.axes")]
    if "axis" in kwargs:
        kwargs["axis"] = LONG_AXIS_IDS.get(str(kwargs["axis"]), str(kwargs["axis"]))
    if op == "ensure_dtype":
        kwargs["dtype"] = _dtype(kwargs.get("dtype"), f"{where}.kwargs.dtype")
    return {"op": op, "kwargs": kwargs}


# ---------------------------------------------------------------- shared


def _ensure(dtype: str) -> dict[str, Any]:
    return {"op": "ensure_dtype", "kwargs": {"dtype": dtype}}


def _dtype(value: Any, where: str) -> str:
    if value not in DTYPES:
        raise DescriptionError(f"{where}: {value!r} is not a known data type")
    return str(value)


def tolerance(plan: ModelPlan, weight_format: str, output_id: str) -> dict[str, Any]:
    """The reproducibility tolerance for one output and weights format, and where it came from."""
    bioimageio = plan.config.get("bioimageio") if isinstance(plan.config.get("bioimageio"), dict) else {}
    if plan.generation == "0.5":
        for i, entry in enumerate(bioimageio.get("reproducibility_tolerance") or []):
            if not isinstance(entry, dict):
                continue
            formats, outputs = entry.get("weights_formats") or [], entry.get("output_ids") or []
            if (not formats or weight_format in formats) and (not outputs or output_id in outputs):
                return {"relative_tolerance": float(entry.get("relative_tolerance", 1e-3)),
                        "absolute_tolerance": float(entry.get("absolute_tolerance", 1e-3)),
                        "mismatched_elements_per_million": int(entry.get("mismatched_elements_per_million", 100)),
                        "source": f"config.bioimageio.reproducibility_tolerance.{i}"}
    defaults = {"relative_tolerance": 1e-3, "absolute_tolerance": 1e-3,
                "mismatched_elements_per_million": 100 if plan.generation == "0.5" else 0,
                "source": f"defaults for model {plan.generation}"}
    legacy = (bioimageio.get("test_kwargs") or {}) if isinstance(bioimageio.get("test_kwargs"), dict) else {}
    kwargs = legacy.get(weight_format)
    if not isinstance(kwargs, dict) or not kwargs:
        return defaults
    result = {**defaults, "source": f"config.bioimageio.test_kwargs.{weight_format}"}
    if "decimal" in kwargs and plan.generation == "0.4":
        result.update(absolute_tolerance=1.5 * 10.0 ** -float(kwargs["decimal"]), relative_tolerance=0.0)
    result["absolute_tolerance"] = float(kwargs.get("absolute_tolerance", result["absolute_tolerance"]))
    result["relative_tolerance"] = float(kwargs.get("relative_tolerance", result["relative_tolerance"]))
    return result


def weight_files(plan: ModelPlan, weight_format: str) -> tuple[dict[str, FileRef], dict[str, Any]]:
    """The files to fetch for one weights format (keyed by role) and the runner's non-file settings."""
    entry = _mapping(plan.weights.get(weight_format), f"weights.{weight_format}")
    where = f"weights.{weight_format}"
    files = {"weights": FileRef(f"{where}.source", entry.get("source"), entry.get("sha256"))}
    settings: dict[str, Any] = {}
    if weight_format == "onnx" and isinstance(entry.get("external_data"), dict):
        ext = entry["external_data"]
        files["external_data"] = FileRef(f"{where}.external_data.source", ext.get("source"), ext.get("sha256"))
    if weight_format == "pytorch_state_dict":
        settings["architecture"] = _architecture(entry, where, files)
    return files, settings


def _architecture(entry: dict[str, Any], where: str, files: dict[str, FileRef]) -> dict[str, Any]:
    arch = entry.get("architecture")
    if isinstance(arch, dict) and "source" in arch:  # 0.5
        if not arch.get("sha256"):
            raise DescriptionError(f"{where}.architecture.sha256: required to run the architecture's code")
        files["architecture"] = FileRef(f"{where}.architecture.source", arch.get("source"), arch.get("sha256"))
        spec = {"callable": arch.get("callable"), "kwargs": arch.get("kwargs") or {}}
    elif isinstance(arch, str) and ":" in arch:  # 0.4 file-based: "file.py:Callable"
        source, _, callable_name = arch.rpartition(":")
        sha = entry.get("architecture_sha256")
        if not sha:
            raise DescriptionError(f"{where}.architecture_sha256: required for the file-based architecture {arch!r}")
        files["architecture"] = FileRef(f"{where}.architecture", source, sha)
        spec = {"callable": callable_name, "kwargs": entry.get("kwargs") or {}}
    elif isinstance(arch, dict) or (isinstance(arch, str) and "." in arch):  # `import_from`, "pkg.module.Callable"
        # Anything importable would do here, `os.system` included: only the model's own, hash-checked code runs.
        raise DescriptionError(f"{where}.architecture: {arch!r} names an installed module's callable; only a "
                               f"callable defined in the model's own architecture file (with its sha256) is run")
    else:
        raise DescriptionError(f"{where}.architecture: {arch!r} is neither 'file.py:Callable' nor 'module.Callable'")
    if not isinstance(spec["callable"], str) or not spec["callable"].isidentifier():
        raise DescriptionError(f"{where}.architecture: callable {spec['callable']!r} is not an identifier")
    if not isinstance(spec["kwargs"], dict):
        raise DescriptionError(f"{where}.architecture kwargs must be a mapping")
    return spec
