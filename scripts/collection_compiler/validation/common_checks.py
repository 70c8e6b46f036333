"""Field checks shared by every resource type (the reference's field validators) and the FAIR warnings."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from collection_compiler.validation import values
from collection_compiler.validation.result import ALERT, INFO, WARNING, Issue, Loc

# a few known tags per model category: a model should carry at least one of each (warning only)
TAG_CATEGORIES: dict[str, frozenset[str]] = {
    "dims": frozenset({"2d", "3d", "2d-t", "3d-t"}),
    "framework": frozenset({"pytorch", "tensorflow", "keras", "onnx", "torchscript", "tensorflow.js"}),
}


@dataclass
class Collector:
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)

    def error(self, loc: Loc, msg: str, kind: str = "value_error") -> None:
        self.errors.append(Issue(loc, msg, kind))

    def warn(self, loc: Loc, msg: str, severity: int = WARNING, kind: str = "warning") -> None:
        self.warnings.append(Issue(loc, msg, kind, severity))


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def check_people(data: dict[str, Any], out: Collector, v03: bool) -> None:
    for key in ("authors", "maintainers", "packaged_by"):
        for i, person in enumerate(as_list(data.get(key))):
            if not isinstance(person, dict):
                continue
            orcid = person.get("orcid")
            if isinstance(orcid, str) and not values.orcid_ok(orcid):
                out.error((key, i, "orcid"), f"'{orcid}' is not a valid ORCID iD")
            email = person.get("email")
            if isinstance(email, str) and not values.EMAIL.match(email):
                out.error((key, i, "email"), f"value is not a valid email address: '{email}'")
            name = person.get("name")
            if v03 and isinstance(name, str) and ("/" in name or "\\" in name):
                out.error((key, i, "name"), "Value error, name must not contain '/' or '\\'")


def check_cite(data: dict[str, Any], out: Collector, v03: bool) -> None:
    cite = data.get("cite")
    for i, entry in enumerate(as_list(cite)):
        if not isinstance(entry, dict):
            continue
        url = entry.get("url")
        if v03 and url is not None and not (isinstance(url, str) and re.match(r"^https?://[^\s/]+", url)):
            out.error(("cite", i, "url"), "Input should be a valid URL", "url_parsing")
        doi = entry.get("doi")
        if isinstance(doi, str) and not values.DOI.match(doi):
            out.error(("cite", i, "doi"), f"String should match pattern '{values.DOI.pattern}'",
                      "string_pattern_mismatch")
        elif entry.get("doi") is None and entry.get("url") is None:
            out.error(("cite", i), "Value error, Either 'doi' or 'url' is required")


def check_license(data: dict[str, Any], out: Collector, unknown_is_error: bool) -> None:
    lic = data.get("license")
    if not isinstance(lic, str):
        return
    current, deprecated = values.spdx()
    if lic in deprecated:
        out.warn(("license",), f"'{lic}' is a deprecated SPDX license id", WARNING, "deprecated_license")
    elif lic not in current:
        if unknown_is_error:
            out.error(("license",), f"'{lic}' is not a valid SPDX license id", "literal_error")
        else:
            out.warn(("license",), f"Unknown license id '{lic}' (not an SPDX id)", WARNING, "unknown_license")


def check_id(data: dict[str, Any], out: Collector, lowercase_first: bool) -> None:
    rid = data.get("id")
    if isinstance(rid, str):
        problem = values.resource_id_problem(rid, lowercase_first)
        if problem:
            out.error(("id",), f"Value error, id {problem}")


def check_sha256_lengths(data: Any, out: Collector) -> None:
    """Every `sha256`/`architecture_sha256` outside `config` must be 64 characters long (after stripping)."""
    stack: list[tuple[Any, Loc]] = [(data, ())]
    while stack:
        node, loc = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if loc == () and key == "config":
                    continue
                if key in ("sha256", "architecture_sha256") and isinstance(value, str) and len(value.strip()) != 64:
                    out.error((*loc, key), f"String should have {'at least' if len(value.strip()) < 64 else 'at most'}"
                                           " 64 characters", "string_length")
                else:
                    stack.append((value, (*loc, key)))
        elif isinstance(node, list):
            stack.extend((v, (*loc, i)) for i, v in enumerate(node))


def check_training_data(data: dict[str, Any], out: Collector) -> None:
    """A linked dataset needs an `id`; an inline one is a full dataset description."""
    td = data.get("training_data")
    if isinstance(td, dict) and "id" not in td and "type" not in td:
        out.error(("training_data", "id"), "Field required", "missing")


def check_timestamp(data: dict[str, Any], out: Collector) -> None:
    ts = data.get("timestamp")
    if isinstance(ts, str) and not values.iso_datetime_ok(ts):
        out.error(("timestamp",), f"Value error, '{ts}' is not an ISO 8601 date or date-time")


def check_version(data: dict[str, Any], out: Collector) -> None:
    """`version` and the weights' framework versions must be PEP 440 versions."""
    candidates: list[tuple[tuple[Any, ...], Any]] = [(("version",), data.get("version"))]
    for wf, entry in as_dict(data.get("weights")).items():
        for key in ("pytorch_version", "tensorflow_version"):
            candidates.append((("weights", wf, key), as_dict(entry).get(key)))
    for loc, version in candidates:
        if isinstance(version, str | int | float) and not isinstance(version, bool) and not values.version_ok(version):
            out.error(loc, f"Value error, Invalid version: '{version}'")


def check_covers(data: dict[str, Any], out: Collector, suffixes: tuple[str, ...]) -> None:
    for i, cover in enumerate(as_list(data.get("covers"))):
        cover = cover.get("source") if isinstance(cover, dict) else cover
        problem = values.suffix_problem(cover, suffixes, case_sensitive=False)
        if problem:
            out.error(("covers", i), f"Value error, {problem}")


def check_finite(value: Any, loc: Loc, out: Collector, allow: tuple[Loc, ...] = ()) -> None:
    """inf/nan are rejected everywhere except in data ranges (the reference's rule); iterative walk."""
    stack: list[tuple[Any, Loc]] = [(value, loc)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, dict):
            if where in (("config",),):
                continue  # config is free-form YAML
            stack.extend((v, (*where, k)) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, (*where, i)) for i, v in enumerate(node))
        elif isinstance(node, float) and not math.isfinite(node) and not any(_matches(where, a) for a in allow):
            out.error(where, "Input should be a finite number", "finite_number")


def _matches(loc: Loc, pattern: Loc) -> bool:
    """`*` in a pattern matches any list index."""
    return len(loc) >= len(pattern) and all(p == "*" or p == x for p, x in zip(pattern, loc, strict=False))


def fair_warnings(data: dict[str, Any], out: Collector, keys: tuple[str, ...], severity: int = ALERT) -> None:
    for key in keys:
        if not data.get(key):
            out.warn((key,), f"missing or empty '{key}' (needed to make the resource FAIR)", severity, "fair")


def name_warnings(data: dict[str, Any], out: Collector, max_len: int) -> None:
    name = data.get("name")
    if isinstance(name, str) and (len(name) < 5 or len(name) > max_len):
        out.warn(("name",), f"name should be 5 to {max_len} characters long", INFO)


def tag_warnings(data: dict[str, Any], out: Collector) -> None:
    tags = {t.lower() for t in as_list(data.get("tags")) if isinstance(t, str)}
    for category, known in TAG_CATEGORIES.items():
        if not tags & known:
            out.warn(("tags",), f"no tag from category '{category}' (e.g. {', '.join(sorted(known)[:3])})", INFO,
                     "tag_category")
