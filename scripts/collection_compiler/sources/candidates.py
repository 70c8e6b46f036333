"""What a source yields: candidate versions, and how the source fared."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import orjson

from collection_compiler.adapters.files import sha256_bytes


@dataclass
class Candidate:
    """One version offered by a source. `raw` is the fetched RDF bytes, or None when the source says the
    version is unchanged since the previous deploy (then the previous materialised RDF is reused)."""

    resource_id: str
    version_id: str
    source: str  # "zenodo" or "partner"
    root_url: str  # the URL relative file references resolve against
    fingerprint: str  # changes whenever the fetched input may have changed
    bioimageio: dict[str, Any] = field(default_factory=dict)  # created, doi, owners, version_name
    partner_id: str | None = None
    raw: bytes | dict[str, Any] | None = None
    download_count: int | None = None

    @property
    def full_id(self) -> str:
        """`<resource_id>/<version_id>`: how the state, the published tree and id_map.json name a version."""
        return f"{self.resource_id}/{self.version_id}"

    @property
    def origin(self) -> str:
        """The source it came from, as `SourceOutcome.name` says it: "zenodo" or "partner:<id>"."""
        return "zenodo" if self.source == "zenodo" else f"partner:{self.partner_id}"


@dataclass
class SourceOutcome:
    name: str  # "zenodo" or "partner:<id>"
    candidates: list[Candidate] = field(default_factory=list)
    error: str | None = None  # set when the source failed: its previous state is kept, marked stale
    warnings: list[str] = field(default_factory=list)  # per-item problems that did not stop the source
    state: dict[str, Any] = field(default_factory=dict)  # what the next run needs (e.g. the partner commit)
    reused: bool = False  # the source is unchanged: everything comes from the previous deploy


def _encoded(part: Any) -> bytes:
    if isinstance(part, str):
        return part.encode()
    try:
        return orjson.dumps(part, option=orjson.OPT_SORT_KEYS, default=str)
    except TypeError:  # keys that are not strings, integers beyond 64 bits
        return json.dumps(part, sort_keys=True, default=str).encode()


def fingerprint(*parts: Any) -> str:
    """A short digest of plain data (strings as they are, anything else as sorted JSON)."""
    return sha256_bytes(b"\x1f".join(map(_encoded, parts)))[:32]
