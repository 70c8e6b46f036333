"""Fetch a model's files (weights, test tensors, architecture, attachments) into a cache keyed by sha256.

Sources are URLs, paths relative to the description's root (a URL, a local folder or a zip package), or,
only for descriptions given on the command line, absolute local paths. Every file is size-capped and
checked against its declared sha256; zip entries are checked against path traversal and decompression bombs.
A local file without a declared sha256 is used where it lies (the tester copies it into the sandbox).
"""

from __future__ import annotations

import os
import posixpath
import shutil
import stat
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urljoin, urlsplit

from collection_compiler.adapters.files import sha256_bytes, sha256_file

if TYPE_CHECKING:
    from collection_compiler.adapters.http import HttpClient
    from collection_compiler.settings import Settings

# Zip bombs: a package may not expand beyond this ratio (for entries large enough to matter) or entry count.
MAX_ZIP_RATIO = 200
MAX_ZIP_ENTRIES = 10_000
RATIO_FLOOR_BYTES = 10_000_000
RDF_NAMES = ("rdf.yaml", "bioimageio.yaml", "model.yaml")
RDF_SUFFIXES = (".rdf.yaml", ".bioimageio.yaml", ".model.yaml")


class FileFetchError(RuntimeError):
    """A file that cannot be used: names the field, the source and the reason."""


def is_url(value: str) -> bool:
    return urlsplit(value).scheme in ("http", "https")


class ZipPackage:
    """A model package: entry names checked up front, reads bounded by the declared total size."""

    def __init__(self, path: Path, max_bytes: int):
        self.path = path
        self.max_bytes = max_bytes
        try:
            self._zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as e:
            raise FileFetchError(f"{path}: not a readable zip file ({e})") from None
        self.names = self._check_entries()

    def _check_entries(self) -> set[str]:
        infos = self._zip.infolist()
        if len(infos) > MAX_ZIP_ENTRIES:
            raise FileFetchError(f"{self.path}: more than {MAX_ZIP_ENTRIES} entries")
        total = 0
        names: set[str] = set()
        for info in infos:
            name = info.filename
            if name.startswith("/") or "\\" in name or ".." in name.split("/") or ":" in name.split("/")[0]:
                raise FileFetchError(f"{self.path}: unsafe entry name {name!r}")
            total += info.file_size
            if info.file_size > RATIO_FLOOR_BYTES and info.file_size > MAX_ZIP_RATIO * max(info.compress_size, 1):
                raise FileFetchError(f"{self.path}: entry {name!r} expands {info.file_size} bytes from "
                                     f"{info.compress_size} (zip bomb?)")
            if not info.is_dir():
                names.add(name)
        if total > self.max_bytes:
            raise FileFetchError(f"{self.path}: expands to {total} bytes, more than the limit {self.max_bytes}")
        return names

    def rdf_name(self) -> str:
        top = sorted(n for n in self.names if "/" not in n)
        for wanted in RDF_NAMES:
            if wanted in top:
                return wanted
        for name in top:
            if name.endswith(RDF_SUFFIXES):
                return name
        raise FileFetchError(f"{self.path}: no rdf.yaml (or *.bioimageio.yaml) at the top of the package")

    def read(self, name: str) -> bytes:
        name = posixpath.normpath(name.removeprefix("./"))
        if name not in self.names:
            raise FileFetchError(f"{self.path}: no entry {name!r}")
        info = self._zip.getinfo(name)
        # The header's size may lie: read at most one byte more than declared and compare.
        try:
            with self._zip.open(info) as f:
                data = f.read(min(info.file_size, self.max_bytes) + 1)
        except (zipfile.BadZipFile, zlib.error, OSError) as e:
            raise FileFetchError(f"{self.path}: entry {name!r} is corrupt ({e})") from None
        if len(data) != info.file_size:
            raise FileFetchError(f"{self.path}: entry {name!r} does not match its declared size")
        return data


class LazyHttp:
    """An `HttpClient` made on first use: a test of local files never makes one."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._client: HttpClient | None = None

    def __getattr__(self, name: str) -> Any:  # only for what this class lacks: the client's own attributes
        if self._client is None:
            from collection_compiler.adapters.http import HttpClient

            self._client = HttpClient(self.settings)
        return getattr(self._client, name)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def __enter__(self) -> LazyHttp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class Root:
    """Where relative sources resolve: a URL folder, a local folder, or a zip package."""

    url: str | None = None
    folder: Path | None = None
    package: ZipPackage | None = None

    def describe(self) -> str:
        return self.url or str(self.folder or (self.package.path if self.package else "?"))


def join_url(root: str, relative: str) -> str:
    """Resolve against a URL root; Zenodo `/files/<name>/content` roots take the relative part before it."""
    parts = urlsplit(root)
    if parts.path.endswith("/content"):
        base = root[: root.rindex("/content")]
        return urljoin(base.rsplit("/", 1)[0] + "/", relative) + "/content"
    return urljoin(root if root.endswith("/") else root.rsplit("/", 1)[0] + "/", relative)


class FileFetcher:
    """Resolves file sources and returns verified files from a sha256-keyed cache."""

    def __init__(self, http: HttpClient | LazyHttp, cache_dir: Path, root: Root, *, allow_local: bool,
                 max_bytes: int):
        self.http = http
        self.cache_dir = cache_dir
        self.root = root
        self.allow_local = allow_local
        self.max_bytes = max_bytes

    def fetch(self, source: object, sha256: object, field: str) -> Path:
        """The verified local copy of `source` (`field` names the description field for error messages): from
        the cache, or, for a local file without a declared sha256, the file itself (nothing to verify, and the
        caller copies it anyway: reading and hashing it here would only cost time)."""
        if not isinstance(source, str) or not source.strip():
            raise FileFetchError(f"{field}: file source must be a non-empty string, not {source!r}")
        source = source.strip()
        expected = _expected_sha(sha256, field)
        if expected:
            cached = self.cache_dir / expected
            if cached.is_file():
                return cached
        elif (local := self._local_path(source, field)) is not None:
            return self._checked_local(local, field)
        data = self._read(source, field)
        actual = sha256_bytes(data) if isinstance(data, bytes) else sha256_file(data)
        if expected and actual != expected:
            if isinstance(data, Path):
                data.unlink(missing_ok=True)
            raise FileFetchError(f"{field}: sha256 of {source} is {actual}, the description says {expected}")
        if isinstance(data, Path):  # a download, already on disk beside the cache entry it becomes
            os.replace(data, self.cache_dir / actual)
            return self.cache_dir / actual
        return self.store(data, actual)

    def store(self, data: bytes, digest: str | None = None) -> Path:
        digest = digest or sha256_bytes(data)
        path = self.cache_dir / digest
        if not path.is_file():
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.cache_dir, prefix=".part-")
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        return path

    def _read(self, source: str, field: str) -> bytes | Path:
        """The content: bytes from a local file or a package, a file in the cache folder for a download."""
        local = self._local_path(source, field)
        if local is not None:
            return self._checked_local(local, field).read_bytes()
        if is_url(source):
            return self._download(source, field)
        relative = _relative(source, field)
        if self.root.package is not None:
            try:
                return self.root.package.read(relative)
            except FileFetchError as e:
                raise FileFetchError(f"{field}: {e}") from None
        if self.root.url is not None:
            return self._download(join_url(self.root.url, relative), field)
        raise FileFetchError(f"{field}: relative source {source!r} but the description has no known location")

    def _local_path(self, source: str, field: str) -> Path | None:
        """The local file `source` names, or None for a URL, a package entry or a source with no known root."""
        if is_url(source):
            return None
        if len(urlsplit(source).scheme) > 1:  # (a one-letter "scheme" is a Windows drive)
            raise FileFetchError(f"{field}: unsupported URL scheme in {source!r}")
        if os.path.isabs(source):
            if not self.allow_local:
                raise FileFetchError(f"{field}: absolute local path {source!r} is not allowed here")
            return Path(source)
        relative = _relative(source, field)
        root = self.root
        return root.folder / relative if root.package is None and root.url is None and root.folder else None

    def _checked_local(self, path: Path, field: str) -> Path:
        try:
            info = path.stat()
        except OSError as e:
            raise FileFetchError(f"{field}: cannot read {path} ({e.strerror})") from None
        if not stat.S_ISREG(info.st_mode):
            raise FileFetchError(f"{field}: {path} is not a regular file")
        if info.st_size > self.max_bytes:
            raise FileFetchError(f"{field}: {path} has {info.st_size} bytes, more than the limit {self.max_bytes}")
        return path

    def _download(self, url: str, field: str) -> Path:
        """Streamed to a file in the cache folder: weights of gigabytes never sit in memory."""
        from collection_compiler.adapters.http import FetchError

        target = self.cache_dir / f".download-{os.getpid()}-{id(self)}-{sha256_bytes(url.encode())[:16]}"
        try:
            return self.http.download(url, target, max_bytes=self.max_bytes, untrusted=True)
        except FetchError as e:
            raise FileFetchError(f"{field}: {e}") from None


def _relative(source: str, field: str) -> str:
    relative = posixpath.normpath(unquote(source).replace("\\", "/"))
    if relative.startswith("../") or relative == "..":
        raise FileFetchError(f"{field}: {source!r} leaves the description's folder")
    return relative


def _expected_sha(value: object, field: str) -> str | None:
    if value is None:
        return None
    text = str(value).strip().lower()
    if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
        raise FileFetchError(f"{field}: sha256 {value!r} is not 64 hex digits")
    return text


def safe_name(source: str) -> str:
    """A plain file name from a source's last path segment (Zenodo `/content` suffix ignored)."""
    base = posixpath.basename(urlsplit(source).path.removesuffix("/content")) or "file"
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in unquote(base)).lstrip(".") or "file"


def stage_file(cached: Path, folder: Path, name: str) -> Path:
    """Copy a cached file to `folder/name` (ONNX external data needs its original name next to the model).

    A copy, not a link: model code in the sandbox must not be able to alter the shared cache.
    """
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / safe_name(name)
    shutil.copyfile(cached, target)
    return target
