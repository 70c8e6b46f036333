"""Materialise a version's RDF: the source RDF, normalised, with every relative file reference made absolute,
plus `id`, `config.bioimageio.*` and, in the formats that have the field, `rdf_source`. The result is what
consumers download, so it must resolve its files wherever it is served from and stay valid under its own format
version: nothing is added that the format does not allow."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin

from collection_compiler.adapters import yamlio
from collection_compiler.catalogue import nicknames

# Bump when the materialised output for the same input changes: it invalidates every cached version.
MATERIALISER_VERSION = "3"

# The formats with a top-level `rdf_source` (type, major.minor): model 0.3/0.4 and the generic 0.2 types. Model 0.5
# and the 0.3 generic types forbid unknown top-level fields; their consumers find the URL in collection.json and
# id_map.json.
_MODEL_FORMATS_WITH_RDF_SOURCE = ("0.3", "0.4")
_GENERIC_FORMATS_WITH_RDF_SOURCE = ("0.2",)

BIOIMAGEIO_KEYS = ("status", "version_id", "version_name", "created", "doi", "owners", "nickname", "nickname_icon")


def resolve_url(root_url: str, reference: str) -> str:
    """`reference` relative to the RDF's own URL. Zenodo file URLs end in `/<name>/content`, and the relative
    part replaces `<name>` (not `content`)."""
    if "://" in reference or reference.startswith("/") or not root_url:
        return reference
    if root_url.endswith("/content"):
        folder = root_url[: -len("/content")].rsplit("/", 1)[0]
        return f"{folder}/{reference}/content"
    return urljoin(root_url, reference)


def _is_file_reference(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) < 2048 and "\n" not in value


def _file(value: Any, absolute: Callable[[str], str]) -> Any:
    """A file source is a string or (0.5.11+, generic 0.3.4+) a mapping with `source`."""
    if _is_file_reference(value):
        return absolute(value)
    if isinstance(value, dict) and _is_file_reference(value.get("source")):
        return {**value, "source": absolute(value["source"])}
    return value


def _files(values: Any, absolute: Callable[[str], str]) -> Any:
    return [_file(v, absolute) for v in values] if isinstance(values, list) else values


def _architecture(value: Any, absolute: Callable[[str], str]) -> Any:
    """0.4 `architecture: file.py:Callable` (file-based) or `package.module.Callable` (left alone);
    0.5 `architecture: {source, callable, sha256}`."""
    if isinstance(value, dict):
        return _file(value, absolute)
    if not isinstance(value, str) or ":" not in value:
        return value
    file_part, _, callable_name = value.rpartition(":")
    if "://" in file_part or not file_part.endswith(".py"):
        return value
    return f"{absolute(file_part)}:{callable_name}"


def absolutise(rdf: dict[str, Any], root_url: str) -> dict[str, Any]:
    """A copy of `rdf` whose file references are absolute, resolved against `root_url`."""
    return _absolutise_in_place(copy.deepcopy(rdf), root_url)


def _absolutise_in_place(out: dict[str, Any], root_url: str) -> dict[str, Any]:
    def absolute(ref: str) -> str:
        return resolve_url(root_url, ref)

    def update(mapping: Any, key: str, fn: Callable[[Any, Callable[[str], str]], Any]) -> None:
        if isinstance(mapping, dict) and key in mapping:
            mapping[key] = fn(mapping[key], absolute)

    update(out, "documentation", _file)
    if not (isinstance(out.get("icon"), str) and len(out["icon"]) <= 2):  # an emoji is not a file
        update(out, "icon", _file)
    if out.get("type") in ("application", "notebook"):
        update(out, "source", _file)
    for key in ("covers", "test_inputs", "test_outputs", "sample_inputs", "sample_outputs"):
        update(out, key, _files)
    attachments = out.get("attachments")
    update(attachments, "files", _files)  # 0.4 / 0.2: {files: [...]}
    if isinstance(attachments, list):  # 0.5 / 0.3: [{source}, ...]
        out["attachments"] = _files(attachments, absolute)
    for entry in (out.get("weights") or {}).values() if isinstance(out.get("weights"), dict) else ():
        update(entry, "source", _file)
        update(entry, "architecture", _architecture)
        update(entry, "environment", _file)
    for tensor in [*(out.get("inputs") or []), *(out.get("outputs") or [])]:
        update(tensor, "test_tensor", _file)
        update(tensor, "sample_tensor", _file)
    return out


def materialise(rdf: dict[str, Any], *, resource_id: str, version_id: str, root_url: str, site_url: str,
                bioimageio: dict[str, Any]) -> dict[str, Any]:
    """The materialised RDF made from `rdf`, plain data as `yamlio.normalise` returns it. `rdf` is changed in place
    and returned: it is a version's freshly parsed input, and copying it again was a tenth of ingesting it."""
    _absolutise_in_place(rdf, root_url)
    rdf.pop("root_path", None)
    rdf["id"] = f"{resource_id}/{version_id}"
    if has_rdf_source(rdf):
        rdf["rdf_source"] = f"{site_url}/rdfs/{resource_id}/{version_id}/rdf.yaml"
    config = rdf.get("config") if isinstance(rdf.get("config"), dict) else {}
    ours = config.get("bioimageio") if isinstance(config.get("bioimageio"), dict) else {}
    ours.update({k: bioimageio[k] for k in BIOIMAGEIO_KEYS if bioimageio.get(k) is not None})
    if isinstance(ours.get("nickname_icon"), str):
        ours["nickname_icon"] = nicknames.one_code_point(ours["nickname_icon"])
    rdf["config"] = {**config, "bioimageio": ours}
    return rdf


def has_rdf_source(rdf: dict[str, Any]) -> bool:
    """Whether the RDF's format has a top-level `rdf_source` field."""
    major_minor = ".".join(str(rdf.get("format_version", "")).split(".")[:2])
    if rdf.get("type") == "model":
        return major_minor in _MODEL_FORMATS_WITH_RDF_SOURCE
    return major_minor in _GENERIC_FORMATS_WITH_RDF_SOURCE


# collection.json entry fields taken from a version's RDF (the build adds id, versions, counts and links)
ENTRY_FIELDS = ("authors", "badges", "covers", "description", "download_url", "icon", "license", "links", "name",
                "source", "tags", "training_data", "type")
BIOIMAGEIO_ENTRY_FIELDS = ("nickname", "nickname_icon", "owners", "created")


def entry_fields(rdf: dict[str, Any]) -> dict[str, Any]:
    """What collection.json shows of a materialised RDF, JSON-safe."""
    entry = {k: rdf[k] for k in ENTRY_FIELDS if k in rdf}
    bio = (rdf.get("config") or {}).get("bioimageio") or {}
    entry.update({k: bio[k] for k in BIOIMAGEIO_ENTRY_FIELDS if bio.get(k) is not None})
    return yamlio.json_safe(entry)
