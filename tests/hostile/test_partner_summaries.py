"""A hostile partner test summary fails alone: named with its file and field, the partner's other summaries
are still gathered."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from collection_compiler.adapters.files import read_json
from collection_compiler.catalogue.partners import selected_registrations
from collection_compiler.demo.world import DemoWorld, demo_data, git_commit_tree
from collection_compiler.layout import WorkDir
from collection_compiler.stages.gather import gather

FOLDER = "test_summaries/10.5281/zenodo.1000/1002"
HOSTILE = {
    "a 5,000-digit integer": ("- name: x\n  status: passed\n  run: " + "9" * 5000 + "\n", "field 0.run: integer of"),
    "a !!binary value": ("- name: x\n  status: passed\n  log: !!binary aGk=\n", "field 0.log: tag !!binary"),
    "a !!set value": ("- name: !!set {x}\n  status: passed\n", "field 0.name: tag !!set"),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_a_hostile_partner_summary_fails_alone(world: DemoWorld, hostile: Any, tmp_path: Path, kind: str):
    text, expected = HOSTILE[kind]
    settings = hostile.published_run(world, tmp_path)
    repo = world.repos / "ilastik/bioimage-io-resources"
    content = tmp_path / "gh-pages"
    shutil.copytree(demo_data() / "partners/ilastik/bioimage-io-resources/gh-pages", content)
    (content / FOLDER / "test_summary_hostile.yaml").write_text(text)
    git_commit_tree(repo, "gh-pages", content, "a hostile summary")
    health = gather(settings, selected_registrations(world.hub, ["ilastik"]), now="2026-01-01T00:00:00+00:00")
    entry = health["partners"]["ilastik"]
    warnings = "\n".join(entry["warnings"])
    assert entry["status"] == "ok"
    assert f"{FOLDER}/test_summary_hostile.yaml" in warnings and expected in warnings
    record = read_json(WorkDir(settings.work_dir).partner_result("ilastik", "10.5281/zenodo.1000", "1002"))
    assert [s["name"] for s in record["summaries"]] == ["ilastik pixel prediction", "ilastik headless batch"]
