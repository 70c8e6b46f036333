"""A fast block-style YAML emitter for plain data (what a parsed RDF is: dicts, lists, str, int, float, bool,
None), with sorted keys.

PyYAML's dumper spends most of its time in its Python representer (0.9 ms for a 2.5 kB RDF, one of the
largest costs of a cold run); this writes the same kind of document in a tenth of that. It only takes the
forms it knows to be read back identically by YAML 1.1 and 1.2 parsers and raises `Unsupported` for
anything else (other types, non-string or very long keys, characters YAML does not allow raw), so the caller
falls back to PyYAML. A test reads its output back with PyYAML (1.1), ruamel (1.2) and our loader.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any


class Unsupported(ValueError):
    """A value this emitter does not write; use the general dumper."""


MAX_KEY_LENGTH = 128  # YAML limits implicit keys to 1024 characters; real keys are short

# Characters that are not printable in YAML, or are line breaks only in YAML 1.1 (NEL, LS, PS), or a BOM.
_UNPRINTABLE = re.compile("[^\t\n\r\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")
# Plain (unquoted) only: starts with a letter, no indicator that could end or change the scalar.
_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9 _./,()+=%?&~:;@'\-\u00a0-\U0010ffff]*")
# Words YAML 1.1 or 1.2 reads as booleans or null.
_RESERVED = frozenset({"y", "n", "yes", "no", "true", "false", "on", "off", "null"})


def dump(value: Any) -> str:
    """`value` (a dict or list) as YAML; raises `Unsupported` for what it does not write."""
    out: list[str] = []
    if isinstance(value, dict) and value:
        _mapping(value, "", out, "")
    elif isinstance(value, list) and value:
        _sequence(value, "", out, "")
    elif value == {} or value == []:
        out.append(f"{_scalar(value)}\n")
    else:
        raise Unsupported(f"top-level {type(value).__name__}")
    return "".join(out)


def _mapping(mapping: dict[str, Any], indent: str, out: list[str], first: str) -> None:
    """Lines of a non-empty mapping at `indent`; the first line starts with `first` (e.g. `- `)."""
    prefix = first
    for key in sorted(mapping):
        value = mapping[key]
        text = _key(key)
        if type(value) is dict and value:
            out.append(f"{prefix}{text}:\n")
            _mapping(value, indent + "  ", out, indent + "  ")
        elif type(value) is list and value:
            out.append(f"{prefix}{text}:\n")
            _sequence(value, indent, out, indent)  # PyYAML's layout: `key:` then `- item` at the same indent
        else:
            out.append(f"{prefix}{text}: {_scalar(value)}\n")
        prefix = indent


def _sequence(sequence: list[Any], indent: str, out: list[str], first: str) -> None:
    prefix = first
    for item in sequence:
        if type(item) is dict and item:
            _mapping(item, indent + "  ", out, prefix + "- ")
        elif type(item) is list and item:
            _sequence(item, indent + "  ", out, prefix + "- ")
        else:
            out.append(f"{prefix}- {_scalar(item)}\n")
        prefix = indent


def _key(key: Any) -> str:
    if type(key) is not str or len(key) > MAX_KEY_LENGTH:
        raise Unsupported(f"key {key!r:.40}")
    return _string(key)


def _scalar(value: Any) -> str:
    kind = type(value)
    if kind is str:
        return _string(value)
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if kind is float:
        return _float(value)
    if value == {} and kind is dict:
        return "{}"
    if value == [] and kind is list:
        return "[]"
    raise Unsupported(f"value of type {kind.__name__}")


def _string(text: str) -> str:
    if _UNPRINTABLE.search(text):
        raise Unsupported("string with characters YAML does not allow raw")
    if (_PLAIN.fullmatch(text) and text.lower() not in _RESERVED and ": " not in text
            and not text.endswith((" ", ":"))):
        return text
    if "\n" in text or "\r" in text or "\t" in text:
        return json.dumps(text, ensure_ascii=False)  # JSON's escapes are a subset of YAML double-quoted ones
    return "'" + text.replace("'", "''") + "'"


def _float(value: float) -> str:
    """Readable as a float by YAML 1.1 too: it needs a dot (`1.0e-05`, not `1e-05`)."""
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value).lower()
    return text.replace("e", ".0e") if "." not in text else text
