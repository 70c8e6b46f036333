"""The update and build stages against the fake Zenodo and GitHub servers and local partner git repositories."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from collection_compiler.adapters import yamlio
from collection_compiler.adapters.files import json_bytes
from collection_compiler.catalogue import nicknames
from collection_compiler.catalogue.state import State
from collection_compiler.demo.fakes.zenodo import FakeRecord
from collection_compiler.demo.world import DemoWorld, git_commit_tree
from collection_compiler.layout import SiteTree, WorkDir
from collection_compiler.settings import Settings
from collection_compiler.stages.build import build
from collection_compiler.stages.update import UpdateReport, update

MODEL = "10.5281/zenodo.1000"
DATASET = "10.5281/zenodo.2000"


def update_and_build(settings: Settings) -> UpdateReport:
    report = update(settings)
    build(settings, site=False)
    return report


def entries(out: Path) -> dict[str, dict[str, Any]]:
    return {e["id"]: e for e in json.loads((out / "collection.json").read_text())["collection"]}


def health(out: Path) -> dict[str, Any]:
    return json.loads((out / "health.json").read_text())


def tree_bytes(root: Path) -> dict[str, bytes]:
    """Every file's bytes; health.json without its `requests` (each run's own waits and remaining budget)."""
    files = {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
    if "health.json" in files:
        files["health.json"] = json_bytes({k: v for k, v in json.loads(files["health.json"]).items()
                                           if k != "requests"})
    return files


def test_first_run_publishes_every_usable_resource(world: DemoWorld):
    settings = world.settings()
    report = update_and_build(settings)
    assert report.usable and not report.stale
    published = entries(settings.out)
    assert set(published) == {MODEL, DATASET, "ilastik/ilastik", "ilastik/tiny-segmenter",
                              "ilastik/pixel-classification-notebook", "zero/Dataset_StarDist_2D_demo"}
    model = published[MODEL]
    assert model["versions"] == ["1002", "1001"]  # newest first
    assert model["rdf_source"] == "http://localhost:8000/rdfs/10.5281/zenodo.1000/1002/rdf.yaml"
    assert model["download_count"] == 42 and model["type"] == "model"
    assert [e["download_count"] for e in published.values()] == sorted(
        (e["download_count"] for e in published.values()), reverse=True)
    doc = json.loads((settings.out / "collection.json").read_text())
    assert doc["config"]["n_resources"] == {"application": 1, "dataset": 2, "model": 2, "notebook": 1}
    assert doc["config"]["n_resource_versions"] == {"application": 1, "dataset": 2, "model": 3, "notebook": 1}
    assert {p["id"] for p in doc["config"]["partners"]} == {"ilastik", "zero"}
    # the search was paged (page_size 2 in the demo template) until an empty page
    pages = [int(r.query["page"]) for r in world.zenodo.requests_to(r"^/api/records$")]
    assert sorted(pages) == list(range(1, max(pages) + 1)) and max(pages) >= 4


def test_materialised_rdf_follows_the_contract(world: DemoWorld):
    settings = world.settings()
    update_and_build(settings)
    rdf = yamlio.load_yaml_file(settings.out / "rdfs" / MODEL / "1002" / "rdf.yaml")
    assert rdf["id"] == f"{MODEL}/1002"
    assert "rdf_source" not in rdf  # model 0.5 has no such field
    v04 = yamlio.load_yaml_file(settings.out / "rdfs" / MODEL / "1001" / "rdf.yaml")
    assert v04["rdf_source"] == f"http://localhost:8000/rdfs/{MODEL}/1001/rdf.yaml"
    bio = rdf["config"]["bioimageio"]
    assert bio["version_id"] == "1002" and bio["doi"] == "10.5281/zenodo.1002" and bio["owners"] == [1]
    assert bio["status"] == "pending" and bio["version_name"] == "2.0.0"
    assert bio["nickname"] == entries(settings.out)[MODEL]["nickname"]
    # relative file references now point at the record's files
    base = f"{world.zenodo.api}/records/1002/files"
    assert rdf["inputs"][0]["test_tensor"]["source"] == f"{base}/test_input.npy/content"
    assert rdf["weights"]["pytorch_state_dict"]["architecture"]["source"] == f"{base}/tiny_net.py/content"
    assert rdf["documentation"] == f"{base}/README.md/content"
    base_v04 = f"{world.zenodo.api}/records/1001/files"
    assert v04["test_inputs"] == [f"{base_v04}/test_input.npy/content"]
    assert v04["weights"]["pytorch_state_dict"]["architecture"] == f"{base_v04}/tiny_net.py/content:TinyNet"
    partner_rdf = yamlio.load_yaml_file(settings.out / "rdfs/ilastik/tiny-segmenter/latest/rdf.yaml")
    assert partner_rdf["weights"]["onnx"]["source"] == \
        f"{world.github.raw}/ilastik/bioimage-io-resources/main/models/tiny/weights.onnx"
    assert "config" not in partner_rdf or "splash_title" not in partner_rdf["config"]  # no partner config leak
    notebook = yamlio.load_yaml_file(settings.out / "rdfs/ilastik/pixel-classification-notebook/latest/rdf.yaml")
    assert notebook["links"] == ["ilastik/ilastik"]


def test_bad_records_are_reported_not_published(world: DemoWorld):
    settings = world.settings()
    update_and_build(settings)
    warnings = "\n".join(health(settings.out)["stages"]["update"]["warnings"]["zenodo"])
    assert "record 3001 (10.5281/zenodo.3000): no rdf.yaml" in warnings
    assert "zenodo.5000/5001):2:1: invalid YAML" in warnings
    assert "record 4001: skipped" in warnings  # backup record
    published = entries(settings.out)
    assert not {"10.5281/zenodo.3000", "10.5281/zenodo.4000", "10.5281/zenodo.5000"} & set(published)
    assert "10.5281/zenodo.6000" not in published  # blocked in the ledger
    assert not (settings.out / "rdfs/10.5281/zenodo.6000").exists()


def test_non_mapping_rdf_and_unsafe_ids_are_refused(world: DemoWorld):
    world.zenodo.add(FakeRecord(7001, 7000, "2024-04-01T00:00:00+00:00", ["bioimage.io"], {"rdf.yaml": b"- a\n- b\n"}))
    record = world.zenodo.add(FakeRecord(8001, 8000, "2024-04-02T00:00:00+00:00", ["bioimage.io"],
                                         {"rdf.yaml": b"type: model\nname: x\n"}))
    hit = world.zenodo.hit(record)
    hit["conceptdoi"] = "10.5281/../../etc"
    settings = world.settings()
    update_and_build(settings)
    warnings = "\n".join(health(settings.out)["stages"]["update"]["warnings"]["zenodo"])
    assert "top level must be a mapping, not a list" in warnings
    assert "no usable record id or concept DOI ('10.5281/../../etc')" in warnings
    assert not any(".." in p for p in tree_bytes(settings.out))


def write_ledger(world: DemoWorld, fields: str) -> None:
    """The hub's ledger entry of the demo model: its id, then `fields` (YAML lines)."""
    ledger = world.hub / "collection" / MODEL / "resource.yaml"
    ledger.parent.mkdir(parents=True, exist_ok=True)
    ledger.write_text(f"id: {MODEL}\n{fields}")


def test_a_blocked_version_is_not_published(world: DemoWorld):
    write_ledger(world, "status: accepted\nversions:\n  - {version_id: '1002', status: blocked}\n")
    settings = world.settings()
    update_and_build(settings)
    assert entries(settings.out)[MODEL]["versions"] == ["1001"]
    assert not (settings.out / "rdfs" / MODEL / "1002").exists()


def test_a_ledger_entry_with_a_bad_field_is_reported_and_the_run_goes_on(world: DemoWorld):
    write_ledger(world, "status: accepted\nnickname: 12\nversions: []\n")
    settings = world.settings()
    update_and_build(settings)
    errors = health(settings.out)["stages"]["update"]["ledger_errors"]
    assert len(errors) == 1 and "resource.yaml: field nickname: must be text, not int" in errors[0]
    assert nicknames.is_known(entries(settings.out)[MODEL]["nickname"])  # derived as if the ledger had none


def test_retries_on_server_errors_and_rate_limits(world: DemoWorld):
    world.zenodo.fail(r"^/api/records$", status=500, times=2)
    world.zenodo.fail(r"/files/rdf.yaml/content$", status=429, times=1, retry_after="0")
    world.github.fail(r"/commits/", status=503, times=1)
    settings = world.settings()
    report = update_and_build(settings)
    assert not report.stale
    assert MODEL in entries(settings.out) and "ilastik/ilastik" in entries(settings.out)


def test_a_timeout_is_retried(world: DemoWorld):
    world.zenodo.fail(r"/records/1002/files/rdf.yaml/content$", status=200, times=1, hang=1.5)
    settings = world.settings(http_timeout=0.5)
    update_and_build(settings)
    assert entries(settings.out)[MODEL]["versions"] == ["1002", "1001"]


def test_failing_sources_keep_their_previous_state(world: DemoWorld, tmp_path: Path):
    first = world.settings(out=tmp_path / "first", work_dir=tmp_path / "w1")
    update_and_build(first)
    counts = (first.out / "download_counts.json").read_text()
    assert json.loads(counts)[MODEL] == 42
    world.zenodo.fail(r"^/api/records$", status=500, times=100)
    shutil.rmtree(world.repos / "ilastik")  # the partner's repository vanished
    second = world.settings(out=tmp_path / "second", work_dir=tmp_path / "w2", previous=first.out)
    report = update_and_build(second)
    assert report.stale == ["partner:ilastik", "zenodo"]
    assert entries(second.out).keys() == entries(first.out).keys()
    assert (second.out / "download_counts.json").read_text() == counts  # never emptied
    sources = health(second.out)["sources"]
    assert sources["zenodo"]["status"] == "stale" and sources["zenodo"]["since"] == "2026-01-01T00:00:00+00:00"
    assert "HTTP 500" in sources["zenodo"]["error"]
    assert sources["partner:ilastik"]["status"] == "stale"


def test_a_removed_partner_entry_disappears(world: DemoWorld, tmp_path: Path):
    first = world.settings()
    update_and_build(first)
    assert (first.out / "rdfs/ilastik/pixel-classification-notebook/latest/rdf.yaml").exists()
    repo = world.repos / "ilastik/bioimage-io-resources"
    content = tmp_path / "content"
    shutil.copytree(repo, content, ignore=shutil.ignore_patterns(".git"))
    collection = yamlio.load_yaml_file(content / "collection.yaml")
    collection["collection"] = [e for e in collection["collection"] if e.get("id") != "pixel-classification-notebook"]
    (content / "collection.yaml").write_text(yamlio.dump_yaml(collection))
    git_commit_tree(repo, "main", content, "remove the notebook")
    second = world.settings(previous=first.out, work_dir=tmp_path / "w2")
    update_and_build(second)
    assert "ilastik/pixel-classification-notebook" not in entries(second.out)
    assert not (second.out / "rdfs/ilastik/pixel-classification-notebook").exists()


def test_rebuilds_are_byte_identical(world: DemoWorld, tmp_path: Path):
    a = world.settings(out=tmp_path / "a", work_dir=tmp_path / "wa")
    b = world.settings(out=tmp_path / "b", work_dir=tmp_path / "wb")
    update_and_build(a)
    update_and_build(b)
    assert tree_bytes(a.out) == tree_bytes(b.out)


def test_a_no_change_rerun_fetches_and_rewrites_nothing(world: DemoWorld, tmp_path: Path):
    site = tmp_path / "site"
    first = world.settings(out=site, work_dir=tmp_path / "w1")
    update_and_build(first)
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in site.rglob("*") if p.is_file()}
    world.zenodo.log.clear()
    world.github.log.clear()
    report = update_and_build(world.settings(out=site, previous=site, work_dir=tmp_path / "w2"))
    assert report.written == 0 and report.reused == report.versions == 7
    assert not world.zenodo.requests_to(r"/files/")  # no RDF downloaded again
    assert not world.github.requests_to(r"^/raw/")  # unchanged partner commits: collection files not re-read
    assert not (tmp_path / "w2" / "ledger").exists()  # the proposals did not change: no review PR to update
    after = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in site.rglob("*") if p.is_file()}
    assert after == before
    state = SiteTree(site).source_state  # the unchanged state is the previous file itself, not a copy
    assert os.path.samefile(WorkDir(tmp_path / "w2").source_state, state)
    assert state.read_bytes() == json_bytes(State.load(site).to_json(), indent=None)


def test_a_build_from_the_same_inputs_writes_nothing_and_a_changed_input_shows(world: DemoWorld, tmp_path: Path):
    site = tmp_path / "site"
    update_and_build(world.settings(out=site, work_dir=tmp_path / "w1"))
    rerun = world.settings(out=site, previous=site, work_dir=tmp_path / "w2")
    update(rerun)
    build(rerun, site=False)
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in site.rglob("*") if p.is_file()}
    assert build(rerun, site=False).resources == 6
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in site.rglob("*") if p.is_file()} == before
    template = world.hub / "collection_rdf_template.yaml"
    template.write_text(template.read_text().replace("description: ", "description: Changed. ", 1))
    (site / "state" / "build.json").write_text("{}")  # an earlier compiler's build record
    build(rerun, site=False)  # the same work folder, but the template changed
    assert json.loads((site / "collection.json").read_text())["description"].startswith("Changed. ")
    assert not (site / "state" / "build.json").exists()


# What `build` reads of the work folder, besides the RDFs the index names by their sha256.
BUILD_INPUTS = ("resources.json", "source_state.json", "download_counts.json", "partners.json", "health",
                "requests", "results", "partner_results", "plan")


def test_the_build_reads_no_work_file_beyond_its_inputs(world: DemoWorld, tmp_path: Path):
    from collection_compiler.stages.run import run

    full = world.settings(out=tmp_path / "full", work_dir=tmp_path / "work")
    assert run(full, site=False) == 0  # every stage: results, partner summaries and plans in the work folder
    work = full.work_dir
    assert {"results", "partner_results", "plan", "ledger"} <= {p.name for p in work.iterdir()}
    copy = tmp_path / "inputs-only"
    copy.mkdir()
    for name in (*BUILD_INPUTS, "rdfs"):
        if (work / name).is_dir():
            shutil.copytree(work / name, copy / name)
        elif (work / name).is_file():
            shutil.copy2(work / name, copy / name)
    build(world.settings(out=tmp_path / "from-copy", work_dir=copy), site=False)
    assert tree_bytes(tmp_path / "from-copy") == tree_bytes(tmp_path / "full")


def test_a_build_that_stopped_half_way_is_completed_by_the_next(world: DemoWorld, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch):
    from collection_compiler.stages import build as build_stage

    settings = world.settings()
    update_and_build(settings)
    complete = tree_bytes(settings.out)
    template = world.hub / "collection_rdf_template.yaml"
    original = template.read_text()
    template.write_text(original.replace("description: ", "description: Changed. ", 1))

    def stop(*args: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(build_stage, "health_document", stop)  # after collection.json, before the rest
    with pytest.raises(OSError, match="disk full"):
        build(settings, site=False)
    assert json.loads((settings.out / "collection.json").read_text())["description"].startswith("Changed. ")
    monkeypatch.undo()
    template.write_text(original)  # the first build's inputs again
    build(settings, site=False)
    assert tree_bytes(settings.out) == complete


def test_a_changed_state_is_written_not_linked(world: DemoWorld, tmp_path: Path):
    site = tmp_path / "site"
    update_and_build(world.settings(out=site, work_dir=tmp_path / "w1"))
    record = world.zenodo.records[1002]
    world.zenodo.add(dataclasses.replace(record, unique_downloads=record.unique_downloads + 5))  # only a count
    update_and_build(world.settings(out=site, previous=site, work_dir=tmp_path / "w2"))
    work_state = WorkDir(tmp_path / "w2").source_state
    assert not os.path.samefile(work_state, SiteTree(site).source_state)
    assert work_state.read_bytes() == SiteTree(site).source_state.read_bytes()
    assert State.load(site).versions[f"{MODEL}/1002"]["download_count"] == world.zenodo.records[1002].unique_downloads


def test_an_older_version_that_becomes_the_newest_shows_its_own_fields(world: DemoWorld, tmp_path: Path):
    site = tmp_path / "site"
    update_and_build(world.settings(out=site, work_dir=tmp_path / "w1"))
    versions = State.load(site).versions
    assert versions[f"{MODEL}/1001"]["entry"]["created"] == world.zenodo.records[1001].created  # each its own
    record = world.zenodo.records[1002]
    world.zenodo.add(dataclasses.replace(record, keywords=["withdrawn"]))  # no longer listed
    report = update_and_build(world.settings(out=site, previous=site, work_dir=tmp_path / "w2"))
    assert report.written == 0  # 1001 is unchanged: reused with the fields its state record kept
    update_and_build(world.settings(out=tmp_path / "cold", work_dir=tmp_path / "w3"))
    assert entries(site)[MODEL] == entries(tmp_path / "cold")[MODEL]
    assert entries(site)[MODEL]["created"] == world.zenodo.records[1001].created


def test_a_state_record_without_its_fields_is_materialised_again_from_the_previous_deploy(
        world: DemoWorld, tmp_path: Path):
    site = tmp_path / "site"
    update_and_build(world.settings(out=site, work_dir=tmp_path / "w1"))
    published = {p: p.read_bytes() for p in (site / "collection.json", site / "id_map.json")}
    state = json.loads(SiteTree(site).source_state.read_text())
    del state["versions"][f"{MODEL}/1001"]["entry"]  # as an earlier compiler kept an older version's record
    SiteTree(site).source_state.write_text(json.dumps(state))
    report = update_and_build(world.settings(out=site, previous=site, work_dir=tmp_path / "w2"))
    assert report.written == 1 and report.reused == report.versions - 1
    state = json.loads(WorkDir(tmp_path / "w2").source_state.read_text())
    assert state["versions"][f"{MODEL}/1001"]["entry"]["created"] == world.zenodo.records[1001].created
    assert all(p.read_bytes() == content for p, content in published.items())


def test_a_new_version_is_picked_up_incrementally(world: DemoWorld, tmp_path: Path):
    site = tmp_path / "site"
    update_and_build(world.settings(out=site, work_dir=tmp_path / "w1"))
    nickname = entries(site)[MODEL]["nickname"]
    record = world.zenodo.records[1002]
    world.zenodo.add(FakeRecord(1003, 1000, "2024-05-01T10:00:00+00:00", record.keywords, record.files,
                                record.title, "3.0.0", unique_downloads=50))
    world.zenodo.log.clear()
    report = update_and_build(world.settings(out=site, previous=site, work_dir=tmp_path / "w2"))
    assert report.written == 1
    fetched = {r.path for r in world.zenodo.requests_to(r"/files/")}
    assert fetched == {"/api/records/1003/files/rdf.yaml/content"}
    model = entries(site)[MODEL]
    assert model["versions"] == ["1003", "1002", "1001"] and model["download_count"] == 50
    assert model["nickname"] == nickname  # kept once given


def test_nicknames_are_deterministic_and_kept(world: DemoWorld, tmp_path: Path):
    settings = world.settings()
    update_and_build(settings)
    first = entries(settings.out)[MODEL]["nickname"]
    with DemoWorld(tmp_path / "other").populate() as other:
        other_settings = other.settings()
        update_and_build(other_settings)
        assert entries(other_settings.out)[MODEL]["nickname"] == first
    proposal = yamlio.load_yaml_file(settings.work_dir / "ledger" / MODEL / "resource.yaml")
    assert proposal["nickname"] == first
    assert [v["version_id"] for v in proposal["versions"]] == ["1002", "1001"]
    # a nickname given in the ledger wins and stays
    write_ledger(world, "status: accepted\nnickname: wise-owl\nnickname_icon: 🦉\nversions: []\n")
    again = world.settings(out=tmp_path / "again", work_dir=tmp_path / "w3")
    update_and_build(again)
    assert entries(again.out)[MODEL]["nickname"] == "wise-owl"
    assert entries(again.out)[MODEL]["nickname_icon"] == "🦉"


def test_unreachable_partner_without_previous_deploy(world: DemoWorld):
    shutil.rmtree(world.repos / "HenriquesLab")
    settings = world.settings()
    report = update_and_build(settings)
    assert report.stale == ["partner:zero"]
    assert "zero/Dataset_StarDist_2D_demo" not in entries(settings.out)
    assert MODEL in entries(settings.out)


def test_nothing_usable_is_an_error(world: DemoWorld, tmp_path: Path):
    world.zenodo.fail(r".*", status=500, times=1000)
    world.github.fail(r".*", status=500, times=1000)
    report = update(world.settings())
    assert report.usable is False


def test_work_folder_paths_never_leave_their_root(world: DemoWorld):
    settings = world.settings()
    update(settings)
    for path in settings.work_dir.rglob("*"):
        assert path.resolve().is_relative_to(settings.work_dir.resolve())
    assert os.path.isfile(settings.work_dir / "resources.json")


def test_results_of_an_earlier_run_do_not_hold_a_version_back(world: DemoWorld):
    from collection_compiler.catalogue.results import CheckResult, write_result
    from collection_compiler.layout import WorkDir

    settings = world.settings()
    write_result(WorkDir(settings.work_dir), MODEL, "1002",
                 CheckResult("static-validation", "0", "old", "failed", [{"name": "x", "status": "failed"}]))
    update_and_build(settings)
    assert entries(settings.out)[MODEL]["versions"] == ["1002", "1001"]


def test_a_version_failing_our_checks_is_held_back_on_the_automatic_route(world: DemoWorld):
    from collection_compiler.catalogue.results import CheckResult, write_result
    from collection_compiler.layout import WorkDir

    settings = world.settings()
    update(settings)
    sha = json.loads((settings.work_dir / "resources.json").read_text())["resources"][MODEL]["versions"][0]
    write_result(WorkDir(settings.work_dir), MODEL, "1002", CheckResult(
        "static-validation", "1", sha["rdf_sha256"], "failed", [{"name": "static", "status": "failed"}]))
    build(settings, site=False)
    model = entries(settings.out)[MODEL]
    assert model["versions"] == ["1001"]
    assert model["created"] == world.zenodo.records[1001].created  # the fields of 1001's RDF, not of 1002's
    assert model["rdf_source"].endswith("/1001/rdf.yaml")
    assert health(settings.out)["held_back"] == [f"{MODEL}/1002"]


def test_the_review_route_publishes_only_accepted_versions(world: DemoWorld):
    template = world.hub / "collection_rdf_template.yaml"
    template.write_text(template.read_text().replace("route: automatic", "route: review"))
    write_ledger(world, "status: accepted\nversions:\n  - {version_id: '1001', status: accepted}\n")
    settings = world.settings()
    update_and_build(settings)
    published = entries(settings.out)
    assert published[MODEL]["versions"] == ["1001"]
    assert DATASET not in published  # nothing of it accepted yet
    assert "ilastik/ilastik" in published  # partner entries are published as their partner lists them


def test_unchanged_versions_are_read_from_the_previous_deploy_not_copied(world: DemoWorld, tmp_path: Path):
    from collection_compiler.catalogue.results import CheckResult, write_result
    from collection_compiler.layout import WorkDir
    from collection_compiler.validation.stage import validate_work

    site = tmp_path / "site"
    update_and_build(world.settings(out=site, work_dir=tmp_path / "w1"))
    rerun = world.settings(out=site, previous=site, work_dir=tmp_path / "w2")
    update(rerun)
    work = WorkDir(rerun.work_dir)
    assert not work.rdfs.exists() or not any(work.rdfs.rglob("*.yaml"))  # nothing new: nothing in the work folder
    assert work.version_rdf(MODEL, "1002", site) == site / "rdfs" / MODEL / "1002" / "rdf.yaml"
    validate_work(rerun)  # reads the previous deploy's RDFs: none is reported missing
    result = json.loads(work.result(MODEL, "1002", "static-validation").read_text())
    assert result["status"] != "failed", result
    # a result that appears for an unchanged version still reaches its published summary
    sha = json.loads(work.resources.read_text())["resources"][MODEL]["versions"][0]["rdf_sha256"]
    write_result(work, MODEL, "1002", CheckResult("onnx", "1", sha, "passed", [{"name": "onnx", "status": "passed"}]))
    build(rerun, site=False)
    assert "onnx" in (site / "rdfs" / MODEL / "1002" / "test_summary.yaml").read_text()


def test_a_tree_without_its_published_index_is_checked_on_disk(world: DemoWorld, tmp_path: Path):
    site = tmp_path / "site"
    update_and_build(world.settings(out=site, work_dir=tmp_path / "w1"))
    (site / "state" / "published.json").unlink()
    shutil.rmtree(site / "rdfs" / MODEL / "1001")  # lost by hand: it must be fetched and written again
    world.zenodo.log.clear()
    report = update_and_build(world.settings(out=site, previous=site, work_dir=tmp_path / "w2"))
    assert {r.path for r in world.zenodo.requests_to(r"/files/")} == {"/api/records/1001/files/rdf.yaml/content"}
    assert report.written == 1 and (site / "rdfs" / MODEL / "1001" / "rdf.yaml").is_file()
    assert (site / "state" / "published.json").is_file()


def _colliding_concepts() -> tuple[int, int]:
    """Two concept ids whose derived nicknames collide (the later one must get another)."""
    seen: dict[str, int] = {}
    for concept in range(5000, 9000, 10):
        name, _ = nicknames.derive(f"10.5281/zenodo.{concept}", set())
        if name in seen:
            return seen[name], concept
        seen[name] = concept
    raise AssertionError("no collision among 400 ids")


def test_nicknames_stay_unique_and_every_published_rdf_carries_its_resources(world: DemoWorld):
    """New resources whose derived nicknames collide, and one whose RDF proposes a free nickname: each gets its
    own, and every version's published RDF carries it."""
    first, second = _colliding_concepts()
    record = world.zenodo.records[1002]
    rdf = record.files["rdf.yaml"].decode()
    assert "\nconfig:" not in rdf
    proposing = rdf + "config:\n  bioimageio:\n    nickname: wise-owl\n"
    for offset, concept in enumerate((first, second, 9990)):
        files = {**record.files, "rdf.yaml": (proposing if concept == 9990 else rdf).encode()}
        world.zenodo.add(FakeRecord(concept + 1, concept, f"2024-06-0{offset + 1}T00:00:00+00:00", record.keywords,
                                    files, f"Model {concept}", "1.0.0"))
    settings = world.settings()
    update_and_build(settings)
    published = {rid: e for rid, e in entries(settings.out).items() if e["type"] == "model"}
    names = [e["nickname"] for e in published.values()]
    assert len(names) == len(set(names)) == 5
    assert published["10.5281/zenodo.9990"]["nickname"] == "wise-owl"
    for rid, entry in published.items():
        for vid in entry["versions"]:
            materialised = yamlio.load_yaml_file(settings.out / "rdfs" / rid / vid / "rdf.yaml")
            assert materialised["config"]["bioimageio"]["nickname"] == entry["nickname"], (rid, vid)
            assert materialised["config"]["bioimageio"]["nickname_icon"] == entry["nickname_icon"]
