"""YAML in and out on PyYAML: one loader (YAML 1.2 core schema, with limits), normalisation, one deterministic
dumper."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml as pyyaml

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


# ---- loading: PyYAML's libyaml parser with the YAML 1.2 core schema ----------------------------------------
# The ecosystem reads RDFs as YAML 1.2 (`1e-05` is a number, `yes`/`on` are strings, `017` is 17). PyYAML's
# resolvers are YAML 1.1's, so the loader replaces them with the core schema's. ruamel.yaml reads 1.2 natively,
# but at three to fifteen times the cost per document (benchmarks/README.md, "YAML"); its libyaml-based parser
# also refuses flow mappings holding URLs (`{url: https://x}`), which PyYAML's bundled libyaml 0.2.5 reads.

CORE_SCHEMA = [  # (tag, pattern, characters that can start one): the core schema's plain scalars
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", list("-+0123456789")),
    ("tag:yaml.org,2002:float",
     r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
     list("-+0123456789.")),
    ("tag:yaml.org,2002:timestamp",  # dates are not core schema, but RDFs rely on them (`created: 2020-01-01`)
     r"^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}"
     r"(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)$", list("0123456789")),
]

# Integers must fit in 64 bits (signed or unsigned), as JSON readers hold them: no description needs more, and
# Python refuses to convert more than 4,300 digits at all.
INT_MIN, INT_MAX = -(1 << 63), (1 << 64) - 1
MAX_INT_CHARS = 25  # `0o` and 22 octal digits, with a sign: any longer literal is out of range


def parse_int(value: str) -> int | None:
    """A core-schema integer literal's value, or None when it does not fit in 64 bits."""
    if len(value) > MAX_INT_CHARS:
        return None
    if value.startswith("0o"):
        number = int(value[2:], 8)
    else:
        number = int(value, 16) if value.startswith("0x") else int(value, 10)
    return number if INT_MIN <= number <= INT_MAX else None


def _integer(literal: str) -> int | Refused:
    """A core-schema integer, refused (with the reason, named by `_check_shape`) beyond 64 bits."""
    number = parse_int(literal)
    return Refused(f"integer of {len(literal)} characters is out of range") if number is None else number


class _Loader(getattr(pyyaml, "CSafeLoader", pyyaml.SafeLoader)):  # type: ignore[misc]
    yaml_implicit_resolvers: dict = {}

    def construct_yaml_int(self, node: pyyaml.Node) -> int | Refused:
        return _integer(self.construct_scalar(node))

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


for _tag, _pattern, _first in CORE_SCHEMA:
    _Loader.add_implicit_resolver(_tag, re.compile(_pattern), _first)
_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)
for _tag in ("binary", "set", "omap", "pairs"):  # beyond the core schema: bytes, sets, tuples are not JSON data
    _Loader.add_constructor(f"tag:yaml.org,2002:{_tag}", _Loader.refuse_tag)


# ---- dumping: PyYAML's emitter with the project's quoting rules --------------------------------------------
# Published bytes are content-addressed (a version's results are keyed by its RDF's sha256), so the style of
# every string is fixed here rather than left to the emitter's defaults. Documents are written by PyYAML's
# libyaml emitter, about five times faster than its Python one, with the same bytes: libyaml escapes characters
# beyond U+FFFF (every nickname's emoji icon, as `\U0001F988`), so they pass through it as private-use stand-ins
# and are put back after (`_stand_ins`); what that cannot make exact goes through the Python emitter.

_UNPRINTABLE = re.compile("[^\t\n\r\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")
# Plain (unquoted) only: starts with a letter, no indicator that could end or change the scalar.
_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9 _./,()+=%?&~:;@'\-\u00a0-\U0010ffff]*")
NEVER_WRAP = 2**31 - 1  # a line width no scalar reaches (libyaml takes a C int)
MAX_SIMPLE_KEY = 128  # longer keys are written as `? key`: YAML bounds implicit keys at 1024 characters
_RESERVED = frozenset({"y", "n", "yes", "no", "true", "false", "on", "off", "null"})  # booleans or null to some reader


def _string_style(text: str) -> str | None:
    """None (plain) for simple words and URLs, double quotes (with escapes) for line breaks, tabs and characters
    YAML does not allow raw, single quotes for the rest."""
    if _UNPRINTABLE.search(text) or "\n" in text or "\r" in text or "\t" in text:
        return '"'
    if _PLAIN.fullmatch(text) and text.lower() not in _RESERVED and ": " not in text and not text.endswith((" ", ":")):
        return None
    return "'"


class _Dumper(pyyaml.SafeDumper):
    def check_simple_key(self) -> bool:
        """A key of up to 128 characters stays on its line (`'': 1`, `"a\\nb": 1`), where PyYAML would write an
        empty or multi-line one, or one of exactly 128, as `? key`."""
        event = self.event
        if isinstance(event, pyyaml.ScalarEvent) and len(event.value) <= MAX_SIMPLE_KEY:
            return True
        return super().check_simple_key()

    def represent_str(self, data: str) -> pyyaml.ScalarNode:
        return self.represent_scalar("tag:yaml.org,2002:str", data, style=_string_style(data))

    def represent_dict(self, data: dict) -> pyyaml.MappingNode:
        return self.represent_mapping("tag:yaml.org,2002:map", sorted(data.items(), key=lambda item: str(item[0])))


_Dumper.add_representer(str, _Dumper.represent_str)
_Dumper.add_representer(dict, _Dumper.represent_dict)


_DUMP_OPTIONS: dict[str, Any] = {"sort_keys": False, "allow_unicode": True, "default_flow_style": False,
                                "width": NEVER_WRAP}


class _LibyamlDumper(getattr(pyyaml, "CSafeDumper", _Dumper)):  # type: ignore[misc]
    """The same representation, emitted by libyaml (see above for what it writes otherwise)."""


_LibyamlDumper.add_representer(str, _Dumper.represent_str)
_LibyamlDumper.add_representer(dict, _Dumper.represent_dict)
_LINE_BREAKS = frozenset("\n\r\x85\u2028\u2029")
_PRIVATE_USE = range(0xE000, 0xF900)  # the BMP's private-use area: stand-ins for characters beyond U+FFFF


class _NotAlike(Exception):
    """libyaml's emitter would not write this document as the Python one does."""


def _stand_ins(value: Any, wide: dict[str, str]) -> Any:
    """`value` with every character beyond U+FFFF replaced by a private-use stand-in (recorded in `wide`), which
    libyaml writes raw, as the Python emitter writes the original. Raises `_NotAlike` where the two emitters would
    differ otherwise: a key that is not ordinary, a double-quoted string (escapes) holding such a character, or a
    document that uses the private-use area itself."""
    if isinstance(value, str):
        return value if value.isascii() else _swap_wide(value, wide)
    if isinstance(value, dict):
        return {_ordinary_key(_stand_ins(k, wide)): _stand_ins(v, wide) for k, v in value.items()}
    if isinstance(value, list):
        return [_stand_ins(v, wide) for v in value]
    return value


def _swap_wide(text: str, wide: dict[str, str]) -> str:
    if any(ord(ch) in _PRIVATE_USE for ch in text):
        raise _NotAlike
    if max(text) <= "\uffff":
        return text
    if _string_style(text) == '"' or len(wide) + len(set(text)) > len(_PRIVATE_USE):
        raise _NotAlike
    for ch in text:
        if ch > "\uffff" and ch not in wide:
            wide[ch] = chr(_PRIVATE_USE[len(wide)])
    return "".join(wide.get(ch, ch) for ch in text)


def _ordinary_key(key: Any) -> Any:
    """A key both emitters keep on its line: libyaml bounds simple keys at 128 bytes, `_Dumper` at 128 characters."""
    if isinstance(key, str) and not (0 < len(key.encode("utf-8")) < MAX_SIMPLE_KEY and _LINE_BREAKS.isdisjoint(key)):
        raise _NotAlike
    return key


def _dump_with_libyaml(value: Any) -> str | None:
    """The document as `_Dumper` writes it, by libyaml's emitter; None where that cannot be exact."""
    wide: dict[str, str] = {}
    try:
        text = pyyaml.dump(_stand_ins(value, wide), Dumper=_LibyamlDumper, **_DUMP_OPTIONS)
    except _NotAlike:
        return None
    return text.translate({ord(stand_in): ch for ch, stand_in in wide.items()}) if wide else text


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
        value = pyyaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader subclass
    except pyyaml.YAMLError as e:
        value = _as_json(text, e, source)
    except ValueError as e:  # a date such as 2020-13-45
        raise YamlLoadError(_describe(e, source)) from None
    except RecursionError:
        raise YamlLoadError(f"{source}: document nested too deeply") from None
    _check_shape(value, source)
    return value


def _as_json(text: str, error: pyyaml.YAMLError, source: str) -> Any:
    """JSON is YAML 1.2, but libyaml refuses JSON's escapes of characters beyond U+FFFF (surrogate pairs such as
    `\\ud83e\\udd88`, as `json.dumps` writes an emoji): such a document is read by the json module, under the same
    rules (no duplicate keys, 64-bit integers, no NaN). Any other error, or a text that is not JSON, is the YAML one."""
    if "invalid Unicode character escape code" not in str(error):
        raise YamlLoadError(_describe(error, source)) from None

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [key for key, _ in pairs]
        if len(set(keys)) < len(keys):
            raise YamlLoadError(f"{source}: duplicate key {next(k for k in keys if keys.count(k) > 1)!r}")
        return dict(pairs)

    try:
        return json.loads(text, object_pairs_hook=unique, parse_int=_integer, parse_constant=_no_constant)
    except YamlLoadError:
        raise
    except ValueError:
        raise YamlLoadError(_describe(error, source)) from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


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
    """Deterministic block-style YAML with sorted keys, read back identically by YAML 1.1 and 1.2 parsers."""
    # a top-level scalar gets the Python emitter's `...` end marker, which libyaml leaves out
    fast = _dump_with_libyaml(value) if isinstance(value, (dict, list)) else None
    return fast if fast is not None else pyyaml.dump(value, Dumper=_Dumper, **_DUMP_OPTIONS)
