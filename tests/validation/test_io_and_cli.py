"""File checks on real files (local folder, zip package, local HTTP server) and the `collection validate` CLI."""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from collection_compiler.cli import main as cli_main
from collection_compiler.settings import Settings
from collection_compiler.validation import validate_rdf
from collection_compiler.validation.sources import pick_rdf_name


def _validate_folder(folder: Path, **kwargs: Any):
    return validate_rdf((folder / "rdf.yaml").read_bytes(), source="t", root=folder, perform_io=True, **kwargs)


def test_valid_package_passes_file_checks(tmp_path: Path, write_package: Any, model_v04: dict) -> None:
    folder = tmp_path / "pkg"
    write_package(folder, model_v04)
    model_v04["weights"]["torchscript"]["sha256"] = hashlib.sha256((folder / "weights.pt").read_bytes()).hexdigest()
    write_package(folder, model_v04)
    result = _validate_folder(folder)
    assert result.status == "passed", [e.text() for d in result.details for e in d.errors]
    assert len(result.details) == 2


def test_file_errors_are_found(tmp_path: Path, write_package: Any, model_v04: dict) -> None:
    folder = tmp_path / "pkg"
    model_v04["weights"]["torchscript"]["sha256"] = "0" * 64
    model_v04["covers"] = ["missing.png"]
    write_package(folder, model_v04)
    np.save(folder / "test_output.npy", np.zeros((1, 1, 8, 8), dtype=np.float32))  # all ~0
    np.save(folder / "test_input.npy", np.ones((1, 1, 8), dtype=np.float32))  # wrong ndim
    (folder / "README.md").write_text("# no heading of that kind\n", "utf-8")
    result = _validate_folder(folder)
    assert result.status == "failed"
    errors = {(e.loc, e.type) for e in result.details[1].errors}
    assert (("covers", 0), "file_not_found") in errors
    assert (("weights", "torchscript", "source"), "sha256_mismatch") in errors
    assert (("test_inputs", 0), "ndim") in errors
    assert (("test_outputs", 0), "values") in errors
    assert any(w.loc == ("documentation",) for w in result.details[1].warnings)


def test_no_io_skips_file_checks(tmp_path: Path, model_v04: dict) -> None:
    result = validate_rdf(model_v04, root=tmp_path, perform_io=False)
    assert result.status == "passed" and len(result.details) == 1


def test_v05_test_tensor_sizes(tmp_path: Path, write_package: Any, model_v05: dict) -> None:
    folder = tmp_path / "pkg"
    write_package(folder, model_v05)
    assert _validate_folder(folder).status == "passed"
    np.save(folder / "test_input.npy", np.ones((1, 1, 12, 8), dtype=np.float32))  # 12 is not 8 + n*8
    result = _validate_folder(folder)
    assert [e.type for e in result.details[1].errors] == ["shape"]


def test_files_over_http_and_size_cap(file_server: tuple[str, Path], write_package: Any, model_v04: dict) -> None:
    base, served = file_server
    write_package(served, model_v04)
    url_root = base + "/"
    local = Settings(allowed_hosts="127.0.0.1")  # the test's file server is on loopback
    result = validate_rdf((served / "rdf.yaml").read_bytes(), root=url_root, perform_io=True, settings=local)
    assert result.status == "passed", [e.text() for d in result.details for e in d.errors]
    (served / "weights.pt").unlink()
    result = validate_rdf((served / "rdf.yaml").read_bytes(), root=url_root, perform_io=True, settings=local)
    assert [e.type for e in result.details[1].errors] == ["file_not_found"]
    capped = validate_rdf((served / "rdf.yaml").read_bytes(), root=url_root, perform_io=True,
                          settings=Settings(max_download_bytes=10, http_retries=0, allowed_hosts="127.0.0.1"))
    assert any(w.type == "unreachable" for w in capped.details[1].warnings)


def test_file_checks_never_reach_a_private_address_an_rdf_names(file_server: tuple[str, Path], write_package: Any,
                                                                 model_v04: dict) -> None:
    """Without `allowed_hosts`, a file URL on loopback (another service on the machine) is refused, not fetched:
    reported as not checked, never as available or missing."""
    base, served = file_server
    write_package(served, model_v04)
    result = validate_rdf((served / "rdf.yaml").read_bytes(), root=base + "/", perform_io=True, settings=Settings())
    warnings = [w.text() for w in result.details[1].warnings]
    assert result.details[1].name.startswith("Could not check")
    assert any("non-public address 127.0.0.1" in w for w in warnings), warnings
    assert not result.details[1].errors


def test_rdf_name_priority() -> None:
    assert pick_rdf_name(["a.bioimageio.yaml", "rdf.yaml"]) == "rdf.yaml"
    assert pick_rdf_name(["x.yaml", "m.bioimageio.yaml"]) == "m.bioimageio.yaml"
    assert pick_rdf_name(["x.yaml"]) is None


def test_cli_sources_summary_and_exit_code(tmp_path: Path, write_package: Any, model_v04: dict,
                                           file_server: tuple[str, Path], capsys: Any) -> None:
    good = tmp_path / "good"
    write_package(good, model_v04)
    bad = tmp_path / "bad.yaml"
    bad.write_text("format_version: 0.2.3\ntype: dataset\n", "utf-8")
    package = tmp_path / "package.zip"
    with zipfile.ZipFile(package, "w") as zf:
        for f in good.iterdir():
            zf.write(f, f.name)
    base, served = file_server
    shutil.copytree(good, served / "m")
    summary = tmp_path / "summary.json"
    code = cli_main(["validate", str(good), str(package), f"{base}/m/rdf.yaml", "--summary", str(summary),
                     "--allowed-hosts", "127.0.0.1"])
    assert code == 0, capsys.readouterr().out
    entries = json.loads(summary.read_text("utf-8"))
    assert [e["status"] for e in entries] == ["passed"] * 3
    assert "PASSED" in capsys.readouterr().out
    code = cli_main(["validate", "--no-io", str(good), str(bad), str(tmp_path / "nothing"), "--format", "json"])
    assert code == 1
    out = json.loads(capsys.readouterr().out)
    assert [e["status"] for e in out] == ["passed", "failed", "failed"]
    assert out[1]["details"][0]["errors"][0]["loc"] == ["name"]


def test_zip_with_unsafe_paths_is_refused(tmp_path: Path, capsys: Any) -> None:
    package = tmp_path / "evil.zip"
    with zipfile.ZipFile(package, "w") as zf:
        zf.writestr("../escape.txt", "x")
        zf.writestr("rdf.yaml", "type: dataset\n")
    assert cli_main(["validate", str(package), "--format", "json"]) == 1
    assert "unsafe member path" in capsys.readouterr().out
    assert not (tmp_path.parent / "escape.txt").exists()
