"""What a source yields: candidate versions, and how the source fared."""

from __future__ import annotations

import hashlib
import json
import operator
from dataclasses import dataclass, field, fields
from typing import Any

import orjson


@dataclass(slots=True)  # 30,000 of them on a large collection
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

    def __reduce__(self) -> tuple[type[Candidate], tuple[Any, ...]]:
        # Half of a long listing comes back from a helper process: the fields as arguments pickle in half the time
        # of the slots' state that dataclasses would send.
        return Candidate, _candidate_fields(self)


_candidate_fields = operator.attrgetter(*(f.name for f in fields(Candidate)))


@dataclass
class SourceOutcome:
    name: str  # "zenodo" or "partner:<id>"
    candidates: list[Candidate] = field(default_factory=list)
    error: str | None = None  # set when the source failed: its previous state is kept, marked stale
    warnings: list[str] = field(default_factory=list)  # per-item problems that did not stop the source
    state: dict[str, Any] = field(default_factory=dict)  # what the next run needs (e.g. the partner commit)
    reused: bool = False  # the source is unchanged: everything comes from the previous deploy


def _encoded(part: Any) -> bytes:
    if isinstance(part, str):  # the common case, once per version: no JSON encoding
        return part.encode()
    try:
        return orjson.dumps(part, option=orjson.OPT_SORT_KEYS, default=str)  # much faster than json.dumps
    except TypeError:  # keys that are not strings, integers beyond 64 bits
        return json.dumps(part, sort_keys=True, default=str).encode()


def fingerprint(*parts: Any) -> str:
    """A short digest of plain data."""
    return hashlib.sha256(b"\x1f".join(map(_encoded, parts))).hexdigest()[:32]


def text_fingerprint(*parts: str) -> str:
    """`fingerprint` of strings (the same digest), joined as text instead of encoded one by one: the
    materialisation key of every version of a collection, on every run."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
