"""The update workflow's job chain played locally, in order, against the fake services: artifacts as folders,
GITHUB_OUTPUT / GITHUB_STEP_SUMMARY as files, checkouts from local git repositories, a deploy to a bare repo."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from collection_compiler.demo.world import DemoWorld

ROOT = Path(__file__).resolve().parents[2]
MODEL = "10.5281/zenodo.1000"
REPOSITORY = "bioimage-io/collection"


def _player_module():
    spec = importlib.util.spec_from_file_location("actions_sim", Path(__file__).with_name("actions_sim.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules["actions_sim"] = module
    spec.loader.exec_module(module)
    return module


sim = _player_module()


def git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def bare_hub(world: DemoWorld) -> Path:
    """`repos/bioimage-io/collection.git` with the hub on main and a first, empty gh-pages."""
    bare = world.repos / f"{REPOSITORY}.git"
    git("init", "-q", "--bare", "-b", "main", str(bare))
    work = world.root / "hub-clone"
    git("clone", "-q", str(bare), str(work))
    git("-c", "user.name=t", "-c", "user.email=t@x", "checkout", "-q", "--orphan", "gh-pages", cwd=work)
    git("-c", "user.name=t", "-c", "user.email=t@x", "commit", "-q", "--allow-empty", "-m", "init", cwd=work)
    git("push", "-q", "origin", "gh-pages", cwd=work)
    git("checkout", "-q", "--orphan", "main", cwd=work)
    subprocess.run(["cp", "-r", f"{world.hub}/.", str(work)], check=True)
    subprocess.run(["cp", "-r", str(ROOT / ".github"), str(work)], check=True)
    git("add", "-A", cwd=work)
    git("-c", "user.name=t", "-c", "user.email=t@x", "commit", "-q", "-m", "hub", cwd=work)
    git("push", "-q", "origin", "main", cwd=work)
    return bare


@pytest.fixture
def player(tmp_path: Path):
    with DemoWorld(tmp_path / "world").populate() as world:
        bare = bare_hub(world)
        settings = world.settings()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "COLLECTION_"))}
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        env.update({"COLLECTION_ZENODO_API": settings.zenodo_api, "COLLECTION_GITHUB_API": settings.github_api,
                    "COLLECTION_GITHUB_RAW": settings.github_raw, "COLLECTION_GIT_BASE": str(world.repos),
                    "COLLECTION_HTTP_RETRIES": "1", "COLLECTION_HTTP_BACKOFF": "0.01"})
        yield world, bare, sim.Player(
            root=tmp_path / "actions", repos={REPOSITORY: bare}, repository=REPOSITORY,
            event_name="workflow_dispatch", ref="refs/heads/main",
            inputs={"resource_id": "*", "force_retest": False, "gpu": False, "dry_run": False},
            vars={"HUB_REPOSITORY": REPOSITORY, "COLLECTION_SITE_URL": "http://localhost:8000"},
            secrets={"PARTNER_DISPATCH_TOKEN": "partner-token"}, base_env=env,
            workflows_dir=ROOT / ".github" / "workflows")


def test_the_update_chain_ends_in_one_deploy_commit(player):
    world, bare, actions = player
    results = actions.run("update.yaml")
    log = "\n".join(actions.log)
    assert {n: r.result for n, r in results.items()} == {
        "update": "success", "plan": "success", "validate": "success", "test-0": "success",
        "test-1": "skipped", "test-2": "skipped", "test-3": "skipped", "gather": "success", "build": "success",
        "review": "success", "deploy": "success", "dispatch": "success"}, log
    # the plan's matrix went through GITHUB_OUTPUT into the reusable workflow's matrix legs
    matrix = json.loads(results["plan"].outputs["matrix_0"])["include"]
    legs = sorted(n for n in actions.artifacts if n.startswith("results-test-0-"))
    assert len(legs) == len(matrix) >= 3
    assert "### Device" in results["test-0"].summary
    # one commit on gh-pages, holding the tested model
    assert git("rev-list", "--count", "gh-pages", cwd=bare) == "2"
    tree = git("ls-tree", "-r", "--name-only", "gh-pages", cwd=bare).splitlines()
    assert "collection.json" in tree and f"rdfs/{MODEL}/1002/test_summary.yaml" in tree
    summary = git("show", f"gh-pages:rdfs/{MODEL}/1002/test_summary.yaml", cwd=bare)
    assert "test-onnx" in summary and "test-torchscript" in summary
    collection = json.loads(git("show", "gh-pages:collection.json", cwd=bare))
    assert MODEL in {e["id"] for e in collection["collection"]}
    # review pull requests were opened; the partner with pending work was dispatched with its token
    assert {p["head"] for p in world.github.pulls.values()} >= {"review/10.5281-zenodo.1000"}
    assert [d.repository for d in world.github.dispatches] == ["ilastik/bioimage-io-resources"]
    assert world.github.dispatches[0].headers["authorization"] == "Bearer partner-token"
    assert results["build"].summary.strip()


def test_a_dry_run_deploys_nothing_and_opens_no_pull_request(player):
    world, bare, actions = player
    actions.inputs = {**actions.inputs, "dry_run": True, "resource_id": "ilastik/*"}
    results = actions.run("update.yaml")
    assert results["build"].result == "success", "\n".join(actions.log)
    assert {results[n].result for n in ("review", "deploy", "dispatch")} == {"skipped"}
    assert git("rev-list", "--count", "gh-pages", cwd=bare) == "1"
    assert not world.github.pulls and not world.github.dispatches
    # the filter limited the test matrix to the partner's model
    matrix = json.loads(results["plan"].outputs["matrix_0"])["include"]
    assert matrix and {e["resource_id"] for e in matrix} == {"ilastik/tiny-segmenter"}
