"""Builds the project's JSON Schemas (draft 2020-12) for every resource type and major format.

The shipped files in `collection_compiler/schemas/` are generated from here
(`python -m collection_compiler.validation.schema_builder`); a test keeps them in sync.
Schemas describe structure only (required keys, types, enums, unknown keys); cross-field rules live in
`semantic_*.py`. Property order follows the reference's field order, so errors sort like its errors do.
Numbers may be given as numeric strings (the reference coerces them); `coerce.py` converts afterwards.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from collection_compiler.adapters.files import json_text

DIALECT = "https://json-schema.org/draft/2020-12/schema"
BASE_ID = "https://bioimage-io.github.io/collection/schemas/"
NUMERIC = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$|^\s*[-+]?(inf|Infinity|\.inf)\s*$"
INTEGER = r"^\s*[-+]?\d+\s*$"

S = dict[str, Any]

STR: S = {"type": "string"}
NONEMPTY: S = {"type": "string", "minLength": 1}
BOOL: S = {"type": "boolean"}
# the reference coerces numeric strings and booleans to numbers (pydantic lax mode)
NUM: S = {"anyOf": [{"type": ["number", "boolean"]}, {"type": "string", "pattern": NUMERIC}], "x-expected": "a number"}
INT: S = {"anyOf": [{"type": ["integer", "boolean"]}, {"type": "string", "pattern": INTEGER}],
          "x-expected": "an integer"}
FILE: S = {"type": "string", "minLength": 1, "x-expected": "a file source (URL or relative path)"}
# 0.5.8+ also allows `{source, sha256}` wherever a file is named
FILE_OR_DESCR: S = {"anyOf": [FILE, {"$ref": "#/$defs/file_descr"}], "x-expected": "a file source or {source, sha256}"}
URL: S = {"type": "string", "pattern": "^https?://", "maxLength": 2083, "x-expected": "an http(s) URL"}
DICT: S = {"type": "object"}
VERSION: S = {"anyOf": [{"type": "string", "minLength": 1}, {"type": "number"}], "x-expected": "a version"}


def lst(item: S, min_items: int = 0) -> S:
    out: S = {"type": "array", "items": item}
    if min_items:
        out["minItems"] = min_items
    return out


def obj(props: dict[str, S], required: tuple[str, ...] = (), extra: bool = False) -> S:
    out: S = {"type": "object", "properties": dict(props)}  # a copy: nullable() rewrites it
    if required:
        out["required"] = list(required)
    if not extra:
        out["additionalProperties"] = False
    return nullable(out)


def one_or_list(item: S) -> S:
    return {"anyOf": [item, lst(item)], "x-expected": "a value or a list of values"}


def opt(schema: S) -> S:
    """An optional field that may also be given as null (the reference's `Optional[...] = None`)."""
    return {"anyOf": [{"type": "null"}, schema], "x-nullable": True,
            "x-expected": schema.get("x-expected", "null or " + _words(schema))}


def _words(schema: S) -> str:
    kind = schema.get("type") or ("a reference" if "$ref" in schema else "a value")
    return {"string": "a string", "object": "a mapping", "array": "a list"}.get(str(kind), str(kind))


def ref(name: str) -> S:
    return {"$ref": f"#/$defs/{name}"}


# optional fields the reference declares `Optional[...] = None` (null allowed); list fields default to [] instead
NULLABLE = frozenset({"attachments", "id_emoji", "git_repo", "id", "version", "version_number", "icon", "uploader",
                      "download_url", "rdf_source", "parent", "run_mode", "training_data", "license", "source",
                      "documentation", "version_comment", "data_range", "halo", "sha256", "architecture_sha256",
                      "pytorch_version", "tensorflow_version", "opset_version", "dependencies", "timestamp",
                      "email", "orcid", "github_user", "affiliation", "url", "doi", "comment", "external_data",
                      "sample_tensor", "test_tensor", "unit", "offset", "concatenable"})


def nullable(schema: S, required: tuple[str, ...] | list[str] = ()) -> S:
    """Let the NULLABLE optional properties of an object schema be null."""
    props = schema.get("properties", {})
    for key in props:
        if key in NULLABLE and key not in (schema.get("required") or required):
            props[key] = opt(props[key])
    return schema


# ---------------------------------------------------------------- shared definitions

AUTHOR_FIELDS = {"name": STR, "affiliation": STR, "email": STR, "orcid": STR, "github_user": STR}
COMMON_DEFS: dict[str, S] = {
    "author": obj(AUTHOR_FIELDS, ("name",)),
    "maintainer": obj({**AUTHOR_FIELDS, "name": opt(STR)}, ("github_user",)),
    "cite": obj({"text": STR, "doi": STR, "url": STR}, ("text",)),
    "badge": obj({"label": STR, "icon": STR, "url": URL}, ("label", "url")),
    "uploader": obj({"email": {"type": "string", "pattern": r"^[^@\s]+@[^@\s]+\.[^@\s]+$"}, "name": STR},
                    ("email",)),
}
V03_DEFS: dict[str, S] = {
    **COMMON_DEFS,
    "file_descr": obj({"source": FILE, "sha256": STR}, ("source",)),
    "linked": obj({"id": NONEMPTY, "version": VERSION, "version_number": INT}, ("id",)),
}


def generic_v02(kind: str) -> S:
    """Generic 0.2.4 fields; dataset/application/notebook add `source` rules; unknown types allow extras."""
    props: dict[str, S] = {
        "format_version": STR, "type": STR, "name": NONEMPTY, "description": STR,
        "covers": lst(FILE), "id_emoji": {**STR, "maxLength": 1}, "authors": lst(ref("author")),
        "attachments": obj({"files": lst(FILE)}, extra=True), "badges": lst(ref("badge")),
        "cite": lst(ref("cite")), "config": DICT, "documentation": FILE, "download_url": URL,
        "git_repo": STR, "icon": STR, "license": STR, "links": lst(STR), "uploader": ref("uploader"),
        "maintainers": lst(ref("maintainer")), "rdf_source": FILE, "tags": lst(STR), "version": VERSION,
        "version_number": INT, "id": NONEMPTY,
    }
    return _typed_generic(kind, props, ["format_version", "type", "name", "description"], COMMON_DEFS)


def generic_v03(kind: str) -> S:
    props: dict[str, S] = {
        "format_version": STR, "type": STR, "id": NONEMPTY, "id_emoji": {"type": "string", "minLength": 1},
        "name": {"type": "string", "minLength": 5, "maxLength": 128}, "description": {**STR, "maxLength": 1024},
        "covers": lst(ref("file_descr")), "authors": lst(ref("author")), "attachments": lst(ref("file_descr")),
        "cite": lst(ref("cite")), "license": STR, "config": obj({"bioimageio": DICT}, extra=True),
        "git_repo": URL, "icon": STR, "links": lst(STR), "uploader": ref("uploader"),
        "maintainers": lst(ref("maintainer")), "tags": lst(STR), "version": VERSION,
        "version_comment": {**STR, "maxLength": 512}, "badges": lst(ref("badge")), "documentation": ref("file_descr"),
        "parent": STR,
    }
    return _typed_generic(kind, props, ["format_version", "type", "name"], V03_DEFS)


def _typed_generic(kind: str, props: dict[str, S], required: list[str], defs: S) -> S:
    """The type-specific part shared by generic 0.2 and 0.3: `source` and the `type` constant."""
    props["source"] = URL if kind not in ("notebook", "application") else FILE
    if kind == "notebook":
        required.append("source")
    if kind != "generic":
        props["type"] = {"const": kind}
    schema = obj(props, tuple(required), extra=kind == "generic")
    return {**schema, "$defs": dict(defs)}


# ---------------------------------------------------------------- model 0.4

def _kwargs_v04(name: str) -> S:
    mode = {"enum": ["per_dataset", "per_sample"]}
    table: dict[str, S] = {
        "binarize": obj({"threshold": NUM}, ("threshold",)),
        "clip": obj({"min": NUM, "max": NUM}, ("min", "max")),
        "scale_linear": obj({"gain": one_or_list(NUM), "offset": one_or_list(NUM), "axes": STR}),
        "zero_mean_unit_variance": obj({"mode": {"enum": ["fixed", "per_dataset", "per_sample"]}, "axes": STR,
                                        "mean": one_or_list(NUM), "std": one_or_list(NUM), "eps": NUM},
                                       ("axes",)),
        "scale_range": obj({"mode": mode, "axes": STR, "min_percentile": NUM, "max_percentile": NUM,
                            "eps": NUM, "reference_tensor": STR}, ("mode", "axes")),
        "scale_mean_variance": obj({"mode": mode, "reference_tensor": STR, "axes": STR, "eps": NUM},
                                   ("mode", "reference_tensor")),
    }
    return table[name]


PRE_V04 = ["binarize", "clip", "scale_linear", "sigmoid", "zero_mean_unit_variance", "scale_range"]
POST_V04 = [*PRE_V04, "scale_mean_variance"]


def processing(names: list[str], kwargs_for: Any, key: str, optional_kwargs: tuple[str, ...]) -> S:
    """A `{<key>: name, kwargs}` step whose kwargs schema is chosen by name (sigmoid has no kwargs at all)."""
    branches = []
    for n in names:
        if n == "sigmoid":
            then: S = {"properties": {"kwargs": {"not": {}, "x-forbidden": True}}}
        else:
            then = {"properties": {"kwargs": kwargs_for(n)}}
            if n not in optional_kwargs:
                then["required"] = ["kwargs"]
        branches.append({"if": {"properties": {key: {"const": n}}, "required": [key]}, "then": then})
    return {**obj({key: {"enum": names}, "kwargs": DICT}, (key,)), "allOf": branches}


WEIGHT_FORMATS = ["keras_hdf5", "onnx", "pytorch_state_dict", "tensorflow_js", "tensorflow_saved_model_bundle",
                  "torchscript"]


def _weights_v04() -> S:
    common = {"source": FILE, "sha256": STR, "authors": opt(lst(ref("author"))),
              "attachments": obj({"files": lst(FILE)}, extra=True),
              "dependencies": {"type": "string", "pattern": "^.+:.+$"},
              "parent": {"enum": WEIGHT_FORMATS}}
    specific = {
        "keras_hdf5": {"tensorflow_version": VERSION},
        "onnx": {"opset_version": {**INT}},
        "pytorch_state_dict": {"architecture": NONEMPTY, "architecture_sha256": STR, "kwargs": DICT,
                               "pytorch_version": VERSION},
        "tensorflow_js": {"tensorflow_version": VERSION},
        "tensorflow_saved_model_bundle": {"tensorflow_version": VERSION},
        "torchscript": {"pytorch_version": VERSION},
    }
    req = {"pytorch_state_dict": ("source", "architecture")}
    props = {wf: opt(obj({**common, **specific[wf]}, req.get(wf, ("source",)))) for wf in WEIGHT_FORMATS}
    return {**obj(props), "minProperties": 1}


def model_v04() -> S:
    int_list = lst(INT)
    tensor_common = {"name": STR, "description": STR, "axes": STR, "data_range": lst(NUM)}
    input_shape = {"anyOf": [int_list, obj({"min": int_list, "step": int_list}, ("min", "step"))],
                   "x-expected": "a list of integers or {min, step}"}
    output_shape = {"anyOf": [int_list, obj({"reference_tensor": STR, "scale": lst({"anyOf": [NUM, {"type": "null"}]}),
                                             "offset": lst(NUM)}, ("reference_tensor", "scale", "offset"))],
                    "x-expected": "a list of integers or {reference_tensor, scale, offset}"}
    inp = obj({**tensor_common, "data_type": {"enum": ["float32", "uint8", "uint16"]}, "shape": input_shape,
               "preprocessing": lst(processing(PRE_V04, _kwargs_v04, "name", ()))},
              ("name", "axes", "data_type", "shape"))
    out = obj({**tensor_common, "data_type": {"enum": ["float32", "float64", "uint8", "int8", "uint16", "int16",
                                                       "uint32", "int32", "uint64", "int64", "bool"]},
               "shape": output_shape, "halo": int_list,
               "postprocessing": lst(processing(POST_V04, _kwargs_v04, "name", ()))},
              ("name", "axes", "data_type", "shape"))
    props: dict[str, S] = {
        "format_version": STR, "type": {"const": "model"}, "name": NONEMPTY, "description": STR,
        "covers": lst(FILE), "id_emoji": {**STR, "maxLength": 1}, "authors": lst(ref("author"), 1),
        "attachments": obj({"files": lst(FILE)}, extra=True), "cite": lst(ref("cite")), "config": DICT,
        "download_url": URL, "git_repo": STR, "icon": STR, "links": lst(STR), "uploader": ref("uploader"),
        "maintainers": lst(ref("maintainer")), "rdf_source": FILE, "tags": lst(STR), "version": VERSION,
        "version_number": INT, "id": NONEMPTY, "documentation": FILE, "inputs": lst(inp, 1), "license": STR,
        "outputs": lst(out, 1), "packaged_by": lst(ref("author")), "parent": DICT,
        "run_mode": obj({"name": STR, "kwargs": DICT}, ("name",)), "sample_inputs": lst(FILE),
        "sample_outputs": lst(FILE), "test_inputs": lst(FILE, 1), "test_outputs": lst(FILE, 1),
        "timestamp": STR, "training_data": DICT, "weights": _weights_v04(),
    }
    required = ("format_version", "type", "name", "description", "authors", "documentation", "inputs", "license",
                "outputs", "test_inputs", "test_outputs", "timestamp", "weights")
    return {**obj(props, required), "$defs": dict(COMMON_DEFS)}


# ---------------------------------------------------------------- model 0.5

def _kwargs_v05(name: str) -> S:
    axes = lst(STR)
    table: dict[str, S] = {
        "binarize": {"anyOf": [obj({"threshold": NUM}, ("threshold",)),
                               obj({"threshold": lst(NUM, 1), "axis": STR}, ("threshold", "axis"))],
                     "x-expected": "{threshold} or {threshold: [..], axis}"},
        "clip": obj({"min": NUM, "max": NUM, "min_percentile": NUM, "max_percentile": NUM, "axes": axes}),
        "ensure_dtype": obj({"dtype": {"enum": ["float32", "float64", "uint8", "int8", "uint16", "int16", "uint32",
                                                "int32", "uint64", "int64", "bool"]}}, ("dtype",)),
        "fixed_zero_mean_unit_variance": obj({"mean": one_or_list(NUM), "std": one_or_list(NUM), "axis": STR},
                                             ("mean", "std")),
        "scale_linear": obj({"gain": one_or_list(NUM), "offset": one_or_list(NUM), "axis": STR}),
        "scale_mean_variance": obj({"reference_tensor": STR, "axes": axes, "eps": NUM}, ("reference_tensor",)),
        "scale_range": obj({"axes": axes, "min_percentile": NUM, "max_percentile": NUM, "eps": NUM,
                            "reference_tensor": STR}),
        "softmax": obj({"axis": STR}),
        "zero_mean_unit_variance": obj({"axes": axes, "eps": NUM}),
    }
    return table[name]


PROC_V05 = ["binarize", "clip", "ensure_dtype", "fixed_zero_mean_unit_variance", "scale_linear", "scale_range",
            "sigmoid", "softmax", "zero_mean_unit_variance"]
POST_V05 = [*PROC_V05, "scale_mean_variance"]
OPTIONAL_KWARGS_V05 = ("scale_range", "softmax", "zero_mean_unit_variance")
DTYPES_V05 = ["float32", "float64", "uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64", "bool"]


SI_PREFIXES = ("atto", "femto", "pico", "nano", "micro", "milli", "centi", "deci", "", "deca", "hecto", "kilo",
               "mega", "giga", "tera", "peta", "exa", "zetta", "yotta", "zepto", "yocto")
SPACE_UNITS = [p + "meter" for p in SI_PREFIXES] + ["angstrom", "inch", "foot", "yard", "mile", "parsec"]
TIME_UNITS = [p + "second" for p in SI_PREFIXES] + ["minute", "hour", "day"]


def _axis_v05(output: bool) -> S:
    size_ref = obj({"tensor_id": STR, "axis_id": STR, "offset": {"type": "integer"}}, ("tensor_id", "axis_id"))
    param = obj({"min": INT, "step": INT}, ("min", "step"))
    data_dep = obj({"min": INT, "max": {"anyOf": [INT, {"type": "null"}]}})
    sized = [INT, size_ref, data_dep] if output else [INT, param, size_ref]
    size: S = {"anyOf": sized, "x-expected": "an integer, " + ("{tensor_id, axis_id}, {min, max}" if output
                                                               else "{min, step}, {tensor_id, axis_id}")}
    common = {"type": STR, "id": STR, "description": {**STR, "maxLength": 128}}
    variants = {
        "batch": obj({**common, "size": {"anyOf": [{"const": 1}, {"type": "null"}]}}),
        "channel": obj({**common, "channel_names": lst(STR, 1)}, ("channel_names",)),
        "index": obj({**common, "size": size, **({} if output else {"concatenable": BOOL})}, ("size",)),
        "time": obj({**common, "size": size, "unit": {"enum": TIME_UNITS}, "scale": NUM, "halo": INT,
                     **({} if output else {"concatenable": BOOL})}, ("size",)),
        "space": obj({**common, "size": size, "unit": {"enum": SPACE_UNITS}, "scale": NUM, "halo": INT,
                      **({} if output else {"concatenable": BOOL})}, ("size",)),
    }
    branches = [{"if": {"properties": {"type": {"const": k}}, "required": ["type"]}, "then": v}
                for k, v in variants.items()]
    return {"type": "object", "required": ["type"],
            "properties": {"type": {"enum": list(variants)}}, "allOf": branches}


def _data_v05() -> S:
    interval = obj({"type": {"enum": DTYPES_V05[:-1]}, "range": lst({"anyOf": [NUM, {"type": "null"}]}),
                    "unit": STR, "scale": NUM, "offset": {"anyOf": [NUM, {"type": "null"}]}})
    nominal = obj({"values": lst({"type": ["number", "string", "boolean"]}, 1), "type": {"enum": DTYPES_V05},
                   "unit": STR}, ("values",))
    one: S = {"anyOf": [nominal, interval], "x-expected": "a data description"}
    return {"anyOf": [one, lst(one, 1)], "x-expected": "a data description or a list of them"}


def _tensor_v05(output: bool) -> S:
    props: dict[str, S] = {
        "id": STR, "description": {**STR, "maxLength": 128}, "axes": lst(_axis_v05(output), 1),
        "test_tensor": ref("file_descr"), "sample_tensor": ref("file_descr"), "data": _data_v05(),
    }
    if output:
        props["postprocessing"] = lst(processing(POST_V05, _kwargs_v05, "id", OPTIONAL_KWARGS_V05))
    else:
        props["optional"] = BOOL
        props["preprocessing"] = lst(processing(PROC_V05, _kwargs_v05, "id", OPTIONAL_KWARGS_V05))
    return obj(props, ("axes",))


def _weights_v05() -> S:
    common = {"source": FILE_OR_DESCR, "sha256": STR, "authors": opt(lst(ref("author"))),
              "parent": {"enum": WEIGHT_FORMATS}, "comment": STR}
    arch = {"anyOf": [obj({"source": FILE, "sha256": STR, "callable": STR, "kwargs": DICT}, ("source", "callable")),
                      obj({"import_from": STR, "callable": STR, "kwargs": DICT}, ("import_from", "callable"))],
            "x-expected": "{source, callable, kwargs} or {import_from, callable, kwargs}"}
    specific = {
        "keras_hdf5": ({"tensorflow_version": VERSION}, ("tensorflow_version",)),
        "onnx": ({"opset_version": INT, "external_data": ref("file_descr")}, ("opset_version",)),
        "pytorch_state_dict": ({"architecture": arch, "pytorch_version": VERSION, "dependencies": ref("file_descr")},
                               ("architecture", "pytorch_version")),
        "tensorflow_js": ({"tensorflow_version": VERSION}, ("tensorflow_version",)),
        "tensorflow_saved_model_bundle": ({"tensorflow_version": VERSION, "dependencies": ref("file_descr")},
                                          ("tensorflow_version",)),
        "torchscript": ({"pytorch_version": VERSION}, ("pytorch_version",)),
    }
    props = {wf: opt(obj({**common, **fields}, ("source", *req))) for wf, (fields, req) in specific.items()}
    return {**obj(props), "minProperties": 1}


def _config_v05() -> S:
    tolerance = obj({"relative_tolerance": {**NUM, "minimum": 0, "maximum": 0.01},
                     "absolute_tolerance": {**NUM, "minimum": 0},
                     "mismatched_elements_per_million": {**INT, "minimum": 0, "maximum": 1000},
                     "output_ids": lst(STR), "weights_formats": lst(STR)}, extra=True)
    return obj({"bioimageio": obj({"reproducibility_tolerance": lst(tolerance)}, extra=True)}, extra=True)


def model_v05() -> S:
    base = generic_v03("model")
    props = {k: v for k, v in base["properties"].items() if k not in ("badges", "source")}
    props.update({
        "covers": lst(ref("file_descr")), "documentation": ref("file_descr"),  # strings converted up to 0.5.10
        "type": {"const": "model"}, "inputs": lst(_tensor_v05(False), 1), "outputs": lst(_tensor_v05(True), 1),
        "packaged_by": lst(ref("author")), "parent": ref("linked"), "run_mode": obj({"name": STR, "kwargs": DICT},
                                                                                    ("name",)),
        "timestamp": STR, "training_data": {"anyOf": [ref("linked"), DICT], "x-expected": "{id} or a dataset"},
        "weights": _weights_v05(), "version_number": INT, "config": _config_v05(),
    })
    props["name"] = {"type": "string", "minLength": 5, "maxLength": 128}
    return {**obj(props, ("format_version", "type", "name", "inputs", "outputs", "weights")), "$defs": dict(V03_DEFS)}


# ---------------------------------------------------------------- collections and summaries

def collection(major: str) -> S:
    base = generic_v02("collection") if major == "0.2" else generic_v03("collection")
    key = "rdf_source" if major == "0.2" else "entry_source"
    entry = obj({key: FILE, "id": STR, **({"entry_sha256": STR} if major == "0.3" else {})}, extra=True)
    props = {**base["properties"], "type": {"const": "collection"}, "collection": lst(entry, 1)}
    props.pop("source", None)
    return {**obj(props, ("format_version", "type", "name", "description", "collection"), extra=True),
            "$defs": base["$defs"]}


STATUS = {"enum": ["passed", "valid-format", "failed", "not-applicable"]}


def _sub_summary() -> S:
    issue = obj({"loc": lst({"type": ["string", "integer"]}), "msg": STR, "type": STR, "severity": INT},
                ("loc", "msg"), extra=True)
    return obj({"name": STR, "status": STATUS, "error": {"type": ["string", "object", "null"]},
                "errors": lst(issue), "warnings": {"type": ["array", "object", "null"]},
                "traceback": {"type": ["array", "string", "null"]}, "nested_errors": {"type": ["object", "null"]},
                "loc": lst({"type": ["string", "integer"]}), "source_name": STR,
                "checker": STR, "checker_version": STR},  # ours: what produced it (`catalogue.results`)
               ("name", "status"), extra=True)


def test_summary() -> S:
    by_tester = {"type": "object", "additionalProperties": lst(ref("sub_summary"))}
    return {**obj({"rdf_sha256": STR, "status": STATUS, "tests": by_tester,
                   "statuses": {"type": "object", "additionalProperties": STR},
                   "tester_versions": {"type": "object", "additionalProperties": {"type": "object"}},
                   "stale_testers": lst(STR), "bioimageio_spec_version": STR, "bioimageio_core_version": STR},
                  ("status", "tests"), extra=True), "$defs": {"sub_summary": _sub_summary()}}


def partner_test_summary() -> S:
    """A partner's `test_summary_*.yaml`: one sub-summary, or a list of them."""
    return {"anyOf": [ref("sub_summary"), lst(ref("sub_summary"))], "$defs": {"sub_summary": _sub_summary()}}


# ---------------------------------------------------------------- registry

SCHEMAS: dict[str, Any] = {
    "model_0.4": model_v04, "model_0.5": model_v05,
    **{f"{k}_0.2": (lambda k=k: generic_v02(k)) for k in ("generic", "dataset", "application", "notebook")},
    **{f"{k}_0.3": (lambda k=k: generic_v03(k)) for k in ("generic", "dataset", "application", "notebook")},
    "collection_0.2": lambda: collection("0.2"), "collection_0.3": lambda: collection("0.3"),
    "test_summary": test_summary, "partner_test_summary": partner_test_summary,
}


def build(name: str) -> S:
    schema = SCHEMAS[name]()
    return {"$schema": DIALECT, "$id": f"{BASE_ID}{name}.schema.json", "title": name, **schema}


def write_all(folder: Path) -> list[Path]:
    written = []
    for name in sorted(SCHEMAS):
        path = folder / f"{name}.schema.json"
        path.write_text(json_text(build(name)), "utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent.parent / "schemas"
    for p in write_all(target):
        print(p)
