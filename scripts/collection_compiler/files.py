"""File output: atomic writes, deterministic JSON, safe paths from checked ids."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
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
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


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
