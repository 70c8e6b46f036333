"""Partner collection files: compose each entry into a full description (spec brief §5.3) and validate it.

Composition, per entry: the collection's own fields (without `id` and `collection`; `badges` only for
non-model entries), then the content of `rdf_source` / `entry_source` if given, then the entry's inline
keys, then its explicit `id`. Overlays replace whole root fields (no deep merge). Reading `rdf_source` is
the caller's job (`load_source`), so this module stays free of network and git.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from collection_compiler.settings import Settings
from collection_compiler.validation.result import Detail, Issue, ValidationResult
from collection_compiler.validation.validator import validate_rdf

SOURCE_KEYS = ("rdf_source", "entry_source")
ENTRY_ONLY_KEYS = ("rdf_source", "entry_source", "entry_sha256")

LoadSource = Callable[[str], dict[str, Any]]


@dataclass
class ComposedEntry:
    index: int
    entry_id: str | None  # the id within the collection
    full_id: str | None  # "<collection id>/<entry id>"
    rdf: dict[str, Any] | None
    errors: list[Issue] = field(default_factory=list)


def compose_entries(collection: dict[str, Any], load_source: LoadSource | None = None) -> list[ComposedEntry]:
    """Every entry of a collection description as a composed RDF (or with errors saying why not)."""
    base = {k: copy.deepcopy(v) for k, v in collection.items() if k not in ("id", "collection")}
    collection_id = collection.get("id") if isinstance(collection.get("id"), str) else None
    out: list[ComposedEntry] = []
    seen: set[str] = set()
    entries = collection.get("collection")
    for i, entry in enumerate(entries if isinstance(entries, list) else []):
        composed = _compose_one(i, entry, base, collection_id, load_source)
        if composed.entry_id is not None:
            if composed.entry_id in seen:
                composed.errors.append(Issue(("collection", i, "id"), f"Duplicate entry id '{composed.entry_id}'"))
            seen.add(composed.entry_id)
        out.append(composed)
    return out


def _compose_one(i: int, entry: Any, base: dict[str, Any], collection_id: str | None,
                 load_source: LoadSource | None) -> ComposedEntry:
    loc = ("collection", i)
    if not isinstance(entry, dict):
        return ComposedEntry(i, None, None, None, [Issue(loc, "Input should be a valid dictionary")])
    rdf = copy.deepcopy(base)
    source_key = next((k for k in SOURCE_KEYS if k in entry), None)
    source_data: dict[str, Any] = {}
    if source_key is not None:
        source = entry[source_key]
        if not isinstance(source, str) or load_source is None:
            return ComposedEntry(i, None, None, None, [Issue((*loc, source_key), "cannot read the entry source")])
        try:
            source_data = load_source(source)
        except Exception as e:  # any failure to read one entry must not stop the others
            return ComposedEntry(i, None, None, None, [Issue((*loc, source_key), f"cannot read {source}: {e}")])
        if not isinstance(source_data, dict):
            return ComposedEntry(i, None, None, None, [Issue((*loc, source_key), "entry source is not a mapping")])
        rdf.update(copy.deepcopy(source_data))
    rdf.update({k: copy.deepcopy(v) for k, v in entry.items() if k not in ENTRY_ONLY_KEYS})
    entry_id = entry.get("id", source_data.get("id"))
    if not isinstance(entry_id, str) or not entry_id:
        return ComposedEntry(i, None, None, None, [Issue((*loc, "id"), "Field required (inline or in the source)")])
    if rdf.get("type") == "collection":
        return ComposedEntry(i, entry_id, None, None, [Issue((*loc, "type"), "collections may not be nested")])
    if rdf.get("type") == "model":
        rdf.pop("badges", None)  # models have no badges field
    full_id = f"{collection_id}/{entry_id}" if collection_id else entry_id
    rdf["id"] = full_id
    if collection_id and isinstance(rdf.get("links"), list):
        rdf["links"] = [f"{collection_id}/{link}" if isinstance(link, str) and "/" not in link else link
                        for link in rdf["links"]]
    return ComposedEntry(i, entry_id, full_id, rdf)


def validate_entries(collection: dict[str, Any], load_source: LoadSource | None = None, *,
                     root: str | Path | None = None, perform_io: bool = False,
                     settings: Settings | None = None, http: Any = None) -> list[tuple[ComposedEntry,
                                                                                        ValidationResult]]:
    """Compose and validate every entry; an entry that cannot be composed gets a `failed` result."""
    results = []
    v02 = str(collection.get("format_version", "")).startswith("0.2.")
    for composed in compose_entries(collection, load_source):
        if v02 and composed.rdf is not None and not _allowed_in_v02(composed.rdf):
            composed.errors.append(Issue(("collection", composed.index, "format_version"),
                                         f"{composed.rdf.get('type')} {composed.rdf.get('format_version')} is not "
                                         "allowed in collection 0.2 (only model 0.4 and other types 0.2)"))
        source = f"collection[{composed.index}]" + (f" ({composed.full_id})" if composed.full_id else "")
        if composed.rdf is None or composed.errors:
            result = ValidationResult(source, None, None, [Detail("compose collection entry", composed.errors)])
        else:
            result = validate_rdf(composed.rdf, source=source, root=root, perform_io=perform_io,
                                  settings=settings, http=http)
        results.append((composed, result))
    return results


def _allowed_in_v02(rdf: dict[str, Any]) -> bool:
    version = str(rdf.get("format_version", ""))
    return version.startswith(("0.3.", "0.4.")) if rdf.get("type") == "model" else version.startswith("0.2.")
