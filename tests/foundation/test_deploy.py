"""Deploying a built tree to the gh-pages branch of a local bare repository."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from collection_compiler.stages.deploy import DeployRefused, deploy


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


def site(root: Path, n: int, extra: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    entries = [{"id": f"r{i}"} for i in range(n)]
    (root / "collection.json").write_text(json.dumps({"collection": entries}) + extra)
    (root / "rdfs").mkdir(exist_ok=True)
    (root / "rdfs" / "a.yaml").write_text(f"n: {n}\n")
    return root


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    path = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(path)], check=True)
    return path


def test_one_commit_per_deploy_and_none_without_change(remote: Path, tmp_path: Path):
    first = deploy(site(tmp_path / "s1", 10), str(remote))
    assert first.changed and git(remote, "rev-list", "--count", "gh-pages") == "1"
    again = deploy(site(tmp_path / "s1", 10), str(remote))
    assert not again.changed and git(remote, "rev-list", "--count", "gh-pages") == "1"
    second = deploy(site(tmp_path / "s2", 11), str(remote))
    assert second.changed and git(remote, "rev-list", "--count", "gh-pages") == "2"
    assert git(remote, "show", "gh-pages:rdfs/a.yaml") == "n: 11"
    files = git(remote, "ls-tree", "-r", "--name-only", "gh-pages").splitlines()
    assert files == ["collection.json", "rdfs/a.yaml"]  # the old tree is replaced, not merged


def test_a_tree_that_loses_many_resources_is_refused(remote: Path, tmp_path: Path):
    deploy(site(tmp_path / "s1", 10), str(remote))
    with pytest.raises(DeployRefused, match="more than 20% would disappear"):
        deploy(site(tmp_path / "s2", 5), str(remote), max_loss=0.2)
    assert git(remote, "rev-list", "--count", "gh-pages") == "1"
    assert deploy(site(tmp_path / "s2", 5), str(remote), max_loss=0.2, force=True).changed


def test_deploy_retries_when_the_remote_moved(remote: Path, tmp_path: Path, monkeypatch):
    deploy(site(tmp_path / "s1", 10), str(remote))
    import collection_compiler.stages.deploy as module

    original = module._replace_tree
    moved = {"done": False}

    def move_remote_then_replace(worktree: Path, tree: Path) -> None:
        if not moved["done"]:  # another deploy lands while we prepare ours
            moved["done"] = True
            deploy(site(tmp_path / "other", 12), str(remote))
        original(worktree, tree)

    monkeypatch.setattr(module, "_replace_tree", move_remote_then_replace)
    result = deploy(site(tmp_path / "s3", 13), str(remote))
    assert result.changed and result.attempts == 2
    assert git(remote, "rev-list", "--count", "gh-pages") == "3"
    assert git(remote, "show", "gh-pages:rdfs/a.yaml") == "n: 13"


# ---- the guard against hostile or broken trees (issue 22) ----

def _site(root: Path, entries: list[dict[str, str]] | None, raw: str | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    text = raw if raw is not None else json.dumps({"collection": entries})
    (root / "collection.json").write_text(text)
    return root


def test_repeated_entries_do_not_hide_a_loss(remote: Path, tmp_path: Path):
    deploy(_site(tmp_path / "s1", [{"id": f"r{i}"} for i in range(10)]), str(remote))
    padded = [{"id": "r0"}] * 10  # ten entries, one resource
    with pytest.raises(DeployRefused, match="the new tree has 1 resources, the deployed one 10"):
        deploy(_site(tmp_path / "s2", padded), str(remote), max_loss=0.2)
    assert git(remote, "rev-list", "--count", "gh-pages") == "1"


@pytest.mark.parametrize("deployed", ["{not json", '{"collection": "nope"}', "[]", None])
def test_an_unreadable_deployed_tree_refuses_unless_forced(remote: Path, tmp_path: Path, deployed: str | None):
    old = _site(tmp_path / "s1", None, raw=deployed or "")
    if deployed is None:  # a published tree that lost its collection.json
        (old / "collection.json").unlink()
        (old / "rdfs").mkdir()
        (old / "rdfs" / "kept.yaml").write_text("a: 1\n")
    deploy(old, str(remote))
    new = _site(tmp_path / "s2", [{"id": "r0"}])
    with pytest.raises(DeployRefused, match="deployed tree's collection.json is missing or unreadable"):
        deploy(new, str(remote))
    assert git(remote, "rev-list", "--count", "gh-pages") == "1"
    assert deploy(new, str(remote), force=True).changed


def test_the_first_deploy_over_an_empty_branch_is_not_refused(remote: Path, tmp_path: Path):
    first = tmp_path / "empty"
    first.mkdir()
    (first / "README.md").write_text("gh-pages\n")
    deploy(first, str(remote))
    assert deploy(_site(tmp_path / "s2", [{"id": "r0"}]), str(remote)).changed
