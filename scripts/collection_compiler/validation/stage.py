"""The pipeline's validate stage: every version in `work/resources.json`, in parallel, reusing earlier results."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from collection_compiler import progress
from collection_compiler.adapters.files import read_json, sha256_file, write_json
from collection_compiler.adapters.http import HttpClient
from collection_compiler.catalogue.results import CheckResult, previous_result, read_results, write_result
from collection_compiler.layout import WorkDir
from collection_compiler.settings import Settings
from collection_compiler.validation.result import UNCHECKED, Detail, Issue, ValidationResult
from collection_compiler.validation.validator import CHECKER, VALIDATOR_VERSION, validate_rdf

log = logging.getLogger(__name__)


@dataclass
class StageCounts:
    validated: int = 0
    reused: int = 0
    failed: int = 0
    missing: int = 0
    unchecked_files: int = 0  # files the file checks could not see (CLI issue 19: reported, never passed over)
    first_errors: dict[str, str] = field(default_factory=dict)  # `<rid>/<vid>` of each failed version
    compiler_errors: dict[str, str] = field(default_factory=dict)  # valid uploads published invalid


# The detail that marks a compiler bug: the upload is valid, what the compiler made of it is not.
COMPILER_CHECK = "the published RDF is valid under its own format version (a compiler check)"
_MAX_LISTED = 500  # failed versions listed in the health report (the counts are complete)


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
    """The version's static result: reused from the previous deploy when its key is unchanged. The upload (where
    this run fetched it) is judged first; a valid one is checked once more as published (`check_published`)."""
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
    upload = work.upload(rid, vid)
    if upload.is_file():  # fetched this run; otherwise the published file is the only copy there is
        uploaded = validate_rdf(upload.read_bytes(), source=f"{rid}/{vid} (as uploaded)", settings=settings)
        if uploaded.status == "failed":
            return CheckResult(CHECKER, VALIDATOR_VERSION, sha, "failed", uploaded.sub_summaries()), False
    # No root: a materialised RDF names its files by URL, and nothing it names may be read from this machine.
    published = validate_rdf(path.read_bytes(), source=f"{rid}/{vid}", root=None, perform_io=perform_io,
                             settings=settings, http=http)
    details = published.sub_summaries()
    if upload.is_file():
        details += check_published(published)
    status = "failed" if any(d["status"] == "failed" for d in details) else "passed"
    return CheckResult(CHECKER, VALIDATOR_VERSION, sha, status, details), False


def check_published(published: ValidationResult) -> list[dict[str, Any]]:
    """For a valid upload: a failing format detail of its published RDF is the compiler's fault (materialising
    added or changed what the format forbids), never the uploader's; file problems (a missing file, a wrong
    sha256) are the upload's."""
    format_errors = published.details[0].errors if published.details else []
    if not format_errors:
        return []
    message = f"compiler bug: the upload is valid, but its published RDF is not: {format_errors[0].text()}"
    return [Detail(COMPILER_CHECK, [Issue((), message, "compiler_error")]).to_json()]


def compiler_error(result: CheckResult) -> str | None:
    return next((d["error"] for d in result.details if d.get("name") == COMPILER_CHECK), None)


def first_error(result: CheckResult) -> str | None:
    return next((d["error"] for d in result.details if d.get("status") == "failed"), None)


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
            _count(counts, f"{rid}/{vid}", result, reused)
    log.info("static validation: %d validated, %d reused, %d failed", counts.validated, counts.reused, counts.failed)
    for version, error in counts.compiler_errors.items():
        log.error("%s: %s", version, error)
    _write_health(work, counts, len(versions))
    return 1 if counts.compiler_errors else 0


def _count(counts: StageCounts, version: str, result: CheckResult, reused: bool) -> None:
    counts.reused += reused
    counts.validated += not reused
    counts.unchecked_files += _unchecked_files(result)
    if result.status != "failed":
        return
    counts.failed += 1
    if len(counts.first_errors) < _MAX_LISTED:
        counts.first_errors[version] = first_error(result) or "failed"
    bug = compiler_error(result)
    if bug:
        counts.compiler_errors[version] = bug


def _unchecked_files(result: CheckResult) -> int:
    return sum(w.get("type") == UNCHECKED for d in result.details for w in d.get("warnings") or [])


def _write_health(work: WorkDir, counts: StageCounts, total: int) -> None:
    """The stage's part of health.json: counts, the first error of each failed version and, loudly, the compiler's
    own errors (valid uploads it would have published invalid)."""
    write_json(work.health("validate"), {
        "stage": "validate", "versions": total, "validated": counts.validated, "reused": counts.reused,
        "failed": counts.failed, "unchecked_files": counts.unchecked_files,
        "first_errors": dict(sorted(counts.first_errors.items())),
        "compiler_errors": dict(sorted(counts.compiler_errors.items()))})


def static_status(settings: Settings, rid: str, vid: str) -> str | None:
    """The version's overall static status from the work folder (`passed`/`failed`), or None if not validated."""
    for result in read_results(WorkDir(settings.work_dir), rid, vid):
        if result.checker == CHECKER:
            return result.status
    return None


def passes(settings: Settings, rid: str, vid: str) -> bool:
    """Whether the lead may publish this version on the Zenodo route."""
    return static_status(settings, rid, vid) == "passed"



