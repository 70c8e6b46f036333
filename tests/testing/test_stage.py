"""The pipeline's test stage against a work folder whose model files are served over HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from collection_compiler import cli
from collection_compiler.adapters import yamlio
from collection_compiler.adapters.files import read_json, sha256_file, write_json
from collection_compiler.catalogue.results import read_results
from collection_compiler.layout import SiteTree, WorkDir
from collection_compiler.testing import stage
from collection_compiler.testing.sandbox import child_environment
from collection_compiler.testing.tester import TESTER_VERSION, TestOptions

RID, VID = "10.5281/zenodo.111", "222"


def _work(settings, models, http_folder) -> str:
    """A work folder with one model version whose files are URLs, as the update stage writes them."""
    folder = models["single05"].parent
    base = http_folder(folder)
    rdf = yamlio.load_yaml_file(folder / "rdf.yaml")
    for tensor in rdf["inputs"] + rdf["outputs"]:
        tensor["test_tensor"]["source"] = f"{base}/{tensor['test_tensor']['source']}"
    for entry in rdf["weights"].values():
        entry["source"] = f"{base}/{entry['source']}"
        if isinstance(entry.get("architecture"), dict):
            entry["architecture"]["source"] = f"{base}/{entry['architecture']['source']}"
    rdf["weights"]["tensorflow_js"] = {"source": f"{base}/model.zip", "tensorflow_version": "2.15",
                                       "parent": "pytorch_state_dict"}
    rdf.update(id=f"{RID}/{VID}", rdf_source=f"https://site.example/rdfs/{RID}/{VID}/rdf.yaml")
    work = WorkDir(settings.work_dir)
    work.rdf(RID, VID).parent.mkdir(parents=True)
    work.rdf(RID, VID).write_text(yamlio.dump_yaml(rdf))
    sha = sha256_file(work.rdf(RID, VID))
    write_json(work.resources, {"resources": {
        RID: {"id": RID, "type": "model", "versions": [{"version_id": VID, "rdf_sha256": sha}]},
        "other": {"id": "other", "type": "dataset", "versions": [{"version_id": "1", "rdf_sha256": "x"}]}}})
    return sha


def test_matrix_entry_run_and_reuse(settings, models, http_folder, tmp_path):
    sha = _work(settings, models, http_folder)
    matrix = stage.test_matrix(settings)
    assert matrix == {"include": [{"resource_id": RID, "version_id": VID, "weight_format": wf}
                                  for wf in ("onnx", "pytorch_state_dict", "tensorflow_js", "torchscript")]}

    result = stage.run_matrix_entry(settings, matrix["include"][0], TestOptions(device="cpu"))
    assert (result.checker, result.checker_version, result.rdf_sha256, result.status) == (
        "test-onnx", TESTER_VERSION, sha, "passed")
    stored = read_json(WorkDir(settings.work_dir).result(RID, VID, "test-onnx"))
    assert stored["details"][0]["name"] == "reproduce test outputs from test inputs (onnx)"
    not_applicable = stage.run_matrix_entry(settings, matrix["include"][2])
    assert not_applicable.status == "not-applicable"
    # what has a result for this (rdf sha256, tester version) leaves the matrix
    assert [e["weight_format"] for e in stage.test_matrix(settings)["include"]] == ["pytorch_state_dict",
                                                                                     "torchscript"]

    # a fresh work folder reuses the previous deploy's results instead of testing again
    previous = SiteTree(tmp_path / "previous")
    summary = {"rdf_sha256": sha, "tests": {"bioimageio": result.sub_summaries() + not_applicable.sub_summaries()}}
    previous.test_summary(RID, VID).parent.mkdir(parents=True)
    previous.test_summary(RID, VID).write_text(yamlio.dump_yaml(summary))
    # an unchanged version's RDF is only in the previous deploy (update does not copy it)
    shutil.copy(WorkDir(settings.work_dir).rdf(RID, VID), previous.rdf(RID, VID))
    fresh = settings.with_overrides(work_dir=tmp_path / "fresh", previous=previous.root)
    WorkDir(fresh.work_dir).root.mkdir()
    shutil.copy(WorkDir(settings.work_dir).resources, WorkDir(fresh.work_dir).resources)
    assert len(stage.test_matrix(fresh)["include"]) == 2
    assert WorkDir(fresh.work_dir).rdf(RID, VID).read_bytes() == previous.rdf(RID, VID).read_bytes()  # for the jobs
    assert {r.checker for r in read_results(WorkDir(fresh.work_dir), RID, VID)} == {"test-onnx", "test-tensorflow_js"}


def test_cli_matrix_and_entry_commands(settings, models, http_folder, tmp_path, capsys):
    _work(settings, models, http_folder)
    common = ["--work-dir", str(settings.work_dir), "--device", "cpu", "--allowed-hosts", "127.0.0.1"]
    assert cli.main(["test", "--matrix", "--output", str(tmp_path / "m.json"), *common]) == 0
    assert len(json.loads((tmp_path / "m.json").read_text())["include"]) == 4
    entry = json.dumps({"resource_id": RID, "version_id": VID, "weight_format": "torchscript"})
    assert cli.main(["test", "--matrix-entry", entry, *common]) == 0
    assert "passed  reproduce test outputs from test inputs (torchscript)" in capsys.readouterr().out
    bad = json.dumps({"resource_id": "../../etc", "version_id": VID, "weight_format": "onnx"})
    assert cli.main(["test", "--matrix-entry", bad, *common]) == 1  # refused, as one line for people
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("collection: error: resource_id '../../etc'") and "not allowed" in error


def test_child_environment_is_an_allow_list(tmp_path: Path):
    env = child_environment(tmp_path, {"PATH": "/bin", "GITHUB_TOKEN": "t", "AWS_SECRET_ACCESS_KEY": "s",
                                       "CUDA_VISIBLE_DEVICES": "0", "CUDA_API_TOKEN": "t", "HOME": "/root",
                                       "PYTHONPATH": "/evil", "LC_ALL": "C", "LC_all": "x", "CUDA_": "x",
                                       "NVIDIA_VISIBLE_DEVICES": "all", "NVIDIA_API_KEY": "k", "KEYRING": "k",
                                       "LC_PASSWORD": "p", "MY_AUTH_HEADER": "a"})
    assert env["PATH"] == "/bin" and env["CUDA_VISIBLE_DEVICES"] == "0" and env["LC_ALL"] == "C"
    assert env["NVIDIA_VISIBLE_DEVICES"] == "all"
    assert env["HOME"] == str(tmp_path) and env["TMPDIR"] == str(tmp_path / "tmp")
    assert not {"GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "CUDA_API_TOKEN", "PYTHONPATH", "LC_all", "CUDA_",
                "NVIDIA_API_KEY", "KEYRING", "LC_PASSWORD", "MY_AUTH_HEADER"} & set(env)
