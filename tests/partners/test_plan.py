"""`collection plan`: partner pending matrices keyed on content, chunked, written for GitHub Actions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from collection_compiler.adapters import yamlio
from collection_compiler.adapters.files import read_json, write_json, write_text_atomic
from collection_compiler.catalogue.summaries import PartnerRecord
from collection_compiler.layout import SiteTree
from collection_compiler.settings import Settings
from collection_compiler.stages.plan import chunks, plan, publish_pending

R1, R2, APP = "10.5281/zenodo.1", "10.5281/zenodo.2", "ilastik/ilastik"


@pytest.fixture
def published(work, h) -> None:
    h.write_resources(work, {R1: [("222", h.SHA_B), ("111", h.SHA_A)], R2: [("333", h.SHA_C)],
                             APP: [("latest", h.SHA_A)]}, types={APP: "application"})


def gathered(work, partner: str, rid: str, vid: str, summaries: list[dict]) -> None:
    write_json(work.partner_result(partner, rid, vid),
               PartnerRecord(partner, "r/r", "c", "f", False, summaries).to_json())


def ok(**extra: object) -> dict:
    return {"name": "load", "status": "passed", "stale": False, **extra}


def test_pending_from_gathered_results(settings: Settings, work, h, published, monkeypatch, tmp_path) -> None:
    output = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    gathered(work, "ilastik", R1, "111", [ok(rdf_sha256=h.SHA_A)])  # current: names this rdf
    gathered(work, "ilastik", R1, "222", [ok(rdf_sha256=h.SHA_A)])  # names another rdf: changed since
    gathered(work, "ilastik", R2, "333", [ok()])  # names none, and no previous deploy proves it unchanged
    summary = plan(settings, [h.registration("ilastik"), h.registration("apps", tested_types=("application",)),
                              h.registration("zero", workflow=None)])
    matrix = read_json(work.plan / "partners" / "ilastik.json")
    assert matrix == {"include": [{"resource_id": R1, "version_id": "222"},
                                  {"resource_id": R2, "version_id": "333"}]}
    assert read_json(work.plan / "partners" / "apps.json") == {
        "include": [{"resource_id": APP, "version_id": "latest"}]}
    assert summary["partners"]["ilastik"] == {"entries": 2, "chunks": 1}
    assert read_json(work.plan / "chunks" / "partners" / "ilastik" / "0.json") == matrix
    assert read_json(work.plan / "bioimageio.json") == {"include": []}
    lines = dict(line.split("=", 1) for line in output.read_text().splitlines())
    assert json.loads(lines["pending_partners"]) == ["apps", "ilastik", "zero"]
    assert lines["has_bioimageio_matrix"] == "no"


def test_unchanged_rdf_keeps_a_summary_without_sha_current(tmp_path: Path, settings: Settings, work, h,
                                                           published) -> None:
    previous = SiteTree(tmp_path / "previous")
    for rid, vid, sha in ((R1, "111", h.SHA_A), (R1, "222", h.SHA_A), (R2, "333", h.SHA_C)):
        write_text_atomic(previous.test_summary(rid, vid), yamlio.dump_yaml(
            {"rdf_sha256": sha, "tests": {"ilastik": [ok()]}}))
    settings = settings.with_overrides(previous=previous.root)
    # gather did not run: the previous deploy's partner results decide
    plan(settings, [h.registration("ilastik")])
    # 222 changed (previous summary was for SHA_A, now SHA_B); the others are unchanged
    assert read_json(work.plan / "partners" / "ilastik.json") == {
        "include": [{"resource_id": R1, "version_id": "222"}]}


def test_stale_summary_is_pending(settings: Settings, work, h, published) -> None:
    gathered(work, "ilastik", R1, "111", [ok(rdf_sha256=h.SHA_A, stale=True)])
    plan(settings, [h.registration("ilastik")])
    entries = read_json(work.plan / "partners" / "ilastik.json")["include"]
    assert {"resource_id": R1, "version_id": "111"} in entries


def test_chunks_of_at_most_256(settings: Settings, work, h) -> None:
    h.write_resources(work, {f"10.5281/zenodo.{i}": [("1", h.SHA_A)] for i in range(600)})
    summary = plan(settings, [h.registration("ilastik")])
    assert summary["partners"]["ilastik"] == {"entries": 600, "chunks": 3}
    sizes = [len(read_json(work.plan / "chunks" / "partners" / "ilastik" / f"{i}.json")["include"])
             for i in range(3)]
    assert sizes == [256, 256, 88]
    assert chunks([]) == []


def test_publish_pending(tmp_path: Path, settings: Settings, work, h, published) -> None:
    plan(settings, [h.registration("ilastik")])
    site = SiteTree(tmp_path / "site")
    assert publish_pending(site, work) == [site.root / "pending" / "ilastik.json"]
    assert read_json(site.pending("ilastik")) == {"include": [
        {"resource_id": R1, "version_id": "222"}, {"resource_id": R1, "version_id": "111"},
        {"resource_id": R2, "version_id": "333"}]}


def test_our_matrix_comes_from_the_model_test_stage(settings: Settings, work, h, monkeypatch, tmp_path) -> None:
    h.write_resources(work, {R1: [("111", h.SHA_A)]})
    write_text_atomic(work.rdf(R1, "111"), yamlio.dump_yaml(
        {"type": "model", "format_version": "0.4.9",
         "weights": {"onnx": {"source": "https://x/w.onnx"}, "torchscript": {"source": "https://x/w.pt"}}}))
    output = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    summary = plan(settings, [])
    matrix = read_json(work.plan / "bioimageio.json")
    assert sorted(e["weight_format"] for e in matrix["include"]) == ["onnx", "torchscript"]
    assert {(e["resource_id"], e["version_id"]) for e in matrix["include"]} == {(R1, "111")}
    assert summary["bioimageio"] == {"entries": 2, "chunks": 1}
    lines = dict(line.split("=", 1) for line in output.read_text().splitlines())
    assert json.loads(lines["bioimageio_matrix_0"]) == matrix and lines["has_bioimageio_matrix"] == "yes"
