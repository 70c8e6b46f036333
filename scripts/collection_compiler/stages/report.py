"""What a run tells people: one summary line per stage, and a short report at its end.

The lines are read from the stages' own files (`work/health/<stage>.json`, the built `health.json`, the check
results), so the report says what the next stage and the published health page will see.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from collection_compiler.adapters.files import read_json
from collection_compiler.catalogue.results import CheckResult, read_results
from collection_compiler.errors import MODELS_EXTRA
from collection_compiler.layout import SiteTree, WorkDir

FIRST_FEW = 5


@dataclass
class StaleSource:
    name: str
    error: str
    since: str | None = None


@dataclass
class RunReport:
    stale: list[StaleSource] = field(default_factory=list)
    held_back: dict[str, str] = field(default_factory=dict)  # "<rid>/<vid>" -> why
    missing_runtimes: list[str] = field(default_factory=list)
    health_page: Path | None = None
    errors: list[str] = field(default_factory=list)  # hub files the update could not use (registrations, ledger)
    warnings: list[str] = field(default_factory=list)  # "<source>: <what>" of versions the update left out

    @property
    def has_failures(self) -> bool:
        return bool(self.stale or self.missing_runtimes or self.errors)

    def lines(self) -> list[str]:
        out = [f"stale source {s.name}: {s.error}" + (f" (since {s.since})" if s.since else "") for s in self.stale]
        out += [f"error: {e}" for e in self.errors]
        if self.missing_runtimes:
            out.append(f"model runtimes not installed: {', '.join(self.missing_runtimes)}; their tests failed "
                       f"(install them: {MODELS_EXTRA})")
        out += _first_few(f"{count(len(self.held_back), 'version')} held back:",
                          [f"{key}: {why}" for key, why in self.held_back.items()])
        out += _first_few(f"{count(len(self.warnings), 'version')} left out by the update:", self.warnings)
        if self.health_page is not None:
            out.append(f"full report: {self.health_page}")
        return out


def _first_few(heading: str, items: list[str]) -> list[str]:
    if not items:
        return []
    more = [f"  … and {len(items) - FIRST_FEW} more"] if len(items) > FIRST_FEW else []
    return [heading, *(f"  {item}" for item in items[:FIRST_FEW]), *more]


def count(n: int, noun: str, plural: str = "") -> str:
    """`1 file`, `2 files` (people read these lines)."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


# ---- one line per stage --------------------------------------------------------------------------------------

def validate_line(work: WorkDir) -> str:
    counts = read_json(work.health("validate"), default={}) or {}
    line = (f"validate: {count(counts.get('versions', 0), 'version')} ({counts.get('validated', 0)} checked, "
            f"{counts.get('reused', 0)} reused), {counts.get('failed', 0)} failed")
    unchecked = counts.get("unchecked_files", 0)
    return line + (f", could not check {count(unchecked, 'file')}" if unchecked else "")


def test_line(results: Sequence[CheckResult]) -> str:
    by_status: dict[str, int] = {}
    for result in results:
        by_status[result.status] = by_status.get(result.status, 0) + 1
    counts = ", ".join(f"{n} {status}" for status, n in sorted(by_status.items()))
    return f"test: {count(len(results), 'test')}" + (f" ({counts})" if counts else " (nothing new to test)")


def gather_line(health: dict[str, Any]) -> str:
    partners = health.get("partners") or {}
    stale = sorted(name for name, part in partners.items() if part.get("status") != "ok")
    summaries = sum(int(part.get("summaries") or 0) for part in partners.values())
    line = f"gather: {count(len(partners), 'partner')}, {count(summaries, 'test summary', 'test summaries')}"
    return line + (f"; stale: {', '.join(stale)}" if stale else "")


def plan_line(counts: dict[str, Any]) -> str:
    partners = counts.get("partners") or {}
    ours = sum(int(v.get("entries") or 0) for k, v in counts.items() if k != "partners" and isinstance(v, dict))
    pending = sum(int(v.get("entries") or 0) for v in partners.values())
    return (f"plan: {count(ours, 'test case')} for our matrix, {count(pending, 'pending version')} for "
            f"{count(len(partners), 'partner')}")


# ---- the end of a run ----------------------------------------------------------------------------------------

def update_problems(work: WorkDir) -> tuple[list[str], list[str]]:
    """(errors of hub files and compiler bugs, warnings about single versions) that the update and validate stages
    recorded."""
    update = read_json(work.health("update"), default={}) or {}
    errors = [str(e) for key in ("registration_errors", "ledger_errors") for e in update.get(key) or []]
    # valid uploads whose published RDF our validator rejects: the compiler's own bug, which fails the run
    compiler = (read_json(work.health("validate"), default={}) or {}).get("compiler_errors") or {}
    errors += [f"{version}: {error}" for version, error in sorted(compiler.items())]
    warnings = [f"{source}: {w}" for source, ws in sorted((update.get("warnings") or {}).items()) for w in ws]
    return errors, warnings


def stale_sources(work: WorkDir) -> list[StaleSource]:
    """Each source the update or gather stage could not read this run, with its error."""
    update = read_json(work.health("update"), default={}) or {}
    stale = [StaleSource(name, s.get("error") or "unknown error", s.get("since"))
             for name, s in sorted((update.get("sources") or {}).items()) if s.get("status") == "stale"]
    gather = read_json(work.health("gather"), default={}) or {}
    stale += [StaleSource(f"summaries:{name}", p.get("error") or "unknown error", p.get("stale_since"))
              for name, p in sorted((gather.get("partners") or {}).items()) if p.get("status") != "ok"]
    return stale


def held_back(work: WorkDir, tree: SiteTree) -> dict[str, str]:
    """The versions the build did not publish, each with why (the first failed check, or the review)."""
    health = read_json(tree.health, default={}) or {}
    return {key: _why_held_back(work, key) for key in health.get("held_back") or []}


def _why_held_back(work: WorkDir, key: str) -> str:
    rid, _, vid = key.rpartition("/")
    for result in read_results(work, rid, vid):
        if result.status == "failed":
            return f"{result.checker} failed: {_first_error(result)}"
    return "awaiting review (not accepted in the ledger)"


def _first_error(result: CheckResult) -> str:
    errors = [str(d.get("error")) for d in result.details if d.get("status") == "failed" and d.get("error")]
    text = " ".join((errors[0] if errors else "see its test summary").split())
    return text if len(text) <= 160 else text[:157] + "..."


def run_report(work_dir: Path, out: Path | None, missing: list[str]) -> RunReport:
    """The report of the run that used these folders; `out` None: it built nothing (an older tree there is not
    this run's)."""
    work = WorkDir(work_dir)
    errors, warnings = update_problems(work)
    if out is None:
        return RunReport(stale_sources(work), {}, missing, None, errors, warnings)
    tree = SiteTree(out)
    page = tree.root / "health" / "index.html"
    return RunReport(stale_sources(work), held_back(work, tree), missing,
                     page if page.is_file() else tree.health if tree.health.is_file() else None, errors, warnings)
