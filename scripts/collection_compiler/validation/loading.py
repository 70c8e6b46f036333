"""Loading a description for validation: the shared safe loader, with a pure-Python YAML 1.2 retry.

libyaml (behind the shared loader) rejects some valid YAML 1.2, e.g. `{url: https://x}` in flow style, which
the reference's loader accepts; so a syntax error is retried with ruamel's pure-Python 1.2 parser under the
same limits before the description is declared unreadable.
"""

from __future__ import annotations

import threading
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from .. import yamlio

_local = threading.local()


def _pure_loader() -> YAML:
    loader = getattr(_local, "loader", None)
    if loader is None:
        loader = YAML(typ="safe", pure=True)
        loader.version = (1, 2)
        loader.allow_duplicate_keys = False
        _local.loader = loader
    return loader


def load_rdf_bytes(data: bytes, source: str, max_bytes: int) -> dict[str, Any]:
    try:
        return yamlio.load_mapping(data, source, max_bytes)
    except yamlio.YamlLoadError as e:
        if ": invalid YAML:" not in str(e):
            raise
        first = e
    try:
        value = _pure_loader().load(data.decode("utf-8-sig"))
    except (YAMLError, RecursionError, ValueError):
        raise first from None
    yamlio._check_shape(value, source)  # same depth and node limits as the shared loader
    if not isinstance(value, dict):
        raise yamlio.YamlLoadError(f"{source}: the top level must be a mapping, not {yamlio.type_name(value)}")
    return value
