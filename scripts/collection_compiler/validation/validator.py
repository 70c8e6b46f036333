"""`validate_rdf`: load, normalise, dispatch, schema, field and model rules, warnings, optional file checks."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

from collection_compiler.adapters import yamlio
from collection_compiler.settings import Settings
from collection_compiler.validation import common_checks as cc
from collection_compiler.validation import semantic_v04, semantic_v05, values
from collection_compiler.validation.convert import Dispatched, DispatchError, dispatch
from collection_compiler.validation.result import ALERT, INFO, WARNING, Detail, Issue, ValidationResult
from collection_compiler.validation.schema_errors import property_order, schema_issues, sort_issues

log = logging.getLogger(__name__)

# bump whenever a rule changes: results are reused per (rdf sha256, VALIDATOR_VERSION)
VALIDATOR_VERSION = "1.1.0"
CHECKER = "static-validation"
COVERS_V02 = (".gif", ".jpeg", ".jpg", ".png", ".svg", ".tif", ".tiff")
COVERS_V03 = (".gif", ".jpeg", ".jpg", ".png", ".svg")
FINITE_EXCEPTIONS_V04 = (("inputs", "*", "data_range"), ("outputs", "*", "data_range"))
FINITE_EXCEPTIONS_V05 = (("inputs", "*", "data", "range"), ("outputs", "*", "data", "range"),
                         ("inputs", "*", "data", "*", "range"), ("outputs", "*", "data", "*", "range"))


def validate_rdf(data: dict[str, Any] | bytes, *, source: str = "<rdf>", root: str | Path | None = None,
                 perform_io: bool = False, settings: Settings | None = None, http: Any = None) -> ValidationResult:
    """Validate one resource description; never raises for bad input.

    `data` is the parsed YAML mapping or the raw bytes of `rdf.yaml`. `root` is the folder or URL that relative
    file references resolve against. With `perform_io`, referenced files are checked (existence, sha256,
    `.npy` test tensors), downloads going through `http` (an `HttpClient`) when given.
    """
    settings = settings or Settings()
    token = values.ZENODO_API.set(settings.zenodo_api)
    try:
        return _validate(data, source, root, perform_io, settings, http)
    except Exception as e:  # a bug must not stop the run for every other description
        log.exception("validator crashed on %s", source)
        detail = Detail("static validation", [Issue((), f"internal validator error: {type(e).__name__}: {e}",
                                                     "internal_error")])
        return ValidationResult(source, None, None, [detail])
    finally:
        values.ZENODO_API.reset(token)


def _validate(data: dict[str, Any] | bytes, source: str, root: str | Path | None, perform_io: bool,
              settings: Settings, http: Any) -> ValidationResult:
    if isinstance(data, bytes | bytearray):
        try:
            data = yamlio.load_mapping(bytes(data), source, settings.max_yaml_bytes)
        except yamlio.YamlLoadError as e:
            return ValidationResult(source, None, None, [Detail("load resource description",
                                                                [Issue((), str(e), "load_error")])])
    if not isinstance(data, dict):
        msg = f"{source}: the top level must be a mapping, not {yamlio.type_name(data)}"
        return ValidationResult(source, None, None, [Detail("load resource description", [Issue((), msg)])])
    raw = normalise(data)
    try:
        d = dispatch(raw)
    except DispatchError as e:
        return ValidationResult(source, _str(raw.get("type")), _str(raw.get("format_version")),
                                [Detail("extract fields to chose description class", [e.issue])])
    detail = format_detail(d)
    details = [detail]
    if perform_io and not detail.errors:
        from collection_compiler.validation.io_checks import file_detail

        details.append(file_detail(d, root, settings, http))
    return ValidationResult(source, d.type, d.format_version, details)


def format_detail(d: Dispatched) -> Detail:
    """Structure, field rules, then model-level rules (only when the fields are valid), then warnings."""
    out = cc.Collector(errors=list(d.errors), warnings=list(d.warnings))
    _field_checks(d, out)
    issues = sort_issues([*schema_issues(d.schema, d.data), *out.errors], property_order(d.schema))
    out.errors = []
    if not issues:
        _model_checks(d, out)
        issues = out.errors
    if d.schema == "model_0.5" and d.warnings and d.warnings[0].type == "future_format_version":
        issues = _downgrade_unknown_fields(issues, out)
    if d.schema.startswith("model_"):
        issues = [_tag_processing(i, d.data, "name" if d.schema == "model_0.4" else "id") for i in issues]
    if d.schema == "model_0.5":
        issues = [_tag_axis(i, d.data) for i in issues]
    _warnings(d, out)
    name = f"static validation of {d.type} RDF {d.format_version}"
    if d.implemented != d.format_version:
        name += f" (as {d.implemented})"
    return Detail(name, issues, out.warnings)


def _downgrade_unknown_fields(issues: list[Issue], out: cc.Collector) -> list[Issue]:
    """A newer 0.5 patch may add fields we do not know yet: report them as warnings, not errors (brief §2.9)."""
    kept = []
    for issue in issues:
        if issue.type == "extra_forbidden":
            out.warn(issue.loc, "unknown field (maybe added by a newer format patch)", ALERT, "extra_forbidden")
        else:
            kept.append(issue)
    return kept


def _tag_axis(issue: Issue, data: dict[str, Any]) -> Issue:
    """Insert the axis type (and for output space/time axes `with_halo`/`wo_halo`) after its index (0.5)."""
    loc = issue.loc
    if len(loc) > 4 and loc[0] in ("inputs", "outputs") and loc[2] == "axes":
        try:
            axis = data[loc[0]][loc[1]]["axes"][loc[3]]
        except (KeyError, IndexError, TypeError):
            return issue
        kind = axis.get("type") if isinstance(axis, dict) else None
        if isinstance(kind, str) and loc[4] != kind:
            tags: tuple[str, ...] = (kind,)
            if loc[0] == "outputs" and kind in ("space", "time"):
                tags += ("with_halo" if "halo" in axis else "wo_halo",)
            issue.loc = (*loc[:4], *tags, *loc[4:])
    return issue


def _tag_processing(issue: Issue, data: dict[str, Any], key: str) -> Issue:
    """Insert the step's name after its index, as the reference's tagged unions do: `…preprocessing.0.clip.kwargs`."""
    loc = issue.loc
    if len(loc) > 4 and loc[0] in ("inputs", "outputs") and loc[2] in ("preprocessing", "postprocessing"):
        try:
            step = data[loc[0]][loc[1]][loc[2]][loc[3]]
        except (KeyError, IndexError, TypeError):
            return issue
        tag = step.get(key) if isinstance(step, dict) else None
        if isinstance(tag, str) and loc[4] != tag:
            issue.loc = (*loc[:4], tag, *loc[4:])
    return issue


def _field_checks(d: Dispatched, out: cc.Collector) -> None:
    data, family = d.data, d.schema.rsplit("_", 1)[0]
    v03 = d.major in ("0.3", "0.5")
    cc.check_people(data, out, v03=v03)
    cc.check_cite(data, out, v03=v03)  # 0.2/0.4 cite urls are plain strings
    cc.check_license(data, out, unknown_is_error=v03)
    cc.check_id(data, out, lowercase_first=not v03)  # 0.2/0.4 lowercase the id first
    cc.check_timestamp(data, out)
    cc.check_sha256_lengths(data, out)
    cc.check_training_data(data, out)
    cc.check_version(data, out)
    cc.check_covers(data, out, COVERS_V03 if v03 else COVERS_V02)
    if d.schema == "model_0.4":
        cc.check_finite(data, (), out, FINITE_EXCEPTIONS_V04)
        semantic_v04.field_checks(data, out)
    elif d.schema == "model_0.5":
        cc.check_finite(data, (), out, FINITE_EXCEPTIONS_V05)
        semantic_v05.field_checks(data, out)
    else:
        cc.check_finite(data, (), out)
    if family == "notebook":
        from collection_compiler.validation import values

        problem = values.suffix_problem(data.get("source"), (".ipynb",))
        if problem:
            out.error(("source",), f"Value error, {problem}")
    if v03:
        _v03_fields(data, out)


def _v03_fields(data: dict[str, Any], out: cc.Collector) -> None:
    from collection_compiler.validation import values

    name = data.get("name")
    if isinstance(name, str) and not values.NAME_V03.match(name):
        out.error(("name",), "Value error, name may only contain letters, digits, '_', '+', '-', ' ', '(' and ')'")
    doc = data.get("documentation")
    doc = doc.get("source") if isinstance(doc, dict) else doc
    problem = values.suffix_problem(doc, (".md",)) if doc is not None else None
    if problem:
        out.error(("documentation",), f"Value error, {problem}")
    emoji = data.get("id_emoji")
    if isinstance(emoji, str) and not 1 <= len(emoji) <= 2:
        out.error(("id_emoji",), "String should have 1 or 2 characters")


def _model_checks(d: Dispatched, out: cc.Collector) -> None:
    if d.schema == "model_0.4":
        semantic_v04.model_checks(d.data, out)
    elif d.schema == "model_0.5":
        semantic_v05.model_checks(d.data, out)
    elif d.schema.startswith("collection_"):
        _collection_checks(d.data, out)


def _collection_checks(data: dict[str, Any], out: cc.Collector) -> None:
    seen: set[str] = set()
    for i, entry in enumerate(cc.as_list(data.get("collection"))):
        entry_id = cc.as_dict(entry).get("id")
        if cc.as_dict(entry).get("type") == "collection":
            out.error(("collection", i, "type"), "Value error, collections may not be nested")
        if isinstance(entry_id, str):
            if entry_id in seen:
                out.error(("collection", i, "id"), f"Value error, Duplicate collection entry id '{entry_id}'")
            seen.add(entry_id)


def _warnings(d: Dispatched, out: cc.Collector) -> None:
    data = d.data
    if d.schema == "model_0.4":
        cc.name_warnings(data, out, 64)
        semantic_v04.warnings(data, out)
        cc.tag_warnings(data, out)
    elif d.schema == "model_0.5":
        cc.name_warnings(data, out, 64)
        cc.fair_warnings(data, out, ("description", "authors", "cite", "license", "documentation", "tags"))
        semantic_v05.warnings(data, out)
        cc.tag_warnings(data, out)
    elif d.major == "0.3":
        keys = ("description", "authors", "cite", "license", "tags", "documentation")
        if d.schema.split("_")[0] in ("application", "dataset"):
            keys += ("source",)
        cc.fair_warnings(data, out, keys)
    else:
        if isinstance(data.get("name"), str) and len(data["name"]) > 128:
            out.warn(("name",), "name longer than 128 characters", INFO)
        if not data.get("cite"):
            out.warn(("cite",), "missing citation ('cite')", INFO, "fair")
        if "license" not in data:
            out.warn(("license",), "missing license", WARNING, "fair")


def normalise(value: Any) -> Any:
    """Plain data for checking: keys to strings, dates to ISO strings; numbers (inf/nan too) kept as numbers."""
    if isinstance(value, dict):
        return {str(k): normalise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [normalise(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None
