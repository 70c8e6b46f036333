"""The deploy guard counts distinct resource ids and refuses when the deployed tree cannot be read."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from collection_compiler import ids
from collection_compiler.deploy import DeployRefused, deploy


def _site(root: Path, entries: list[dict[str, str]] | None, raw: str | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    text = raw if raw is not None else json.dumps({"collection": entries})
    (root / "collection.json").write_text(text)
    return root


def _commits(remote: Path) -> str:
    return subprocess.run(["git", "-C", str(remote), "rev-list", "--count", "gh-pages"], check=True,
                          capture_output=True, text=True).stdout.strip()


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    path = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(path)], check=True)
    return path


def test_repeated_entries_do_not_hide_a_loss(remote: Path, tmp_path: Path):
    deploy(_site(tmp_path / "s1", [{"id": f"r{i}"} for i in range(10)]), str(remote))
    padded = [{"id": "r0"}] * 10  # ten entries, one resource
    with pytest.raises(DeployRefused, match="the new tree has 1 resources, the deployed one 10"):
        deploy(_site(tmp_path / "s2", padded), str(remote), max_loss=0.2)
    assert _commits(remote) == "1"


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
    assert _commits(remote) == "1"
    assert deploy(new, str(remote), force=True).changed


def test_the_first_deploy_over_an_empty_branch_is_not_refused(remote: Path, tmp_path: Path):
    first = tmp_path / "empty"
    first.mkdir()
    (first / "README.md").write_text("gh-pages\n")
    deploy(first, str(remote))
    assert deploy(_site(tmp_path / "s2", [{"id": "r0"}]), str(remote)).changed


@pytest.mark.parametrize("partner_id", ["state", "static", "partners", "rdfs", "ilastik\n", "ＡＢ"])
def test_a_partner_id_that_names_a_folder_of_the_tree_or_is_not_plain_is_refused(partner_id: str):
    with pytest.raises(ids.UnsafeIdError):
        ids.check_partner_id(partner_id)
