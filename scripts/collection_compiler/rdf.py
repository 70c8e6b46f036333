"""Materialise a version's RDF: the source RDF, normalised, with every relative file reference made absolute,
plus `id`, `rdf_source` and `config.bioimageio.*`. The result is what consumers download, so it must resolve
its files wherever it is served from."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin

from . import yamlio

# Bump when the materialised output for the same input changes: it invalidates every cached version.
MATERIALISER_VERSION = "1"

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


def _map_list(values: Any, fn: Callable[[str], str]) -> Any:
    if not isinstance(values, list):
        return values
    return [fn(v) if _is_file_reference(v) else v for v in values]


def _architecture(value: Any, absolute: Callable[[str], str]) -> Any:
    """0.4 `architecture: file.py:Callable` (file-based) or `package.module.Callable` (left alone)."""
    if not isinstance(value, str) or ":" not in value:
        return value
    file_part, _, callable_name = value.rpartition(":")
    if "://" in file_part or not file_part.endswith(".py"):
        return value
    return f"{absolute(file_part)}:{callable_name}"


def absolutise(rdf: dict[str, Any], root_url: str) -> dict[str, Any]:
    """A copy of `rdf` whose file references are absolute, resolved against `root_url`."""
    out = copy.deepcopy(rdf)

    def absolute(ref: str) -> str:
        return resolve_url(root_url, ref)

    def fix(mapping: Any, key: str) -> None:
        if isinstance(mapping, dict) and _is_file_reference(mapping.get(key)):
            mapping[key] = absolute(mapping[key])

    fix(out, "documentation")
    if isinstance(out.get("icon"), str) and len(out["icon"]) > 2:
        fix(out, "icon")
    if out.get("type") in ("application", "notebook"):
        fix(out, "source")
    for key in ("covers", "test_inputs", "test_outputs", "sample_inputs", "sample_outputs"):
        out[key] = _map_list(out.get(key), absolute) if key in out else None
        if out[key] is None:
            del out[key]
    attachments = out.get("attachments")
    if isinstance(attachments, dict):
        attachments["files"] = _map_list(attachments.get("files"), absolute) if "files" in attachments else None
        if attachments["files"] is None:
            del attachments["files"]
    elif isinstance(attachments, list):
        for item in attachments:
            fix(item, "source")
    weights = out.get("weights")
    if isinstance(weights, dict):
        for entry in weights.values():
            if isinstance(entry, dict):
                fix(entry, "source")
                entry["architecture"] = _architecture(entry.get("architecture"), absolute)
                fix(entry.get("architecture"), "source")
                fix(entry, "environment")
                if entry.get("architecture") is None:
                    del entry["architecture"]
    for tensor_list in ("inputs", "outputs"):
        for tensor in out.get(tensor_list) or []:
            if isinstance(tensor, dict):
                fix(tensor.get("test_tensor"), "source")
                fix(tensor.get("sample_tensor"), "source")
    return out


def materialise(raw: dict[str, Any], *, resource_id: str, version_id: str, root_url: str, site_url: str,
                bioimageio: dict[str, Any]) -> dict[str, Any]:
    rdf = absolutise(yamlio.normalise(raw), root_url)
    rdf.pop("root_path", None)
    rdf["id"] = f"{resource_id}/{version_id}"
    rdf["rdf_source"] = f"{site_url}/rdfs/{resource_id}/{version_id}/rdf.yaml"
    config = rdf.get("config") if isinstance(rdf.get("config"), dict) else {}
    ours = config.get("bioimageio") if isinstance(config.get("bioimageio"), dict) else {}
    ours.update({k: bioimageio[k] for k in BIOIMAGEIO_KEYS if bioimageio.get(k) is not None})
    rdf["config"] = {**config, "bioimageio": ours}
    return rdf


def text_field(rdf: dict[str, Any], key: str, default: str = "") -> str:
    value = rdf.get(key)
    return value if isinstance(value, str) else default
