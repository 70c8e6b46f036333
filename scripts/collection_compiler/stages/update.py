"""`collection update`: fetch the sources and write the work folder (resources.json, materialised RDFs,
ledger proposals, partner details, download counts, the next state and this stage's health part).

A version travels through this module in the order of its functions:

    collect_sources     the listing (`sources.zenodo`, `sources.partners`) and the downloads: Candidates
    read_fetched        each fetched RDF parsed (YAML, on its download thread) and kept as uploaded
    assign_nicknames    the model nicknames (they depend on each resource's newest RDF)
    materialise         the published RDF (`catalogue.rdf`), its sha256 and its collection.json fields
    propose_ledger_changes    new versions and nicknames for review
    state_record, index_resource    what the next run (the state) and the next stages (resources.json) read

Incremental: a version whose input fingerprint and materialisation key equal those of the previous deploy is
not fetched, parsed or written again; later stages read its RDF from the previous deploy
(`WorkDir.version_rdf`). A source that fails keeps its previously published versions and is marked stale.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from collection_compiler.adapters import ratelimit, yamlio
from collection_compiler.adapters.files import (
    link_atomic,
    read_json,
    sha256_bytes,
    sha256_file,
    write_bytes_atomic,
    write_json,
    write_text_atomic,
)
from collection_compiler.adapters.http import HttpClient
from collection_compiler.catalogue import nicknames, rdf
from collection_compiler.catalogue.ledger import Ledger, proposal
from collection_compiler.catalogue.partners import Registration, load_registrations
from collection_compiler.catalogue.records import (
    EntryFields,
    IndexResource,
    IndexVersion,
    Nickname,
    ResourcesIndex,
    VersionRecord,
)
from collection_compiler.catalogue.state import State, read_published
from collection_compiler.catalogue.templates import load_template
from collection_compiler.layout import SiteTree, WorkDir
from collection_compiler.settings import Settings
from collection_compiler.sources import partners as partner_source
from collection_compiler.sources import zenodo
from collection_compiler.sources.candidates import Candidate, SourceOutcome, fingerprint

MAX_WARNINGS_PER_SOURCE = 200


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = "Reads the previous deploy (--previous) as state; writes --work-dir."


def main(args: argparse.Namespace, settings: Settings) -> int:
    from collection_compiler.stages.report import stale_sources

    report = update(settings)
    print(report.summary())
    for stale in stale_sources(WorkDir(settings.work_dir)):  # why, not only which (the health file has it too)
        print(f"stale source {stale.name}: {stale.error}", file=sys.stderr)
    return 0 if report.usable else 1


@dataclass
class UpdateReport:
    resources: int = 0
    versions: int = 0
    written: int = 0
    reused: int = 0
    stale: list[str] = field(default_factory=list)
    usable: bool = True
    requests: dict[str, ratelimit.BudgetReport] = field(default_factory=dict)  # by endpoint class

    def summary(self) -> str:
        stale = f"; stale: {', '.join(self.stale)}" if self.stale else ""
        requests = f"; requests: {ratelimit.summary(self.requests)}" if self.requests else ""
        return (f"update: {self.resources} resources, {self.versions} versions "
                f"({self.written} materialised, {self.reused} unchanged){stale}{requests}")


def update(settings: Settings) -> UpdateReport:
    work = WorkDir(settings.work_dir)
    work.root.mkdir(parents=True, exist_ok=True)
    _reset_work(work)
    previous, ledger, state = State.load(settings.previous), Ledger.load(settings.repo_root), State()
    deploy = PreviousDeploy.open(settings.previous)
    fetched: dict[str, Parsed | str] = {}  # by <rid>/<vid>: each Zenodo RDF read as its download arrives

    def on_fetched(candidate: Candidate) -> None:
        fetched[candidate.full_id] = read_fetched(candidate, work)

    collected = collect_sources(settings, load_template(settings.repo_root), previous, deploy, ledger, state,
                                on_fetched)
    versions = [Version(c, status, previous.versions.get(c.full_id)) for c in collected.candidates
                if (status := ledger.status_of(c.resource_id, c.version_id, c.source == "partner")) is not None]
    parse_fetched(versions, fetched, work, state)
    versions = [v for v in versions if v.parsed is not None or (v.previous is not None and deploy.holds(v.candidate))]
    groups = by_resource(versions)
    nick = assign_nicknames(groups, ledger, previous, state)
    changed = [v for v in versions if not keeps_previous_rdf(v, nick.get(v.rid), settings)]
    with ThreadPoolExecutor(4) as pool:  # mostly file writes, which wait on the disk, not the interpreter
        list(pool.map(lambda v: materialise(v, nick.get(v.rid), settings, work, deploy), changed))
    written = len(changed)
    propose_ledger_changes(groups, ledger, nick, work, previous, state)
    state.versions = {v.candidate.full_id: state_record(v) for v in versions}

    index: ResourcesIndex = {"resources": {rid: index_resource(group, nick.get(rid)) for rid, group in
                                           sorted(groups.items())}}
    write_json(work.resources, index, indent=None)
    _write_work_files(settings, work, groups, collected, state, previous, ledger)
    stale = sorted(name for name, s in state.sources.items() if s.status == "stale")
    usable = bool(versions) or not all(s.status == "stale" for s in state.sources.values())
    return UpdateReport(len(groups), len(versions), written, len(versions) - written, stale, usable,
                        collected.requests)


def _reset_work(work: WorkDir) -> None:
    """update starts a run: results of an earlier run in the same folder must not leak into this one."""
    for name in ("rdfs", "uploads", "ledger", "results", "partner_results", "plan", "health", "requests"):
        shutil.rmtree(work.root / name, ignore_errors=True)


# ---- collecting candidates ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class PreviousDeploy:
    """The last deploy (`--previous`): where an unchanged version's materialised RDF already is."""

    root: Path | None
    published: frozenset[str]  # "<rid>/<vid>" of the versions it publishes (`state/published.json`)

    @classmethod
    def open(cls, root: Path | None) -> PreviousDeploy:
        return cls(root, frozenset(read_published(root) or ()))

    def holds(self, candidate: Candidate) -> bool:
        """Whether it publishes the version or keeps it held back."""
        if self.root is None:
            return False
        return candidate.full_id in self.published or self.rdf(candidate).is_file()

    def rdf(self, candidate: Candidate) -> Path:
        assert self.root is not None, "only a version the previous deploy holds has its RDF"
        return SiteTree(self.root).kept_rdf(candidate.resource_id, candidate.version_id)


@dataclass
class Collected:
    """What the sources offered this run."""

    candidates: list[Candidate]  # fetched ones carry `raw`; failed or unchanged sources' are the previous ones
    outcomes: list[SourceOutcome]
    partner_details: dict[str, dict[str, Any]]  # by partner id
    registration_errors: list[str]
    requests: dict[str, ratelimit.BudgetReport]


def collect_sources(settings: Settings, template: dict[str, Any], previous: State, deploy: PreviousDeploy,
                    ledger: Ledger, state: State, on_fetched: Callable[[Candidate], object]) -> Collected:
    """List every source and download the RDFs of new and changed versions (threads: the work is network),
    handing each downloaded Zenodo RDF to `on_fetched` on its download thread."""
    registrations, registration_errors = load_registrations(settings.repo_root)

    def needs_fetch(candidate: Candidate) -> bool:
        return _needs_fetch(candidate, ledger, previous, deploy, state)

    def previous_head(partner_id: str) -> partner_source.PartnerState | None:
        return partner_source.known_head(previous.partners.get(partner_id) or {})

    with HttpClient(settings) as client, ThreadPoolExecutor(1) as background:
        # partners are read while Zenodo lists and downloads; the client bounds the requests of both together
        partners = background.submit(partner_source.collect_all, client, settings, registrations, previous_head)
        outcomes = [zenodo.collect(client, settings, zenodo.ZenodoConfig.from_template(template), needs_fetch,
                                   on_fetched)]
        outcomes += partners.result()
        requests = client.budget_report()
    carried = _records_by_origin(previous)
    candidates: list[Candidate] = []
    details: dict[str, dict[str, Any]] = {}
    for outcome in outcomes:
        state.mark(outcome.name, outcome.error, previous)
        if outcome.error or outcome.reused:
            candidates += [_carried_over(record) for record in carried[outcome.name]]
        else:
            candidates += outcome.candidates
        if outcome.name.startswith("partner:"):
            pid = outcome.name.split(":", 1)[1]
            details[pid] = _partner_details(outcome, pid, previous, state, registrations)
    return Collected(candidates, outcomes, details, registration_errors, requests)


def _needs_fetch(candidate: Candidate, ledger: Ledger, previous: State, deploy: PreviousDeploy,
                 state: State) -> bool:
    """Not when blocked, unchanged since the previous deploy, or rejected before with the same input (then it
    stays rejected)."""
    if ledger.status_of(candidate.resource_id, candidate.version_id, candidate.source == "partner") is None:
        return False
    rejected = previous.rejected.get(candidate.full_id)
    if rejected and rejected["fingerprint"] == candidate.fingerprint:
        state.rejected[candidate.full_id] = rejected
        return False
    record = previous.versions.get(candidate.full_id)
    return not (record and record["fingerprint"] == candidate.fingerprint and deploy.holds(candidate))


def _records_by_origin(previous: State) -> dict[str, list[VersionRecord]]:
    grouped: dict[str, list[VersionRecord]] = defaultdict(list)
    for record in previous.versions.values():
        grouped[record["origin"]].append(record)
    return grouped


def _carried_over(record: VersionRecord) -> Candidate:
    """A previous deploy's version of a source that failed or did not change."""
    return Candidate(resource_id=record["resource_id"], version_id=record["version_id"], source=record["source"],
                     root_url=record.get("root_url", ""), fingerprint=record["fingerprint"],
                     bioimageio=record.get("bioimageio") or {}, partner_id=record.get("partner_id"),
                     download_count=record.get("download_count"))


def _partner_details(outcome: SourceOutcome, pid: str, previous: State, state: State,
                     registrations: list[Registration]) -> dict[str, Any]:
    """Record what the next run needs of a partner (its commit and ETag, kept when it failed); return the
    partner's details (its registration with the display fields of its collection)."""
    kept = previous.partners.get(pid) or {}
    fresh = {} if outcome.error else outcome.state
    record = {**kept, **fresh}
    if fresh and "etag" not in fresh:
        record.pop("etag", None)  # an ETag names the answer it came with, not a newer one
    state.partners[pid] = record
    return record.get("details") or next(r.to_json() for r in registrations if r.id == pid)


# ---- parsing -----------------------------------------------------------------------------------------------

@dataclass
class Parsed:
    """A fetched RDF, parsed: the document (plain data, `yamlio.normalise`) becomes the materialised RDF."""

    document: dict[str, Any]
    type: Any
    name: Any
    proposed_nickname: Any  # the input's `config.bioimageio.nickname`


@dataclass
class Version:
    """A version on its way through update."""

    candidate: Candidate
    status: str  # the ledger's (blocked versions never get here)
    previous: VersionRecord | None  # its record in the previous state
    parsed: Parsed | None = None  # None when not fetched (unchanged) or its input is unusable
    key: str = ""  # the digest of what its materialised RDF is made from (`materialisation_key`)
    rdf_sha256: str = ""
    entry: EntryFields = field(default_factory=EntryFields)

    @property
    def rid(self) -> str:
        return self.candidate.resource_id

    @property
    def vid(self) -> str:
        return self.candidate.version_id

    @property
    def created(self) -> str:
        """The source's creation date: versions sort by it."""
        return str(self.candidate.bioimageio.get("created") or "")

    @property
    def rdf_type(self) -> str:
        value = self.parsed.type if self.parsed else (self.previous or {}).get("type")
        return value if isinstance(value, str) and value else "unknown"

    @property
    def rdf_name(self) -> str:
        value = self.parsed.name if self.parsed else (self.previous or {}).get("name")
        return value.strip() if isinstance(value, str) and value.strip() else self.rid


def parse(raw: bytes | dict[str, Any], label: str) -> Parsed:
    data = yamlio.normalise(raw if isinstance(raw, dict) else yamlio.load_mapping(raw, label))
    config = data.get("config") if isinstance(data.get("config"), dict) else {}
    ours = config.get("bioimageio") if isinstance(config.get("bioimageio"), dict) else {}
    return Parsed(data, data.get("type"), data.get("name"), ours.get("nickname"))


def read_fetched(candidate: Candidate, work: WorkDir) -> Parsed | str:
    """A fetched RDF parsed, and kept as uploaded (for the validate stage); or why it does not parse."""
    assert candidate.raw is not None, "only a fetched candidate is read"
    try:
        parsed = parse(candidate.raw, f"{candidate.root_url} ({candidate.full_id})")
    except yamlio.YamlLoadError as e:
        return str(e)
    raw = candidate.raw
    write_bytes_atomic(work.upload(candidate.resource_id, candidate.version_id),
                       raw if isinstance(raw, bytes) else yamlio.dump_yaml(parsed.document).encode())
    return parsed


def parse_fetched(versions: list[Version], fetched: dict[str, Parsed | str], work: WorkDir, state: State) -> None:
    """Give each fetched version its parsed RDF (read while downloading, or now: partner entries). An input that
    does not parse is remembered (with its fingerprint) so it is not fetched again until it changes; its version
    keeps its previous deploy, if any."""
    for version in versions:
        c = version.candidate
        if c.raw is None:
            continue
        result = fetched.get(c.full_id)
        if result is None:
            result = read_fetched(c, work)
        if isinstance(result, str):
            state.rejected[c.full_id] = {"fingerprint": c.fingerprint, "error": result, "source": c.origin}
        else:
            version.parsed = result


def by_resource(versions: list[Version]) -> dict[str, list[Version]]:
    """The versions of each resource, newest first."""
    groups: dict[str, list[Version]] = defaultdict(list)
    for version in versions:
        groups[version.rid].append(version)
    for group in groups.values():
        group.sort(key=lambda v: (v.created, v.vid), reverse=True)
    return groups


# ---- nicknames ---------------------------------------------------------------------------------------------

def given_nicknames(ledger: Ledger, previous: State) -> dict[str, tuple[str, str]]:
    """Nicknames are kept forever: the ledger's, and those earlier runs gave."""
    return {**{rid: (n[0], n[1]) for rid, n in previous.nicknames.items()}, **ledger.nicknames()}


def assign_nicknames(groups: dict[str, list[Version]], ledger: Ledger, previous: State,
                     state: State) -> dict[str, Nickname]:
    """The nickname of each model resource (a resource is what its newest version is), recorded in the state."""
    given = given_nicknames(ledger, previous)
    models = [rid for rid, group in groups.items() if group[0].rdf_type == "model"]
    proposed = {rid: newest.parsed.proposed_nickname for rid in models if (newest := groups[rid][0]).parsed}
    chosen = nicknames.choose(models, proposed, given)
    state.nicknames = {rid: list(n) for rid, n in {**given, **chosen}.items()}
    return chosen


# ---- materialising -----------------------------------------------------------------------------------------

def materialisation_key(candidate: Candidate, status: str, nickname: Nickname | None, settings: Settings) -> str:
    """What a materialised RDF is made from, as a digest (the candidate's fingerprint covers its input and its
    `bioimageio` fields)."""
    name, icon = nickname or ("", "")
    return fingerprint(candidate.fingerprint, candidate.version_id, status, name, icon, settings.site_url,
                       rdf.MATERIALISER_VERSION)


def keeps_previous_rdf(version: Version, nickname: Nickname | None, settings: Settings) -> bool:
    """Whether the previous deploy's RDF stands (not fetched again, same materialisation key): then the version
    keeps its sha256 and collection.json fields, and the work folder refers to that RDF instead of a copy."""
    version.key = materialisation_key(version.candidate, version.status, nickname, settings)
    before = version.previous
    if version.parsed is None and before is not None and before.get("key") == version.key and "entry" in before:
        version.rdf_sha256, version.entry = before["rdf_sha256"], before["entry"]
        return True
    return False


def materialise(version: Version, nickname: Nickname | None, settings: Settings, work: WorkDir,
                deploy: PreviousDeploy) -> None:
    """Write the version's materialised RDF and note its sha256 and collection.json fields. A version not fetched
    again is made from the previous deploy's RDF (materialising is idempotent)."""
    c = version.candidate
    document = version.parsed.document if version.parsed else _previous_document(deploy, version)
    bioimageio = {**c.bioimageio, "status": version.status, "version_id": c.version_id}
    if nickname:
        bioimageio["nickname"], bioimageio["nickname_icon"] = nickname
    document = rdf.materialise(document, resource_id=c.resource_id, version_id=c.version_id, root_url=c.root_url,
                               site_url=settings.site_url, bioimageio=bioimageio)
    content = yamlio.dump_yaml(document).encode("utf-8")
    write_bytes_atomic(work.rdf(version.rid, version.vid), content)
    version.rdf_sha256, version.entry = sha256_bytes(content), rdf.entry_fields(document)


def _previous_document(deploy: PreviousDeploy, version: Version) -> dict[str, Any]:
    """The previous deploy's materialised RDF of a version, parsed (raises `YamlLoadError`)."""
    path = deploy.rdf(version.candidate)
    return yamlio.normalise(yamlio.load_mapping(path.read_bytes(), str(path)))


# ---- ledger proposals --------------------------------------------------------------------------------------

def propose_ledger_changes(groups: dict[str, list[Version]], ledger: Ledger, nick: dict[str, Nickname],
                           work: WorkDir, previous: State, state: State) -> None:
    """Propose each Zenodo resource's new versions and, for a model without one in the ledger, its nickname.
    Only a proposal that is new or changed since the previous run is written (an unchanged one already has its
    review pull request)."""
    for rid, versions in groups.items():
        if versions[0].candidate.source != "zenodo":
            continue
        entry = ledger.get(rid)
        new = [{"version_id": v.vid, "created": v.created, "doi": v.candidate.bioimageio.get("doi"),
                "version_name": v.candidate.bioimageio.get("version_name")}
               for v in versions if not entry or v.vid not in entry.versions]
        nickname = nick.get(rid)
        if not new and not (nickname and not (entry and entry.nickname)):
            continue
        digest = fingerprint(entry.to_yaml() if entry else None, new, list(nickname) if nickname else None)
        state.proposals[rid] = digest
        if previous.proposals.get(rid) != digest:
            write_text_atomic(work.ledger_proposal(rid), proposal(entry, rid, new, nickname))


# ---- what update hands on: the state record and the resources.json entry ------------------------------------

def state_record(version: Version) -> VersionRecord:
    c = version.candidate
    return {"resource_id": c.resource_id, "version_id": c.version_id, "source": c.source, "origin": c.origin,
            "partner_id": c.partner_id, "root_url": c.root_url, "fingerprint": c.fingerprint,
            "bioimageio": c.bioimageio, "download_count": c.download_count, "key": version.key,
            "rdf_sha256": version.rdf_sha256, "type": version.rdf_type, "name": version.rdf_name,
            "entry": version.entry}


def index_resource(versions: list[Version], nickname: Nickname | None) -> IndexResource:
    """A resource in resources.json: what its newest version says it is, and each version."""
    newest = versions[0]
    downloads = newest.candidate.download_count
    return {"id": newest.rid, "type": newest.rdf_type, "name": newest.rdf_name, "source": newest.candidate.source,
            "partner_id": newest.candidate.partner_id,
            "nickname": nickname.name if nickname else None, "nickname_icon": nickname.icon if nickname else None,
            "download_count": downloads if isinstance(downloads, int) else 0,
            "versions": [index_version(v) for v in versions]}


def index_version(version: Version) -> IndexVersion:
    bioimageio = version.candidate.bioimageio
    return {"version_id": version.vid, "rdf_sha256": version.rdf_sha256, "status": version.status,
            "created": version.created, "doi": bioimageio.get("doi"),
            "version_name": bioimageio.get("version_name"), "entry": version.entry}


# ---- the other work files ----------------------------------------------------------------------------------

def _write_work_files(settings: Settings, work: WorkDir, groups: dict[str, list[Version]], collected: Collected,
                      state: State, previous: State, ledger: Ledger) -> None:
    zenodo_ok = state.sources["zenodo"].status == "ok"
    write_json(work.download_counts, _download_counts(groups, zenodo_ok, settings))
    write_json(work.partners, [collected.partner_details[k] for k in sorted(collected.partner_details)])
    _write_state(work, state, previous, settings)
    write_json(work.health("update"), {
        "sources": {name: s.to_json() for name, s in sorted(state.sources.items())},
        "warnings": _warnings(collected.outcomes, state),
        "registration_errors": collected.registration_errors, "ledger_errors": ledger.errors,
        "ledger_proposals": sorted(state.proposals), "inputs": _input_hashes(settings.repo_root),
    })
    write_json(work.requests("update"), collected.requests)


def _warnings(outcomes: list[SourceOutcome], state: State) -> dict[str, list[str]]:
    """Each source's warnings; a rejected input is reported on every run until it is fixed."""
    warnings: dict[str, list[str]] = defaultdict(list)
    for outcome in outcomes:
        warnings[outcome.name].extend(outcome.warnings)
    for rejected in state.rejected.values():
        warnings[rejected.get("source", "zenodo")].append(rejected["error"])
    return {name: sorted(ms)[:MAX_WARNINGS_PER_SOURCE] for name, ms in sorted(warnings.items()) if ms}


def _input_hashes(repo_root: Path) -> dict[str, str]:
    files = [repo_root / "collection_rdf_template.yaml", *sorted((repo_root / "partners").glob("*.yaml")),
             *sorted((repo_root / "collection").glob("**/resource.yaml"))]
    return {p.relative_to(repo_root).as_posix(): sha256_file(p) for p in files if p.is_file()}


def _download_counts(groups: dict[str, list[Version]], zenodo_ok: bool, settings: Settings) -> dict[str, int]:
    """Zenodo counts when Zenodo answered; otherwise the previous deploy's file, never an empty or partial one."""
    if not zenodo_ok and settings.previous is not None:
        return read_json(SiteTree(settings.previous).download_counts, default={}) or {}
    return {rid: vs[0].candidate.download_count or 0 for rid, vs in sorted(groups.items())
            if vs[0].candidate.source == "zenodo"}


def _write_state(work: WorkDir, state: State, previous: State, settings: Settings) -> None:
    """The state for the next run. Where it equals the previous deploy's (nothing changed), that file is linked
    instead, so the build finds the very file it published."""
    data = state.to_json()
    before = SiteTree(settings.previous).source_state if settings.previous else None
    if before is not None and before.is_file() and data == previous.to_json():
        link_atomic(before, work.source_state)
    else:
        write_json(work.source_state, data, indent=None)
