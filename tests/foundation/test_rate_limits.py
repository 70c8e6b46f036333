"""A run against fake Zenodo and GitHub servers that enforce rate limits (Zenodo's and GitHub's, scaled from a
minute or an hour to a second) with more work than one window allows: every valid resource is published, at
most 1 % of requests draw 429, and a rerun with nothing changed downloads nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from collection_compiler.adapters import yamlio
from collection_compiler.demo.fakes.zenodo import SEARCH, FakeRecord
from collection_compiler.demo.world import DemoWorld, demo_data
from collection_compiler.settings import Settings
from collection_compiler.stages.build import build
from collection_compiler.stages.update import UpdateReport, update

CONCEPTS = 24  # x 2 versions: 48 RDF downloads against 12 a window, 6 search pages against 2 a window
SEARCH_LIMIT, API_LIMIT = 2, 12
LIMITS = f"zenodo-search={SEARCH_LIMIT}/1;zenodo={API_LIMIT}/1+2000/3600;github-api=100/1"

MODEL_05 = """type: model
format_version: 0.5.4
name: Limited model {i}
description: A model in format 0.5, version {v}.
authors: [{{name: A. Author}}]
cite: [{{text: A paper, doi: 10.1234/abc}}]
license: MIT
documentation: README.md
inputs: []
outputs: []
weights: {{}}
"""


def rdf_for(i: int, version: int) -> bytes:
    """Half the concepts in model format 0.4 (the demo's model), half in 0.5."""
    if i % 2:
        return MODEL_05.format(i=i, v=version).encode()
    text = (demo_data() / "models" / "tiny-v1" / "rdf.yaml").read_text()
    return text.replace("name: Tiny Nuclei Segmenter", f"name: Limited model {i}").encode()


@pytest.fixture
def limited(tmp_path: Path):
    world = DemoWorld(tmp_path / "world")
    world.populate()
    world.zenodo.limit(SEARCH, SEARCH_LIMIT, 1)
    world.zenodo.limit(r"^/api/", API_LIMIT, 1)
    template = world.hub / "collection_rdf_template.yaml"
    template.write_text(template.read_text().replace("page_size: 2", "page_size: 10"))
    for i in range(CONCEPTS):
        concept = 70_000 + 10 * i
        for v in (1, 2):
            world.zenodo.add(FakeRecord(concept + v, concept, f"2024-05-{i % 28 + 1:02d}T0{v}:00:00+00:00",
                                        ["bioimage.io"], {"rdf.yaml": rdf_for(i, v)}, f"Limited {i}", f"{v}.0"))
    with world:
        yield world


def run(settings: Settings) -> UpdateReport:
    report = update(settings)
    build(settings, site=False)
    return report


def test_a_run_under_enforced_limits_publishes_everything_and_its_rerun_downloads_nothing(
        limited: DemoWorld, tmp_path: Path):
    site = tmp_path / "site"
    cold = limited.settings(out=site, work_dir=tmp_path / "w1", rate_limits=LIMITS, http_retries=4)
    report = run(cold)

    published = {e["id"]: e for e in json.loads((site / "collection.json").read_text())["collection"]}
    for i in range(CONCEPTS):
        assert published[f"10.5281/zenodo.{70_000 + 10 * i}"]["versions"] == [str(70_002 + 10 * i),
                                                                           str(70_001 + 10 * i)]
    for i, wanted in ((0, "0.4."), (1, "0.5.")):
        concept = 70_000 + 10 * i
        rdf = yamlio.load_mapping((site / f"rdfs/10.5281/zenodo.{concept}/{concept + 2}/rdf.yaml").read_bytes(), "rdf")
        assert rdf["format_version"].startswith(wanted)
    downloads = limited.zenodo.requests_to(r"/files/")
    assert len(downloads) > 3 * API_LIMIT  # more work than one window allows
    sent = len(limited.zenodo.log) + len(limited.github.log)
    throttled = limited.zenodo.throttled + limited.github.throttled
    assert throttled <= 0.01 * sent, f"{throttled} of {sent} requests drew 429"

    # what the run says of its budget: the summary line and health.json
    assert report.requests["zenodo"]["requests"] == len(downloads)
    assert report.requests["zenodo-search"]["requests"] == len(limited.zenodo.requests_to(r"^/api/records$"))
    assert "requests: " in report.summary() and "zenodo-search" in report.summary()
    health = json.loads((site / "health.json").read_text())
    assert health["requests"]["update"]["zenodo"]["requests"] == len(downloads)
    assert health["requests"]["update"]["zenodo"]["waited_s"] > 0  # it paced rather than drew 429s

    limited.zenodo.log.clear()
    limited.github.log.clear()
    rerun = limited.settings(out=site, previous=site, work_dir=tmp_path / "w2", rate_limits=LIMITS)
    again = run(rerun)
    assert again.written == 0 and again.reused == again.versions
    assert {r.path for r in limited.zenodo.log} == {"/api/records"}  # only the search pages
    assert all(r.path.startswith("/api/repos/") and "/commits/" in r.path for r in limited.github.log)
    assert all("if-none-match" in r.headers for r in limited.github.log)  # answered 304: no GitHub budget spent
    assert "zenodo" not in again.requests and "github-raw" not in again.requests


def test_a_held_back_version_is_neither_downloaded_nor_checked_again(world: DemoWorld, tmp_path: Path):
    from collection_compiler.validation.stage import validate_work

    broken_04 = rdf_for(0, 1).replace(b"weights:", b"unknown_weights:")  # parses, fails validation
    world.zenodo.add(FakeRecord(80_001, 80_000, "2024-06-01T00:00:00+00:00", ["bioimage.io"],
                                {"rdf.yaml": broken_04}, "Broken 0.4"))
    world.zenodo.add(FakeRecord(90_001, 90_000, "2024-06-02T00:00:00+00:00", ["bioimage.io"],
                                {"rdf.yaml": MODEL_05.format(i=9, v=1).encode()}, "Broken 0.5"))
    held = {"10.5281/zenodo.80000/80001", "10.5281/zenodo.90000/90001"}
    site = tmp_path / "site"

    def run_checked(settings: Settings) -> dict:
        update(settings)
        validate_work(settings, perform_io=False)
        build(settings, site=False)
        return json.loads((site / "health.json").read_text())

    first = run_checked(world.settings(out=site, work_dir=tmp_path / "w1"))
    assert held <= set(first["held_back"])
    world.zenodo.log.clear()
    again = run_checked(world.settings(out=site, previous=site, work_dir=tmp_path / "w2"))
    assert not world.zenodo.requests_to(r"/files/")  # published or held back: nothing downloaded again
    assert held <= set(again["held_back"])  # still held back, for the same reasons
    assert again["stages"]["validate"]["validated"] == 0  # every result reused, the held-back ones included
    assert not (site / "rdfs/10.5281/zenodo.80000").exists()
