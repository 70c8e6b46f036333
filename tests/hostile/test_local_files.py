"""No local file is read because an RDF names it: in the pipeline, file references resolve against the record
they came from; absolute paths, `file:` URLs and paths out of a package are refused without saying whether the
file exists, and no local file's hash is published."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from collection_compiler.adapters import yamlio
from collection_compiler.adapters.files import write_json
from collection_compiler.demo.fakes.zenodo import FakeRecord
from collection_compiler.demo.world import DemoWorld
from collection_compiler.layout import WorkDir
from collection_compiler.settings import Settings
from collection_compiler.validation import CHECKER
from collection_compiler.validation.stage import validate_work
from collection_compiler.validation.validator import validate_rdf


def _secret(tmp_path: Path) -> Path:
    secret = tmp_path / "outside" / "secret.md"
    secret.parent.mkdir(parents=True)
    secret.write_text("# Validation\nGITHUB_TOKEN=ghp_not_for_the_public\n")
    return secret


def _point_at(rdf: dict[str, Any], reference: str) -> dict[str, Any]:
    rdf = {**rdf, "documentation": reference}
    rdf["weights"] = {"torchscript": {**rdf["weights"]["torchscript"], "source": reference}}
    return rdf


def _reference(secret: Path, form: str) -> str:
    return {"absolute": str(secret), "file-url": secret.as_uri(), "dot-dot": "../" * 12 + str(secret).lstrip("/")}[form]


# The whole run with a 0.4 upload; the materialiser still adds `rdf_source` to 0.5 RDFs (issue 16), which fails
# their format check before any file is looked at, so 0.5 is covered at the validate stage below.
@pytest.mark.parametrize("form", ["absolute", "file-url", "dot-dot"])
def test_the_pipeline_reads_no_local_file_an_rdf_names(world: DemoWorld, hostile: Any, tmp_path: Path, form: str):
    secret = _secret(tmp_path)
    reference = _reference(secret, form)
    models = hostile.validation_models
    model = models.MODEL_V04
    first = hostile.published_run(world, tmp_path)

    def upload() -> None:
        package = tmp_path / "package"
        models._write_package(package, _point_at(model, reference))
        files = {p.name: p.read_bytes() for p in package.iterdir()}
        world.zenodo.add(FakeRecord(7001, 7000, "2024-05-01T10:00:00+00:00", ["bioimage.io"], files, "Hostile"))

    second = hostile.hostile_run(world, tmp_path, first, upload)
    validate_work(second, perform_io=True)
    hostile.unchanged_versions(first.out, second.out, ["10.5281/zenodo.1000/1002", "ilastik/ilastik"])
    result = yamlio.load_yaml_file(WorkDir(second.work_dir).result("10.5281/zenodo.7000", "7001", CHECKER))
    text = yamlio.dump_yaml(result)
    assert result["status"] == "failed"
    digest = hashlib.sha256(secret.read_bytes()).hexdigest()
    for root in (second.out, second.work_dir):
        assert not any(digest.encode() in data or b"ghp_not" in data for data in hostile.tree_bytes(root).values())
    if form == "dot-dot":  # resolved against the record's URL: a file of the record that does not exist
        assert "/api/records/7001/files/" in text and str(secret.parent) not in text.replace(reference, "")
    else:
        assert "is not allowed" in text and "does not exist" not in text


@pytest.mark.parametrize("generation", ["0.4", "0.5"])
@pytest.mark.parametrize("form", ["absolute", "file-url"])
def test_the_validate_stage_reads_no_local_file(hostile: Any, tmp_path: Path, generation: str, form: str):
    secret = _secret(tmp_path)
    models = hostile.validation_models
    model = models.MODEL_V04 if generation == "0.4" else models.MODEL_V05
    work = WorkDir(tmp_path / "work")
    path = work.rdf("hostile", "1")
    path.parent.mkdir(parents=True)
    path.write_text(yamlio.dump_yaml(_point_at(model, _reference(secret, form))))
    write_json(work.resources, {"resources": {"hostile": {"versions": [{"version_id": "1", "rdf_sha256": "x"}]}}})
    validate_work(Settings(work_dir=work.root), perform_io=True)
    text = work.result("hostile", "1", CHECKER).read_text()
    assert "is not allowed" in text and "does not exist" not in text
    assert hashlib.sha256(secret.read_bytes()).hexdigest() not in text


@pytest.mark.parametrize("generation", ["0.4", "0.5"])
def test_a_local_package_is_read_only_inside_its_folder(hostile: Any, tmp_path: Path, generation: str):
    secret = _secret(tmp_path)
    models = hostile.validation_models
    model = models.MODEL_V04 if generation == "0.4" else models.MODEL_V05
    for reference in (str(secret), "../outside/secret.md", secret.as_uri()):
        package = models._write_package(tmp_path / "pkg", _point_at(model, reference)).parent
        result = validate_rdf(yamlio.load_yaml_file(package / "rdf.yaml"), root=package, perform_io=True)
        errors = [e for d in result.details for e in d.errors]
        assert result.status == "failed"
        assert any("is not allowed" in e.msg for e in errors), reference
        assert not any(hashlib.sha256(secret.read_bytes()).hexdigest() in e.msg for e in errors)
