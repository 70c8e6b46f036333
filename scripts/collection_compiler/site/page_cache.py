"""Which resource pages the last build wrote, and a digest of each one's inputs.

`site-cache/pages.json` lets a rebuild (1) skip rendering a resource whose inputs are unchanged and whose files are
still there, and (2) find the pages of resources and versions that left the collection without walking the whole
`resources/` folder. Format (deterministic, sorted keys):

    {"format": 1, "salt": "<digest of templates, site code and site-wide context>",
     "pages": {"<rid>": {"digest": "<digest of the page inputs>" | null, "versions": ["<vid>", …]}}}

A `null` digest means "listed but not known to be rendered" (the cache is saved before rendering, so a build that
stops half-way still leaves a list of every file it may have written, and renders those pages again next time).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from collection_compiler.adapters.files import read_json, sha256_bytes, write_json
from collection_compiler.catalogue import ids

PATH = "site-cache/pages.json"
FORMAT = 1


def digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_plain)
    return sha256_bytes(text)[:32]


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return str(value)


def salt(template_dirs: list[Path], code_dir: Path, site: dict[str, Any]) -> str:
    """Everything every page depends on: template files, the site package's code, the site-wide context."""
    parts = [f"{FORMAT}"]
    searched = [(folder, pattern) for folder in template_dirs for pattern in ("*.html", "*.json")]
    for folder, pattern in (*searched, (code_dir, "*.py")):
        for path in sorted(folder.glob(pattern)):
            parts.append(f"{path.name}:{sha256_bytes(path.read_bytes())}")
    parts.append(digest(site))
    return digest(parts)


def page_file_names(out: str, rid: str, vids: list[str]) -> list[str]:
    """The files of one resource's pages, ids checked as by `id_path`. Strings: there are tens of thousands of them
    per build, and pathlib is slow to make them."""
    ids.check_path_id(rid)
    base = f"{out}/resources/{rid}"
    files = [f"{base}/index.html"] if vids else []
    for vid in vids:
        ids.check_path_id(vid)
        files += [f"{base}/{vid}/index.html", f"{base}/{vid}/citation.bib", f"{base}/{vid}/CITATION.cff"]
    return files


class PageCache:
    def __init__(self, out: Path, current_salt: str):
        self.path = out / PATH
        self.salt = current_salt
        data = read_json(self.path, None) if self.path.is_file() else None
        valid = isinstance(data, dict) and data.get("format") == FORMAT and isinstance(data.get("pages"), dict)
        self.known = valid  # False: no trustworthy list of what was written before (walk the folder instead)
        pages = data["pages"] if valid else {}
        same_salt = valid and data.get("salt") == current_salt
        self.previous: dict[str, dict[str, Any]] = {
            rid: {"digest": entry.get("digest") if same_salt else None, "versions": entry.get("versions")}
            for rid, entry in pages.items() if _entry_ok(rid, entry)}

    def old_digest(self, rid: str) -> str | None:
        entry = self.previous.get(rid)
        return entry["digest"] if entry else None

    def old_files(self, out: Path) -> set[str]:
        files: set[str] = set()
        for rid, entry in self.previous.items():
            if ids.is_safe_id(rid) and all(ids.is_safe_id(v) for v in entry["versions"]):
                files.update(page_file_names(str(out), rid, entry["versions"]))
        return files

    def save(self, pages: dict[str, dict[str, Any]]) -> None:
        write_json(self.path, {"format": FORMAT, "salt": self.salt, "pages": pages}, indent=None)


def _entry_ok(rid: Any, entry: Any) -> bool:
    return (isinstance(rid, str) and isinstance(entry, dict) and isinstance(entry.get("versions"), list)
            and all(isinstance(v, str) for v in entry["versions"])
            and (entry.get("digest") is None or isinstance(entry.get("digest"), str)))
