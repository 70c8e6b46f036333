"""`collection gather`: partner test summaries, fetched with git from each partner's deploy branch.

Layout (hub docs, "How to contribute tests summaries"):
`<deploy_folder>/<resource_id>/<version_id>/test_summary*.yaml` on `deploy_branch` of the partner's
`test_summaries.repository`; a file holds one summary or a list. Only versions we publish are kept. Every
problem is a warning naming the partner and the file, and the run goes on. An unreachable partner keeps its
previously published results, marked stale in the health report (the predecessor silently lost them all).
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import git
import jsonschema

from collection_compiler.adapters import yamlio
from collection_compiler.adapters.files import read_json, write_json
from collection_compiler.adapters.jsonschemas import load_schema
from collection_compiler.catalogue import ids
from collection_compiler.catalogue.partners import Registration, TestSummaries, selected_registrations
from collection_compiler.catalogue.results import read_previous_test_summary
from collection_compiler.catalogue.state import now_iso
from collection_compiler.catalogue.summaries import PartnerRecord
from collection_compiler.layout import SiteTree, WorkDir
from collection_compiler.settings import Settings

log = logging.getLogger(__name__)

SUMMARY_PATTERN = "test_summary*.yaml"
MAX_SUMMARY_FILE_BYTES = 1_000_000
MAX_SUMMARIES_PER_FILE = 500
GIT_TIMEOUT_S = 300
STAGE = "gather"


@dataclass(frozen=True)
class PublishedVersion:
    rid: str
    vid: str
    rdf_sha256: str
    type: str


def read_published(work: WorkDir) -> dict[str, PublishedVersion]:
    """`"<rid>/<vid>"` → version, for every version in the work folder's resources.json."""
    data = read_json(work.resources, {}) or {}
    published = {}
    for rid, resource in sorted((data.get("resources") or {}).items()):
        if not ids.is_safe_id(rid) or not isinstance(resource, dict):
            continue
        for version in resource.get("versions") or []:
            vid = version.get("version_id") if isinstance(version, dict) else None
            if ids.is_safe_id(vid):
                published[f"{rid}/{vid}"] = PublishedVersion(rid, vid, str(version.get("rdf_sha256") or ""),
                                                             str(resource.get("type") or "unknown"))
    return published


# fetching ------------------------------------------------------------------------------------------------

class GatherError(RuntimeError):
    pass


GIT_ENVIRONMENT = {"GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1", "GIT_LFS_SKIP_SMUDGE": "1"}


def fetch_deploy_folder(settings: Settings, summaries: TestSummaries, dest: Path) -> str:
    """Shallow, sparse checkout of `deploy_folder` at the tip of `deploy_branch` into `dest`; returns the commit."""
    folder = summaries.deploy_folder.strip("/")
    step = "init"
    try:
        repo = git.Repo.init(dest)
        repo.git.update_environment(**GIT_ENVIRONMENT)
        if folder not in ("", "."):
            with repo.config_writer() as config:
                config.set_value("core", "sparseCheckout", "true")
            (dest / ".git" / "info").mkdir(parents=True, exist_ok=True)
            (dest / ".git" / "info" / "sparse-checkout").write_text(f"/{folder}/\n", "utf-8")
        step = "fetch"
        repo.git.fetch("-q", "--depth", "1", "--no-tags", settings.clone_url(summaries.repository),
                       f"refs/heads/{summaries.deploy_branch}", kill_after_timeout=GIT_TIMEOUT_S)
        step = "checkout"
        repo.git.checkout("-q", "--detach", "FETCH_HEAD", kill_after_timeout=GIT_TIMEOUT_S)
        return repo.head.commit.hexsha
    except git.GitCommandError as e:
        stderr = str(e.stderr or "").strip().removeprefix("stderr:").strip().strip("'")  # GitPython's framing
        message = " ".join(stderr.split())[-500:] or f"exit status {e.status}"
        raise GatherError(f"git {step} failed: {message}") from None


# reading -------------------------------------------------------------------------------------------------

@dataclass
class PartnerHarvest:
    """What one partner's checkout yielded."""

    partner_id: str
    by_version: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    unknown_versions: set[str] = field(default_factory=set)
    files: int = 0


def _inside(path: Path, root: Path) -> bool:
    return Path(os.path.realpath(path)).is_relative_to(root)


def harvest(checkout: Path, deploy_folder: str, partner_id: str,
            published: dict[str, PublishedVersion]) -> PartnerHarvest:
    """Read every `test_summary*.yaml` under the deploy folder of a checkout (no network)."""
    result = PartnerHarvest(partner_id)
    root_real = Path(os.path.realpath(checkout))
    folder = deploy_folder.strip("/") or "."
    base = checkout / folder
    if ".." in Path(folder).parts or not _inside(base, root_real) or base.is_symlink():
        result.warnings.append(f"{partner_id}: deploy folder {deploy_folder!r} leaves the repository")
        return result
    if not base.is_dir():
        result.warnings.append(f"{partner_id}: deploy folder {deploy_folder!r} does not exist on the branch")
        return result
    for dirpath, dirnames, filenames in os.walk(base, followlinks=False):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if d != ".git" and _check_dir(here / d, base, root_real, result))
        rel = here.relative_to(base).as_posix()
        for name in sorted(n for n in filenames if Path(n).match(SUMMARY_PATTERN)):
            result.files += 1
            repo_path = (Path(folder) / rel / name).as_posix().removeprefix("./")
            if rel not in published:
                result.unknown_versions.add(rel)
                continue
            summaries = _read_file(here / name, repo_path, root_real, published[rel], result)
            for summary in summaries:
                result.by_version.setdefault(rel, []).append(summary)
    return result


def _check_dir(path: Path, base: Path, root_real: Path, result: PartnerHarvest) -> bool:
    if path.is_symlink():
        if not _inside(path, root_real):
            result.warnings.append(f"{result.partner_id}: {path.relative_to(base)}: link out of the checkout, "
                                   "ignored")
        return False  # never followed; a link inside the checkout only duplicates a real folder
    return True


def _read_file(path: Path, repo_path: str, root_real: Path, version: PublishedVersion,
               result: PartnerHarvest) -> list[dict[str, Any]]:
    where = f"{result.partner_id}: {repo_path}"
    if path.is_symlink() and not _inside(path, root_real):
        result.warnings.append(f"{where}: link out of the checkout, ignored")
        return []
    try:
        size = path.stat().st_size
        if size > MAX_SUMMARY_FILE_BYTES:
            result.warnings.append(f"{where}: {size} bytes, more than the limit of {MAX_SUMMARY_FILE_BYTES}; ignored")
            return []
        data = yamlio.load_yaml_bytes(path.read_bytes(), where, MAX_SUMMARY_FILE_BYTES)
    except (OSError, yamlio.YamlLoadError) as e:
        result.warnings.append(f"{e}" if isinstance(e, yamlio.YamlLoadError) else f"{where}: unreadable ({e})")
        return []
    entries = data if isinstance(data, list) else [data]
    if len(entries) > MAX_SUMMARIES_PER_FILE:
        result.warnings.append(f"{where}: {len(entries)} summaries, only the first {MAX_SUMMARIES_PER_FILE} kept")
        entries = entries[:MAX_SUMMARIES_PER_FILE]
    kept = []
    for index, entry in enumerate(entries):
        problem = summary_problem(entry)
        if problem:
            label = f"[{index}] " if isinstance(data, list) else ""
            result.warnings.append(f"{where}: {label}{problem}; ignored")
            continue
        entry = yamlio.normalise(entry)
        entry.pop("source_name", None)
        stale = bool(entry.get("rdf_sha256")) and entry["rdf_sha256"] != version.rdf_sha256
        kept.append({**entry, "file": repo_path, "stale": stale})
    return kept


def summary_problem(entry: Any) -> str | None:
    """None when `entry` is a valid partner summary, else a message naming the field."""
    if not isinstance(entry, dict):
        return f"a summary must be a mapping, not {yamlio.type_name(entry)}"
    # best_match looks inside the schema's "one summary or a list" alternatives for the field at fault
    error = jsonschema.exceptions.best_match(load_schema("partner_test_summary").iter_errors(yamlio.normalise(entry)))
    if error is None:
        return None
    where = ".".join(str(p) for p in error.absolute_path) or "(top level)"
    return f"field {where}: {error.message[:300]}"


# recording -----------------------------------------------------------------------------------------------

def write_harvest(work: WorkDir, registration: Registration, commit: str, harvest_: PartnerHarvest,
                  published: dict[str, PublishedVersion]) -> int:
    """Replace the partner's gathered results in the work folder; returns the number of versions written."""
    ts = registration.test_summaries
    assert ts is not None
    shutil.rmtree(work.root / "partner_results" / registration.id, ignore_errors=True)
    for key, summaries in sorted(harvest_.by_version.items()):
        version = published[key]
        folder = (Path(ts.deploy_folder.strip("/") or ".") / key).as_posix().removeprefix("./")
        record = PartnerRecord(registration.id, ts.repository, commit, folder, False, summaries)
        write_json(work.partner_result(registration.id, version.rid, version.vid), record.to_json())
    return len(harvest_.by_version)


def recover_previous(work: WorkDir, previous: Path | None, registration: Registration,
                     published: dict[str, PublishedVersion]) -> tuple[int, str]:
    """Copy the partner's results of the previous deploy into the work folder, marked recovered.

    Returns (versions recovered, the partner commit they came from)."""
    if previous is None:
        return 0, ""
    ts = registration.test_summaries
    assert ts is not None
    shutil.rmtree(work.root / "partner_results" / registration.id, ignore_errors=True)
    count, commit = 0, ""
    for key, version in published.items():
        summary = read_previous_test_summary(previous, version.rid, version.vid) or {}
        subs = [s for s in (summary.get("tests") or {}).get(registration.id) or [] if isinstance(s, dict)]
        if not subs:
            continue
        commit = str(((summary.get("tester_versions") or {}).get(registration.id) or {}).get("commit") or "")
        changed = summary.get("rdf_sha256") != version.rdf_sha256
        subs = [{**s, "stale": bool(s.get("stale")) or changed} for s in subs]
        folder = (Path(ts.deploy_folder.strip("/") or ".") / key).as_posix().removeprefix("./")
        record = PartnerRecord(registration.id, ts.repository, commit, folder, True, subs)
        write_json(work.partner_result(registration.id, version.rid, version.vid), record.to_json())
        count += 1
    return count, commit


def _previous_stale_since(previous: Path | None, partner_id: str) -> str | None:
    if previous is None:
        return None
    health = read_json(SiteTree(previous).health, {}) or {}
    for candidate in ((health.get("stages") or {}).get(STAGE), health.get(STAGE)):
        if isinstance(candidate, dict):
            entry = (candidate.get("partners") or {}).get(partner_id)
            if isinstance(entry, dict) and entry.get("stale_since"):
                return str(entry["stale_since"])
    return None


def gather_partner(settings: Settings, work: WorkDir, registration: Registration,
                   published: dict[str, PublishedVersion], now: str) -> dict[str, Any]:
    """Fetch, read and record one partner; returns its health entry."""
    ts = registration.test_summaries
    assert ts is not None
    with tempfile.TemporaryDirectory(prefix=f"gather-{registration.id}-") as tmp:
        checkout = Path(tmp) / "repo"
        try:
            commit = fetch_deploy_folder(settings, ts, checkout)
        except (GatherError, OSError) as e:
            return _unreachable(settings, work, registration, published, now, str(e))
        harvest_ = harvest(checkout, ts.deploy_folder, registration.id, published)
    versions = write_harvest(work, registration, commit, harvest_, published)
    for warning in harvest_.warnings:
        log.warning("%s", warning)
    n_summaries = sum(len(v) for v in harvest_.by_version.values())
    return {"status": "ok", "repository": ts.repository, "branch": ts.deploy_branch, "commit": commit,
            "files": harvest_.files, "versions": versions, "summaries": n_summaries,
            "stale_summaries": sum(1 for v in harvest_.by_version.values() for s in v if s["stale"]),
            "unknown_versions": len(harvest_.unknown_versions), "warnings": harvest_.warnings,
            "error": None, "stale_since": None}


def _unreachable(settings: Settings, work: WorkDir, registration: Registration,
                 published: dict[str, PublishedVersion], now: str, error: str) -> dict[str, Any]:
    ts = registration.test_summaries
    assert ts is not None
    message = f"{registration.id}: {ts.repository}@{ts.deploy_branch} unreachable: {error}"
    log.warning("%s; keeping its previously published results", message)
    recovered, commit = recover_previous(work, settings.previous, registration, published)
    return {"status": "stale", "repository": ts.repository, "branch": ts.deploy_branch, "commit": commit or None,
            "versions": recovered, "error": message, "warnings": [],
            "stale_since": _previous_stale_since(settings.previous, registration.id) or now}


def gather(settings: Settings, registrations: list[Registration], now: str | None = None) -> dict[str, Any]:
    """Gather every partner that declares `test_summaries`; writes and returns the stage's health part."""
    work = WorkDir(settings.work_dir)
    published = read_published(work)
    partners = [r for r in registrations if r.test_summaries is not None]
    stamp = now or now_iso()
    with ThreadPoolExecutor(max_workers=max(1, min(4, len(partners)))) as pool:
        entries = list(pool.map(lambda r: gather_partner(settings, work, r, published, stamp), partners))
    health = {"partners": {r.id: e for r, e in zip(partners, entries, strict=True)}}
    write_json(work.health(STAGE), health)
    return health


# command -------------------------------------------------------------------------------------------------

def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--partner", action="append", default=None, metavar="ID",
                        help="gather only this partner (repeatable; default: all with test_summaries)")


def main(args: argparse.Namespace, settings: Settings) -> int:
    registrations = selected_registrations(settings.repo_root, args.partner)
    health = gather(settings, registrations)
    for partner_id, entry in health["partners"].items():
        state = entry["status"] if entry["status"] == "ok" else f"STALE ({entry['error']})"
        print(f"{partner_id}: {state}, commit {entry.get('commit') or '-'}, {entry.get('versions', 0)} versions, "
              f"{entry.get('summaries', 0)} summaries, {len(entry.get('warnings') or [])} warnings")
    return 0
