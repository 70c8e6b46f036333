"""Merging our results and the partners' into test_summary.yaml and summary.json."""

from __future__ import annotations

import json
from pathlib import Path

from collection_compiler.adapters import yamlio
from collection_compiler.adapters.files import write_json
from collection_compiler.catalogue.results import CheckResult, write_result
from collection_compiler.catalogue.status import combined_status, row_status
from collection_compiler.catalogue.summaries import (
    PartnerRecord,
    deduplicate,
    partner_lists,
    summarise_version,
    summary_inputs_digest,
    write_version_summaries,
)
from collection_compiler.layout import SiteTree

RID, VID = "10.5281/zenodo.1", "111"


def static(sha: str, status: str = "passed") -> CheckResult:
    return CheckResult("static", "0.1.0", sha, status, [
        {"name": "format", "status": status, "error": None if status == "passed" else "bad axes",
         "bioimageio_spec_version": "0.4.9"}])


def model_test(sha: str, fmt: str, status: str) -> CheckResult:
    return CheckResult(f"model-test-{fmt}", "0.2.0", sha, status, [
        {"name": f"reproduce test outputs ({fmt})", "status": status, "error": None}])


def partner_record(work, partner: str, summaries: list[dict], recovered: bool = False) -> None:
    record = PartnerRecord(partner, f"{partner}/resources", "abc123", f"test_summaries/{RID}/{VID}", recovered,
                           summaries)
    write_json(work.partner_result(partner, RID, VID), record.to_json())


def sub(name: str, status: str, **extra: object) -> dict:
    return {"name": name, "status": status, "error": extra.pop("error", None), "warnings": {}, "stale": False,
            "file": "f.yaml", **extra}


def test_combined_status_rules() -> None:
    assert combined_status([]) == "untested"
    assert combined_status(["passed", "not-applicable"]) == "passed"
    assert combined_status(["not-applicable", "not-applicable"]) == "not-applicable"
    assert combined_status(["passed", "failed", "not-applicable"]) == "failed"
    assert combined_status(["valid-format", "passed"]) == "valid-format"


def test_a_row_speaks_four_words_and_an_unknown_one_is_a_failure() -> None:
    assert [row_status(s) for s in ("passed", "valid-format", "not-applicable", "untested")] == [
        "passed", "passed", "not-applicable", "untested"]
    assert row_status("<script>") == "failed"


def test_dedup_keeps_first_and_distinguishes_versions() -> None:
    a = sub("load", "passed", ilastik_version="1.4")
    again = {**a, "file": "other.yaml"}  # same result from another file: a duplicate
    newer = sub("load", "passed", ilastik_version="1.5")
    failed = sub("load", "failed", error="boom", ilastik_version="1.4")
    assert deduplicate([a, again, newer, failed]) == [a, newer, failed]


def test_merge_writes_both_files(tmp_path: Path, work, h) -> None:
    site = SiteTree(tmp_path / "site")
    sha = h.SHA_A
    write_result(work, RID, VID, static(sha))
    write_result(work, RID, VID, model_test(sha, "onnx", "passed"))
    write_result(work, RID, VID, model_test(sha, "torchscript", "not-applicable"))
    partner_record(work, "ilastik", [sub("load", "passed", ilastik_version="1.4"),
                                     sub("load", "passed", ilastik_version="1.4", file="dup.yaml"),
                                     sub("predict", "passed", ilastik_version="1.4")])
    partner_record(work, "deepimagej", [sub("run", "failed", error="no macro", deepimagej_version="3.0")])
    partners = [h.registration("ilastik"), h.registration("deepimagej"), h.registration("biapy"),
                h.registration("datasets-only", tested_types=("dataset",))]
    out = write_version_summaries(site, work, RID, VID, sha, partners, site_url="https://s", git_base="https://gh")

    assert out == {"status": "passed", "links": ["ilastik/ilastik"],
                   "statuses": {"bioimageio": "passed", "deepimagej": "failed", "ilastik": "passed"}}
    summary = yamlio.load_yaml_file(site.test_summary(RID, VID))
    assert summary["rdf_sha256"] == sha and summary["status"] == "passed"
    assert summary["bioimageio_spec_version"] == "0.4.9"
    assert summary["tester_versions"]["bioimageio"] == {
        "model-test-onnx": "0.2.0", "model-test-torchscript": "0.2.0", "static": "0.1.0"}
    assert summary["tester_versions"]["ilastik"] == {"commit": "abc123", "ilastik_version": ["1.4"]}
    ours = summary["tests"]["bioimageio"]
    assert [(s["checker"], s["status"]) for s in ours] == [
        ("model-test-onnx", "passed"), ("model-test-torchscript", "not-applicable"), ("static", "passed")]
    assert [s["name"] for s in summary["tests"]["ilastik"]] == ["load", "predict"]

    rows = json.loads(site.summary_json(RID, VID).read_text())
    assert rows["status"] == "passed" and rows["rdf_sha256"] == sha
    by_tool = {(r["tester"], r["tool"]): r for r in rows["rows"]}
    assert by_tool[("bioimageio", "model-test-torchscript")]["status"] == "not-applicable"
    assert by_tool[("bioimageio", "static")]["link"] == f"https://s/rdfs/{RID}/{VID}/test_summary.yaml"
    assert by_tool[("deepimagej", "deepimagej")] == {
        "tester": "deepimagej", "tool": "deepimagej", "version": "3.0", "status": "failed", "error": "no macro",
        "link": f"https://gh/deepimagej/resources/tree/abc123/test_summaries/{RID}/{VID}", "stale": False}
    assert by_tool[("biapy", "biapy")]["status"] == "untested"
    assert ("datasets-only", "datasets-only") not in by_tool  # it does not test models


def test_failed_static_fails_overall_but_partner_passes_separately(tmp_path: Path, work, h) -> None:
    site = SiteTree(tmp_path / "site")
    write_result(work, RID, VID, static(h.SHA_A, "failed"))
    partner_record(work, "ilastik", [sub("load", "passed")])
    out = write_version_summaries(site, work, RID, VID, h.SHA_A, [h.registration("ilastik")])
    assert out["status"] == "failed" and out["statuses"]["ilastik"] == "passed"
    rows = json.loads(site.summary_json(RID, VID).read_text())["rows"]
    assert rows[0]["error"] == "bad axes"


def test_stale_or_recovered_partner_results_add_no_link(tmp_path: Path, work, h) -> None:
    site = SiteTree(tmp_path / "site")
    partner_record(work, "ilastik", [sub("load", "passed", stale=True)])
    out = write_version_summaries(site, work, RID, VID, h.SHA_A, [h.registration("ilastik")])
    assert out["links"] == [] and out["status"] == "untested"
    summary = yamlio.load_yaml_file(site.test_summary(RID, VID))
    assert summary["stale_testers"] == ["ilastik"]
    partner_record(work, "ilastik", [sub("load", "passed")], recovered=True)
    assert write_version_summaries(site, work, RID, VID, h.SHA_A, [h.registration("ilastik")])["links"] == []


def test_fresh_summary_outweighs_stale_one(tmp_path: Path, work, h) -> None:
    site = SiteTree(tmp_path / "site")
    partner_record(work, "ilastik", [sub("load", "failed", stale=True, error="old"), sub("load", "passed")])
    out = write_version_summaries(site, work, RID, VID, h.SHA_A, [h.registration("ilastik")])
    assert out["statuses"]["ilastik"] == "passed" and out["links"] == ["ilastik/ilastik"]
    # both are kept in the published file, the stale one marked
    tests = yamlio.load_yaml_file(site.test_summary(RID, VID))["tests"]["ilastik"]
    assert [t["stale"] for t in tests] == [True, False]


def test_unchanged_summary_is_not_rewritten(tmp_path: Path, work, h) -> None:
    site = SiteTree(tmp_path / "site")
    write_result(work, RID, VID, static(h.SHA_A))
    write_version_summaries(site, work, RID, VID, h.SHA_A, [])
    path = site.test_summary(RID, VID)
    before = path.stat().st_mtime_ns
    path_bytes = path.read_bytes()
    write_version_summaries(site, work, RID, VID, h.SHA_A, [])
    assert path.stat().st_mtime_ns == before and path.read_bytes() == path_bytes


def test_the_builds_digest_of_a_version_without_files_is_the_key_of_its_files(tmp_path: Path, work, h) -> None:
    site = SiteTree(tmp_path / "site")
    partners = [h.registration("ilastik"), h.registration("biapy")]
    params = {"site_url": "https://s", "git_base": "https://gh"}
    digest, _ = summarise_version(site, work, RID, VID, h.SHA_A, partners, resource_type="model", **params)
    expected = partner_lists(partners, "model")[1]
    assert summary_inputs_digest(RID, VID, h.SHA_A, expected, **params) == digest
    assert summary_inputs_digest(RID, VID, h.SHA_B, expected, **params) != digest
    write_result(work, RID, VID, static(h.SHA_A))  # a result file: the in-memory digest no longer tells
    assert summarise_version(site, work, RID, VID, h.SHA_A, partners, resource_type="model", **params)[0] != digest


def test_not_applicable_only_partner_is_not_failed(tmp_path: Path, work, h) -> None:
    site = SiteTree(tmp_path / "site")
    partner_record(work, "ilastik", [sub("load", "not-applicable")])
    out = write_version_summaries(site, work, RID, VID, h.SHA_A, [h.registration("ilastik")],
                                  resource_type="dataset")
    assert out["statuses"]["ilastik"] == "not-applicable" and out["links"] == []


def test_written_files_match_their_published_schemas(tmp_path: Path, work, h) -> None:
    from collection_compiler.adapters.jsonschemas import load_schema

    site = SiteTree(tmp_path / "site")
    write_result(work, RID, VID, static(h.SHA_A, "failed"))
    partner_record(work, "ilastik", [sub("load", "passed", ilastik_version="1.4", rdf_sha256=h.SHA_B, stale=True)])
    write_version_summaries(site, work, RID, VID, h.SHA_A, [h.registration("ilastik"), h.registration("biapy")])
    summary = yamlio.load_yaml_file(site.test_summary(RID, VID))
    load_schema("version_test_summary").validate(summary)
    load_schema("version_summary").validate(json.loads(site.summary_json(RID, VID).read_text()))
    broken = {**summary, "status": "green"}
    assert list(load_schema("version_test_summary").iter_errors(broken))
