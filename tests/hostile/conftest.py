"""What every hostile-input test checks: the run finishes in bounded time, names the bad input, keeps the
previously published state byte for byte and writes nothing outside its work and output folders.
The tests reach these helpers through the `hostile` fixture (test modules are imported by path, not as a
package)."""

from __future__ import annotations

import json
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from collection_compiler.demo.world import DemoWorld
from collection_compiler.settings import Settings
from collection_compiler.stages.build import build
from collection_compiler.stages.update import update

RUN_LIMIT_S = 60.0  # a demo-sized run takes a few seconds; a hung or quadratic run takes far longer


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def warnings_text(out: Path) -> str:
    health = json.loads((out / "health.json").read_text())
    return "\n".join(w for source in health["stages"]["update"]["warnings"].values() for w in source)


def entries(out: Path) -> dict[str, dict[str, Any]]:
    return {e["id"]: e for e in json.loads((out / "collection.json").read_text())["collection"]}


def published_run(world: DemoWorld, root: Path) -> Settings:
    """A first, clean run: the previously published state the hostile run must keep."""
    settings = world.settings(out=root / "first", work_dir=root / "w1")
    update(settings)
    build(settings, site=False)
    return settings


def hostile_run(world: DemoWorld, root: Path, previous: Settings, change: Callable[[], None]) -> Settings:
    """Apply `change` (the hostile input), run again over the first run's tree and check the common promises."""
    change()
    before = tree_bytes(world.root) if world.root.exists() else {}
    settings = world.settings(out=root / "second", work_dir=root / "w2", previous=previous.out)
    started = time.monotonic()
    update(settings)
    build(settings, site=False)
    assert time.monotonic() - started < RUN_LIMIT_S
    outside = {k: v for k, v in tree_bytes(world.root).items() if not k.startswith(("work/", "site/"))}
    assert outside == {k: v for k, v in before.items() if not k.startswith(("work/", "site/"))}
    return settings


def unchanged_versions(first: Path, second: Path, rids: list[str]) -> None:
    """Every published file of these resources is the same bytes after the hostile run."""
    for rid in rids:
        old = tree_bytes(first / "rdfs" / rid)
        assert old and tree_bytes(second / "rdfs" / rid) == old, rid


@pytest.fixture
def world(tmp_path: Path):
    """The offline demo world (fake Zenodo, fake GitHub, partner git repos, hub checkout), started."""
    with DemoWorld(tmp_path / "world").populate() as running:
        yield running


@pytest.fixture
def hostile() -> types.SimpleNamespace:
    return types.SimpleNamespace(entries=entries, hostile_run=hostile_run, published_run=published_run,
                                 unchanged_versions=unchanged_versions, warnings_text=warnings_text,
                                 tree_bytes=tree_bytes, validation_models=VALIDATION_MODELS)


def load_by_path(path: Path, name: str) -> types.ModuleType:
    """A helper module of another test folder (test folders are not packages)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TESTS = Path(__file__).parents[1]
# Real tiny models in formats 0.4 and 0.5 (tests/testing), and the validation tests' small descriptions.
_MODELS = load_by_path(TESTS / "testing" / "conftest.py", "testing_models")
models, model_copy = _MODELS.models, _MODELS.model_copy
VALIDATION_MODELS = load_by_path(TESTS / "validation" / "conftest.py", "validation_models")
