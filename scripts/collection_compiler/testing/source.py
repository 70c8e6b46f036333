"""Open the SOURCE of `collection test`: a local rdf.yaml, a folder holding one, a zip package, or a URL of either."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from collection_compiler.adapters import yamlio
from collection_compiler.settings import Settings
from collection_compiler.testing.fetch import (
    RDF_NAMES,
    RDF_SUFFIXES,
    FileFetcher,
    FileFetchError,
    LazyHttp,
    Root,
    ZipPackage,
    is_url,
)

if TYPE_CHECKING:
    from collection_compiler.adapters.http import HttpClient

ZIP_MAGIC = b"PK\x03\x04"


class SourceError(ValueError):
    pass


@dataclass
class OpenedSource:
    rdf: dict[str, Any]
    root: Root
    name: str
    local: bool  # given on this machine's command line: absolute local paths in it are allowed


def cache_dir(settings: Settings) -> Path:
    return settings.work_dir / "cache" / "files"


def open_source(source: str, settings: Settings, http: HttpClient | LazyHttp) -> OpenedSource:
    if is_url(source):
        return _open_url(source, settings, http)
    path = Path(source)
    if path.is_dir():
        path = _rdf_in_folder(path)
    if not path.is_file():
        raise SourceError(f"{source}: no such file or folder")
    head = path.open("rb").read(4)
    if head == ZIP_MAGIC:
        return _open_package(ZipPackage(path, settings.max_download_bytes), str(path), local=True)
    rdf = yamlio.load_mapping(path.read_bytes(), str(path), settings.max_yaml_bytes)
    return OpenedSource(yamlio.normalise(rdf), Root(folder=path.resolve().parent), str(path), local=True)


def _rdf_in_folder(folder: Path) -> Path:
    for name in RDF_NAMES:
        if (folder / name).is_file():
            return folder / name
    candidates = sorted(p for p in folder.iterdir() if p.name.endswith(RDF_SUFFIXES))
    if not candidates:
        raise SourceError(f"{folder}: no rdf.yaml (or *.bioimageio.yaml) in this folder")
    return candidates[0]


def _open_url(url: str, settings: Settings, http: HttpClient | LazyHttp) -> OpenedSource:
    from collection_compiler.adapters.http import FetchError

    try:
        data = http.get(url, max_bytes=settings.max_download_bytes).content
    except FetchError as e:
        raise SourceError(str(e)) from None
    if data[:4] == ZIP_MAGIC:
        fetcher = FileFetcher(http, cache_dir(settings), Root(url=url), allow_local=False,
                              max_bytes=settings.max_download_bytes)
        cached = fetcher.store(data)
        return _open_package(ZipPackage(cached, settings.max_download_bytes), url, local=False)
    rdf = yamlio.load_mapping(data, url, settings.max_yaml_bytes)
    return OpenedSource(yamlio.normalise(rdf), Root(url=url), url, local=False)


def _open_package(package: ZipPackage, name: str, local: bool) -> OpenedSource:
    try:
        rdf_name = package.rdf_name()
        rdf = yamlio.load_mapping(package.read(rdf_name), f"{name}/{rdf_name}", yamlio.MAX_YAML_BYTES)
    except FileFetchError as e:
        raise SourceError(str(e)) from None
    return OpenedSource(yamlio.normalise(rdf), Root(package=package), name, local=local)
