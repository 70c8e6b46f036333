"""What `collection validate SOURCE` accepts: an rdf.yaml path or URL, a folder holding one, or a zip package."""

from __future__ import annotations

import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from collection_compiler.adapters.http import HttpClient
from collection_compiler.settings import Settings

PREFERRED_NAMES = ("rdf.yaml", "bioimageio.yaml", "model.yaml")
PREFERRED_SUFFIXES = (".rdf.yaml", ".bioimageio.yaml", ".model.yaml")
MAX_ZIP_MEMBERS = 10_000


class SourceError(ValueError):
    """A SOURCE that cannot be opened; the message names it."""


@dataclass
class Opened:
    content: bytes
    root: str | Path  # what relative file references resolve against
    name: str


def pick_rdf_name(names: list[str]) -> str | None:
    """The description file among `names` (top-level names), by the ecosystem's priority."""
    for wanted in PREFERRED_NAMES:
        if wanted in names:
            return wanted
    for suffix in PREFERRED_SUFFIXES:
        matches = sorted(n for n in names if n.endswith(suffix))
        if matches:
            return matches[0]
    return None


@contextmanager
def open_source(source: str, settings: Settings, http: HttpClient | None = None) -> Iterator[Opened]:
    if re.match(r"^https?://", source):
        client = http or HttpClient(settings)
        response = client.get(source, max_bytes=settings.max_yaml_bytes)
        yield Opened(response.content, source.rsplit("/", 1)[0] + "/", source)
        return
    path = Path(source)
    if path.is_dir():
        name = pick_rdf_name(sorted(p.name for p in path.iterdir() if p.is_file()))
        if name is None:
            raise SourceError(f"{source}: no rdf.yaml (or *.bioimageio.yaml) in this folder")
        yield Opened(_read_capped(path / name, settings), path, str(path / name))
    elif zipfile.is_zipfile(path):
        with tempfile.TemporaryDirectory(prefix="validate-zip-") as tmp:
            name = _extract(path, Path(tmp), settings)
            yield Opened(_read_capped(Path(tmp) / name, settings), Path(tmp), f"{source}:{name}")
    elif path.is_file():
        yield Opened(_read_capped(path, settings), path.parent, str(path))
    else:
        raise SourceError(f"{source}: no such file or folder")


def _read_capped(path: Path, settings: Settings) -> bytes:
    if path.stat().st_size > settings.max_yaml_bytes:
        raise SourceError(f"{path}: larger than the limit of {settings.max_yaml_bytes} bytes")
    return path.read_bytes()


def _extract(archive: Path, target: Path, settings: Settings) -> str:
    """Unpack a package safely (no absolute or `..` member paths, bounded size); returns the RDF's name."""
    with zipfile.ZipFile(archive) as zf:
        members = zf.infolist()
        if len(members) > MAX_ZIP_MEMBERS:
            raise SourceError(f"{archive}: more than {MAX_ZIP_MEMBERS} files")
        total = 0
        for info in members:
            parts = PurePosixPath(info.filename).parts
            if info.filename.startswith("/") or ".." in parts or ":" in info.filename:
                raise SourceError(f"{archive}: unsafe member path {info.filename!r}")
            total += info.file_size
            if total > settings.max_download_bytes:
                raise SourceError(f"{archive}: unpacks to more than {settings.max_download_bytes} bytes")
        for info in members:
            if info.is_dir():
                continue
            dest = target / info.filename
            dest.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, dest.open("wb") as dst:
                shutil.copyfileobj(src, dst)
        top = [PurePosixPath(i.filename).name for i in members if len(PurePosixPath(i.filename).parts) == 1]
    name = pick_rdf_name(top)
    if name is None:
        raise SourceError(f"{archive}: no rdf.yaml (or *.bioimageio.yaml) at the top of the package")
    return name
