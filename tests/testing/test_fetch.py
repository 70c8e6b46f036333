"""Fetching model files: local folders, real HTTP on 127.0.0.1, zip packages; hashes, caps and zip attacks."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from collection_compiler.adapters.http import HttpClient
from collection_compiler.testing.fetch import FileFetcher, FileFetchError, Root, ZipPackage, join_url


def _fetcher(settings, root: Root, allow_local: bool = False, max_bytes: int = 10_000_000) -> FileFetcher:
    return FileFetcher(HttpClient(settings), settings.work_dir / "cache", root, allow_local=allow_local,
                       max_bytes=max_bytes)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_relative_local_file_is_verified_and_cached(tmp_path, settings):
    (tmp_path / "w.bin").write_bytes(b"weights")
    fetcher = _fetcher(settings, Root(folder=tmp_path))
    path = fetcher.fetch("w.bin", _sha(b"weights"), "weights.onnx.source")
    assert path.read_bytes() == b"weights" and path.name == _sha(b"weights")
    (tmp_path / "w.bin").unlink()
    assert fetcher.fetch("w.bin", _sha(b"weights"), "f") == path  # served from the cache


def test_local_file_without_a_sha256_is_used_in_place_not_read_into_the_cache(tmp_path, settings):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "x.npy").write_bytes(b"tensor")
    fetcher = _fetcher(settings, Root(folder=tmp_path), max_bytes=10)
    assert fetcher.fetch("./data/x.npy", None, "inputs.0.test_tensor") == tmp_path / "data" / "x.npy"
    assert not fetcher.cache_dir.exists()
    (tmp_path / "data" / "big.npy").write_bytes(b"x" * 11)
    with pytest.raises(FileFetchError, match=r"inputs\.0\.test_tensor: .*big\.npy has 11 bytes, more than"):
        fetcher.fetch("data/big.npy", None, "inputs.0.test_tensor")
    with pytest.raises(FileFetchError, match=r"f: .*data is not a regular file"):
        fetcher.fetch("data", None, "f")
    with pytest.raises(FileFetchError, match="leaves the description's folder"):
        fetcher.fetch("data/../../x.npy", None, "f")


def test_sha256_mismatch_names_field_and_both_hashes(tmp_path, settings):
    (tmp_path / "w.bin").write_bytes(b"weights")
    with pytest.raises(FileFetchError, match=r"weights\.onnx\.source: sha256 of w\.bin is [0-9a-f]{64}, the "
                                             r"description says 0{64}"):
        _fetcher(settings, Root(folder=tmp_path)).fetch("w.bin", "0" * 64, "weights.onnx.source")


def test_paths_leaving_the_folder_and_absolute_paths_are_refused(tmp_path, settings):
    secret = tmp_path / "secret.txt"
    secret.write_text("x")
    (tmp_path / "model").mkdir()
    fetcher = _fetcher(settings, Root(folder=tmp_path / "model"))
    with pytest.raises(FileFetchError, match="leaves the description's folder"):
        fetcher.fetch("../secret.txt", None, "test_inputs.0")
    with pytest.raises(FileFetchError, match="absolute local path"):
        fetcher.fetch(str(secret), None, "test_inputs.0")
    with pytest.raises(FileFetchError, match="unsupported URL scheme"):
        fetcher.fetch("file:///etc/passwd", None, "test_inputs.0")
    assert _fetcher(settings, Root(folder=tmp_path), allow_local=True).fetch(str(secret), None, "f").read_text() == "x"


def test_http_download_with_size_cap(tmp_path, settings, http_folder):
    (tmp_path / "big.bin").write_bytes(b"x" * 5000)
    base = http_folder(tmp_path)
    fetcher = _fetcher(settings, Root(url=f"{base}/rdf.yaml"))
    assert fetcher.fetch("big.bin", None, "f").stat().st_size == 5000
    assert fetcher.fetch(f"{base}/big.bin", _sha(b"x" * 5000), "f").stat().st_size == 5000
    with pytest.raises(FileFetchError, match="exceeds the limit"):
        _fetcher(settings, Root(url=f"{base}/rdf.yaml"), max_bytes=100).fetch("big.bin", None, "weights.onnx.source")
    with pytest.raises(FileFetchError, match="weights.onnx.source: .*HTTP 404"):
        fetcher.fetch("missing.bin", None, "weights.onnx.source")


def test_zenodo_content_urls_resolve_before_content():
    root = "https://zenodo.example/api/records/1/files/rdf.yaml/content"
    assert join_url(root, "w.pt") == "https://zenodo.example/api/records/1/files/w.pt/content"
    assert join_url("https://h/a/b/rdf.yaml", "w.pt") == "https://h/a/b/w.pt"


def test_zip_package_entries(tmp_path, settings):
    package = tmp_path / "model.zip"
    with zipfile.ZipFile(package, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("rdf.yaml", "type: model\n")
        z.writestr("data/w.bin", b"weights")
    fetcher = _fetcher(settings, Root(package=ZipPackage(package, 10_000_000)))
    assert fetcher.fetch("./data/w.bin", _sha(b"weights"), "f").read_bytes() == b"weights"
    with pytest.raises(FileFetchError, match="no entry 'other.bin'"):
        fetcher.fetch("other.bin", None, "test_inputs.0")


@pytest.mark.parametrize("name", ["../evil.py", "/abs/evil.py", "a/../../evil.py", "c:/evil.py", "a\\..\\evil"])
def test_zip_path_traversal_is_refused(tmp_path, name):
    package = tmp_path / "evil.zip"
    with zipfile.ZipFile(package, "w") as z:
        z.writestr("rdf.yaml", "type: model\n")
        z.writestr(zipfile.ZipInfo(name), b"x")
    with pytest.raises(FileFetchError, match="unsafe entry name"):
        ZipPackage(package, 10_000_000)


def test_zip_bomb_is_refused(tmp_path):
    package = tmp_path / "bomb.zip"
    with zipfile.ZipFile(package, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("rdf.yaml", "type: model\n")
        z.writestr("zeros.bin", b"\0" * 50_000_000)
    with pytest.raises(FileFetchError, match="zip bomb"):
        ZipPackage(package, 10**10)
    stored = tmp_path / "stored.zip"
    with zipfile.ZipFile(stored, "w", zipfile.ZIP_STORED) as z:
        z.writestr("big.bin", b"\1" * 2_000_000)
    with pytest.raises(FileFetchError, match="expands to 2000000 bytes, more than the limit 1000000"):
        ZipPackage(stored, 1_000_000)


def test_zip_entry_lying_about_its_size_is_refused(tmp_path):
    package = tmp_path / "liar.zip"
    with zipfile.ZipFile(package, "w", zipfile.ZIP_STORED) as z:
        z.writestr("rdf.yaml", "type: model\n")
        z.writestr("w.bin", b"0123456789")
    data = bytearray(package.read_bytes())
    # shrink the declared size in the central directory (the local header is not consulted for it)
    central = data.rindex(b"PK\x01\x02")
    entry = data.index(b"w.bin", central) - 46
    data[entry + 24:entry + 28] = (4).to_bytes(4, "little")
    Path(package).write_bytes(bytes(data))
    with pytest.raises(FileFetchError, match="is corrupt|does not match its declared size"):
        ZipPackage(package, 1000).read("w.bin")
