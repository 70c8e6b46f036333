"""YAML in and out: safe YAML 1.2 loading with limits, normalisation, deterministic dumping."""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

MAX_YAML_BYTES = 2_000_000
MAX_ALIASES = 100
MAX_DEPTH = 64
MAX_NODES = 500_000


class YamlLoadError(ValueError):
    """A document that cannot be used: the message names the file and what is wrong with it."""


def _safe_loader() -> YAML:
    yaml = YAML(typ="safe", pure=True)
    yaml.version = (1, 2)
    yaml.allow_duplicate_keys = False
    return yaml


_ALIAS = re.compile(rb"(?:^|[\s\[{,:-])\*[^\s,\]}]+")


def load_yaml_bytes(data: bytes, source: str = "<yaml>", max_bytes: int = MAX_YAML_BYTES) -> Any:
    """Parse untrusted YAML. Rejects oversized, non-UTF-8, alias-bomb, too-deep or duplicate-key documents."""
    if len(data) > max_bytes:
        raise YamlLoadError(f"{source}: document is {len(data)} bytes, more than the limit of {max_bytes}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise YamlLoadError(f"{source}: not UTF-8 (byte {e.start}: {e.reason})") from None
    # Aliases can expand exponentially ("billion laughs"); a description has no need for many.
    if len(_ALIAS.findall(data)) > MAX_ALIASES:
        raise YamlLoadError(f"{source}: more than {MAX_ALIASES} YAML aliases")
    try:
        value = _safe_loader().load(text)
    except YAMLError as e:
        raise YamlLoadError(f"{source}: invalid YAML: {_short(e)}") from None
    except RecursionError:
        raise YamlLoadError(f"{source}: document nested too deeply") from None
    _check_shape(value, source)
    return value


def load_yaml_file(path: Path, max_bytes: int = MAX_YAML_BYTES) -> Any:
    size = path.stat().st_size
    if size > max_bytes:
        raise YamlLoadError(f"{path}: document is {size} bytes, more than the limit of {max_bytes}")
    return load_yaml_bytes(path.read_bytes(), str(path), max_bytes)


def load_mapping(data: bytes, source: str, max_bytes: int = MAX_YAML_BYTES) -> dict[str, Any]:
    value = load_yaml_bytes(data, source, max_bytes)
    if not isinstance(value, dict):
        raise YamlLoadError(f"{source}: the top level must be a mapping, not {type_name(value)}")
    return value


def type_name(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", type(None): "empty"}.get(
        type(value), type(value).__name__)


def _short(error: Exception) -> str:
    return " ".join(str(error).split())[:400]


def _check_shape(value: Any, source: str) -> None:
    """Bound depth and node count, iteratively (aliases may share nodes, so count visits)."""
    stack = [(value, 0)]
    visited = 0
    while stack:
        node, depth = stack.pop()
        visited += 1
        if visited > MAX_NODES:
            raise YamlLoadError(f"{source}: document has more than {MAX_NODES} nodes")
        if depth > MAX_DEPTH:
            raise YamlLoadError(f"{source}: document nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
            stack.extend((k, depth + 1) for k in node if not isinstance(k, str | int | float | bool))
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)


def normalise(value: Any) -> Any:
    """JSON-compatible plain data: dates to ISO strings, keys to strings, non-finite floats kept as strings.

    Returns new containers; the input is not changed.
    """
    if isinstance(value, dict):
        return {str(k): normalise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [normalise(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def _dumper() -> YAML:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.allow_unicode = True
    yaml.width = 4096
    yaml.sort_base_mapping_type_on_output = True
    return yaml


def dump_yaml(value: Any) -> str:
    """Deterministic block-style YAML with sorted keys."""
    stream = io.StringIO()
    _dumper().dump(_sorted(value), stream)
    return stream.getvalue()


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value
