"""The pipeline's validate stage: every version in `work/resources.json`, in parallel, reusing earlier results."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from .. import progress
from ..files import read_json, sha256_file
from ..http import HttpClient
from ..layout import WorkDir
from ..results import CheckResult, previous_result, read_results, write_result
from ..settings import Settings
from .result import UNCHECKED
from .validator import CHECKER, VALIDATOR_VERSION, validate_rdf

log = logging.getLogger(__name__)


@dataclass
class StageCounts:
    validated: int = 0
    reused: int = 0
    failed: int = 0
    missing: int = 0
    unchecked_files: int = 0  # files the file checks could not see (CLI issue 19: reported, never passed over)


def pending_versions(work: WorkDir) -> list[tuple[str, str, str]]:
    """(rid, vid, rdf_sha256) of every version listed in resources.json."""
    index = read_json(work.resources, default={}) or {}
    out = []
    for rid, resource in sorted((index.get("resources") or {}).items()):
        for version in (resource or {}).get("versions") or []:
            vid, sha = version.get("version_id"), version.get("rdf_sha256")
            if isinstance(vid, str):
                out.append((rid, vid, sha if isinstance(sha, str) else ""))
    return out


def validate_version(work: WorkDir, settings: Settings, rid: str, vid: str, sha: str, perform_io: bool,
                     http: HttpClient | None) -> tuple[CheckResult, bool]:
    """The version's static result: reused from the previous deploy when its key is unchanged."""
    path = work.version_rdf(rid, vid, settings.previous)
    if not path.is_file():
        result = CheckResult(CHECKER, VALIDATOR_VERSION, sha, "failed", [
            {"name": "load resource description", "status": "failed", "error": f"{path} is missing",
             "errors": [{"loc": [], "msg": f"{path} is missing", "type": "missing"}], "warnings": [],
             "traceback": None, "nested_errors": None, "loc": []}])
        return result, False
    sha = sha or sha256_file(path)
    previous = previous_result(settings.previous, rid, vid, CHECKER, VALIDATOR_VERSION, sha)
    if previous is not None:
        return previous, True
    validation = validate_rdf(path.read_bytes(), source=f"{rid}/{vid}", root=path.parent, perform_io=perform_io,
                              settings=settings, http=http)
    return CheckResult(CHECKER, VALIDATOR_VERSION, sha, validation.status, validation.sub_summaries()), False


def validate_work(settings: Settings, perform_io: bool = True) -> int:
    """Validate every version of `work/resources.json` and write `results/<rid>/<vid>/static-validation.json`.

    File checks go through one shared `HttpClient`. Returns 0 (a failed description is a result, not an error).
    """
    work = WorkDir(settings.work_dir)
    versions = pending_versions(work)
    counts = StageCounts()
    with HttpClient(settings) as http, ThreadPoolExecutor(max_workers=max(1, settings.concurrency)) as pool:
        def run(item: tuple[str, str, str]) -> tuple[str, str, CheckResult, bool]:
            rid, vid, sha = item
            result, reused = validate_version(work, settings, rid, vid, sha, perform_io, http)
            return rid, vid, result, reused

        checked = progress.items(pool.map(run, versions), "validate", len(versions), "version")
        for rid, vid, result, reused in checked:
            write_result(work, rid, vid, result)
            counts.reused += reused
            counts.validated += not reused
            counts.failed += result.status == "failed"
            counts.unchecked_files += _unchecked_files(result)
    log.info("static validation: %d validated, %d reused, %d failed", counts.validated, counts.reused, counts.failed)
    _write_health(work, counts, len(versions))
    return 0


def _unchecked_files(result: CheckResult) -> int:
    return sum(w.get("type") == UNCHECKED for d in result.details for w in d.get("warnings") or [])


def _write_health(work: WorkDir, counts: StageCounts, total: int) -> None:
    from ..files import write_json

    write_json(work.health("validate"), {"stage": "validate", "versions": total, "validated": counts.validated,
                                          "reused": counts.reused, "failed": counts.failed,
                                          "unchecked_files": counts.unchecked_files})


def static_status(settings: Settings, rid: str, vid: str) -> str | None:
    """The version's overall static status from the work folder (`passed`/`failed`), or None if not validated."""
    for result in read_results(WorkDir(settings.work_dir), rid, vid):
        if result.checker == CHECKER:
            return result.status
    return None


def passes(settings: Settings, rid: str, vid: str) -> bool:
    """Whether the lead may publish this version on the Zenodo route."""
    return static_status(settings, rid, vid) == "passed"



