"""One loader for every shipped JSON Schema: compiled once per process, then cached."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path

from jsonschema import Draft202012Validator

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
def load_schema(name: str) -> Draft202012Validator:
    """The compiled validator of a shipped schema. Formats are not asserted (date-time rejects naive times).

    The schemas themselves are checked against the metaschema by the tests, not on every start."""
    schema = json.loads(schema_path(name).read_text("utf-8"))
    return Draft202012Validator(schema)


def publish_schemas(target: Path) -> list[Path]:
    """Copy every shipped schema into the site's `schemas/` folder (byte for byte, deterministic)."""
    from .files import write_bytes_atomic

    written = []
    for name in schema_names():
        path = target / (name + SUFFIX)
        write_bytes_atomic(path, schema_path(name).read_bytes())
        written.append(path)
    return written
