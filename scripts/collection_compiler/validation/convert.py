"""Dispatch on `type` + `format_version` and the spec's conversions between patch versions.

Conversions work on a deep copy of plain data and never fail: anything of an unexpected shape is left
for the schema to report.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from collection_compiler.validation.result import ALERT, WARNING, Issue

KNOWN_TYPES = ("model", "dataset", "application", "notebook", "collection")
# the patch each major.minor is validated as (the reference's implemented versions)
IMPLEMENTED = {
    ("model", "0.3"): "0.4.10", ("model", "0.4"): "0.4.10", ("model", "0.5"): "0.5.14",
    ("collection", "0.2"): "0.2.4", ("collection", "0.3"): "0.3.0",
    ("generic", "0.2"): "0.2.4", ("generic", "0.3"): "0.3.4",
}
_VERSION = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?")


class DispatchError(ValueError):
    def __init__(self, loc: tuple[str, ...], msg: str):
        super().__init__(msg)
        self.issue = Issue(loc, msg, "dispatch_error")


@dataclass
class Dispatched:
    type: str
    format_version: str  # as given
    implemented: str  # the version it is validated as
    schema: str  # shipped schema name, e.g. model_0.4
    data: dict[str, Any]
    warnings: list[Issue] = field(default_factory=list)
    errors: list[Issue] = field(default_factory=list)

    @property
    def major(self) -> str:
        return self.schema.rsplit("_", 1)[1]


def dispatch(raw: dict[str, Any]) -> Dispatched:
    """Choose the rules for a description and convert it to the implemented patch version."""
    rtype, fv = raw.get("type"), raw.get("format_version")
    for key, value in (("type", rtype), ("format_version", fv)):
        if value is None:
            raise DispatchError((key,), f"extract fields to chose description class: missing '{key}'")
        if not isinstance(value, str):
            raise DispatchError((key,), f"extract fields to chose description class: '{key}' must be a string, "
                                        f"not {type(value).__name__}")
    match = _VERSION.match(fv)
    major = f"{match[1]}.{match[2]}" if match else "?"  # unparseable: validated by the latest rules, as unknown
    patch = int(match[3] or 0) if match else 0
    family = rtype if rtype in KNOWN_TYPES else "generic"
    warnings: list[Issue] = []
    family_key = ("generic", major) if family in ("dataset", "application", "notebook") else (family, major)
    unknown = family_key not in IMPLEMENTED
    if unknown:  # validated by the latest rules, whose format_version then does not match (as the reference)
        latest = "0.5" if family == "model" else "0.3"
        warnings.append(Issue(("format_version",), f"unknown format_version {fv!r}; validated as {latest}",
                              "unknown_format_version", WARNING))
        major, patch = latest, 0
        family_key = (family if family in ("model", "collection") else "generic", major)
    implemented = IMPLEMENTED[family_key]
    latest_patch = 6 if (family, major) == ("model", "0.3") else int(implemented.rsplit(".", 1)[1])
    if patch > latest_patch:
        warnings.append(Issue(("format_version",), f"future format_version '{fv}' treated as '{implemented}'",
                              "future_format_version", ALERT))
    schema_major = "0.4" if family == "model" and major == "0.3" else major
    schema = f"{family if family in KNOWN_TYPES else 'generic'}_{schema_major}"
    data = copy.deepcopy(raw)
    if family == "model" and schema_major == "0.4":
        _model_v04(data, major, patch)
    elif schema_major == "0.2":
        _generic_v02(data, patch)
    elif schema_major == "0.3" and family != "model":
        _strip_prefixes(data, v02=False)
    # covers/documentation given as strings were converted to `{source}` up to model 0.5.10 / generic 0.3.3
    if not unknown and (schema == "model_0.5" and patch <= 10 or
                        schema_major == "0.3" and family not in ("model", "collection") and patch <= 3):
        _file_descrs_v05(data)
    if isinstance(data.get("weights"), dict):  # a null weights entry means "absent" to the reference
        data["weights"] = {k: v for k, v in data["weights"].items() if v is not None}
    data["format_version"] = fv if unknown else implemented
    result = Dispatched(rtype, fv, implemented, schema, data, warnings)
    if unknown:
        result.errors.append(Issue(("format_version",), f"Input should be '{implemented}'", "literal_error"))
    return result


# ---------------------------------------------------------------- shared steps

def _file_descrs_v05(data: dict[str, Any]) -> None:
    """Older patches allowed plain-string covers and documentation; later ones need `{source}`."""
    if isinstance(data.get("covers"), list):
        data["covers"] = [{"source": c} if isinstance(c, str) else c for c in data["covers"]]
    if isinstance(data.get("documentation"), str):
        data["documentation"] = {"source": data["documentation"]}


def _authors(value: Any, allow_string: bool = False, convert_items: bool = True) -> Any:
    """Plain author strings become `{name}`; the github prefix is stripped from `github_user`."""
    if isinstance(value, str) and allow_string:  # "A, B" as one string: comma-separated names
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, list):
        return value
    out = []
    for a in value:
        if isinstance(a, str) and convert_items:
            a = {"name": a}
        if isinstance(a, dict) and isinstance(a.get("github_user"), str):
            a["github_user"] = a["github_user"].removeprefix("https://github.com/")
        out.append(a)
    return out


def _strip_doi(value: Any) -> Any:
    if isinstance(value, str):
        for prefix in ("https://doi.org/", "http://dx.doi.org/"):
            value = value.removeprefix(prefix)
    return value


def _strip_prefixes(data: dict[str, Any], v02: bool = True) -> None:
    """Prefix clean-ups of every conversion; plain-string authors are converted only from 0.2/0.4."""
    for key in ("authors", "maintainers", "packaged_by"):
        if key in data:
            data[key] = _authors(data[key], allow_string=v02 and key == "authors", convert_items=v02)
    cite = data.get("cite")
    if isinstance(cite, list):
        for c in cite:
            if isinstance(c, dict) and "doi" in c:
                c["doi"] = _strip_doi(c["doi"])
    config = data.get("config")
    if isinstance(config, dict):
        if config.get("future") in ({}, None) and "future" in config:
            del config["future"]
        if not config:
            del data["config"]


def _names_without_slashes(data: dict[str, Any]) -> None:
    if isinstance(data.get("name"), str):
        data["name"] = data["name"].replace("/", "").replace("\\", "")
    for key in ("authors", "maintainers"):
        for a in data.get(key) if isinstance(data.get(key), list) else []:
            if isinstance(a, dict) and isinstance(a.get("name"), str):
                a["name"] = a["name"].replace("/", "").replace("\\", "")


def _id_from_nickname(data: dict[str, Any]) -> None:
    config = data.get("config")
    bio = config.get("bioimageio") if isinstance(config, dict) else None
    if not isinstance(bio, dict):
        return
    # the reference's conversion replaces a given id by the nickname
    if "nickname" in bio:
        data["id"] = bio["nickname"]
    if "nickname_icon" in bio:
        data["id_emoji"] = bio["nickname_icon"]


# ---------------------------------------------------------------- generic 0.2.x -> 0.2.4

def _generic_v02(data: dict[str, Any], patch: int) -> None:
    _strip_prefixes(data)
    if patch < 3:
        _names_without_slashes(data)
    if patch < 4:
        _id_from_nickname(data)


# ---------------------------------------------------------------- model 0.3.x/0.4.x -> 0.4.10

def _model_v03_to_v04(data: dict[str, Any]) -> None:
    data.setdefault("type", "model")
    for key in ("language", "framework"):
        data.pop(key, None)
    for tensor in data.get("outputs") or []:
        shape = tensor.get("shape") if isinstance(tensor, dict) else None
        if isinstance(shape, dict) and "reference_input" in shape:
            shape["reference_tensor"] = shape.pop("reference_input")
    weights = data.get("weights")
    if isinstance(weights, dict):
        if "pytorch_script" in weights:
            weights["torchscript"] = weights.pop("pytorch_script")
        psd = weights.get("pytorch_state_dict")
        if isinstance(psd, dict):
            for old, new in (("source", "architecture"), ("sha256", "architecture_sha256"), ("kwargs", "kwargs")):
                if old in data:
                    psd.setdefault(new, data.pop(old))
    _model_v040_to_v041(data)


def _model_v040_to_v041(data: dict[str, Any]) -> None:
    weights = data.get("weights")
    if "dependencies" in data and isinstance(weights, dict) and isinstance(weights.get("pytorch_state_dict"), dict):
        weights["pytorch_state_dict"].setdefault("dependencies", data.pop("dependencies"))


def _model_v04(data: dict[str, Any], major: str, patch: int) -> None:
    if major == "0.3":
        _model_v03_to_v04(data)
        patch = 0
    elif patch < 1:
        _model_v040_to_v041(data)
    if patch < 5 and isinstance(data.get("parent"), dict) and "uri" in data["parent"]:
        data["parent"] = {"id": data["parent"]["uri"]}
    if patch < 7:
        _names_without_slashes(data)
    if patch < 10:
        _id_from_nickname(data)
    _strip_prefixes(data)
