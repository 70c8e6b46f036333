"""The pipeline's test stage: the matrix of (resource, version, weights format) still to test, one entry
per invocation (a GitHub Actions matrix job), or the whole matrix in order (the local `collection run`).

Results are `results.CheckResult`s with checker `test-<weights format>` at `TESTER_VERSION`, written to
`work/results/<rid>/<vid>/test-<format>.json`; a version whose (rdf sha256, tester version) already has a
result, in this work folder or in the previous deploy, is not tested again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from collection_compiler import progress
from collection_compiler.adapters import yamlio
from collection_compiler.adapters.files import link_atomic, read_json, sha256_file
from collection_compiler.adapters.http import HttpClient
from collection_compiler.catalogue import ids
from collection_compiler.catalogue.results import CheckResult, previous_result, read_results, write_result
from collection_compiler.layout import WorkDir
from collection_compiler.settings import Settings
from collection_compiler.testing import isolation
from collection_compiler.testing.description import KNOWN_FORMATS
from collection_compiler.testing.fetch import FileFetcher, Root, is_url
from collection_compiler.testing.isolation import SandboxUnavailable
from collection_compiler.testing.source import cache_dir
from collection_compiler.testing.tester import TESTER_VERSION, TestOptions, make_detail, test_weights, weight_formats

log = logging.getLogger(__name__)


def checker_name(weight_format: str) -> str:
    return f"test-{weight_format}"


def _model_versions(work: WorkDir) -> Iterator[tuple[str, str, str]]:
    """(resource id, version id, rdf sha256) of every model version in resources.json."""
    resources = (read_json(work.resources, {}) or {}).get("resources") or {}
    for rid in sorted(resources):
        resource = resources[rid]
        if not isinstance(resource, dict) or resource.get("type") != "model" or not ids.is_safe_id(rid):
            continue
        for version in resource.get("versions") or []:
            vid = version.get("version_id") if isinstance(version, dict) else None
            if ids.is_safe_id(vid) and isinstance(version.get("rdf_sha256"), str):
                yield rid, vid, version["rdf_sha256"]


def _load_rdf(path: Path) -> dict[str, Any]:
    return yamlio.normalise(yamlio.load_mapping(path.read_bytes(), str(path)))


def _has_result(work: WorkDir, rid: str, vid: str, checker: str, sha: str) -> bool:
    return any(r.checker == checker and r.checker_version == TESTER_VERSION and r.rdf_sha256 == sha
               for r in read_results(work, rid, vid))


def reuse_previous(settings: Settings, rid: str, vid: str, weight_format: str, sha: str) -> CheckResult | None:
    """Copy a reusable result of the previous deploy into the work folder (so the build sees it)."""
    work = WorkDir(settings.work_dir)
    found = previous_result(settings.previous, rid, vid, checker_name(weight_format), TESTER_VERSION, sha)
    if found is not None:
        write_result(work, rid, vid, found)
    return found


def test_matrix(settings: Settings) -> dict[str, list[dict[str, str]]]:
    """The GitHub Actions matrix of model versions and weights formats that have no reusable result."""
    work = WorkDir(settings.work_dir)
    include = []
    for rid, vid, sha in _model_versions(work):
        if _static_failed(settings, rid, vid):
            continue  # no model code runs for a description our own checks refused
        path = work.version_rdf(rid, vid, settings.previous)
        try:
            formats = weight_formats(_load_rdf(path))
        except (OSError, yamlio.YamlLoadError) as e:
            log.warning("test matrix: skipping %s/%s: %s", rid, vid, e)
            continue
        for wf in formats:
            if _has_result(work, rid, vid, checker_name(wf), sha) or reuse_previous(settings, rid, vid, wf, sha):
                continue
            include.append({"resource_id": rid, "version_id": vid, "weight_format": wf})
            if path != work.rdf(rid, vid):  # the test jobs have only the work folder, not the previous deploy
                link_atomic(path, work.rdf(rid, vid))
    return {"include": include}


def run_matrix_entry(settings: Settings, entry: dict[str, Any], options: TestOptions | None = None,
                     http: HttpClient | None = None) -> CheckResult:
    """Test one (resource, version, weights format) of the work folder and write its result."""
    rid = ids.check_path_id(entry.get("resource_id"), "resource_id")
    vid = ids.check_path_id(entry.get("version_id"), "version_id")
    wf = entry.get("weight_format")
    if wf not in KNOWN_FORMATS:
        raise ValueError(f"weight_format {wf!r} is not one of {', '.join(KNOWN_FORMATS)}")
    work = WorkDir(settings.work_dir)
    rdf_path = work.version_rdf(rid, vid, settings.previous)
    sha = recorded_sha(work, rid, vid) or sha256_file(rdf_path)
    options = options or TestOptions(scratch_root=None, allow_unsandboxed=settings.allow_unsandboxed_models)
    if not options.allow_unsandboxed and isolation.working_tool() is None:
        raise SandboxUnavailable(isolation.UNAVAILABLE)  # a problem of this machine: no verdict on the model
    if _static_failed(settings, rid, vid):
        detail = make_detail(wf, "failed", error="model code not run: the description failed static validation")
        result = CheckResult(checker_name(wf), TESTER_VERSION, sha, "failed", [detail])
        write_result(work, rid, vid, result)
        return result
    own_http = http is None
    http = http or HttpClient(settings)
    try:
        rdf = _load_rdf(rdf_path)
        fetcher = FileFetcher(http, cache_dir(settings), _root(rdf, rdf_path), allow_local=False,
                              max_bytes=settings.max_download_bytes)
        detail = test_weights(rdf, fetcher, wf, options)
    except (OSError, yamlio.YamlLoadError) as e:
        detail = make_detail(wf, "failed", error=f"{rdf_path}: {e}")
    finally:
        if own_http:
            http.close()
    result = CheckResult(checker_name(wf), TESTER_VERSION, sha, detail["status"], [detail])
    write_result(work, rid, vid, result)
    return result


def _static_failed(settings: Settings, rid: str, vid: str) -> bool:
    from collection_compiler.validation.stage import static_status  # here: the validator is not needed to run a test

    return static_status(settings, rid, vid) == "failed"


def recorded_sha(work: WorkDir, rid: str, vid: str) -> str | None:
    resources = (read_json(work.resources, {}) or {}).get("resources") or {}
    for version in (resources.get(rid) or {}).get("versions") or []:
        if isinstance(version, dict) and version.get("version_id") == vid:
            return version.get("rdf_sha256")
    return None


def _root(rdf: dict[str, Any], rdf_path: Path) -> Root:
    source = rdf.get("rdf_source")
    return Root(url=source) if isinstance(source, str) and is_url(source) else Root(folder=rdf_path.parent)


def test_work(settings: Settings, options: TestOptions | None = None) -> list[CheckResult]:
    """Run the whole matrix in order (the local `collection run`); one bad entry never stops the others."""
    results = []
    with HttpClient(settings) as http:
        matrix = test_matrix(settings)["include"]
        for entry in progress.items(matrix, "test", len(matrix), "test"):
            try:
                results.append(run_matrix_entry(settings, entry, options, http))
            except (ValueError, ids.UnsafeIdError) as e:
                log.error("test %s: %s", entry, e)
            except SandboxUnavailable as e:  # the same for every entry: say it once, test nothing
                log.error("model tests skipped: %s", e)
                break
    return results
