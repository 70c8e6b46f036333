"""Accepting the model-test jobs' result artifacts: from each job only the result of the matrix entry it was given.

Each job of the test matrix runs one (resource, version, weights format) and uploads `work/results/` as the
artifact `results-test-<chunk>-<job index>`. Model code runs in that job (sandboxed, but a job is still where a
hostile model is closest to the pipeline), so the gather job downloads every artifact into its own folder and
takes from it only `<rid>/<vid>/test-<format>.json` of the entry at that index of that chunk, as `plan` wrote
the chunks, and only when it is a result of that checker for the version's recorded RDF. Nothing else in an
artifact is read: a job cannot pass or fail another resource.
"""

from __future__ import annotations

import json
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from collection_compiler.adapters.files import read_json
from collection_compiler.catalogue import ids
from collection_compiler.catalogue.results import CheckResult, write_result
from collection_compiler.layout import WorkDir
from collection_compiler.testing.stage import checker_name, recorded_sha

ARTIFACT_NAME = re.compile(r"results-test-([0-9]{1,4})-([0-9]{1,4})")
MAX_RESULT_BYTES = 5_000_000
STATUSES = ("passed", "failed", "not-applicable")


@dataclass
class Accepted:
    results: list[str] = field(default_factory=list)  # "<rid>/<vid> test-<format>"
    refused: list[str] = field(default_factory=list)  # one line per artifact or file not taken


def accept_artifacts(work: WorkDir, incoming: Path) -> Accepted:
    """Take each artifact folder's one expected result into `work/results`; say what was refused."""
    accepted = Accepted()
    for folder in sorted(incoming.iterdir()) if incoming.is_dir() else []:
        match = ARTIFACT_NAME.fullmatch(folder.name)
        if match is None or folder.is_symlink() or not folder.is_dir():
            accepted.refused.append(f"{folder.name}: not a test job's result artifact")
            continue
        try:
            rid, vid, result = _expected_result(work, folder, int(match[1]), int(match[2]))
        except ValueError as e:
            accepted.refused.append(f"{folder.name}: {e}")
            continue
        write_result(work, rid, vid, result)
        accepted.results.append(f"{rid}/{vid} {result.checker}")
        kept = _result_path(folder, rid, vid, result.checker)
        accepted.refused += [f"{folder.name}: {path.relative_to(folder)} ignored (not this job's entry)"
                             for path in sorted(folder.rglob("*")) if path != kept and not path.is_dir()]
    return accepted


def _result_path(folder: Path, rid: str, vid: str, checker: str) -> Path:
    return folder.joinpath(*rid.split("/"), vid, f"{checker}.json")


def _expected_result(work: WorkDir, folder: Path, chunk: int, index: int) -> tuple[str, str, CheckResult]:
    entry = _matrix_entry(work, chunk, index)
    rid = ids.check_path_id(entry.get("resource_id"), "resource_id")
    vid = ids.check_path_id(entry.get("version_id"), "version_id")
    checker = checker_name(str(entry.get("weight_format")))
    path = _result_path(folder, rid, vid, checker)
    data = _read_plain_json(path)
    sha = recorded_sha(work, rid, vid)
    if not isinstance(data, dict) or data.get("checker") != checker or data.get("rdf_sha256") != sha \
            or data.get("status") not in STATUSES or not isinstance(data.get("details"), list) \
            or not isinstance(data.get("checker_version"), str):
        raise ValueError(f"{path.relative_to(folder)}: not a {checker} result for the RDF of {rid}/{vid}")
    return rid, vid, CheckResult.from_json(data)


def _matrix_entry(work: WorkDir, chunk: int, index: int) -> dict[str, Any]:
    include = (read_json(work.plan / "chunks" / "bioimageio" / f"{chunk}.json", {}) or {}).get("include")
    if not isinstance(include, list) or not 0 <= index < len(include) or not isinstance(include[index], dict):
        raise ValueError(f"no entry {index} in chunk {chunk} of the planned test matrix")
    return include[index]


def _read_plain_json(path: Path) -> Any:
    """A regular file (not a link the job placed) of bounded size, as JSON."""
    try:
        info = path.lstat()
    except OSError:
        raise ValueError(f"{path.name}: the job uploaded no result for its entry") from None
    if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_RESULT_BYTES:
        raise ValueError(f"{path.name}: not a plain file of at most {MAX_RESULT_BYTES} bytes")
    try:
        return json.loads(path.read_bytes())
    except ValueError as e:
        raise ValueError(f"{path.name}: not JSON ({e})") from None
