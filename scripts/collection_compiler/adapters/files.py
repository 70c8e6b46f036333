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

import orjson

from collection_compiler.catalogue import ids


def write_bytes_atomic(path: Path, data: bytes) -> bool:
    """Write via a temp file and rename. Returns False (and touches nothing) when the content is unchanged."""
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    fd, tmp = _temp_beside(os.fspath(path))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def _temp_beside(name: str) -> tuple[int, str]:
    """A new temp file beside `name`, named after this process and thread (`mkstemp`'s random names cost a
    third of writing a small file; it is the fallback when a crashed process left that name). The folder is
    created when missing, asked only then: a `mkdir` per write is a large share of writing thousands of files."""
    folder, base = os.path.split(name)
    tmp = os.path.join(folder, f".{base}.{os.getpid()}.{threading.get_ident()}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
    try:
        return os.open(tmp, flags, 0o644), tmp
    except FileNotFoundError:
        os.makedirs(folder, exist_ok=True)
        return os.open(tmp, flags, 0o644), tmp
    except FileExistsError:
        return tempfile.mkstemp(dir=folder, prefix=f".{base}.", suffix=".tmp")


def publish_file(source: Path, target: Path) -> bool:
    """`write_bytes_atomic(target, source's bytes)`, or nothing at all when the two are one file (a hard link).
    Returns whether `target` changed."""
    try:
        if os.path.samefile(source, target):
            return False
    except FileNotFoundError:
        pass
    return write_bytes_atomic(target, source.read_bytes())


def link_atomic(source: Path, target: Path) -> None:
    """Make `target` a file with `source`'s content: a hard link (no data written, an eighth of the cost of
    creating a file), a copy across file systems. Files are only ever replaced, never written in place, so
    the two names cannot affect each other later."""
    try:
        os.link(source, target)  # a new name appears with its whole content: atomic without a temp name
        return
    except FileNotFoundError:
        if target.parent.is_dir():
            raise  # the source is missing
        target.parent.mkdir(parents=True, exist_ok=True)
        return link_atomic(source, target)
    except FileExistsError:
        if os.path.samefile(source, target):
            return
    except OSError:
        pass  # another file system: copied below
    temp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.link")
    temp.unlink(missing_ok=True)
    try:
        os.link(source, temp)
    except OSError:
        shutil.copyfile(source, temp)  # raises FileNotFoundError itself when the source is missing
    os.replace(temp, target)


def write_text_atomic(path: Path, text: str) -> bool:
    return write_bytes_atomic(path, text.encode("utf-8"))


def json_bytes(value: Any, indent: int | None = 2) -> bytes:
    """Deterministic JSON: sorted keys, UTF-8, two-space indent (or compact), trailing newline.

    orjson writes it several times faster than the standard library, which matters for the 30 MB machine files
    of a large collection. It refuses integers beyond 64 bits and keys that are not strings; the standard library
    takes those."""
    option = orjson.OPT_SORT_KEYS | (orjson.OPT_INDENT_2 if indent else 0) | orjson.OPT_APPEND_NEWLINE
    try:
        return orjson.dumps(value, option=option)
    except TypeError:
        separators = (",", ": ") if indent else (",", ":")
        return (json.dumps(value, sort_keys=True, ensure_ascii=False, indent=2 if indent else None,
                           separators=separators, allow_nan=False) + "\n").encode("utf-8")


def json_text(value: Any, indent: int | None = 2) -> str:
    return json_bytes(value, indent).decode("utf-8")


def write_json(path: Path, value: Any, indent: int | None = 2) -> bool:
    return write_bytes_atomic(path, json_bytes(value, indent))


def parse_json(data: bytes | str) -> Any:
    """JSON from bytes or text (orjson; the standard library's error message for malformed input)."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)


def read_json(path: Path, default: Any = None) -> Any:
    try:
        return parse_json(path.read_bytes())
    except FileNotFoundError:
        return default


def sha256_bytes(data: bytes | str) -> str:
    """The project's one digest: sha256 in hex (text is hashed as UTF-8)."""
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def sha256_file(path: Path) -> str:
    """`sha256_bytes` of a file's content, read in chunks (weights can be large)."""
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


@functools.lru_cache(maxsize=200_000)
def id_path(root: Path, *parts: str) -> Path:
    """`root/<part>/…` for checked resource/version ids. A checked id has no `..`, no absolute part and no
    backslash, so the path cannot leave `root` (the compiler creates every folder below it itself).
    Cached: a run asks for the same few paths of each version many times."""
    for part in parts:
        ids.check_path_id(part)
    return root.joinpath(*parts)
