"""YAML in and out: safe YAML 1.2 loading with limits, normalisation, deterministic dumping."""

from __future__ import annotations

import datetime as dt
import math
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml as pyyaml

from collection_compiler.adapters import yamlread

if TYPE_CHECKING:
    from ruamel.yaml import YAML

MAX_YAML_BYTES = 2_000_000
MAX_ALIASES = 100
MAX_DEPTH = 64
MAX_NODES = 500_000


class YamlLoadError(ValueError):
    """A document that cannot be used: the message names the file and what is wrong with it."""


@dataclass(frozen=True)
class Refused:
    """A value the loader would not build (an out-of-range integer, a tag beyond the core schema): the check of the
    loaded document reports it with its field, so one value never stops a run with a traceback."""

    reason: str


# ---- loading: YAML 1.2 core schema on libyaml ------------------------------------------------------------
# The ecosystem reads RDFs as YAML 1.2 (`1e-05` is a number, `yes`/`on` are strings, `017` is 17). ruamel.yaml
# implements that, but thousands of RDFs a run make its constructor the bottleneck; PyYAML's libyaml parser
# with the 1.2 core-schema resolvers (`yamlread.CORE_SCHEMA`) reads the same values about four times faster,
# and `yamlread` builds plain documents straight from libyaml's events, twice as fast again. ruamel.yaml
# remains the reference (a test compares both on every fixture) and the fallback where libyaml is missing.

class _Loader(getattr(pyyaml, "CSafeLoader", pyyaml.SafeLoader)):  # type: ignore[misc]
    yaml_implicit_resolvers: dict = {}

    def construct_yaml_int(self, node: pyyaml.Node) -> int | Refused:
        value = self.construct_scalar(node)
        number = yamlread.parse_int(value)
        return Refused(f"integer of {len(value)} characters is out of range") if number is None else number

    def refuse_tag(self, node: pyyaml.Node) -> Refused:
        return Refused(f"tag {node.tag.replace('tag:yaml.org,2002:', '!!')} is not allowed (core schema only)")

    def construct_mapping(self, node: pyyaml.Node, deep: bool = False) -> dict:
        seen = set()
        for key_node, _ in node.value:
            if not isinstance(key_node, pyyaml.ScalarNode):
                raise pyyaml.constructor.ConstructorError(None, None, "a mapping key must be a scalar",
                                                          key_node.start_mark)
            key = (key_node.tag, key_node.value)
            if key in seen:
                raise pyyaml.constructor.ConstructorError(None, None, f"found duplicate key {key_node.value!r}",
                                                          key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)


for _tag, _pattern, _first in yamlread.CORE_SCHEMA:
    _Loader.add_implicit_resolver(_tag, re.compile(_pattern), _first)
_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)
for _tag in ("binary", "set", "omap", "pairs"):  # beyond the core schema: bytes, sets, tuples are not JSON data
    _Loader.add_constructor(f"tag:yaml.org,2002:{_tag}", _Loader.refuse_tag)
_HAS_LIBYAML = hasattr(pyyaml, "CSafeLoader")
_local = threading.local()


class _RuamelError(ValueError):
    """ruamel's parse error, carried as a ValueError (ruamel is imported only when needed), with its marks."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        for name in ("problem", "problem_mark", "context", "context_mark"):
            setattr(self, name, getattr(error, name, None))


def _ruamel_loader() -> YAML:
    """ruamel's pure-Python YAML 1.2 parser, one per thread (they are not thread-safe). Imported on first use:
    most documents never need it, and importing it is a noticeable share of `collection test`'s start-up."""
    yaml = getattr(_local, "loader", None)
    if yaml is None:
        from ruamel.yaml import YAML

        yaml = YAML(typ="safe", pure=True)
        yaml.version = (1, 2)
        yaml.allow_duplicate_keys = False
        _local.loader = yaml
    return yaml


def _parse(text: str) -> Any:
    """libyaml first; its YAML 1.1 scanner rejects a few valid 1.2 documents (e.g. `{url: https://x}` in flow
    style), so a syntax error it reports is decided by ruamel's 1.2 parser."""
    if _HAS_LIBYAML:
        try:
            return pyyaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader subclass
        except pyyaml.constructor.ConstructorError:
            raise  # a duplicate key or a non-scalar key: not a parser limitation
        except pyyaml.YAMLError:
            pass
    from ruamel.yaml.error import YAMLError

    try:
        return _ruamel_loader().load(text)
    except YAMLError as e:
        raise _RuamelError(e) from None


class _Dumper(getattr(pyyaml, "CSafeDumper", pyyaml.SafeDumper)):  # type: ignore[misc]
    """Also quotes strings that only YAML 1.2 reads as numbers (`1e-05`, `0o17`), so they stay strings."""


_Dumper.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$"),
    list("-+0123456789."))
_Dumper.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^(0o[0-7]+|0x[0-9a-fA-F]+)$"), ["0"])

_ALIAS = re.compile(rb"(?:^|[\s\[{,:-])\*[^\s,\]}]+")


def load_yaml_bytes(data: bytes, source: str = "<yaml>", max_bytes: int = MAX_YAML_BYTES) -> Any:
    """Parse untrusted YAML. Rejects oversized, non-UTF-8, alias-bomb, too-deep or duplicate-key documents."""
    if len(data) > max_bytes:
        raise YamlLoadError(f"{source}: document is {len(data)} bytes, more than the limit of {max_bytes}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise YamlLoadError(f"{source}: not UTF-8 (byte {e.start}: {e.reason})") from None
    if _HAS_LIBYAML:
        try:  # plain documents (no aliases, so nothing to expand), in a quarter of the time
            return yamlread.load(text, MAX_DEPTH)
        except yamlread.Unsupported:
            pass
    # Aliases can expand exponentially ("billion laughs"); a description has no need for many.
    if len(_ALIAS.findall(data)) > MAX_ALIASES:
        raise YamlLoadError(f"{source}: more than {MAX_ALIASES} YAML aliases")
    try:
        value = _parse(text)
    except (pyyaml.YAMLError, ValueError) as e:  # ValueError: ruamel's errors, a date such as 2020-13-45
        raise YamlLoadError(_describe(e, source)) from None
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


def _describe(error: Exception, source: str) -> str:
    """`file:line:column: invalid YAML: problem (context)`, from the parser's marks (PyYAML and ruamel alike),
    as editors and people read positions; the whole message where the error carries none."""
    mark, problem = getattr(error, "problem_mark", None), getattr(error, "problem", None)
    if mark is None or not problem:
        return f"{source}: invalid YAML: {_short(error)}"
    context, context_mark = getattr(error, "context", None), getattr(error, "context_mark", None)
    started = f" at line {context_mark.line + 1}, column {context_mark.column + 1}" if context_mark else ""
    detail = f" ({context}{started})" if context else ""
    return f"{source}:{mark.line + 1}:{mark.column + 1}: invalid YAML: {problem}{detail}"


_PLAIN_SCALARS = (str, bool, int, float, type(None), dt.date)  # dates: implicit timestamps, normalised to text


def _check_shape(value: Any, source: str) -> None:
    """Plain JSON-like data only, with bounded depth and node count, checked iteratively (aliases may share nodes,
    so visits are counted). The error names the field."""
    stack: list[tuple[Any, tuple[Any, ...]]] = [(value, ())]
    visited = 0
    while stack:
        node, path = stack.pop()
        visited += 1
        if visited > MAX_NODES:
            raise YamlLoadError(f"{source}: document has more than {MAX_NODES} nodes")
        if len(path) > MAX_DEPTH:
            raise YamlLoadError(f"{source}: document nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, dict):
            for key, item in node.items():
                if not isinstance(key, _PLAIN_SCALARS):
                    raise YamlLoadError(f"{source}: field {_field(path)}: a key must be a plain scalar, "
                                        f"not {_what(key)}")
                stack.append((item, (*path, key)))
        elif isinstance(node, list):
            stack.extend((item, (*path, index)) for index, item in enumerate(node))
        elif not isinstance(node, _PLAIN_SCALARS):
            raise YamlLoadError(f"{source}: field {_field(path)}: {_what(node)}")


def _field(path: tuple[Any, ...]) -> str:
    return ".".join(map(str, path)) or "(top level)"


def _what(value: Any) -> str:
    return value.reason if isinstance(value, Refused) else f"a {type(value).__name__} value is not plain data"


def normalise(value: Any) -> Any:
    """Plain data: dates and datetimes to ISO strings, keys to strings. Returns new containers."""
    if isinstance(value, dict):
        return {str(k): normalise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [normalise(v) for v in value]
    if isinstance(value, dt.date):  # datetime is a date too
        return value.isoformat()
    return value


def json_safe(value: Any) -> Any:
    """`normalise`, non-finite floats as the strings "inf", "-inf", "nan" (JSON has no such numbers), and
    integers beyond 64 bits as strings (most JSON readers, JavaScript's among them, cannot hold them)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, int) and not -(1 << 63) <= value < (1 << 64):
        return str(value)
    return normalise(value)


def dump_yaml(value: Any) -> str:
    """Deterministic block-style YAML with sorted keys, readable by any YAML 1.1 or 1.2 parser.

    Plain data goes through `yamlemit` (faster); what it does not take goes through PyYAML's
    libyaml emitter (strings that a YAML 1.1 reader would take for booleans or numbers are quoted).
    """
    from collection_compiler.adapters import (
        yamlemit,  # compiling its patterns is a noticeable share of a short command; reading needs none
    )

    try:
        return yamlemit.dump(value)
    except yamlemit.Unsupported:
        return pyyaml.dump(_sorted(value), Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                           default_flow_style=False, width=4096)


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value
