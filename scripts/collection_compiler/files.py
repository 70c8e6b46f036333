"""File output: atomic writes, deterministic JSON, safe paths from checked ids."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

from . import ids


def write_bytes_atomic(path: Path, data: bytes) -> bool:
    """Write via a temp file and rename. Returns False (and touches nothing) when the content is unchanged."""
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    fd, tmp = _temp_beside(path)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def _temp_beside(path: Path) -> tuple[int, str]:
    """A new temp file in `path`'s folder, creating the folder when missing (asked only then: a `mkdir` per
    write is a large share of writing thousands of small files)."""
    try:
        return tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        return tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")


def link_atomic(source: Path, target: Path) -> None:
    """Make `target` a file with `source`'s content: a hard link (no data written, an eighth of the cost of
    creating a file), a copy across file systems. Files are only ever replaced, never written in place, so
    the two names cannot affect each other later."""
    try:
        if os.path.samefile(source, target):
            return
    except FileNotFoundError:
        pass
    temp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.link")
    try:
        _link_or_copy(source, temp)
    except FileNotFoundError:
        target.parent.mkdir(parents=True, exist_ok=True)
        _link_or_copy(source, temp)
    os.replace(temp, target)


def _link_or_copy(source: Path, target: Path) -> None:
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)
    except OSError as e:
        if isinstance(e, FileNotFoundError) and not target.parent.is_dir():
            raise
        shutil.copyfile(source, target)


def write_text_atomic(path: Path, text: str) -> bool:
    return write_bytes_atomic(path, text.encode("utf-8"))


def json_text(value: Any, indent: int | None = 2) -> str:
    """Deterministic JSON: sorted keys, UTF-8, trailing newline."""
    separators = (",", ": ") if indent else (",", ":")
    return json.dumps(value, sort_keys=True, ensure_ascii=False, indent=indent, separators=separators,
                      allow_nan=False) + "\n"


def write_json(path: Path, value: Any, indent: int | None = 2) -> bool:
    return write_text_atomic(path, json_text(value, indent))


def read_json(path: Path, default: Any = None) -> Any:
    try:
        return json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return default


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@functools.lru_cache(maxsize=200_000)
def id_path(root: Path, *parts: str) -> Path:
    """`root/<part>/…` for checked resource/version ids. A checked id has no `..`, no absolute part and no
    backslash, so the path cannot leave `root` (the compiler creates every folder below it itself).
    Cached: a run asks for the same few paths of each version many times."""
    for part in parts:
        ids.check_path_id(part)
    return root.joinpath(*parts)
