from __future__ import annotations

from pathlib import Path

import pytest

from collection_compiler.demo.world import DemoWorld


@pytest.fixture
def world(tmp_path: Path):
    """The offline demo world (fake Zenodo, fake GitHub, partner git repos, hub checkout), started."""
    with DemoWorld(tmp_path / "world").populate() as running:
        yield running
