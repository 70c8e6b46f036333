"""`collection update`: fetch the sources and write the work folder (resources.json, materialised RDFs,
ledger proposals, partner details, download counts, the next state and this stage's health part).

Incremental: a version whose input fingerprint and materialisation key equal those of the previous deploy is
not fetched, parsed or written again; later stages read its RDF from the previous deploy
(`WorkDir.version_rdf`).
A source that fails keeps its previously published versions and is marked stale.
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
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
from collection_compiler.adapters.parallel import StreamingMap, gc_paused
from collection_compiler.catalogue import nicknames, rdf
from collection_compiler.catalogue.ledger import Ledger, proposal
from collection_compiler.catalogue.partners import load_registrations
from collection_compiler.catalogue.state import State, read_published
from collection_compiler.catalogue.templates import load_template
from collection_compiler.layout import SiteTree, WorkDir
from collection_compiler.settings import Settings
from collection_compiler.sources import partners as partner_source
from collection_compiler.sources import zenodo
from collection_compiler.sources.candidates import Candidate, SourceOutcome, fingerprint, text_fingerprint

log = logging.getLogger(__name__)
MAX_WARNINGS_PER_SOURCE = 200
LARGE_STATE_BYTES = 3_000_000  # a previous state of about 4,000 versions (780 bytes each): 40 pages or more


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = "Reads the previous deploy (--previous) as state; writes --work-dir."


def main(args: argparse.Namespace, settings: Settings) -> int:
    from collection_compiler.stages.report import stale_sources

    report = update(settings)
    print(report.summary())
    for stale in stale_sources(WorkDir(settings.work_dir)):  # why, not only which (the health file has it too)
        print(f"stale source {stale.name}: {stale.error}", file=sys.stderr)
    return 0 if report.usable else 1


@dataclass(slots=True)
class Version:
    candidate: Candidate
    key: str
    status: str
    ingested: Ingested | None = None  # parsed and materialised while fetching (None when not fetched)
    previous: dict[str, Any] | None = None  # previous state record
    created: str = ""  # the source's creation date: versions sort by it
    rdf_sha256: str | None = None
    entry: dict[str, Any] = field(default_factory=dict)  # the collection.json fields of its RDF

    @property
    def rid(self) -> str:
        return self.candidate.resource_id

    @property
    def vid(self) -> str:
        return self.candidate.version_id


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


# ---- collecting candidates ---------------------------------------------------------------------------------

def _previous_rdf(settings: Settings, rid: str, vid: str) -> Path | None:
    """The previous deploy's RDF of a version (published or held back), if it has one."""
    if settings.previous is None or not _in_previous(settings.previous, rid, vid):
        return None
    return SiteTree(settings.previous).kept_rdf(rid, vid)


def _in_previous(previous: Path, rid: str, vid: str) -> bool:
    """Whether the previous deploy publishes the version or keeps it held back: its `state/published.json` says
    the first without a `stat` per version (a large share of a no-change run on a slow disk)."""
    published = _published(previous)
    if published is not None and f"{rid}/{vid}" in published:
        return True
    return _exists(previous, rid, vid)


@functools.lru_cache(maxsize=200_000)
def _exists(previous: Path, rid: str, vid: str) -> bool:
    return SiteTree(previous).kept_rdf(rid, vid).is_file()


@functools.lru_cache(maxsize=4)
def _published(previous: Path) -> frozenset[str] | None:
    index = read_published(previous)
    return None if index is None else frozenset(index)


def _carried_over(records: list[dict[str, Any]]) -> list[Candidate]:
    """The previous deploy's versions of a source that failed or did not change."""
    return [Candidate(resource_id=record["resource_id"], version_id=record["version_id"], source=record["source"],
                      root_url=record.get("root_url", ""), fingerprint=record["fingerprint"],
                      bioimageio=record.get("bioimageio") or {}, partner_id=record.get("partner_id"),
                      download_count=record.get("download_count"))
            for record in records]


def _by_origin(previous: State) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in previous.versions.values():
        grouped[record.get("origin")].append(record)
    return grouped


def collect_sources(settings: Settings, template: dict[str, Any], previous: State, state: State, ledger: Ledger,
                    pipeline: IngestPipeline, helper: zenodo.ListingHelper | None = None
                    ) -> tuple[list[Candidate], list[SourceOutcome], dict[str, Any]]:
    registrations, registration_errors = load_registrations(settings.repo_root)

    def needs_fetch(candidate: Candidate) -> bool:
        """Not when blocked, unchanged since the previous deploy, or rejected before with the same input."""
        key = f"{candidate.resource_id}/{candidate.version_id}"
        if _version_status(ledger, candidate) is None:
            return False
        rejected = previous.rejected.get(key)
        if rejected and rejected["fingerprint"] == candidate.fingerprint:
            state.rejected[key] = rejected
            return False
        record = previous.versions.get(key)
        return not (record and record["fingerprint"] == candidate.fingerprint
                    and settings.previous is not None
                    and _in_previous(settings.previous, candidate.resource_id, candidate.version_id))

    def previous_head(partner_id: str) -> partner_source.PartnerState | None:
        return partner_source.known_head(previous.partners.get(partner_id) or {})

    shares = zenodo.SHARED_LISTING if helper is not None and helper.listing else None
    with HttpClient(settings, shares=shares) as client, ThreadPoolExecutor(1) as background:
        # partners are read while Zenodo downloads; the client bounds the requests of both together
        partners = background.submit(partner_source.collect_all, client, settings, registrations, previous_head)
        outcomes = [zenodo.collect(client, settings, zenodo.ZenodoConfig.from_template(template), needs_fetch,
                                   pipeline.submit, pipeline.expect, helper)]
        outcomes += partners.result()
        requests = client.budget_report()
    candidates: list[Candidate] = []
    details: dict[str, Any] = {}
    previous_by_origin = _by_origin(previous)
    for outcome in outcomes:
        state.mark(outcome.name, outcome.error, previous)
        if outcome.error or outcome.reused:
            candidates += _carried_over(previous_by_origin.get(outcome.name, []))
        else:
            candidates += outcome.candidates
        if outcome.name.startswith("partner:"):
            pid = outcome.name.split(":", 1)[1]
            kept = previous.partners.get(pid) or {}
            fresh = {k: v for k, v in outcome.state.items() if not outcome.error}
            state.partners[pid] = {**kept, **fresh}
            if fresh and "etag" not in fresh:
                state.partners[pid].pop("etag", None)  # an ETag names the answer it came with, not a newer one
            if outcome.error and kept.get("commit"):
                state.partners[pid]["commit"] = kept["commit"]  # re-read on recovery, even if unchanged
            details[pid] = state.partners[pid].get("details") or next(
                r.to_json() for r in registrations if r.id == pid)
    return candidates, outcomes, {"partners": details, "registration_errors": registration_errors,
                                  "requests": requests}


# ---- parsing and materialising (CPU-bound: worker processes) ---------------------------------------------

@dataclass(frozen=True)
class IngestJob:
    """Parse one RDF (fetched bytes, a partner's entry, or a previous deploy's file at `source`) and write it
    materialised to `target`. `nickname` is given to models only when `models_only` (a provisional name, given
    before the resource's type is known), otherwise whatever the type."""
    source: str
    raw: bytes | dict[str, Any] | None
    params: dict[str, Any]
    nickname: tuple[str, str] | None
    models_only: bool
    target: str
    upload: str | None = None  # where to keep the input as uploaded, for the validate stage


@dataclass
class Ingested:
    """What the main process keeps of a materialised RDF (the document itself stays on the worker)."""
    type: Any
    name: Any
    proposed_nickname: Any  # `config.bioimageio.nickname` of the input
    nickname: tuple[str, str] | None  # the one written into the materialised RDF
    rdf_sha256: str
    entry: dict[str, Any]  # its collection.json fields


def _ingest_job(job: IngestJob) -> Ingested | str:
    """Runs on a worker process; returns the parse error as a string."""
    try:
        raw = Path(job.source).read_bytes() if job.raw is None else job.raw
        data = yamlio.normalise(raw if isinstance(raw, dict) else yamlio.load_mapping(raw, job.source))
    except yamlio.YamlLoadError as e:
        return str(e)
    config = data.get("config") if isinstance(data.get("config"), dict) else {}
    proposed = (config.get("bioimageio") or {}).get("nickname") if isinstance(config.get("bioimageio"), dict) else None
    rdf_type, name = data.get("type"), data.get("name")
    nickname = job.nickname if job.nickname and (rdf_type == "model" or not job.models_only) else None
    if job.upload:
        write_bytes_atomic(Path(job.upload), raw if isinstance(raw, bytes) else yamlio.dump_yaml(data).encode())
    bioimageio = dict(job.params["bioimageio"])
    if nickname:
        bioimageio["nickname"], bioimageio["nickname_icon"] = nickname
    document = rdf.materialise(data, **{**job.params, "bioimageio": bioimageio})  # `data` becomes the document
    content = yamlio.dump_yaml(document).encode("utf-8")
    write_bytes_atomic(Path(job.target), content)
    return Ingested(rdf_type, name, proposed, nickname, sha256_bytes(content), rdf.entry_fields(document))


def _key(candidate: Candidate, status: str, nickname: tuple[str, str] | None, settings: Settings) -> str:
    """What a materialised RDF is made from, as a digest. The candidate's fingerprint covers its input and its
    `bioimageio` fields, so only strings go in: no dict to encode for each of 30,000 unchanged versions."""
    name, icon = nickname or ("", "")
    return text_fingerprint(candidate.fingerprint, candidate.version_id, status, name, icon, settings.site_url,
                            rdf.MATERIALISER_VERSION)


def _label(candidate: Candidate) -> str:
    """How errors name a fetched RDF: its URL and ids."""
    return f"{candidate.root_url} ({candidate.resource_id}/{candidate.version_id})"


def _params(candidate: Candidate, status: str, settings: Settings) -> dict[str, Any]:
    return {"resource_id": candidate.resource_id, "version_id": candidate.version_id,
            "root_url": candidate.root_url, "site_url": settings.site_url,
            "bioimageio": {**candidate.bioimageio, "status": status, "version_id": candidate.version_id}}


class IngestPipeline:
    """Parses and materialises each fetched RDF on a worker process as soon as it arrives, while the others
    download. A resource's nickname is final only once every RDF is parsed (it depends on the newest version's
    type and proposed nickname), so a provisional one is used: the nickname given before, or the one derived in
    id order over the new resources listed, as if all were models without a proposed nickname (nearly all are).
    The few versions whose final nickname differs are materialised again afterwards."""

    def __init__(self, settings: Settings, work: WorkDir, ledger: Ledger, given: dict[str, tuple[str, str]]):
        self.settings, self.work, self.ledger, self.given = settings, work, ledger, given
        self._taken = {name for name, _ in given.values()}
        self._provisional: dict[str, tuple[str, str]] = {}
        self._map: StreamingMap = StreamingMap(_ingest_job, settings.concurrency)
        self._submitted: list[Candidate] = []
        self._ids: set[int] = set()

    def expect(self, candidates: list[Candidate]) -> None:
        """The versions about to be fetched: derive the provisional nicknames of their new resources."""
        self._provisional = nicknames.assign({c.resource_id for c in candidates}, self.given)

    def provisional_nickname(self, rid: str) -> tuple[str, str]:
        return self.given.get(rid) or self._provisional.get(rid) or nicknames.derive(rid, self._taken)

    def submit(self, candidate: Candidate) -> None:
        if candidate.raw is None or id(candidate) in self._ids:
            return
        status = _version_status(self.ledger, candidate)
        if status is None:
            return
        self._ids.add(id(candidate))
        self._submitted.append(candidate)
        rid, vid = candidate.resource_id, candidate.version_id
        self._map.submit(IngestJob(_label(candidate), candidate.raw,
                                   _params(candidate, status, self.settings), self.provisional_nickname(rid),
                                   True, str(self.work.rdf(rid, vid)), str(self.work.upload(rid, vid))))

    def results(self) -> dict[int, Ingested | str]:
        """The outcome (or the parse error) by `id()` of the candidate."""
        return {id(c): r for c, r in zip(self._submitted, self._map.results(), strict=True)}

    def close(self) -> None:
        self._map.close()


def ingest_new(versions: list[Version], pipeline: IngestPipeline, settings: Settings, state: State) -> list[Version]:
    """Collect the parsed and materialised RDFs; a version that cannot be fetched or parsed keeps its previous
    deploy if any. A rejected input is remembered (with its fingerprint) so it is not fetched again until it
    changes."""
    for version in versions:
        pipeline.submit(version.candidate)  # partner entries, and anything not handed over while fetching
    outcomes = pipeline.results()
    for version in versions:
        result = outcomes.get(id(version.candidate))
        if isinstance(result, str):
            c = version.candidate
            state.rejected[f"{version.rid}/{version.vid}"] = {
                "fingerprint": c.fingerprint, "error": result,
                "source": "zenodo" if c.source == "zenodo" else f"partner:{c.partner_id}"}
            version.candidate.raw = None  # fall back to the previous deploy below
        elif result is not None:
            version.ingested = result
    kept = []
    for version in versions:
        if version.ingested is None and (version.previous is None or settings.previous is None
                                         or not _in_previous(settings.previous, version.rid, version.vid)):
            continue  # nothing usable: never published, or input broken and no previous deploy
        kept.append(version)
    return kept


def materialise_rest(versions: list[Version], newest: set[int], nick: dict[str, tuple[str, str]],
                     settings: Settings, work: WorkDir, meanwhile: Callable[[], None]) -> tuple[int, int]:
    """Finish every version's materialised RDF once nicknames are final, running `meanwhile` while worker
    processes work; returns (materialised, reused). Materialised while fetching, with the final nickname: kept.
    With another nickname: written again from its input. Not fetched: reused when its key is unchanged (not
    copied: the work folder refers to the previous deploy), else written again from the previous deploy's RDF
    (materialising is idempotent). `newest` holds the `id()` of each resource's newest version: only those need
    their collection.json fields."""
    pipeline: StreamingMap = StreamingMap(_ingest_job, settings.concurrency)
    targets = []
    reused = 0
    for version in versions:
        c = version.candidate
        final = nick.get(version.rid)
        version.key = _key(c, version.status, final, settings)
        done = version.ingested
        if done is not None and done.nickname == final:
            continue
        if done is None and version.previous and version.previous.get("key") == version.key:
            version.rdf_sha256 = version.previous["rdf_sha256"]
            if id(version) in newest:  # only a newest version's fields are kept (see `_state_record`)
                version.entry = version.previous.get("entry") or rdf.entry_fields_of_file(
                    work.version_rdf(version.rid, version.vid, settings.previous))
            reused += 1
            continue
        source = _label(c) if done is not None else str(_previous_rdf(settings, version.rid, version.vid))
        pipeline.submit(IngestJob(source, c.raw if done is not None else None, _params(c, version.status, settings),
                                  final, False, str(work.rdf(version.rid, version.vid))))
        targets.append(version)
    meanwhile()
    again = dict(zip(map(id, targets), pipeline.results(), strict=True))
    for version in versions:
        outcome = again.get(id(version), version.ingested)
        if isinstance(outcome, str):  # the previous deploy's own RDF no longer parses
            raise yamlio.YamlLoadError(outcome)
        if outcome is not None:
            version.rdf_sha256, version.entry = outcome.rdf_sha256, outcome.entry
    return len(versions) - reused, reused


# ---- resources, nicknames, ledger ------------------------------------------------------------------------

def _resource_type(version: Version) -> str:
    value = version.ingested.type if version.ingested else (version.previous or {}).get("type")
    return value if isinstance(value, str) and value else "unknown"


def _resource_name(version: Version) -> str:
    value = version.ingested.name if version.ingested else (version.previous or {}).get("name")
    return value.strip() if isinstance(value, str) and value.strip() else version.rid


def given_nicknames(ledger: Ledger, previous: State) -> dict[str, tuple[str, str]]:
    """Nicknames are kept forever: the ledger's, and those earlier runs gave."""
    return {**{rid: (n[0], n[1]) for rid, n in previous.nicknames.items()}, **ledger.nicknames()}


def assign_nicknames(groups: dict[str, list[Version]], ledger: Ledger, previous: State,
                     state: State) -> dict[str, tuple[str, str]]:
    """Ledger first, then nicknames given before, then a valid free one from the RDF, then a derived one."""
    given = given_nicknames(ledger, previous)
    taken = {name for name, _ in given.values()}
    models = sorted(rid for rid, versions in groups.items() if _resource_type(versions[0]) == "model")
    result = {rid: given[rid] for rid in models if rid in given}
    for rid in models:
        if rid in result:
            continue
        newest = groups[rid][0].ingested
        proposed = newest.proposed_nickname if newest else None
        if isinstance(proposed, str) and nicknames.is_known(proposed) and proposed not in taken:
            result[rid] = (proposed, nicknames.icon_of(proposed) or "")
            taken.add(proposed)
    new = nicknames.assign([rid for rid in models if rid not in result],
                           {**given, **result})
    result.update(new)
    state.nicknames = {**{rid: list(n) for rid, n in given.items()}, **{rid: list(n) for rid, n in result.items()}}
    return result


def _version_status(ledger: Ledger, candidate: Candidate) -> str | None:
    """The ledger status, None when blocked; unknown Zenodo versions are pending, partner entries accepted."""
    entry = ledger.get(candidate.resource_id)
    if entry and entry.is_blocked(candidate.version_id):
        return None
    known = entry.version_status(candidate.version_id) if entry else None
    return known or ("accepted" if candidate.source == "partner" else "pending")


def resource_index(groups: dict[str, list[Version]], nick: dict[str, tuple[str, str]]) -> dict[str, Any]:
    resources = {}
    for rid in sorted(groups):
        versions = groups[rid]
        newest = versions[0]
        downloads = newest.candidate.download_count
        resources[rid] = {
            "id": rid, "type": _resource_type(newest), "name": _resource_name(newest),
            "source": newest.candidate.source, "partner_id": newest.candidate.partner_id,
            "nickname": nick.get(rid, (None, None))[0], "nickname_icon": nick.get(rid, (None, None))[1],
            "download_count": downloads if isinstance(downloads, int) else 0,
            "versions": [_index_version(v, newest=v is newest) for v in versions],
        }
    return {"resources": resources}


def _index_version(version: Version, newest: bool) -> dict[str, Any]:
    """A version in the work index. Only a resource's newest version carries its collection.json fields: an older
    one's are in the state, where the build looks only when a newer version is held back. Every later stage reads
    this index, so it is kept small."""
    bioimageio = version.candidate.bioimageio
    line = {"version_id": version.vid, "rdf_sha256": version.rdf_sha256, "status": version.status,
            "created": version.created, "doi": bioimageio.get("doi"), "version_name": bioimageio.get("version_name")}
    if newest:
        line["entry"] = version.entry
    return line


def _state_record(version: Version, origin: str, newest: bool) -> dict[str, Any]:
    """What the next run needs of a version. Only a resource's newest version keeps its collection.json fields
    (`entry`): they are most of a record, read on every run, and an older version's are read back from its RDF
    in the rare run that needs them (`rdf.entry_fields_of_file`)."""
    c, before = version.candidate, version.previous
    if (version.ingested is None and before is not None and before.get("key") == version.key
            and before.get("origin") == origin and before.get("download_count") == c.download_count
            and before.get("root_url") == c.root_url and before.get("bioimageio") == c.bioimageio
            and ("entry" in before) == newest):
        return before  # the same version as then: kept, not built again (30,000 records on a no-change run)
    record = {"resource_id": c.resource_id, "version_id": c.version_id, "source": c.source, "origin": origin,
              "partner_id": c.partner_id, "root_url": c.root_url, "fingerprint": c.fingerprint,
              "bioimageio": c.bioimageio, "download_count": c.download_count, "key": version.key,
              "rdf_sha256": version.rdf_sha256, "type": _resource_type(version), "name": _resource_name(version)}
    if newest:
        record["entry"] = version.entry
    return record


def propose_ledger_changes(groups: dict[str, list[Version]], ledger: Ledger, nick: dict[str, tuple[str, str]],
                           work: WorkDir, previous: State, state: State) -> None:
    """Write the proposals that are new or changed since the previous run (an unchanged one already has its
    review pull request). Files are written by a few threads: creating thousands of small files and folders is
    kernel work, which then spreads over the cores."""
    files: list[tuple[Path, str]] = []
    for rid, versions in groups.items():
        if versions[0].candidate.source != "zenodo":
            continue
        entry = ledger.get(rid)
        new = [{"version_id": v.vid, "created": v.created, "doi": v.candidate.bioimageio.get("doi"),
                "version_name": v.candidate.bioimageio.get("version_name")}
               for v in versions if not entry or v.vid not in entry.versions]
        needs_nickname = rid in nick and not (entry and entry.nickname)
        if new or needs_nickname:
            digest = fingerprint(entry.to_yaml() if entry else None, new, nick.get(rid))
            state.proposals[rid] = digest
            if previous.proposals.get(rid) != digest:  # YAML is written only for a new or changed proposal
                files.append((work.ledger_proposal(rid), proposal(entry, rid, new, nick.get(rid))))
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda file: write_text_atomic(*file), files))


# ---- the stage -------------------------------------------------------------------------------------------

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
    instead: 30 MB not written again on a large collection, and the build finds the same file in place. The
    comparison is quick: an unchanged version's record is the previous record itself (`_state_record`)."""
    data = state.to_json()
    before = SiteTree(settings.previous).source_state if settings.previous else None
    if before is not None and before.is_file() and data == previous.to_json():
        link_atomic(before, work.source_state)
    else:
        write_json(work.source_state, data, indent=None)


def _reset_work(work: WorkDir) -> None:
    """update starts a run: results of an earlier run in the same folder must not leak into this one."""
    for name in ("rdfs", "uploads", "ledger", "results", "partner_results", "plan", "health", "requests"):
        shutil.rmtree(work.root / name, ignore_errors=True)


def _listing_helper(settings: Settings) -> zenodo.ListingHelper | None:
    """A process to read part of a long Zenodo listing (`zenodo.list_records`), started before the previous state
    is read so that its start and its first pages overlap that. Only where the previous state tells of a large
    collection and there is more than one core."""
    if settings.previous is None or min(os.cpu_count() or 1, settings.concurrency) < 2:
        return None
    try:
        if SiteTree(settings.previous).source_state.stat().st_size < LARGE_STATE_BYTES:
            return None
    except FileNotFoundError:
        return None
    return zenodo.ListingHelper.create()


@gc_paused()
def update(settings: Settings) -> UpdateReport:
    _exists.cache_clear()  # the previous deploy may have changed since the last call in this process
    _published.cache_clear()
    work = WorkDir(settings.work_dir)
    work.root.mkdir(parents=True, exist_ok=True)
    _reset_work(work)
    helper = _listing_helper(settings)
    try:
        template = load_template(settings.repo_root)
        if helper is not None:
            helper.start(settings, zenodo.ZenodoConfig.from_template(template))
        previous = State.load(settings.previous)
        ledger = Ledger.load(settings.repo_root)
        pipeline = IngestPipeline(settings, work, ledger, given_nicknames(ledger, previous))
        try:
            return _update(settings, work, template, previous, ledger, State(), pipeline, helper)
        finally:
            pipeline.close()
    finally:
        if helper is not None:
            helper.shutdown()


def _update(settings: Settings, work: WorkDir, template: dict[str, Any], previous: State, ledger: Ledger,
            state: State, pipeline: IngestPipeline, helper: zenodo.ListingHelper | None) -> UpdateReport:
    candidates, outcomes, extra = collect_sources(settings, template, previous, state, ledger, pipeline, helper)
    if helper is not None:
        helper.shutdown()  # the listing is read: its process is not needed any more
    origin_of = {id(c): o.name for o in outcomes for c in o.candidates}
    warnings: dict[str, list[str]] = defaultdict(list)
    for outcome in outcomes:
        warnings[outcome.name].extend(outcome.warnings)

    versions = []
    for candidate in candidates:
        status = _version_status(ledger, candidate)
        if status is None:
            continue  # blocked in the ledger: never published
        record = previous.versions.get(f"{candidate.resource_id}/{candidate.version_id}")
        versions.append(Version(candidate, "", status, previous=record,
                                created=str(candidate.bioimageio.get("created") or "")))
    versions = ingest_new(versions, pipeline, settings, state)
    for rejected in state.rejected.values():  # reported on every run until the input is fixed
        warnings[rejected.get("source", "zenodo")].append(rejected["error"])

    groups: dict[str, list[Version]] = defaultdict(list)
    for version in versions:
        groups[version.rid].append(version)
    for rid in groups:
        groups[rid].sort(key=lambda v: (v.created, v.vid), reverse=True)
    nick = assign_nicknames(groups, ledger, previous, state)
    newest = {id(group[0]) for group in groups.values()}
    written, reused = materialise_rest(versions, newest, nick, settings, work, meanwhile=lambda: (
        propose_ledger_changes(groups, ledger, nick, work, previous, state)))

    for version in versions:
        origin = origin_of.get(id(version.candidate)) or (version.previous or {}).get("origin") or "zenodo"
        state.versions[f"{version.rid}/{version.vid}"] = _state_record(version, origin, id(version) in newest)
    index = resource_index(groups, nick)
    write_json(work.resources, index, indent=None)  # machine files: compact JSON is 3x faster to write
    zenodo_ok = state.sources["zenodo"].status == "ok"
    write_json(work.download_counts, _download_counts(groups, zenodo_ok, settings))
    write_json(work.partners, [extra["partners"][k] for k in sorted(extra["partners"])])
    _write_state(work, state, previous, settings)
    stale = sorted(name for name, s in state.sources.items() if s.status == "stale")
    write_json(work.health("update"), {
        "sources": {name: s.to_json() for name, s in sorted(state.sources.items())},
        "warnings": {name: sorted(ms)[:MAX_WARNINGS_PER_SOURCE] for name, ms in sorted(warnings.items()) if ms},
        "registration_errors": extra["registration_errors"], "ledger_errors": ledger.errors,
        "ledger_proposals": sorted(state.proposals), "inputs": _input_hashes(settings.repo_root),
    })
    write_json(work.requests("update"), extra["requests"])
    usable = bool(versions) or not all(s.status == "stale" for s in state.sources.values())
    return UpdateReport(len(groups), len(versions), written, reused, stale, usable, extra["requests"])
