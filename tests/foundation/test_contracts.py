"""The typed records of the published contracts (`catalogue.records`) agree with the JSON Schemas the tree ships:
the same required keys, the same optional keys, the same types."""

from __future__ import annotations

import types
import typing
from typing import Any, Literal

import pytest

from collection_compiler.adapters.jsonschemas import schema_document
from collection_compiler.catalogue import records

JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean", type(None): "null", list: "array",
              dict: "object"}

# record, then (schema, JSON pointer) of the object schemas that describe it; the first one's `required` counts
CONTRACTS = [
    (records.CollectionDocument, [("collection", "")]),
    (records.CollectionConfig, [("collection", "/properties/config")]),
    (records.CollectionEntry, [("collection", "/$defs/entry")]),
    (records.PartnerDetails, [("collection", "/properties/config/properties/partners/items"), ("partner", "")]),
    (records.PartnerRegistration, [("partner", "")]),
    (records.TestSummariesSource, [("partner", "/properties/test_summaries")]),
    (records.IdMapEntry, [("id_map", "/additionalProperties")]),
    (records.TestSummary, [("test_summary", "")]),
    (records.SubSummary, [("test_summary", "/$defs/sub_summary")]),
    (records.VersionSummary, [("version_summary", "")]),
    (records.SummaryRow, [("version_summary", "/properties/rows/items")]),
    (records.HealthDocument, [("health", "")]),
    (records.HealthSource, [("health", "/properties/sources/additionalProperties")]),
    (records.HealthCounts, [("health", "/properties/counts")]),
]


def at(schema: str, pointer: str) -> dict[str, Any]:
    node: Any = schema_document(schema)
    for part in [p for p in pointer.split("/") if p]:
        node = node[part]
    return node


def resolved(schema: str, node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    return at(schema, ref.removeprefix("#")) if isinstance(ref, str) and ref.startswith("#") else node


def json_types(annotation: Any) -> set[str] | None:
    """The JSON types a value of `annotation` can have; None for Any (the schema decides)."""
    if annotation is Any:
        return None
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        found: set[str] = set()
        for arg in typing.get_args(annotation):
            more = json_types(arg)
            if more is None:
                return None
            found |= more
        return found
    if origin is Literal:
        return {JSON_TYPES[type(v)] for v in typing.get_args(annotation)}
    if typing.is_typeddict(annotation):
        return {"object"}
    return {JSON_TYPES[origin or annotation]}


def literal_values(annotation: Any) -> set[Any] | None:
    """The values a `Literal` (or a union of them) allows; None for any other annotation."""
    if typing.get_origin(annotation) is Literal:
        return set(typing.get_args(annotation))
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        parts = [literal_values(a) for a in typing.get_args(annotation)]
        return set().union(*parts) if all(p is not None for p in parts) else None
    return None


def schema_types(node: dict[str, Any]) -> set[str] | None:
    if "type" in node:
        return {node["type"]} if isinstance(node["type"], str) else set(node["type"])
    if "const" in node:
        return {JSON_TYPES[type(node["const"])]}
    if "enum" in node:
        return {JSON_TYPES[type(v)] for v in node["enum"]}
    return None


@pytest.mark.parametrize(("record", "schemas"), CONTRACTS, ids=[r.__name__ for r, _ in CONTRACTS])
def test_a_published_record_has_its_schemas_keys_and_types(record: Any, schemas: list[tuple[str, str]]):
    nodes = [(name, at(name, pointer)) for name, pointer in schemas]
    assert set(nodes[0][1].get("required", [])) == record.__required_keys__
    properties = {key: (name, value) for name, node in nodes for key, value in node.get("properties", {}).items()}
    described = set(properties) | set(nodes[0][1].get("required", []))
    assert set(record.__annotations__) == described
    hints = typing.get_type_hints(record)
    for key, (name, node) in properties.items():
        node = resolved(name, node)
        expected, ours = schema_types(node), json_types(hints[key])
        if expected is not None and ours is not None:
            assert ours == expected, f"{record.__name__}.{key}: {ours} in the record, {expected} in {name}"
        allowed = node.get("enum") or ([node["const"]] if "const" in node else None)
        if allowed is not None:
            assert literal_values(hints[key]) == set(allowed), f"{record.__name__}.{key}"


def test_the_check_finds_a_record_that_drifts_from_its_schema():
    class Drifted(typing.TypedDict):
        source: str
        sha256: int  # the schema says string

    record, schemas = Drifted, [("id_map", "/additionalProperties")]
    with pytest.raises(AssertionError, match="sha256"):
        test_a_published_record_has_its_schemas_keys_and_types(record, schemas)
