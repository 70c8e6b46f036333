"""One loader for every shipped JSON Schema: compiled once per process, then cached.

One validator library, `jsonschema`: `is_valid` answers "valid or not", and `load_schema(name)` gives the detailed,
ordered errors the reports need where it says no.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from collection_compiler.adapters.files import write_bytes_atomic

SCHEMA_PACKAGE = "collection_compiler"
SCHEMA_FOLDER = "schemas"
SUFFIX = ".schema.json"


def schema_path(name: str) -> Path:
    """Path of the shipped schema `name` (`model_0.4`, `collection`, …, with or without `.schema.json`)."""
    file_name = name if name.endswith(SUFFIX) else name + SUFFIX
    return Path(str(resources.files(SCHEMA_PACKAGE).joinpath(SCHEMA_FOLDER, file_name)))


def schema_names() -> list[str]:
    folder = schema_path("x").parent
    return sorted(p.name.removesuffix(SUFFIX) for p in folder.glob("*" + SUFFIX))


@cache
def schema_document(name: str) -> dict[str, Any]:
    """The parsed schema (shared: do not modify)."""
    return json.loads(schema_path(name).read_text("utf-8"))


@cache
def load_schema(name: str) -> Draft202012Validator:
    """The compiled validator of a shipped schema. Formats are not asserted (date-time rejects naive times).

    The schemas themselves are checked against the metaschema by the tests, not on every start."""
    return Draft202012Validator(schema_document(name))


def is_valid(name: str, data: Any) -> bool:
    """Whether `data` satisfies the schema (the caller asks `load_schema(name)` for the errors where not)."""
    try:
        return bool(load_schema(name).is_valid(data))
    except RecursionError:
        return False


def publish_schemas(target: Path) -> list[Path]:
    """Copy every shipped schema into the site's `schemas/` folder (byte for byte, deterministic)."""
    written = []
    for name in schema_names():
        path = target / (name + SUFFIX)
        write_bytes_atomic(path, schema_path(name).read_bytes())
        written.append(path)
    return written
