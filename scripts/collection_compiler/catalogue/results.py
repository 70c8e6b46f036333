"""Our own check results, keyed by content: (rdf sha256, checker, checker version).

A checker (static validation, a model test of one weights format) writes one `CheckResult` per version to
`work/results/<rid>/<vid>/<checker>.json`. The build merges them into `test_summary.yaml`, whose
`tests.bioimageio` sub-summaries carry `checker` and `checker_version`, so the next run can reuse a result
from the previous deploy instead of checking an unchanged version again.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from collection_compiler.adapters import yamlio
from collection_compiler.adapters.files import read_json, write_json
from collection_compiler.catalogue.status import combined_status
from collection_compiler.layout import SiteTree, WorkDir


@dataclass
class CheckResult:
    checker: str
    checker_version: str
    rdf_sha256: str
    status: str
    details: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CheckResult:
        return cls(**{k: data[k] for k in ("checker", "checker_version", "rdf_sha256", "status", "details")})

    def sub_summaries(self) -> list[dict[str, Any]]:
        """The details as test_summary.yaml sub-summaries, tagged with what produced them."""
        return [{**d, "checker": self.checker, "checker_version": self.checker_version} for d in self.details]


def write_result(work: WorkDir, rid: str, vid: str, result: CheckResult) -> Path:
    path = work.result(rid, vid, result.checker)
    write_json(path, result.to_json())
    return path


def read_results(work: WorkDir, rid: str, vid: str) -> list[CheckResult]:
    folder = work.results_dir(rid, vid)
    if not folder.is_dir():
        return []
    return [CheckResult.from_json(read_json(p)) for p in sorted(folder.glob("*.json"))]


def read_previous_test_summary(previous: Path | None, rid: str, vid: str) -> dict[str, Any] | None:
    """A version's test_summary.yaml from the previous deploy (None when absent or unreadable).

    Several stages ask for the same file (validation, each weights format, each partner): it is parsed once
    while its size and mtime stay the same. The mapping is shared: treat it as read-only."""
    if previous is None:
        return None
    path = SiteTree(previous).test_summary(rid, vid)
    try:
        stat = path.stat()
    except OSError:
        return None
    return _parse_test_summary(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=4096)
def _parse_test_summary(path: str, mtime_ns: int, size: int) -> dict[str, Any] | None:
    try:
        data = yamlio.load_yaml_file(Path(path))
    except (yamlio.YamlLoadError, OSError):
        return None
    return data if isinstance(data, dict) else None


def previous_result(previous: Path | None, rid: str, vid: str, checker: str, checker_version: str,
                    rdf_sha256: str) -> CheckResult | None:
    """The result of `checker` at `checker_version` for this exact RDF in the previous deploy, if any."""
    summary = read_previous_test_summary(previous, rid, vid)
    if summary is None:
        return _held_back_result(previous, rid, vid, checker, checker_version, rdf_sha256)
    if summary.get("rdf_sha256") != rdf_sha256:
        return None
    ours = (summary.get("tests") or {}).get("bioimageio") or []
    details = [
        {k: v for k, v in d.items() if k not in ("checker", "checker_version")}
        for d in ours
        if isinstance(d, dict) and d.get("checker") == checker and d.get("checker_version") == checker_version
    ]
    if not details:
        return None
    return CheckResult(checker, checker_version, rdf_sha256, combined_status(d.get("status") for d in details), details)


def _held_back_result(previous: Path | None, rid: str, vid: str, checker: str, checker_version: str,
                      rdf_sha256: str) -> CheckResult | None:
    """The result kept for a version the previous deploy held back (`stages.held_back`), if it matches."""
    if previous is None:
        return None
    kept = read_json(SiteTree(previous).held_results(rid, vid), default=None)
    for data in kept if isinstance(kept, list) else []:
        try:
            result = CheckResult.from_json(data)
        except (KeyError, TypeError):
            continue
        if (result.checker, result.checker_version, result.rdf_sha256) == (checker, checker_version, rdf_sha256):
            return result
    return None
