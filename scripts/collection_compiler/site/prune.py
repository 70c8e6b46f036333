"""Delete site files that the current build no longer produces.

The published tree is updated in place (`--out` is the gh-pages checkout), so pages of resources, versions and
partners that left the collection, unused thumbnails and cached docs would otherwise stay online forever.
Only folders the site owns are swept, and only files the build did not claim are removed.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)


def prune(folder: Path, keep: Iterable[Path]) -> int:
    """Remove every file under `folder` that is not in `keep`, then the folders left empty. Returns the count."""
    if not folder.is_dir() or folder.is_symlink():
        return 0
    wanted = {os.fspath(p) for p in keep}
    removed = 0
    for parent, dirs, files in os.walk(folder, topdown=False):  # bottom-up: children are emptied first
        for name in files:
            path = os.path.join(parent, name)
            if path not in wanted:
                os.unlink(path)
                removed += 1
        for name in dirs:
            path = os.path.join(parent, name)
            if os.path.islink(path):
                if path not in wanted:
                    os.unlink(path)  # a link is never followed, only removed
                    removed += 1
                continue
            with contextlib.suppress(OSError):
                os.rmdir(path)  # only succeeds when empty
    if removed:
        log.info("%s: %d stale file(s) removed", folder, removed)
    return removed


def remove_listed(folder: Path, paths: Iterable[Path]) -> int:
    """Remove the given files below `folder` and the folders they leave empty (up to `folder`). Returns the count."""
    removed = 0
    for path in sorted(paths):
        if folder not in path.parents:
            continue
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        removed += 1
        parent = path.parent
        while parent != folder:
            try:
                parent.rmdir()  # only succeeds when empty
            except OSError:
                break
            parent = parent.parent
    if removed:
        log.info("%s: %d stale file(s) removed", folder, removed)
    return removed
