"""Typed records: what the stages hand each other through the work folder, and the contracts the tree publishes.

They are TypedDicts, not classes, because they are JSON files: a stage writes one with `write_json` and the next
reads it back with `read_json`, with the same keys.
"""

# No `from __future__ import annotations`: TypedDict reads `NotRequired` from evaluated annotations.
from typing import Any, Literal, NamedTuple, NotRequired, TypedDict

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


# ---- published contracts --------------------------------------------------------------------------------------
# What outsiders read from the published tree. Each record mirrors the JSON Schema the tree ships beside it
# (`schemas/`): the required keys are the schema's required keys, the other keys its optional properties, the types
# its types (`tests/foundation/test_contracts.py` checks that they agree).

TestStatus = Literal["passed", "valid-format", "failed", "not-applicable"]
RowStatus = Literal["passed", "failed", "not-applicable", "untested"]


class CollectionEntry(TypedDict):
    """One resource in collection.json: its newest published version's RDF fields and ours."""

    id: str
    type: str
    name: str
    description: str
    tags: list[str]
    rdf_source: str
    versions: list[str]  # version ids, newest first
    download_count: int
    nickname: NotRequired[str]
    nickname_icon: NotRequired[str]
    authors: NotRequired[list[Any]]
    covers: NotRequired[list[str]]
    license: NotRequired[str]
    links: NotRequired[list[str]]
    test_links: NotRequired[list[str]]  # the links added because a partner's tests passed
    badges: NotRequired[list[Any]]
    created: NotRequired[str]
    owners: NotRequired[list[Any]]
    icon: NotRequired[str]
    training_data: NotRequired[Any]
    download_url: NotRequired[str]
    source: NotRequired[str]


class TestSummariesSource(TypedDict):
    """Where a partner publishes its test summaries, and the workflow to dispatch when it has work."""

    repository: str
    deploy_branch: str
    deploy_folder: str
    workflow: NotRequired[str]
    workflow_ref: NotRequired[str]


class PartnerContact(TypedDict, total=False):
    name: str
    email: str
    github_user: str


PartnerType = Literal["model", "dataset", "application", "notebook"]


class _Partner(TypedDict):
    """What a registration and the published details of a partner have in common."""

    id: str
    name: str
    repository: str
    description: NotRequired[str]
    logo: NotRequired[str]
    icon: NotRequired[str]
    docs: NotRequired[str]
    contact: NotRequired[list[PartnerContact]]
    tested_types: NotRequired[list[PartnerType]]
    test_summaries: NotRequired[TestSummariesSource]


class PartnerRegistration(_Partner):
    """`partners/<id>.yaml`, the file a partner's pull request adds."""

    branch: str
    collection_file_name: str


class PartnerDetails(_Partner):
    """A partner in collection.json's `config.partners` and in partner_details.json: its registration and its
    collection's details, with the two fields the front-end needs of every partner. A partner's collection may
    add display fields of its own (`splash_title`, …); they pass through."""

    resource_types: list[str]  # default: the types of the partner's published resources
    tags: list[str]  # default: [<partner id>]
    branch: NotRequired[str]
    collection_file_name: NotRequired[str]


class CollectionConfig(TypedDict):
    """collection.json's `config`: the template's own settings, and these three."""

    partners: list[PartnerDetails]
    n_resources: dict[str, int]  # per resource type
    n_resource_versions: dict[str, int]


class CollectionDocument(TypedDict):
    """collection.json: the hub's collection RDF (the template's root fields) with one entry per resource."""

    type: Literal["collection"]
    name: str
    description: str
    format_version: str
    config: CollectionConfig
    collection: list[CollectionEntry]


class IdMapEntry(TypedDict):
    """A value of id_map.json, `bioimageio.spec`'s `LightHttpFileDescr`: where the RDF is and its sha256."""

    source: str
    sha256: str


class SubSummary(TypedDict):
    """One test of one tester in test_summary.yaml. Partners may add fields (tool versions end in `_version`)."""

    name: str
    status: TestStatus
    error: NotRequired[str | dict[str, Any] | None]
    errors: NotRequired[list[dict[str, Any]]]
    warnings: NotRequired[list[Any] | dict[str, Any] | None]
    traceback: NotRequired[list[str] | str | None]
    nested_errors: NotRequired[dict[str, Any] | None]
    loc: NotRequired[list[str | int]]
    source_name: NotRequired[str]
    checker: NotRequired[str]  # ours: the checker that produced it, for reuse while its key is unchanged
    checker_version: NotRequired[str]


class TestSummary(TypedDict):
    """rdfs/<rid>/<vid>/test_summary.yaml: our results and the partners' for one version."""

    status: TestStatus  # ours
    tests: dict[str, list[SubSummary]]  # by tester: bioimageio (ours) or a partner id
    rdf_sha256: NotRequired[str]
    statuses: NotRequired[dict[str, str]]  # by tester
    tester_versions: NotRequired[dict[str, dict[str, Any]]]
    stale_testers: NotRequired[list[str]]  # partners whose results are from an earlier run
    bioimageio_spec_version: NotRequired[str]
    bioimageio_core_version: NotRequired[str]


class SummaryRow(TypedDict):
    """One tester's (or one checker's) line in summary.json."""

    tester: str
    tool: str
    status: RowStatus
    version: str | None
    error: str | None
    link: str | None
    stale: bool


class VersionSummary(TypedDict):
    """rdfs/<rid>/<vid>/summary.json: the test results of one version as the site shows them."""

    rdf_sha256: str
    status: TestStatus | Literal["untested"]
    rows: list[SummaryRow]
    inputs_sha256: NotRequired[str]  # the digest of everything the two summary files were made from
    outcome: NotRequired[dict[str, Any]]  # for the build: status per tester and the application links


class HealthSource(TypedDict):
    status: Literal["ok", "stale"]
    since: NotRequired[str]  # when the source first failed in a row
    error: NotRequired[str]


class HealthCounts(TypedDict):
    resources: int
    versions: int
    by_type: dict[str, int]
    held_back: NotRequired[int]


class HealthDocument(TypedDict):
    """health.json: how the run's sources and stages fared."""

    sources: dict[str, HealthSource]  # zenodo, partner:<id>, summaries:<id>
    counts: HealthCounts
    dispatches: list[dict[str, Any]]
    stages: dict[str, Any]  # each stage's own report
    held_back: NotRequired[list[str]]  # <rid>/<vid> not published: a check failed or the review is pending
    compiler_errors: NotRequired[dict[str, str]]  # valid uploads whose published RDF our validator rejects
    requests: NotRequired[dict[str, Any]]  # per stage and endpoint class: the run's rate-limit budget
