"""`collection plan`: what needs testing, keyed on content, as GitHub Actions matrices.

Our own tests: `(resource_id, version_id, weights_format)` from the model-test stage's `test_matrix`.
Each partner with `test_summaries`: `(resource_id, version_id)` of the versions of the types it tests that
have no current summary from it (new, changed, or never tested). Matrices are split into chunks of at most
256 entries (GitHub's limit per matrix).

Writes `work/plan/bioimageio.json` and `work/plan/partners/<partner_id>.json` (the whole matrix),
`work/plan/chunks/…/<n>.json` (the chunks), `work/plan/plan.json` (counts), and `GITHUB_OUTPUT` when set.
"""

from __future__ import annotations

import argparse
import dataclasses
import fnmatch
import importlib
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from collection_compiler.adapters.files import id_path, json_text, read_json, write_json
from collection_compiler.catalogue.partners import Registration, load_registrations
from collection_compiler.catalogue.results import read_previous_test_summary
from collection_compiler.layout import SiteTree, WorkDir
from collection_compiler.settings import Settings
from collection_compiler.stages.gather import PublishedVersion, read_published

log = logging.getLogger(__name__)

MAX_MATRIX_ENTRIES = 256
OUR_MATRIX = "bioimageio"


def chunks(entries: list[dict[str, Any]], size: int = MAX_MATRIX_ENTRIES) -> list[dict[str, Any]]:
    return [{"include": entries[i:i + size]} for i in range(0, len(entries), size)]


# our own tests -------------------------------------------------------------------------------------------

def selected(entries: list[dict[str, Any]], only: str) -> list[dict[str, Any]]:
    """The entries whose resource id matches the glob `only` (a dispatch input: `*` selects all)."""
    return [e for e in entries if fnmatch.fnmatchcase(str(e.get("resource_id")), only)]


def _stage_matrix(settings: Settings) -> list[dict[str, Any]]:
    try:
        stage = importlib.import_module("collection_compiler.testing.stage")
    except ImportError:
        log.warning("plan: collection_compiler.testing.stage is not available; our test matrix is empty")
        return []
    matrix = stage.test_matrix(settings)
    entries = matrix.get("include", []) if isinstance(matrix, dict) else list(matrix)
    return [dict(e) for e in entries]


def our_matrix(settings: Settings, only: str = "*", force: bool = False) -> list[dict[str, Any]]:
    """The model-test stage's matrix, limited to `only`; with `force`, results of the previous deploy are not
    reused for the selected resources (asked first, before the normal matrix copies reusable results in)."""
    forced = selected(_stage_matrix(dataclasses.replace(settings, previous=None)), only) if force else []
    entries = selected(_stage_matrix(settings), only)
    return entries + [e for e in forced if e not in entries]


# partners ------------------------------------------------------------------------------------------------

def _partner_summaries(work: WorkDir, previous: Path | None, partner_id: str,
                       version: PublishedVersion, gathered: bool) -> tuple[list[dict[str, Any]], bool]:
    """(the partner's summaries of this version, whether this rdf is unchanged since the previous deploy)."""
    before = read_previous_test_summary(previous, version.rid, version.vid) or {}
    unchanged = bool(version.rdf_sha256) and before.get("rdf_sha256") == version.rdf_sha256
    if gathered:
        record = read_json(work.partner_result(partner_id, version.rid, version.vid), {}) or {}
        return [s for s in record.get("summaries") or [] if isinstance(s, dict)], unchanged
    return [s for s in (before.get("tests") or {}).get(partner_id) or [] if isinstance(s, dict)], unchanged


def is_current(summary: dict[str, Any], version: PublishedVersion, unchanged: bool) -> bool:
    """A summary counts for the version's current rdf if it names that rdf, or names none and the rdf
    has not changed since the summary was published."""
    if summary.get("stale"):
        return False
    if summary.get("rdf_sha256"):
        return summary["rdf_sha256"] == version.rdf_sha256
    return unchanged


def partner_pending(work: WorkDir, previous: Path | None, registration: Registration,
                    published: dict[str, PublishedVersion]) -> list[dict[str, str]]:
    gathered = (work.root / "partner_results" / registration.id).is_dir() or registration.id in (
        (read_json(work.health("gather"), {}) or {}).get("partners") or {})
    pending = []
    for version in published.values():
        if version.type not in registration.tested_types:
            continue
        summaries, unchanged = _partner_summaries(work, previous, registration.id, version, gathered)
        if not any(is_current(s, version, unchanged) for s in summaries):
            pending.append({"resource_id": version.rid, "version_id": version.vid})
    return pending


# writing -------------------------------------------------------------------------------------------------

def _write_matrix(plan_dir: Path, name: Path, entries: list[dict[str, Any]]) -> int:
    write_json(plan_dir / name.with_suffix(".json"), {"include": entries})
    chunk_dir = plan_dir / "chunks" / name
    for old in chunk_dir.glob("*.json") if chunk_dir.is_dir() else []:
        old.unlink()
    parts = chunks(entries)
    for index, part in enumerate(parts):
        write_json(chunk_dir / f"{index}.json", part)
    return len(parts)


def _github_output(lines: Iterable[tuple[str, str]]) -> None:
    target = os.environ.get("GITHUB_OUTPUT")
    if not target:
        return
    with open(target, "a", encoding="utf-8") as f:
        for key, value in lines:
            f.write(f"{key}={value}\n")


def _output_lines(ours: list[dict[str, Any]], pending: dict[str, list[dict[str, str]]]) -> list[tuple[str, str]]:
    lines = [(f"{OUR_MATRIX}_matrix_{i}", json_text(c, indent=None).strip()) for i, c in enumerate(chunks(ours))]
    lines += [(f"{OUR_MATRIX}_n_chunks", str(len(chunks(ours)))),
              (f"has_{OUR_MATRIX}_matrix", "yes" if ours else "no")]
    waiting = sorted(p for p, entries in pending.items() if entries)
    lines += [("pending_partners", json_text(waiting, indent=None).strip()),
              ("has_pending_partners", "yes" if waiting else "no")]
    return lines


def plan(settings: Settings, registrations: list[Registration], only: str = "*", force: bool = False
         ) -> dict[str, Any]:
    """Compute and write every matrix; returns the counts written to `work/plan/plan.json`."""
    work = WorkDir(settings.work_dir)
    published = read_published(work)
    ours = our_matrix(settings, only, force)
    summary: dict[str, Any] = {OUR_MATRIX: {"entries": len(ours),
                                            "chunks": _write_matrix(work.plan, Path(OUR_MATRIX), ours)}}
    pending: dict[str, list[dict[str, str]]] = {}
    for registration in registrations:
        if registration.test_summaries is None:
            continue
        pending[registration.id] = selected(partner_pending(work, settings.previous, registration, published), only)
        n_chunks = _write_matrix(work.plan, Path("partners") / registration.id, pending[registration.id])
        summary.setdefault("partners", {})[registration.id] = {"entries": len(pending[registration.id]),
                                                               "chunks": n_chunks}
    write_json(work.plan / "plan.json", summary)
    _github_output(_output_lines(ours, pending))
    return summary


def read_pending(work: WorkDir, partner_id: str) -> list[dict[str, Any]] | None:
    """A partner's pending matrix entries as `plan` wrote them (None when plan did not run for it)."""
    data = read_json(id_path(work.plan / "partners", partner_id).with_suffix(".json"))
    if not isinstance(data, dict):
        return None
    return [e for e in data.get("include") or [] if isinstance(e, dict)]


def publish_pending(site: SiteTree, work: WorkDir) -> list[Path]:
    """Copy each partner's pending matrix to `pending/<partner_id>.json` of the published tree."""
    written = []
    folder = work.plan / "partners"
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        entries = read_pending(work, path.stem)
        if entries is not None:
            write_json(site.pending(path.stem), {"include": entries})
            written.append(site.pending(path.stem))
    return written


# command -------------------------------------------------------------------------------------------------

def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (parser.description or "") + ". Writes work/plan/ and GITHUB_OUTPUT when set."
    parser.add_argument("--only", default="*", metavar="GLOB",
                        help="plan only resources whose id matches this glob (default: all)")
    parser.add_argument("--force", action="store_true",
                        help="re-test the selected resources even where the previous deploy has results")


def main(args: argparse.Namespace, settings: Settings) -> int:
    registrations, errors = load_registrations(settings.repo_root)
    for error in errors:
        log.error("%s", error)
    summary = plan(settings, registrations, args.only or "*", args.force)
    print(f"{OUR_MATRIX}: {summary[OUR_MATRIX]['entries']} test cases in {summary[OUR_MATRIX]['chunks']} chunks")
    for partner_id, counts in sorted((summary.get("partners") or {}).items()):
        print(f"{partner_id}: {counts['entries']} pending versions in {counts['chunks']} chunks")
    return 0
