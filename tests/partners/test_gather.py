"""`collection gather` over real local git repositories laid out like the partners' deploy branches."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from collection_compiler import cli
from collection_compiler.adapters import yamlio
from collection_compiler.adapters.files import read_json, write_text_atomic
from collection_compiler.layout import SiteTree
from collection_compiler.settings import Settings
from collection_compiler.stages.gather import MAX_SUMMARY_FILE_BYTES, gather

R1 = "10.5281/zenodo.1"
R2 = "10.5281/zenodo.2"


def passed(name: str, **extra: object) -> dict:
    return {"name": name, "status": "passed", "error": None, "source_name": "x", "warnings": {}, **extra}


@pytest.fixture
def ilastik_repo(repos: Path, h) -> Path:
    folder = "test_summaries"
    files = {
        # one file per test setting, one holding a list
        f"{folder}/{R1}/111/test_summary_onnx_1.4.2.yaml": h.summary_yaml(
            passed("load model", ilastik_version="1.4.2")),
        f"{folder}/{R1}/111/test_summary_torchscript_1.4.2.yaml": h.summary_yaml(
            [passed("load model", ilastik_version="1.4.2"),
             {"name": "run prediction", "status": "failed", "error": "shape mismatch", "ilastik_version": "1.4.2"}]),
        # malformed YAML and a schema violation
        f"{folder}/{R1}/222/test_summary_broken.yaml": "name: [unclosed\n",
        f"{folder}/{R1}/222/test_summary_bad_status.yaml": h.summary_yaml({"name": "x", "status": "great"}),
        # stale: tested another rdf
        f"{folder}/{R2}/333/test_summary_1.4.2.yaml": h.summary_yaml(passed("load model", rdf_sha256=h.SHA_A)),
        # a version we do not publish
        f"{folder}/10.5281/zenodo.9/999/test_summary.yaml": h.summary_yaml(passed("load model")),
        # a link leaving the checkout, and a huge file
        f"{folder}/{R2}/333/test_summary_link.yaml": ("link", "../../../../../../../../etc/hostname"),
        f"{folder}/{R1}/222/test_summary_huge.yaml": "name: x\nstatus: passed\nerror: '"
                                                      + "a" * (MAX_SUMMARY_FILE_BYTES + 10) + "'\n",
        # not a summary file name: ignored
        f"{folder}/{R1}/111/notes.yaml": "hello: world\n",
    }
    return h.make_repo(repos, "ilastik/resources", {"main": {"README.md": "x"}, "gh-pages": files})


@pytest.fixture
def published(work, h) -> None:
    h.write_resources(work, {R1: [("222", h.SHA_B), ("111", h.SHA_A)], R2: [("333", h.SHA_C)]})


def test_gather_reads_layouts_and_rejects_bad_files(settings: Settings, work, h, ilastik_repo, published) -> None:
    health = gather(settings, [h.registration("ilastik")], now="2024-01-01T00:00:00+00:00")
    entry = health["partners"]["ilastik"]
    assert entry["status"] == "ok"
    assert entry["commit"] == h.git(ilastik_repo, "rev-parse", "gh-pages")
    assert entry["unknown_versions"] == 1
    warnings = "\n".join(entry["warnings"])
    assert "ilastik: test_summaries/10.5281/zenodo.1/222/test_summary_broken.yaml:2:1: invalid YAML" in warnings
    assert "test_summary_bad_status.yaml: field status:" in warnings
    assert "test_summary_link.yaml: link out of the checkout" in warnings
    assert "test_summary_huge.yaml:" in warnings and "more than the limit" in warnings

    record = read_json(work.partner_result("ilastik", R1, "111"))
    assert record["commit"] == entry["commit"]
    assert record["folder"] == f"test_summaries/{R1}/111"
    names = [(s["name"], s["status"], s["file"].rsplit("/", 1)[1]) for s in record["summaries"]]
    assert names == [("load model", "passed", "test_summary_onnx_1.4.2.yaml"),
                     ("load model", "passed", "test_summary_torchscript_1.4.2.yaml"),
                     ("run prediction", "failed", "test_summary_torchscript_1.4.2.yaml")]
    assert all("source_name" not in s for s in record["summaries"])
    # nothing usable for 222; unknown version not written
    assert not work.partner_result("ilastik", R1, "222").exists()
    assert not (work.root / "partner_results" / "ilastik" / "10.5281" / "zenodo.9").exists()
    # stale: its rdf_sha256 names another rdf
    stale = read_json(work.partner_result("ilastik", R2, "333"))["summaries"]
    assert [s["stale"] for s in stale] == [True]
    assert entry["stale_summaries"] == 1
    assert read_json(work.health("gather")) == health


def test_deploy_folder_dot_and_single_file(settings: Settings, work, h, repos, published) -> None:
    h.make_repo(repos, "deepimagej/ci", {"main": {}, "gh-pages": {
        f"{R1}/111/test_summary.yaml": h.summary_yaml(passed("Reproduce test outputs with DeepImageJ headless."))}})
    health = gather(settings, [h.registration("deepimagej", "deepimagej/ci", folder=".")])
    assert health["partners"]["deepimagej"]["versions"] == 1
    record = read_json(work.partner_result("deepimagej", R1, "111"))
    assert record["folder"] == f"{R1}/111"
    assert record["summaries"][0]["file"] == f"{R1}/111/test_summary.yaml"


def test_gather_replaces_earlier_results_of_the_partner(settings: Settings, work, h, ilastik_repo, published) -> None:
    leftover = work.partner_result("ilastik", R1, "222")
    write_text_atomic(leftover, json.dumps({"partner_id": "ilastik", "summaries": [passed("old")]}))
    gather(settings, [h.registration("ilastik")])
    assert not leftover.exists()


def test_unreachable_partner_keeps_previous_results_marked_stale(tmp_path: Path, settings: Settings, work, h,
                                                                  published) -> None:
    previous = SiteTree(tmp_path / "previous")
    old = {"rdf_sha256": h.SHA_A, "status": "passed",
           "tester_versions": {"ilastik": {"commit": "c0ffee"}},
           "tests": {"bioimageio": [], "ilastik": [passed("load model")]}}
    write_text_atomic(previous.test_summary(R1, "111"), yamlio.dump_yaml(old))
    # the rdf of 333 changed since the previous deploy: its recovered summaries are stale
    write_text_atomic(previous.test_summary(R2, "333"), yamlio.dump_yaml({**old, "rdf_sha256": h.SHA_A}))
    write_text_atomic(previous.health, json.dumps(
        {"gather": {"partners": {"ilastik": {"status": "stale", "stale_since": "2023-12-01T00:00:00+00:00"}}}}))
    settings = settings.with_overrides(previous=previous.root)
    health = gather(settings, [h.registration("ilastik")], now="2024-01-09T00:00:00+00:00")
    entry = health["partners"]["ilastik"]
    assert entry["status"] == "stale"
    assert "ilastik: ilastik/resources@gh-pages unreachable" in entry["error"]
    assert entry["stale_since"] == "2023-12-01T00:00:00+00:00"
    assert entry["commit"] == "c0ffee" and entry["versions"] == 2
    record = read_json(work.partner_result("ilastik", R1, "111"))
    assert record["recovered"] is True
    assert [s["stale"] for s in record["summaries"]] == [False]
    assert [s["stale"] for s in read_json(work.partner_result("ilastik", R2, "333"))["summaries"]] == [True]


def test_unreachable_without_history_starts_stale_now(settings: Settings, h, published) -> None:
    health = gather(settings, [h.registration("ilastik")], now="2024-01-09T00:00:00+00:00")
    assert health["partners"]["ilastik"]["stale_since"] == "2024-01-09T00:00:00+00:00"


def test_partner_without_test_summaries_is_not_gathered(settings: Settings, h, published) -> None:
    reg = h.registration("zero")
    no_summaries = type(reg)(**{**reg.__dict__, "test_summaries": None})
    assert gather(settings, [no_summaries])["partners"] == {}


def test_gather_command(settings: Settings, work, h, ilastik_repo, published, capsys) -> None:
    partners = settings.repo_root / "partners"
    partners.mkdir(parents=True)
    (partners / "ilastik.yaml").write_text(yamlio.dump_yaml({
        "id": "ilastik", "name": "ilastik", "repository": "ilastik/resources", "branch": "main",
        "collection_file_name": "collection.yaml",
        "test_summaries": {"repository": "ilastik/resources", "deploy_branch": "gh-pages",
                           "deploy_folder": "test_summaries"}}))
    code = cli.main(["gather", "--repo-root", str(settings.repo_root), "--work-dir", str(settings.work_dir),
                     "--git-base", settings.git_base])
    assert code == 0
    assert "ilastik: ok" in capsys.readouterr().out
    assert work.partner_result("ilastik", R1, "111").is_file()


def test_folder_links_out_of_the_checkout_are_refused(settings: Settings, work, h, repos, published) -> None:
    h.make_repo(repos, "evil/ci", {"main": {}, "gh-pages": {"test_summaries": ("link", "/etc")}})
    h.make_repo(repos, "evil/root", {"main": {}, "gh-pages": {
        "10.5281": ("link", "../../../../../../../../tmp"),
        f"{R1}x/111/test_summary.yaml": h.summary_yaml(passed("x"))}})
    health = gather(settings, [h.registration("evil", "evil/ci"), h.registration("evil2", "evil/root", folder=".")])
    # a linked deploy folder is never even checked out: the sparse checkout only takes real folders
    assert health["partners"]["evil"]["versions"] == 0
    assert health["partners"]["evil"]["warnings"] == [
        "evil: deploy folder 'test_summaries' does not exist on the branch"]
    assert health["partners"]["evil2"]["versions"] == 0
    assert health["partners"]["evil2"]["warnings"] == ["evil2: 10.5281: link out of the checkout, ignored"]
