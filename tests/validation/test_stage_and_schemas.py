"""The pipeline stage (work folder in, results out, reuse of the previous deploy) and the shipped schemas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from collection_compiler.adapters.files import read_json, sha256_file, write_json
from collection_compiler.adapters.jsonschemas import schema_path
from collection_compiler.adapters.yamlio import dump_yaml
from collection_compiler.layout import SiteTree, WorkDir
from collection_compiler.settings import Settings
from collection_compiler.validation import CHECKER, VALIDATOR_VERSION, load_schema
from collection_compiler.validation.schema_builder import SCHEMAS, build
from collection_compiler.validation.stage import passes, static_status, validate_work


def _work(tmp_path: Path, model: dict[str, Any]) -> tuple[Settings, str]:
    work = WorkDir(tmp_path / "work")
    broken = {**model, "name": ""}
    resources: dict[str, Any] = {}
    for rid, vid, rdf in (("good-model", "1", model), ("bad-model", "2", broken)):
        path = work.rdf(rid, vid)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dump_yaml(rdf), "utf-8")
        resources[rid] = {"id": rid, "versions": [{"version_id": vid, "rdf_sha256": sha256_file(path)}]}
    write_json(work.resources, {"resources": resources})
    settings = Settings(work_dir=work.root, concurrency=2, allowed_hosts="127.0.0.1")  # file servers on loopback
    return settings, work.rdf("good-model", "1").read_text("utf-8")


def test_stage_writes_results_and_status(tmp_path: Path, model_v04: dict) -> None:
    settings, _ = _work(tmp_path, model_v04)
    assert validate_work(settings, perform_io=False) == 0
    work = WorkDir(settings.work_dir)
    good = read_json(work.result("good-model", "1", CHECKER))
    assert good["status"] == "passed" and good["checker_version"] == VALIDATOR_VERSION
    assert good["details"][0]["name"].startswith("static validation of model RDF 0.4.9")
    assert static_status(settings, "bad-model", "2") == "failed"
    assert passes(settings, "good-model", "1") and not passes(settings, "bad-model", "2")
    assert static_status(settings, "unknown", "1") is None
    health = read_json(work.health("validate"))
    assert health == {"stage": "validate", "versions": 2, "validated": 2, "reused": 0, "failed": 1,
                      "unchecked_files": 0,
                      "first_errors": {"bad-model/2": "name: String should have at least 1 character"},
                      "compiler_errors": {}}


def test_stage_reuses_previous_results_for_unchanged_versions(tmp_path: Path, model_v04: dict) -> None:
    settings, _ = _work(tmp_path, model_v04)
    validate_work(settings, perform_io=False)
    work = WorkDir(settings.work_dir)
    previous = SiteTree(tmp_path / "previous")
    for rid, vid in (("good-model", "1"), ("bad-model", "2")):
        result = read_json(work.result(rid, vid, CHECKER))
        tests = [{**d, "checker": CHECKER, "checker_version": VALIDATOR_VERSION} for d in result["details"]]
        if rid == "bad-model":
            tests[0]["checker_version"] = "0.0.0"  # an older validator: must run again
        summary = {"rdf_sha256": result["rdf_sha256"], "status": result["status"], "tests": {"bioimageio": tests}}
        path = previous.test_summary(rid, vid)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dump_yaml(summary), "utf-8")
    again = Settings(work_dir=settings.work_dir, previous=previous.root, concurrency=2)
    validate_work(again, perform_io=False)
    health = read_json(work.health("validate"))
    assert (health["reused"], health["validated"]) == (1, 1)
    assert static_status(again, "good-model", "1") == "passed"


def test_shipped_schemas_are_in_sync_with_the_builder() -> None:
    for name in SCHEMAS:
        shipped = json.loads(schema_path(name).read_text("utf-8"))
        assert shipped == json.loads(json.dumps(build(name))), f"regenerate {name}: python -m " \
                                                              "collection_compiler.validation.schema_builder"
        Draft202012Validator.check_schema(shipped)
        assert load_schema(name) is load_schema(name)  # compiled once


def test_test_summary_schema_accepts_our_sub_summaries(model_v04: dict) -> None:
    from collection_compiler.validation import validate_rdf

    details = validate_rdf(model_v04).sub_summaries()
    assert not list(load_schema("partner_test_summary").iter_errors(details[0]))
    assert not list(load_schema("partner_test_summary").iter_errors(details))
    summary = {"rdf_sha256": "0" * 64, "status": "passed", "tests": {"bioimageio": details}}
    assert not list(load_schema("test_summary").iter_errors(summary))
    summary["tests"]["bioimageio"][0]["status"] = "great"
    assert list(load_schema("test_summary").iter_errors(summary))
    assert list(load_schema("partner_test_summary").iter_errors({"status": "passed"}))  # no name


def test_publish_schemas_copies_every_shipped_schema(tmp_path: Path) -> None:
    from collection_compiler.adapters.jsonschemas import publish_schemas, schema_names

    written = publish_schemas(tmp_path / "schemas")
    assert {p.name for p in written} == {n + ".schema.json" for n in schema_names()}
    assert "model_0.4.schema.json" in {p.name for p in written}
    assert (tmp_path / "schemas" / "test_summary.schema.json").read_bytes() == \
        schema_path("test_summary").read_bytes()


def test_stage_file_checks_use_http(tmp_path: Path, file_server: tuple[str, Path], write_package: Any,
                                    model_v04: dict) -> None:
    base, served = file_server
    write_package(served, model_v04)
    absolute = json.loads(json.dumps(model_v04))
    absolute["documentation"] = f"{base}/README.md"
    absolute["test_inputs"] = [f"{base}/test_input.npy"]
    absolute["test_outputs"] = [f"{base}/test_output.npy"]
    absolute["weights"]["torchscript"]["source"] = f"{base}/weights.pt"
    settings, _ = _work(tmp_path, absolute)
    validate_work(settings, perform_io=True)
    assert static_status(settings, "good-model", "1") == "passed"
    (served / "weights.pt").unlink()
    validate_work(settings, perform_io=True)
    result = read_json(WorkDir(settings.work_dir).result("good-model", "1", CHECKER))
    assert result["status"] == "failed"
    assert result["details"][1]["errors"][0]["loc"] == ["weights", "torchscript", "source"]


def test_cli_work_flag_runs_the_stage(tmp_path: Path, model_v04: dict) -> None:
    from collection_compiler.cli import main as cli_main

    settings, _ = _work(tmp_path, model_v04)
    assert cli_main(["validate", "--work", "--no-io", "--work-dir", str(settings.work_dir)]) == 0
    assert static_status(settings, "good-model", "1") == "passed"
    assert cli_main(["validate"]) == 2  # neither SOURCE nor --work
