"""Held-back versions kept in the published tree's state (`state/held/<rid>/<vid>/`): the materialised RDF and our
check results. A Zenodo record is immutable, so while its search hit is unchanged the next run neither downloads
nor checks such a version again (`update` and `results.previous_result` read these), and it stays held back
without costing the services' rate limits."""

from __future__ import annotations

import shutil
from pathlib import Path

from collection_compiler.adapters.files import link_atomic, write_json
from collection_compiler.catalogue.results import read_results
from collection_compiler.layout import SiteTree, WorkDir


def keep(tree: SiteTree, work: WorkDir, held_back: list[str], previous: Path | None) -> None:
    """Keep each held-back version's RDF and results; drop those of versions no longer held back."""
    kept: set[Path] = set()
    for key in held_back:
        rid, vid = key.rsplit("/", 1)
        source = work.version_rdf(rid, vid, previous)
        if not source.is_file():
            continue
        link_atomic(source, tree.held_rdf(rid, vid))
        write_json(tree.held_results(rid, vid), [r.to_json() for r in read_results(work, rid, vid)])
        kept.add(tree.held_dir(rid, vid))
    _prune(tree.held, kept)


def _prune(root: Path, kept: set[Path]) -> None:
    """Remove the version folders under `root` not in `kept`, and folders left empty."""
    if not root.is_dir():
        return
    for rdf in sorted(root.rglob("rdf.yaml")):
        if rdf.parent not in kept:
            shutil.rmtree(rdf.parent)
    for folder in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()
