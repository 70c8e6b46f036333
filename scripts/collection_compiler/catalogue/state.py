"""The state carried from one deploy to the next (`state/sources.json` in the published tree).

It records, per version, the fingerprint of its input and the key of its materialised RDF, so an unchanged
version is neither fetched nor rewritten; per partner, the commit last read; per source, since when it is
stale; and every nickname given.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from collection_compiler.adapters.files import read_json
from collection_compiler.catalogue.records import RejectedRecord, VersionRecord
from collection_compiler.layout import SiteTree

STATE_FORMAT = 1


def now_iso() -> str:
    """The current UTC time; `COLLECTION_NOW` pins it (reproducible runs and tests)."""
    pinned = os.environ.get("COLLECTION_NOW")
    return pinned or dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


@dataclass
class SourceState:
    status: str = "ok"  # ok | stale
    since: str | None = None  # when it became stale
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if v is not None}


@dataclass
class State:
    versions: dict[str, VersionRecord] = field(default_factory=dict)  # "<rid>/<vid>" -> record
    sources: dict[str, SourceState] = field(default_factory=dict)  # "zenodo", "partner:<id>"
    partners: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> {commit, details}
    nicknames: dict[str, list[str]] = field(default_factory=dict)  # rid -> [nickname, icon]
    rejected: dict[str, RejectedRecord] = field(default_factory=dict)  # "<rid>/<vid>" -> its input's fault
    proposals: dict[str, str] = field(default_factory=dict)  # rid -> sha256 of its ledger proposal

    @classmethod
    def load(cls, previous: Path | None) -> State:
        if previous is None:
            return cls()
        data = read_json(SiteTree(previous).source_state, default=None)
        if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
            return cls()
        return cls(
            versions=data.get("versions") or {},
            sources={k: SourceState(**v) for k, v in (data.get("sources") or {}).items()},
            partners=data.get("partners") or {},
            nicknames=data.get("nicknames") or {},
            rejected=data.get("rejected") or {},
            proposals=data.get("proposals") or {},
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "format": STATE_FORMAT,
            "versions": self.versions,
            "sources": {k: v.to_json() for k, v in sorted(self.sources.items())},
            "partners": self.partners,
            "nicknames": self.nicknames,
            "rejected": self.rejected,
            "proposals": self.proposals,
        }

    def mark(self, source: str, error: str | None, previous: State) -> SourceState:
        """ok, or stale since the first failure in a row (the timestamp survives until it recovers)."""
        if error is None:
            state = SourceState()
        else:
            before = previous.sources.get(source)
            since = before.since if before and before.status == "stale" and before.since else now_iso()
            state = SourceState("stale", since, error)
        self.sources[source] = state
        return state


def read_published(tree: Path | None) -> dict[str, list[Any]] | None:
    """`state/published.json` of a built tree: `<rid>/<vid>` -> [test-summary inputs digest, outcome] for every
    version it publishes (its RDF and summaries are in place). None when the tree has none to trust."""
    if tree is None:
        return None
    data = read_json(SiteTree(tree).published_index, default=None)
    return data if isinstance(data, dict) else None
