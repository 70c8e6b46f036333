"""The compiled schema check (`jsonschema_rs`) must agree with `jsonschema`: it alone decides "valid", so a
document it passed that `jsonschema` rejects would lose its errors. It may say "invalid" only where JSON cannot
express a value (±inf, NaN); `jsonschema` then decides."""

from __future__ import annotations

import copy
import math
import random
from collections.abc import Iterator
from typing import Any

import pytest

from collection_compiler.jsonschemas import is_valid, load_schema
from collection_compiler.validation.convert import DispatchError, dispatch
from collection_compiler.validation.schema_errors import schema_issues
from collection_compiler.validation.validator import normalise
from collection_compiler.yamlio import load_yaml_bytes

from .conftest import FIXTURES, MODEL_V04, MODEL_V05

ODD_VALUES: tuple[Any, ...] = (None, 0, -3, 1.5, float("nan"), float("inf"), 2**70, True, "", "x y", "README.md",
                               "a" * 300, [], [1], ["x"], {}, {"id": 1}, {"name": "n"})


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return
    for key, child in items:
        yield (*prefix, key)
        yield from _paths(child, (*prefix, key))


def _replaced(document: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    parent = changed
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return changed


def _documents() -> list[tuple[str, dict[str, Any]]]:
    """(schema name, document) for the hand-written models and every readable shared fixture."""
    raws = [MODEL_V04, MODEL_V05]
    if FIXTURES.is_dir():
        for path in sorted((FIXTURES / "rdfs").rglob("*.yaml")):
            loaded = load_yaml_bytes(path.read_bytes(), str(path))
            if isinstance(loaded, dict):
                raws.append(loaded)
    documents = []
    for raw in raws:
        try:
            dispatched = dispatch(normalise(raw))
        except DispatchError:
            continue
        documents.append((dispatched.schema, dispatched.data))
    return documents


def _non_finite(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_non_finite(v) for v in value.values())
    if isinstance(value, list):
        return any(_non_finite(v) for v in value)
    return isinstance(value, float) and not math.isfinite(value)


def _agree(schema: str, document: Any) -> None:
    slow_valid = not any(True for _ in load_schema(schema).iter_errors(document))
    fast_valid = is_valid(schema, document)
    assert fast_valid <= slow_valid, ("passed by the compiled check only", schema, document)
    if not _non_finite(document):
        assert fast_valid == slow_valid, (schema, document)


def test_the_two_validators_agree_on_real_and_mutated_documents() -> None:
    documents = _documents()
    assert len(documents) >= 3
    rng = random.Random(0)
    checked = 0
    for schema, document in documents:
        _agree(schema, document)
        paths = list(_paths(document))
        for path in rng.sample(paths, min(len(paths), 40)):
            for value in rng.sample(ODD_VALUES, 6):
                _agree(schema, _replaced(document, path, value))
                checked += 1
        for key in list(document)[:10]:  # a missing field
            _agree(schema, {k: v for k, v in document.items() if k != key})
    assert checked > 400


def test_a_valid_document_needs_no_detailed_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    schema, document = _documents()[1]
    import collection_compiler.validation.schema_errors as schema_errors

    def refuse(name: str) -> None:
        raise AssertionError("the detailed validator ran for a valid document")

    monkeypatch.setattr(schema_errors, "load_schema", refuse)
    assert schema_issues(schema, document) == []
    monkeypatch.undo()
    broken = {**document, "name": 5}
    assert [i.loc for i in schema_issues(schema, broken)] == [("name",)]


def test_values_that_are_not_json_fall_back_to_the_detailed_validator() -> None:
    schema, document = _documents()[0]
    assert not is_valid(schema, {**document, "name": object()})
    assert schema_issues(schema, {**document, "name": object()})
