"""What a published tree was built from (`state/build.json`): the build is a function of its inputs, so a tree
whose record names the same inputs already holds what building again would write.

The inputs are the work files the build reads (`WORK_INPUTS`: update's index, state, counts and health, check
results, gathered partner summaries, plans; the RDFs are named in the index by their sha256), the hub's template
and partner registrations, the settings that reach the output (site URL, git base) and the compiler's own files.
Nothing else in the work folder counts (the model tests' download cache can hold gigabytes).

The record is removed before a build changes the tree and written once the build is done, so a build that
stopped half-way leaves no record and the next one builds in full.
"""

from __future__ import annotations

import functools
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from collection_compiler.adapters.files import read_json, sha256_file, write_json
from collection_compiler.catalogue.partners import registration_files
from collection_compiler.catalogue.templates import TEMPLATE_FILE
from collection_compiler.layout import SiteTree, WorkDir
from collection_compiler.settings import Settings

RECORD_FORMAT = 1
_PACKAGE = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class BuildRecord:
    inputs_sha256: str
    resources: int
    versions: int
    unpublished: int
    expected: bool  # whether the index listed any resource

    def to_json(self) -> dict[str, Any]:
        return {"format": RECORD_FORMAT, **vars(self)}


# What `build` reads of the work folder, besides the RDFs the index names (a test builds from these alone).
WORK_INPUTS = frozenset({"resources.json", "source_state.json", "download_counts.json", "partners.json", "health",
                         "results", "partner_results", "plan"})
# Read but not digested: the run's own request counts (health.json `requests`), which differ from run to run and
# alone never warrant building a tree again (nor a deploy commit).
WORK_REPORTS = frozenset({"requests"})


def folder_digest(root: Path, only: frozenset[str] | None = None) -> str:
    """A digest of every file under `root` (relative name and content) without compiled bytecode; with `only`,
    of the files and folders of `root` so named."""
    digest = hashlib.sha256()
    for top, folders, names in os.walk(root):
        if only is not None and top == str(root):
            folders[:] = [f for f in folders if f in only]
            names = [n for n in names if n in only]
        folders[:] = sorted(f for f in folders if f != "__pycache__")
        for name in sorted(names):
            path = Path(top, name)
            digest.update(f"{path.relative_to(root).as_posix()}\0{sha256_file(path)}\n".encode())
    return digest.hexdigest()


@functools.lru_cache(maxsize=1)
def _compiler_digest() -> str:
    return folder_digest(_PACKAGE)


def inputs_digest(settings: Settings, work: WorkDir) -> str:
    """One digest of everything a build reads (see the module's docstring)."""
    repo = settings.repo_root
    hub_files = [repo / TEMPLATE_FILE, *registration_files(repo)]
    parts = [
        f"compiler\0{_compiler_digest()}",
        f"settings\0{settings.site_url}\0{settings.git_base}",
        *(f"hub\0{p.relative_to(repo).as_posix()}\0{sha256_file(p)}" for p in hub_files if p.is_file()),
        f"work\0{folder_digest(work.root, WORK_INPUTS)}",
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def matching(tree: SiteTree, inputs_sha256: str) -> BuildRecord | None:
    """The tree's record, when it was built from exactly these inputs and its main files are in place."""
    data = read_json(tree.build_record, default=None)
    if not isinstance(data, dict) or data.get("format") != RECORD_FORMAT or data.get("inputs_sha256") != inputs_sha256:
        return None
    if not (tree.collection.is_file() and tree.published_index.is_file()):
        return None
    try:
        return BuildRecord(inputs_sha256, int(data["resources"]), int(data["versions"]), int(data["unpublished"]),
                           bool(data["expected"]))
    except (KeyError, TypeError, ValueError):
        return None


def forget(tree: SiteTree) -> None:
    """Before a build changes the tree: until it finishes, the tree matches no inputs."""
    tree.build_record.unlink(missing_ok=True)


def remember(tree: SiteTree, record: BuildRecord) -> None:
    write_json(tree.build_record, record.to_json())
