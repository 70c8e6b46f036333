"""Hostile uploads and partner files: each bad record or entry fails alone, named, and changes nothing else."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from collection_compiler.adapters import yamlio
from collection_compiler.catalogue import ids
from collection_compiler.demo.fakes.zenodo import FakeRecord
from collection_compiler.demo.world import DemoWorld, git_commit_tree

MODEL, PARTNER_APP = "10.5281/zenodo.1000", "ilastik/ilastik"
HOSTILE_VALUES = {
    "a 5,000-digit integer": ("hostile:\n  seed: " + "9" * 5000 + "\n", "field hostile.seed: integer of 5000"),
    "a !!binary value": ("hostile:\n  blob: !!binary aGVsbG8=\n", "field hostile.blob: tag !!binary is not allowed"),
    "a !!set value": ("hostile: [1, !!set {a, b}]\n", "field hostile.1: tag !!set is not allowed"),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE_VALUES))
def test_a_hostile_value_in_a_zenodo_rdf_fails_that_version_alone(world: DemoWorld, hostile: Any,
        tmp_path: Path, kind: str):
    text, expected = HOSTILE_VALUES[kind]
    first = hostile.published_run(world, tmp_path)

    def upload() -> None:
        files = dict(world.zenodo.records[1002].files)
        files["rdf.yaml"] = files["rdf.yaml"] + b"\n" + text.encode()
        world.zenodo.add(FakeRecord(1003, 1000, "2024-05-01T10:00:00+00:00", ["bioimage.io"], files, "Hostile", "3"))

    second = hostile.hostile_run(world, tmp_path, first, upload)
    warnings = hostile.warnings_text(second.out)
    assert "zenodo.1000/1003" in warnings and expected in warnings
    assert not (second.out / "rdfs" / MODEL / "1003").exists()
    assert hostile.entries(second.out).keys() == hostile.entries(first.out).keys()
    hostile.unchanged_versions(first.out, second.out, [f"{MODEL}/1002", f"{MODEL}/1001", PARTNER_APP])


@pytest.mark.parametrize("concept", ["hiddenpartner/hidden-app", "ilastik/ilastik", "10.5281/zenodo.1000/1002",
                                     "state", "10.5281/zenodo.１２３", "10.5281/zenodo.7\n"])
def test_a_concept_doi_that_is_not_a_zenodo_doi_is_refused(world: DemoWorld, hostile: Any,
        tmp_path: Path, concept: str):
    first = hostile.published_run(world, tmp_path)

    def upload() -> None:
        files = dict(world.zenodo.records[1002].files)
        record = world.zenodo.add(FakeRecord(7001, 7000, "2024-05-01T10:00:00+00:00", ["bioimage.io"], files))
        world.zenodo.hit(record)["conceptdoi"] = concept

    second = hostile.hostile_run(world, tmp_path, first, upload)
    assert f"no usable record id or concept DOI ({concept!r})" in hostile.warnings_text(second.out)
    assert hostile.entries(second.out).keys() == hostile.entries(first.out).keys()
    hostile.unchanged_versions(first.out, second.out, [PARTNER_APP, f"{MODEL}/1002"])


def test_a_record_id_in_full_width_digits_is_refused(world: DemoWorld, hostile: Any,
        tmp_path: Path):
    first = hostile.published_run(world, tmp_path)

    def upload() -> None:
        record = world.zenodo.add(FakeRecord(7001, 7000, "2024-05-01T10:00:00+00:00", ["bioimage.io"],
                                             dict(world.zenodo.records[1002].files)))
        world.zenodo.hit(record)["id"] = "７００１"

    second = hostile.hostile_run(world, tmp_path, first, upload)
    assert "record '７００１': no usable record id" in hostile.warnings_text(second.out)
    assert hostile.entries(second.out).keys() == hostile.entries(first.out).keys()


def _edit_partner_collection(world: DemoWorld, tmp_path: Path, edit) -> None:
    repo = world.repos / "ilastik/bioimage-io-resources"
    content = tmp_path / "content"
    shutil.copytree(repo, content, ignore=shutil.ignore_patterns(".git"))
    path = content / "collection.yaml"
    path.write_text(edit(path.read_text()))
    git_commit_tree(repo, "main", content, "hostile change")


def test_a_partner_entry_id_with_a_trailing_newline_is_not_a_second_resource(world: DemoWorld, hostile: Any,
        tmp_path: Path):
    first = hostile.published_run(world, tmp_path)

    def add_lookalike() -> None:
        def edit(text: str) -> str:
            collection = yamlio.load_yaml_bytes(text.encode())
            lookalike = {**collection["collection"][0], "id": "ilastik\n", "name": "Look-alike"}
            collection["collection"].append(lookalike)
            return yamlio.dump_yaml(collection)
        _edit_partner_collection(world, tmp_path, edit)

    second = hostile.hostile_run(world, tmp_path, first, add_lookalike)
    assert "entry id 'ilastik\\n'" in hostile.warnings_text(second.out)
    assert hostile.entries(second.out).keys() == hostile.entries(first.out).keys()
    hostile.unchanged_versions(first.out, second.out, [PARTNER_APP])


@pytest.mark.parametrize("kind", sorted(HOSTILE_VALUES))
def test_a_hostile_value_in_a_partner_entry_fails_that_entry_alone(world: DemoWorld, hostile: Any,
        tmp_path: Path, kind: str):
    text, expected = HOSTILE_VALUES[kind]
    first = hostile.published_run(world, tmp_path)
    rdf = tmp_path / "content" / "models" / "tiny" / "rdf.yaml"

    def poison() -> None:
        def edit(collection: str) -> str:
            rdf.write_text(rdf.read_text() + "\n" + text)
            return collection
        _edit_partner_collection(world, tmp_path, edit)

    second = hostile.hostile_run(world, tmp_path, first, poison)
    warnings = hostile.warnings_text(second.out)
    assert "models/tiny/rdf.yaml" in warnings and expected in warnings
    hostile.unchanged_versions(first.out, second.out, [PARTNER_APP, f"{MODEL}/1002"])


@pytest.mark.parametrize("partner_id", ["state", "static", "partners", "rdfs", "ilastik\n", "ＡＢ"])
def test_a_partner_id_that_names_a_folder_of_the_tree_or_is_not_plain_is_refused(partner_id: str):
    with pytest.raises(ids.UnsafeIdError):
        ids.check_partner_id(partner_id)
