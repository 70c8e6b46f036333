"""Semantic rules on small hand-written models: each broken variant fails at the field that is wrong."""

from __future__ import annotations

from typing import Any

import pytest

from collection_compiler.validation import ALERT, validate_rdf


def first_loc(data: dict[str, Any]) -> str:
    result = validate_rdf(data)
    assert result.status == "failed", "expected a failure"
    return ".".join(map(str, result.first_error.loc))


def codes(data: dict[str, Any]) -> list[str]:
    return [e.text() for d in validate_rdf(data).details for e in d.errors]


def test_valid_models_pass(model_v04: dict, model_v05: dict) -> None:
    for model in (model_v04, model_v05):
        result = validate_rdf(model)
        assert result.status == "passed", codes(model)


@pytest.mark.parametrize(("change", "loc"), [
    (lambda m: m["inputs"][0].update(axes="bcyq"), "inputs.0.axes"),
    (lambda m: m["inputs"][0].update(axes="bcyy"), "inputs.0.axes"),
    (lambda m: m["inputs"][0].update(shape=[1, 1, 8]), "inputs.0.shape"),
    (lambda m: m["inputs"][0].update(shape=[2, 1, 8, 8]), "inputs.0"),
    (lambda m: m["inputs"][0].update(shape={"min": [1, 1, 8, 8], "step": [1, 0, 8, 8]}), "inputs.0"),
    (lambda m: m["inputs"][0].update(name="Raw"), "inputs.0.name"),
    (lambda m: m["inputs"][0]["preprocessing"][0]["kwargs"].update(axes="yxz"),
     "inputs.0.preprocessing.0.zero_mean_unit_variance.kwargs"),
    (lambda m: m["inputs"][0]["preprocessing"][0]["kwargs"].update(mean=1.0),
     "inputs.0.preprocessing.0.zero_mean_unit_variance.kwargs"),
    (lambda m: m["inputs"][0]["preprocessing"][0]["kwargs"].pop("axes"),
     "inputs.0.preprocessing.0.zero_mean_unit_variance.kwargs.axes"),
    (lambda m: m["inputs"][0].update(preprocessing=[{"name": "scale_linear", "kwargs": {"axes": "yx"}}]),
     "inputs.0.preprocessing.0.scale_linear.kwargs"),
    (lambda m: m["inputs"][0].update(preprocessing=[{"name": "sigmoid", "kwargs": {}}]),
     "inputs.0.preprocessing.0.sigmoid.kwargs"),
    (lambda m: m["outputs"][0].update(halo=[0, 0, 4, 4]), ""),  # 8 - 2*4 < 1
    (lambda m: m["outputs"][0]["shape"].update(reference_tensor="nope"), "outputs.0.shape.reference_tensor"),
    (lambda m: m["outputs"][0].update(name="raw"), "outputs.0.name"),
    (lambda m: m.update(test_inputs=["input.tif"]), "test_inputs.0"),
    (lambda m: m["cite"][0].update(doi="https://example.org/paper"), "cite.0.doi"),
    (lambda m: m["authors"][0].update(orcid="0000-0002-1825-0098"), "authors.0.orcid"),
    (lambda m: m.update(weights={}), "weights"),
    (lambda m: m["weights"].update(onnx={"source": "a.onnx", "opset_version": 12, "parent": "onnx"}),
     "weights.onnx.parent"),
    (lambda m: m["weights"].update(pytorch_state_dict={"source": "w.pt", "architecture": "model.py:Net"}),
     "weights.pytorch_state_dict"),
    (lambda m: m["weights"].update(pytorch_state_dict={"source": "w.pt", "architecture": "pkg.mod.Net",
                                                       "architecture_sha256": "0" * 64}),
     "weights.pytorch_state_dict"),
    (lambda m: m.update(timestamp="2020-13-01"), "timestamp"),
    (lambda m: m.update(version="not a version"), "version"),
    (lambda m: m.update(badges=[]), "badges"),
    (lambda m: m["inputs"][0]["preprocessing"][0]["kwargs"].update(axes="byx"),
     "inputs.0.preprocessing.0.zero_mean_unit_variance.kwargs.axes"),
    (lambda m: m["outputs"][0].update(postprocessing=[{"name": "scale_linear", "kwargs": {"gain": 2.0}}]),
     "outputs.0"),  # the reference wants `axes` on output scale_linear
])
def test_broken_model_v04_fails_at_the_field(model_v04: dict, change: Any, loc: str) -> None:
    change(model_v04)
    assert first_loc(model_v04) == loc


@pytest.mark.parametrize(("change", "loc"), [
    (lambda m: m["inputs"].append(dict(m["inputs"][0])), "outputs"),  # duplicate input ids (the reference's loc)
    (lambda m: m["inputs"][0]["axes"].append({"type": "batch"}), "inputs.0.axes"),
    (lambda m: m["outputs"][0]["axes"][2]["size"].update(tensor_id="nope"), "outputs.0.axes.2.space.with_halo.size"),
    (lambda m: m["outputs"][0]["axes"][2].update(halo=4), "outputs.0.axes.2.space.with_halo.halo"),
    (lambda m: m["inputs"][0]["preprocessing"][0]["kwargs"].update(axes=["z"]),
     "inputs.0.preprocessing.0.zero_mean_unit_variance.kwargs"),
    (lambda m: m.update(license="Not-A-License"), "license"),
    (lambda m: m.update(name="a/b"), "name"),
    (lambda m: m["weights"]["torchscript"].pop("pytorch_version"), "weights.torchscript.pytorch_version"),
    (lambda m: m["inputs"][0]["axes"][2].update(size="big"), "inputs.0.axes.2.space.size"),
    (lambda m: m["inputs"][0]["axes"][2].update(unit="lightyear"), "inputs.0.axes.2.space.unit"),
    (lambda m: m["inputs"][0].update(data={"type": "float32", "unit": "foo bar"}), "inputs.0.data"),
    (lambda m: m["outputs"][0].update(postprocessing=[{"id": "scale_range", "kwargs": {"reference_tensor": "prob"}}]),
     ""),  # statistics must come from an input
    (lambda m: m["inputs"][0].update(preprocessing=[{"id": "softmax", "kwargs": {"axis": "batch"}}]),
     "inputs.0.preprocessing.0.softmax.kwargs.axis"),
    (lambda m: m["inputs"][0].update(preprocessing=[{"id": "scale_linear", "kwargs": {"axis": "channel",
                                                                                     "gain": 2.0}}]),
     "inputs.0.preprocessing.0.scale_linear.kwargs.axis"),
    (lambda m: m["weights"]["torchscript"].update(sha256="abc"), "weights.torchscript.sha256"),
    (lambda m: m.update(config={"bioimageio": {"reproducibility_tolerance": [{"relative_tolerance": 0.5}]}}),
     "config.bioimageio.reproducibility_tolerance.0.relative_tolerance"),
])
def test_broken_model_v05_fails_at_the_field(model_v05: dict, change: Any, loc: str) -> None:
    change(model_v05)
    assert first_loc(model_v05) == loc


def test_optional_fields_may_be_null_but_lists_may_not(model_v04: dict) -> None:
    model_v04["outputs"][0]["halo"] = None
    model_v04["version"] = None
    assert validate_rdf(model_v04).status == "passed"
    model_v04["tags"] = None
    assert first_loc(model_v04) == "tags"


def test_model_v05_post_scale_mean_variance_and_newer_file_descriptions(model_v05: dict) -> None:
    model_v05["outputs"][0]["postprocessing"] = [{"id": "scale_mean_variance", "kwargs": {"reference_tensor": "raw"}}]
    assert validate_rdf(model_v05).status == "passed", codes(model_v05)
    model_v05["format_version"] = "0.5.14"
    assert first_loc(model_v05) == "documentation"  # a string is no longer enough since 0.5.11
    model_v05["documentation"] = {"source": "README.md"}
    assert validate_rdf(model_v05).status == "passed", codes(model_v05)


def test_unknown_licence_is_only_a_warning_in_0_4(model_v04: dict) -> None:
    model_v04["license"] = "CC BY 4.0"
    result = validate_rdf(model_v04)
    assert result.status == "passed"
    assert any(w.loc == ("license",) for w in result.details[0].warnings)


def test_future_patch_is_relabelled_with_an_alert(model_v05: dict) -> None:
    model_v05["format_version"] = "0.5.99"
    model_v05["documentation"] = {"source": "README.md"}  # since 0.5.11 a file description, not a string
    model_v05["new_field_from_the_future"] = 1
    result = validate_rdf(model_v05)
    assert result.status == "passed"
    warnings = result.details[0].warnings
    assert any(w.type == "future_format_version" and w.severity == ALERT for w in warnings)
    assert any(w.loc == ("new_field_from_the_future",) for w in warnings)


def test_unknown_minor_uses_latest_rules_and_fails_on_format_version(model_v05: dict) -> None:
    model_v05["format_version"] = "0.9.0"
    result = validate_rdf(model_v05)
    assert result.status == "failed"
    assert ("format_version",) in {e.loc for e in result.details[0].errors}
    assert ("documentation",) in {e.loc for e in result.details[0].errors}  # latest rules: no plain strings


def test_model_0_3_is_converted(model_v04: dict) -> None:
    model_v04["format_version"] = "0.3.6"
    model_v04["language"], model_v04["framework"] = "python", "pytorch"
    model_v04["outputs"][0]["shape"]["reference_input"] = model_v04["outputs"][0]["shape"].pop("reference_tensor")
    result = validate_rdf(model_v04)
    assert result.status == "passed", codes(model_v04)
    assert result.details[0].name == "static validation of model RDF 0.3.6 (as 0.4.10)"


def test_numeric_strings_and_yaml_1_2_numbers_are_accepted(model_v04: dict) -> None:
    model_v04["inputs"][0]["preprocessing"][0]["kwargs"]["eps"] = "1e-05"
    assert validate_rdf(model_v04).status == "passed"
    text = b"format_version: 0.2.3\ntype: dataset\nname: d\ndescription: x\nversion_number: '3'\n"
    assert validate_rdf(text).status == "passed"


def test_generic_types_and_unknown_types() -> None:
    base = {"format_version": "0.2.3", "name": "thing", "description": "d"}
    assert validate_rdf({**base, "type": "notebook", "source": "nb.ipynb"}).status == "passed"
    assert first_loc({**base, "type": "notebook", "source": "nb.py"}) == "source"
    assert first_loc({**base, "type": "dataset", "unknown_key": 1}) == "unknown_key"
    assert validate_rdf({**base, "type": "my-tool", "anything": 1}).status == "passed"
    v03 = {"format_version": "0.3.0", "type": "application", "name": "My app", "description": "d"}
    result = validate_rdf(v03)
    assert result.status == "passed"
    assert {w.loc[0] for w in result.details[0].warnings} >= {"authors", "cite", "license", "source"}


def test_collection_files() -> None:
    coll = {"format_version": "0.2.4", "type": "collection", "name": "Partner", "description": "d",
            "collection": [{"rdf_source": "a/rdf.yaml", "id": "a"}, {"id": "a"}]}
    assert first_loc(coll) == "collection.1.id"
    coll["collection"][1]["id"] = "b"
    assert validate_rdf(coll).status == "passed"
    assert first_loc({**coll, "collection": []}) == "collection"
