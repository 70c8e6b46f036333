"""Hostile or malformed input: every case is a clear `failed` result, never a crash or a hang."""

from __future__ import annotations

import time

import pytest

from collection_compiler.settings import Settings
from collection_compiler.validation import validate_rdf

BASE = b"format_version: 0.2.3\ntype: dataset\nname: d\ndescription: x\n"


@pytest.mark.parametrize(("text", "needle"), [
    (b"\xff\xfe\x00name: x", "not UTF-8"),
    (b"a: &a [1,2]\n" + b"".join(b"k%d: [*a,*a,*a]\n" % i for i in range(200)), "aliases"),
    (b"x: " + b"[" * 200 + b"]" * 200, "nested"),
    (b"name: a\nname: b\n", "duplicate"),
    (b"- just\n- a list\n", "top level must be a mapping"),
    (b"'unclosed", "invalid YAML"),
    (b"", "top level must be a mapping"),
])
def test_unreadable_documents_fail_with_a_message(text: bytes, needle: str) -> None:
    started = time.monotonic()
    result = validate_rdf(text, source="bad.yaml")
    assert time.monotonic() - started < 5
    assert result.status == "failed"
    assert needle in result.first_error.msg


def test_size_cap() -> None:
    huge = BASE + b"description2: '" + b"x" * 3000 + b"'\n"
    result = validate_rdf(huge, source="big.yaml", settings=Settings(max_yaml_bytes=1000))
    assert result.status == "failed"
    assert "limit" in result.first_error.msg


@pytest.mark.parametrize(("text", "loc"), [
    (b"type: dataset\nname: d\n", ("format_version",)),
    (b"format_version: 0.2.3\nname: d\n", ("type",)),
    (b"format_version: 0.2\ntype: dataset\n", ("format_version",)),  # a float, not a string
    (b"format_version: 0.2.3\ntype: [model]\n", ("type",)),
    (BASE + b"authors: Ada Lovelace\ntags: a-tag\n", ("tags",)),
    (BASE + b"id: 123\n", ("id",)),
    (BASE + b"covers: {a: 1}\n", ("covers",)),
    (BASE + b"cite: [{text: x, doi: 12}]\n", ("cite", 0, "doi")),
    (BASE + b"config: [1]\n", ("config",)),
    (b"format_version: 0.4.9\ntype: model\nname: m\ninputs: 3\n", ("description",)),
])
def test_wrong_types_fail_at_their_location(text: bytes, loc: tuple) -> None:
    result = validate_rdf(text, source="t.yaml")
    assert result.status == "failed"
    assert result.first_error.loc == loc


def test_deeply_wrong_model_does_not_crash() -> None:
    text = (b"format_version: 0.4.9\ntype: model\nname: m\ndescription: d\nauthors: [1, [2], {name: 3}]\n"
            b"inputs: [{name: 1, axes: 5, shape: {min: a, step: [1]}, preprocessing: [3, {name: clip}]}]\n"
            b"outputs: [{name: o, axes: bcyx, shape: {reference_tensor: [], scale: x, offset: 1}, halo: x}]\n"
            b"weights: {onnx: [1], torchscript: {source: 1, parent: torchscript}}\n"
            b"test_inputs: a.npy\ntest_outputs: [1]\ntimestamp: 5\nlicense: [MIT]\n")
    result = validate_rdf(text)
    assert result.status == "failed"
    assert not any(e.type == "internal_error" for d in result.details for e in d.errors)
    assert len(result.details[0].errors) > 5
