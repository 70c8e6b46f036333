"""Every format the hub receives stays valid once materialised, under our validator and the reference's
(`bioimageio.spec`, the `oracle` fixture), and our validator agrees with the reference where it used to depart."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from collection_compiler.catalogue import nicknames, rdf
from collection_compiler.settings import Settings
from collection_compiler.validation import validate_rdf

RID, VID = "10.5281/zenodo.7", "8"
ZENODO_ROOT = f"https://zenodo.org/api/records/{VID}/files/rdf.yaml/content"
GENERIC_TYPES = ("dataset", "notebook", "application", "generic")


def generic_upload(rdf_type: str, format_version: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "format_version": format_version, "type": rdf_type, "name": f"demo {rdf_type}", "description": "a demo",
        "authors": [{"name": "Ada"}], "license": "CC-BY-4.0", "tags": ["2d"], "documentation": "README.md",
        "covers": ["cover.png"], "cite": [{"text": "x", "doi": "10.1234/abc"}]}
    sources = {"notebook": "notebook.ipynb", "application": "app.py", "dataset": "https://example.org/data.zip"}
    if rdf_type in sources:
        data["source"] = sources[rdf_type]
    return data


def materialised(upload: dict[str, Any], nickname: str = "affable-shark", icon: str = "🦈") -> dict[str, Any]:
    return rdf.materialise(copy.deepcopy(upload), resource_id=RID, version_id=VID, root_url=ZENODO_ROOT,
                           site_url="https://hub.example", bioimageio={
                               "status": "accepted", "version_id": VID, "nickname": nickname, "nickname_icon": icon})


def uploads(model_v04: dict[str, Any], model_v05: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out = {"model 0.4": model_v04, "model 0.5": model_v05}
    for version in ("0.2.4", "0.3.0"):
        out.update({f"{t} {version[:3]}": generic_upload(t, version) for t in GENERIC_TYPES})
    return out


def test_every_format_stays_valid_once_materialised(model_v04, model_v05, oracle):
    for label, upload in uploads(model_v04, model_v05).items():
        assert validate_rdf(upload).status == "passed", label
        document = materialised(upload)
        assert validate_rdf(document).status == "passed", (label, validate_rdf(document).first_error)
        assert oracle.verdict(document) == ("passed", None), label
        assert document["id"] == f"{RID}/{VID}" and document["config"]["bioimageio"]["nickname"] == "affable-shark"
        # only the formats that have the field get `rdf_source` (0.4 models, the 0.2 generic types)
        assert ("rdf_source" in document) == (label.endswith(("0.4", "0.2"))), label


def test_every_animal_fits_the_one_character_id_emoji(model_v04, oracle):
    """A 0.4 model's nickname icon becomes its `id_emoji` (one character) in the reference's conversion."""
    _, animals = nicknames.vocabulary()
    for animal, icon in sorted(animals.items()):
        assert len(icon) == 1, animal
        document = materialised(model_v04, f"affable-{animal}", icon)
        assert validate_rdf(document).status == "passed", animal
        assert oracle.verdict(document) == ("passed", None), animal


def test_an_icon_recorded_with_an_emoji_selector_is_published_as_one_code_point(model_v04, oracle):
    document = materialised(model_v04, "affable-chipmunk", "🐿\ufe0f")  # as ledgers recorded it before
    assert document["config"]["bioimageio"]["nickname_icon"] == "🐿"
    assert validate_rdf(document).status == "passed" and oracle.verdict(document)[0] == "passed"
    assert nicknames.is_known("affable-chipmunk", "🐿\ufe0f")


def _second_input(model: dict[str, Any], input_id: str) -> dict[str, Any]:
    tensor = copy.deepcopy(model["inputs"][0])
    tensor["id"] = input_id
    model["inputs"].append(tensor)
    return model


def _second_output(model: dict[str, Any], output_id: str) -> dict[str, Any]:
    tensor = copy.deepcopy(model["outputs"][0])
    tensor["id"] = output_id
    model["outputs"].append(tensor)
    return model


@pytest.mark.parametrize(("change", "expected"), [
    # an output may reuse an input's id in a model with several tensors (the reference checks inputs only)
    (lambda m: _second_input(m, "raw2")["outputs"][0].update(id="raw2"), "passed"),
    (lambda m: _second_output(m, "prob"), "passed"),
    (lambda m: _second_input(m, "raw"), "failed"),  # two inputs with one id
    (lambda m: m["outputs"][0].update(id="raw"), "failed"),  # one tensor each: its size refers to itself
])
def test_tensor_ids_are_judged_as_the_reference_does(model_v05, oracle, change, expected):
    change(model_v05)
    assert oracle.verdict(model_v05)[0] == expected
    assert validate_rdf(model_v05).status == expected, validate_rdf(model_v05).first_error


def test_content_suffix_is_stripped_for_the_zenodo_api_host_only(model_v04, oracle):
    """`…/files/<name>/content` names `<name>` only on the Zenodo API (the reference: https://zenodo.org/api);
    elsewhere the file is called `content` and has no suffix."""
    for root, expected in ((ZENODO_ROOT, "passed"),
                           (f"https://mirror.example/api/records/{VID}/files/rdf.yaml/content", "failed")):
        document = rdf.absolutise(model_v04, root)
        assert oracle.verdict(document)[0] == expected, root
        assert validate_rdf(document).status == expected, root
        if expected == "failed":
            assert "Expected suffix .npy, but got none" in str(validate_rdf(document).first_error)
    # the configured Zenodo API counts as Zenodo (how the fake Zenodo of the tests is served)
    fake_api = "http://127.0.0.1:8123/api"
    document = rdf.absolutise(model_v04, f"{fake_api}/records/{VID}/files/rdf.yaml/content")
    assert validate_rdf(document, settings=Settings(zenodo_api=fake_api)).status == "passed"
    assert validate_rdf(document).status == "failed"
