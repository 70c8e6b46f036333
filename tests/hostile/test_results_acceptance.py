"""A model-test job's artifact passes or fails only the matrix entry that job was given; model code never runs
for a version whose static validation failed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from collection_compiler import cli
from collection_compiler.adapters.files import write_json
from collection_compiler.catalogue.results import CheckResult, read_results, write_result
from collection_compiler.layout import WorkDir
from collection_compiler.settings import Settings
from collection_compiler.testing import isolation, stage
from collection_compiler.testing.isolation import SandboxUnavailable

MINE, OTHER = ("10.5281/zenodo.111", "222"), ("10.5281/zenodo.333", "444")


def _work(tmp_path: Path) -> WorkDir:
    work = WorkDir(tmp_path / "work")
    resources = {rid: {"id": rid, "type": "model", "versions": [{"version_id": vid, "rdf_sha256": f"sha-{vid}"}]}
                 for rid, vid in (MINE, OTHER)}
    write_json(work.resources, {"resources": resources})
    entries = [{"resource_id": rid, "version_id": vid, "weight_format": "onnx"} for rid, vid in (MINE, OTHER)]
    write_json(work.plan / "chunks" / "bioimageio" / "0.json", {"include": entries})
    return work


def _result(status: str, sha: str) -> dict:
    return CheckResult("test-onnx", "1+test.1", sha, status, [{"name": "reproduce", "status": status}]).to_json()


def _artifact(incoming: Path, name: str, results: dict[tuple[str, str], dict]) -> Path:
    folder = incoming / name
    for (rid, vid), data in results.items():
        path = folder / rid / vid / "test-onnx.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data))
    return folder


def test_a_job_passes_or_fails_only_its_own_entry(tmp_path: Path, capsys):
    work = _work(tmp_path)
    incoming = tmp_path / "incoming"
    # job 0 was given MINE; its model code also wrote a passing result for OTHER
    _artifact(incoming, "results-test-0-0", {MINE: _result("passed", "sha-222"), OTHER: _result("passed", "sha-444")})
    # job 1 was given OTHER but uploaded a result for a different RDF (or a forged one)
    _artifact(incoming, "results-test-0-1", {OTHER: _result("passed", "sha-of-something-else")})
    _artifact(incoming, "not-a-result-artifact", {OTHER: _result("passed", "sha-444")})
    link = incoming / "results-test-0-2"
    link.symlink_to(incoming / "results-test-0-0")
    assert cli.main(["test", "--accept-results", str(incoming), "--work-dir", str(work.root)]) == 0
    assert [(r.checker, r.status) for r in read_results(work, *MINE)] == [("test-onnx", "passed")]
    assert read_results(work, *OTHER) == []
    err = capsys.readouterr().err
    assert "results-test-0-0: 10.5281/zenodo.333/444/test-onnx.json ignored (not this job's entry)" in err
    assert ("results-test-0-1: 10.5281/zenodo.333/444/test-onnx.json: not a test-onnx result for the RDF of "
            "10.5281/zenodo.333/444") in err
    assert "not-a-result-artifact: not a test job's result artifact" in err
    assert "results-test-0-2: not a test job's result artifact" in err


def test_a_link_in_place_of_the_result_is_not_followed(tmp_path: Path, capsys):
    work = _work(tmp_path)
    incoming = tmp_path / "incoming"
    elsewhere = tmp_path / "forged.json"
    elsewhere.write_text(json.dumps(_result("passed", "sha-222")))
    folder = incoming / "results-test-0-0" / MINE[0] / MINE[1]
    folder.mkdir(parents=True)
    (folder / "test-onnx.json").symlink_to(elsewhere)
    cli.main(["test", "--accept-results", str(incoming), "--work-dir", str(work.root)])
    assert read_results(work, *MINE) == []
    assert "not a plain file" in capsys.readouterr().err


def test_no_model_code_runs_for_a_version_whose_static_validation_failed(tmp_path: Path):
    work = _work(tmp_path)
    for rid, vid in (MINE, OTHER):
        work.rdf(rid, vid).parent.mkdir(parents=True, exist_ok=True)
        work.rdf(rid, vid).write_text("type: model\nweights:\n  onnx: {source: w.onnx}\n")
    write_result(work, *MINE, CheckResult("static-validation", "1", "sha-222", "failed", []))
    write_result(work, *OTHER, CheckResult("static-validation", "1", "sha-444", "passed", []))
    settings = Settings(work_dir=work.root)
    assert stage.test_matrix(settings)["include"] == [
        {"resource_id": OTHER[0], "version_id": OTHER[1], "weight_format": "onnx"}]
    result = stage.run_matrix_entry(settings, {"resource_id": MINE[0], "version_id": MINE[1], "weight_format": "onnx"})
    assert result.status == "failed" and "model code not run" in result.details[0]["error"]


def test_without_a_sandbox_the_pipeline_gives_no_verdict(tmp_path: Path, monkeypatch, caplog):
    work = _work(tmp_path)
    work.rdf(*OTHER).parent.mkdir(parents=True, exist_ok=True)
    work.rdf(*OTHER).write_text("type: model\nweights:\n  onnx: {source: w.onnx}\n")
    monkeypatch.setattr(isolation, "working_tool", lambda: None)  # a runner without bubblewrap
    settings = Settings(work_dir=work.root)
    with pytest.raises(SandboxUnavailable, match="bubblewrap"):
        stage.run_matrix_entry(settings, {"resource_id": OTHER[0], "version_id": OTHER[1], "weight_format": "onnx"})
    assert stage.test_work(settings) == []
    assert "model tests skipped: bubblewrap" in caplog.text
    assert read_results(work, *OTHER) == []  # no `failed` published for a fault of the machine
