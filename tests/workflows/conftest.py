from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from collection_compiler.demo.world import DemoWorld, git_commit_tree
from collection_compiler.settings import Settings
from collection_compiler.stages.update import update

HUB_REPOSITORY = "bioimage-io/collection"


@dataclass
class Hub:
    world: DemoWorld
    repo: Path  # the hub repository as the fake GitHub serves it
    settings: Settings


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The demo world after `update`, with the hub checkout also served as `bioimage-io/collection`."""
    with DemoWorld(tmp_path / "world").populate() as world:
        repo = world.repos / HUB_REPOSITORY
        git_commit_tree(repo, "main", world.hub, "hub")
        monkeypatch.setenv("GITHUB_REPOSITORY", HUB_REPOSITORY)
        for name in ("GITHUB_RUN_ID", "GITHUB_SERVER_URL", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"):
            monkeypatch.delenv(name, raising=False)
        settings = world.settings()
        update(settings)
        yield Hub(world, repo, settings)
