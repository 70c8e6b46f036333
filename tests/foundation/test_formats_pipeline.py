"""Today's formats end to end: the whole pipeline over a world with a model in each format version (0.4, 0.5), each
with every weights format of the demo (state dict + architecture, TorchScript, ONNX), a dataset of each version
(0.2, 0.3), notebooks and applications (0.2, 0.3) and partner collections (0.2, 0.3). Every published `rdf.yaml`
is loaded with the ecosystem's own validator (`bioimageio.spec`, the `oracle` fixture) and must be accepted, and
`id_map.json` is used as consumers use it: through `bioimageio.spec`'s `load_description`."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import markupsafe
import pytest

from collection_compiler.adapters import yamlio
from collection_compiler.adapters.jsonschemas import load_schema
from collection_compiler.demo.world import DemoWorld, demo_data, git_commit_tree
from collection_compiler.settings import Settings
from collection_compiler.stages.run import run
from collection_compiler.stages.serve import make_server
from collection_compiler.validation import validate_rdf

MODEL, DATASET = "10.5281/zenodo.1000", "10.5281/zenodo.2000"
_WORLD = importlib.util.spec_from_file_location("collection_tests_formats_world",
                                                Path(__file__).parents[1] / "formats_world.py")
formats_world = importlib.util.module_from_spec(_WORLD)
_WORLD.loader.exec_module(formats_world)

class Built:
    """The world after `collection run` (every stage, the model tests included), its tree served on 127.0.0.1."""

    def __init__(self, world: DemoWorld, settings: Settings, site_url: str):
        self.world, self.settings, self.site_url = world, settings, site_url

    @property
    def out(self) -> Path:
        return self.settings.out

    def published_rdfs(self) -> list[Path]:
        return sorted(self.out.glob("rdfs/**/rdf.yaml"))

    def collection(self) -> dict[str, Any]:
        return json.loads((self.out / "collection.json").read_text("utf-8"))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    root = tmp_path_factory.mktemp("formats")
    (root / "site").mkdir()
    server = make_server(root / "site")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    site_url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with DemoWorld(root / "world").populate() as world:
            formats_world.zero_collection_in_format_03(world, root / "zero")
            settings = world.settings(out=root / "site", work_dir=root / "work", site_url=site_url)
            assert run(settings, site=False) == 0
            yield Built(world, settings, site_url)
    finally:
        server.shutdown()
        server.server_close()


def test_every_format_is_published(built: Built):
    formats = {}
    for path in built.published_rdfs():
        data = yamlio.load_yaml_file(path)
        formats.setdefault(data["type"], set()).add(str(data["format_version"])[:3])
    assert formats == {"model": {"0.4", "0.5"}, "dataset": {"0.2", "0.3"}, "notebook": {"0.2", "0.3"},
                       "application": {"0.2", "0.3"}}
    model = yamlio.load_yaml_file(built.out / "rdfs" / MODEL / "1002" / "rdf.yaml")
    assert set(model["weights"]) == {"pytorch_state_dict", "torchscript", "onnx"}
    assert not yamlio.load_yaml_file(built.out / "health.json")["counts"]["held_back"]


def test_the_reference_accepts_every_published_rdf_and_agrees_with_our_verdict(built: Built, oracle):
    """The published files point at the fake Zenodo (127.0.0.1); the reference names a Zenodo file by the path
    part before `/content` only on zenodo.org, so its address is mapped back to zenodo.org before loading."""
    paths = built.published_rdfs()
    assert len(paths) == 9  # 2 model versions, 1 dataset, 3 + 3 partner entries
    for path in paths:
        verdict = oracle.published_verdict(path, built.world.zenodo.api)
        assert verdict == ("passed", None), (path, verdict)
        ours = validate_rdf(path.read_bytes(), source=str(path), settings=built.settings)
        assert ours.status == verdict[0], (path, ours.first_error)


def test_published_contracts_follow_their_schemas(built: Built):
    collection = built.collection()
    assert not list(load_schema("collection").iter_errors(collection))
    id_map = json.loads((built.out / "id_map.json").read_text("utf-8"))
    assert not list(load_schema("id_map").iter_errors(id_map))
    assert (built.out / "schemas" / "id_map.schema.json").is_file()
    # partners' display fields the front-end needs, defaulted where the partner's collection gives none
    partners = {p["id"]: p for p in collection["config"]["partners"]}
    assert partners["ilastik"]["resource_types"] == ["application", "model", "notebook"]
    assert partners["zero"]["resource_types"] == ["application", "dataset", "notebook"]
    assert partners["ilastik"]["tags"] == ["ilastik"] and partners["zero"]["tags"] == ["zero"]
    details = json.loads((built.out / "partner_details.json").read_text("utf-8"))
    assert details == collection["config"]["partners"]


def test_id_map_names_the_newest_version_by_resource_id_and_nickname(built: Built):
    id_map = json.loads((built.out / "id_map.json").read_text("utf-8"))
    nickname = {e["id"]: e for e in built.collection()["collection"]}[MODEL]["nickname"]
    newest = {"source": f"{built.site_url}/rdfs/{MODEL}/1002/rdf.yaml",
              "sha256": _sha256(built.out / "rdfs" / MODEL / "1002" / "rdf.yaml")}
    assert id_map[MODEL] == id_map[nickname] == id_map[f"{MODEL}/1002"] == newest
    assert id_map[f"{MODEL}/1001"]["source"].endswith("/1001/rdf.yaml")
    assert id_map["ilastik/tiny-segmenter/latest"] == id_map["ilastik/tiny-segmenter"]
    assert f"{DATASET}/2001" in id_map and "10.5281/zenodo.6000" not in id_map  # blocked: never published


LOAD = """
import json, sys
from bioimageio.spec import load_description
print(json.dumps({s: str(load_description(s, perform_io_checks=False).validation_summary.source_name)
                  for s in sys.argv[1:]}))
"""


@pytest.mark.parametrize("with_pattern", [False, True], ids=["id-map-only", "id-map-and-http-pattern"])
def test_bioimageio_spec_resolves_ids_through_the_published_id_map(built: Built, tmp_path: Path, with_pattern):
    """As a consumer does: `BIOIMAGEIO_ID_MAP=<site>/id_map.json`, optionally with
    `BIOIMAGEIO_COLLECTION_HTTP_PATTERN=<site>/rdfs/{bioimageio_id}/rdf.yaml` (tried first, for `<rid>/<vid>`)."""
    nickname = {e["id"]: e for e in built.collection()["collection"]}[MODEL]["nickname"]
    pattern = f"{built.site_url}/rdfs/{{bioimageio_id}}/rdf.yaml" if with_pattern else ""
    env = {**os.environ, "BIOIMAGEIO_ID_MAP": f"{built.site_url}/id_map.json",
           "BIOIMAGEIO_COLLECTION_HTTP_PATTERN": pattern, "BIOIMAGEIO_CACHE_PATH": str(tmp_path / "cache")}
    sources = [nickname, MODEL, f"{MODEL}/1001"]
    done = subprocess.run([sys.executable, "-c", LOAD, *sources], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, check=True)
    resolved = json.loads(done.stdout.strip().splitlines()[-1])
    assert resolved == {nickname: f"{built.site_url}/rdfs/{MODEL}/1002/rdf.yaml",
                        MODEL: f"{built.site_url}/rdfs/{MODEL}/1002/rdf.yaml",
                        f"{MODEL}/1001": f"{built.site_url}/rdfs/{MODEL}/1001/rdf.yaml"}


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---- what is validated: the upload, then what is published -----------------------------------------------

def test_an_invalid_upload_is_held_back_with_its_first_error_in_the_health_report(world: DemoWorld):
    from collection_compiler.demo.fakes.zenodo import FakeRecord

    files = {p.name: p.read_bytes() for p in (demo_data() / "models" / "tiny-v2").iterdir()}
    files["rdf.yaml"] = files["rdf.yaml"].replace(b"license: MIT", b"license: not-a-licence")
    world.zenodo.add(FakeRecord(7001, 7000, "2024-04-01T10:00:00+00:00", ["bioimage.io"], files, "Broken 0.5"))
    settings = world.settings()
    assert run(settings, skip=("test",)) == 0  # an uploader's error is not the compiler's
    health = json.loads((settings.out / "health.json").read_text("utf-8"))
    assert "10.5281/zenodo.7000/7001" in health["held_back"] and not health["compiler_errors"]
    first_error = health["stages"]["validate"]["first_errors"]["10.5281/zenodo.7000/7001"]
    assert "license" in first_error
    page = (settings.out / "health" / "index.html").read_text("utf-8")  # the maintainers' page says it too
    assert "<code>10.5281/zenodo.7000/7001</code>: " + str(markupsafe.escape(first_error)) in page


def test_a_valid_upload_published_invalid_is_a_compiler_bug_reported_loudly(world: DemoWorld):
    """What the compiler did before materialising knew the formats: a top-level `rdf_source` in a 0.5 model."""
    from collection_compiler.layout import WorkDir
    from collection_compiler.stages.build import build
    from collection_compiler.stages.update import update
    from collection_compiler.validation.stage import validate_work

    settings = world.settings()
    update(settings)
    materialised = WorkDir(settings.work_dir).rdf(MODEL, "1002")
    data = yamlio.load_yaml_file(materialised)
    data["rdf_source"] = f"{settings.site_url}/rdfs/{MODEL}/1002/rdf.yaml"
    materialised.write_text(yamlio.dump_yaml(data), "utf-8")
    assert validate_work(settings) == 1  # the exit status of `collection validate --work` and `collection run`
    build(settings, site=False)
    health = json.loads((settings.out / "health.json").read_text("utf-8"))
    error = health["compiler_errors"][f"{MODEL}/1002"]
    assert error.startswith("compiler bug: the upload is valid") and "rdf_source" in error
    assert f"{MODEL}/1002" in health["held_back"]  # not published invalid, but never silently
    from collection_compiler.stages.report import run_report

    outcome = run_report(settings.work_dir, settings.out, [])  # what `collection run` ends with: exit status 1
    assert outcome.has_failures and any("compiler bug" in line for line in outcome.lines())


def test_collection_demo_publishes_a_05_model_and_a_03_dataset(tmp_path: Path):
    done = subprocess.run([sys.executable, "-m", "collection_compiler", "demo", "--out", str(tmp_path / "site")],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    rdfs = tmp_path / "site" / "rdfs"
    formats = {version: str(yamlio.load_yaml_file(rdfs / rid / version / "rdf.yaml")["format_version"])
               for rid, version in ((MODEL, "1001"), (MODEL, "1002"), (DATASET, "2001"))}
    assert formats == {"1001": "0.4.10", "1002": "0.5.4", "2001": "0.3.0"}
    summary = yamlio.load_yaml_file(rdfs / MODEL / "1002" / "test_summary.yaml")
    assert summary["status"] == "passed"
    assert {"test-onnx", "test-pytorch_state_dict", "test-torchscript"} <= set(summary["tester_versions"]["bioimageio"])


def test_an_invalid_partner_entry_is_held_back_too(world: DemoWorld, tmp_path: Path):
    folder = tmp_path / "ilastik"
    shutil.copytree(demo_data() / "partners" / "ilastik" / "bioimage-io-resources" / "main", folder)
    collection = folder / "collection.yaml"
    collection.write_text(collection.read_text("utf-8") + (
        "  - id: broken-notebook\n    type: notebook\n    format_version: 0.2.4\n    name: Broken\n"
        "    description: its source is no notebook\n    source: notebooks/pixel_classification.txt\n"), "utf-8")
    git_commit_tree(world.repos / "ilastik" / "bioimage-io-resources", "main", folder)
    settings = world.settings()
    assert run(settings, skip=("test",), site=False) == 0
    published = {e["id"] for e in json.loads((settings.out / "collection.json").read_text("utf-8"))["collection"]}
    assert "ilastik/broken-notebook" not in published and "ilastik/pixel-classification-notebook" in published
    health = json.loads((settings.out / "health.json").read_text("utf-8"))
    assert "ilastik/broken-notebook/latest" in health["held_back"]
    assert ".ipynb" in health["stages"]["validate"]["first_errors"]["ilastik/broken-notebook/latest"]
