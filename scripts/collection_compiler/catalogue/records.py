"""Typed records: what the stages hand each other through the work folder, and the contracts the tree publishes.

They are TypedDicts, not classes, because they are JSON files: a stage writes one with `write_json` and the next
reads it back with `read_json`, with the same keys.
"""

from __future__ import annotations

from typing import Any, NamedTuple, TypedDict

# ---- stage hand-offs ------------------------------------------------------------------------------------------
# `update` writes resources.json (`ResourcesIndex`) for every later stage, and the state (`state/sources.json`)
# for the next run's `update`.


class Nickname(NamedTuple):
    """A model's `adjective-animal` nickname and its emoji."""

    name: str
    icon: str


class EntryFields(TypedDict, total=False):
    """What collection.json shows of a version's materialised RDF, JSON-safe (`rdf.entry_fields`). The build adds
    the resource's id, versions, download count and links."""

    authors: Any
    badges: Any
    covers: Any
    description: Any
    download_url: Any
    icon: Any
    license: Any
    links: Any
    name: Any
    source: Any
    tags: Any
    training_data: Any
    type: Any
    nickname: str
    nickname_icon: str
    owners: Any
    created: Any


class IndexVersion(TypedDict):
    """A version in resources.json."""

    version_id: str
    rdf_sha256: str
    status: str  # the ledger's: accepted | pending (blocked versions are not in the index)
    created: str
    doi: str | None
    version_name: str | None
    entry: EntryFields


class IndexResource(TypedDict):
    """A resource in resources.json: its versions newest first."""

    id: str
    type: str
    name: str
    source: str  # "zenodo" or "partner"
    partner_id: str | None
    nickname: str | None
    nickname_icon: str | None
    download_count: int
    versions: list[IndexVersion]


class ResourcesIndex(TypedDict):
    """resources.json: every resource and version `update` offers to publish, by resource id."""

    resources: dict[str, IndexResource]


class VersionRecord(TypedDict):
    """What the next run's `update` needs of a version (`state/sources.json`, `versions["<rid>/<vid>"]`): whether
    its input changed (`fingerprint`), whether its materialised RDF would (`key`), and what it showed (`entry`)
    so that an unchanged version is neither fetched nor read again."""

    resource_id: str
    version_id: str
    source: str
    origin: str  # the source it came from: "zenodo" or "partner:<id>"
    partner_id: str | None
    root_url: str
    fingerprint: str
    bioimageio: dict[str, Any]
    download_count: int | None
    key: str
    rdf_sha256: str
    type: str
    name: str
    entry: EntryFields


class RejectedRecord(TypedDict):
    """A version whose input did not parse: not fetched again until its fingerprint changes."""

    fingerprint: str
    error: str
    source: str  # the origin, as in `VersionRecord`
