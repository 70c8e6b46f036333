"""A fast YAML 1.2 core-schema reader for plain documents, on libyaml's parser events.

PyYAML's constructor (Python) costs as much again as libyaml's parsing, half of the 1.2 ms a 2.5 kB RDF takes
to load; building the values straight from the events takes a quarter of that. This reader only takes
documents without tags, anchors, aliases, merge keys, duplicate or non-scalar keys (so nothing can expand
or nest beyond the limits it is given) and raises `Unsupported` for anything else: the caller falls back to
the full loader, which also gives the precise errors. Tests check that both read every fixture and hundreds
of generated documents identically.
"""

from __future__ import annotations

import math
import re
from typing import Any

import yaml

# The YAML 1.2 core schema's plain scalars: (tag, pattern, characters that can start one). The full loader in
# `yamlio` registers the same patterns as PyYAML resolvers.
CORE_SCHEMA = [
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", list("-+0123456789")),
    ("tag:yaml.org,2002:float",
     r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
     list("-+0123456789.")),
    ("tag:yaml.org,2002:timestamp",
     r"^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}"
     r"(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)$", list("0123456789")),
]
_NULL = frozenset({"", "~", "null", "Null", "NULL"})
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT, _FLOAT, _TIMESTAMP = (re.compile(pattern) for _, pattern, _ in CORE_SCHEMA[2:])
_NUMBER_START = frozenset("-+0123456789.")
_timestamps = yaml.constructor.SafeConstructor()


class Unsupported(ValueError):
    """A document this reader leaves to the full loader."""


# Integers must fit in 64 bits (signed or unsigned), as JSON readers hold them: no description needs more, and
# Python refuses to convert more than 4,300 digits at all. Out of range, the full loader reports them by field.
INT_MIN, INT_MAX = -(1 << 63), (1 << 64) - 1
MAX_INT_CHARS = 25  # `0o` and 22 octal digits, with a sign: any longer literal is out of range


MAX_CHARS = 65_536  # larger documents go to the full loader, so no node count is needed here


def load(text: str, max_depth: int) -> Any:
    """The single document in `text` (None for an empty stream), nested at most `max_depth` levels."""
    if len(text) > MAX_CHARS:
        raise Unsupported("large document")
    parser = yaml.CSafeLoader(text)
    try:
        return _document(parser, max_depth)
    except yaml.YAMLError as e:
        raise Unsupported(str(e)) from None  # the full loader reports it with its position
    finally:
        parser.dispose()


def _document(parser: yaml.CSafeLoader, max_depth: int) -> Any:
    parser.get_event()  # stream start
    event = parser.get_event()
    if isinstance(event, yaml.StreamEndEvent):
        return None
    value = _node(parser, parser.get_event(), max_depth)
    parser.get_event()  # document end
    if not isinstance(parser.get_event(), yaml.StreamEndEvent):
        raise Unsupported("more than one document")
    return value


def _node(parser: yaml.CSafeLoader, event: yaml.Event, depth: int) -> Any:
    if event.anchor is not None or getattr(event, "tag", None) is not None:
        raise Unsupported("anchor or tag")
    if depth < 0:
        raise Unsupported("nested too deeply")
    kind = type(event)
    if kind is yaml.ScalarEvent:
        return resolve(event.value) if event.style == "" or event.style is None else event.value
    if kind is yaml.SequenceStartEvent:
        items = []
        while type(event := parser.get_event()) is not yaml.SequenceEndEvent:
            items.append(_node(parser, event, depth - 1))
        return items
    if kind is yaml.MappingStartEvent:
        return _mapping(parser, depth - 1)
    raise Unsupported(f"unexpected {kind.__name__}")  # an alias


def _mapping(parser: yaml.CSafeLoader, depth: int) -> dict[Any, Any]:
    mapping: dict[Any, Any] = {}
    while type(event := parser.get_event()) is not yaml.MappingEndEvent:
        if type(event) is not yaml.ScalarEvent:
            raise Unsupported("a key that is not a scalar")
        key = _node(parser, event, depth)
        if key in mapping or key == "<<":
            raise Unsupported("duplicate or merge key")
        mapping[key] = _node(parser, parser.get_event(), depth)
    return mapping


def resolve(value: str) -> Any:
    """A plain scalar's value under the YAML 1.2 core schema."""
    first = value[:1]
    if first in _NUMBER_START:
        if _INT.match(value):
            return _int(value)
        if _FLOAT.match(value):
            return _float(value)
        if _TIMESTAMP.match(value):
            return _timestamp(value)
        return value
    if value in _NULL:
        return None
    return _BOOL.get(value, value) if first in "tTfF" else value


def _timestamp(value: str) -> Any:
    try:
        return _timestamps.construct_yaml_timestamp(yaml.ScalarNode("tag:yaml.org,2002:timestamp", value))
    except ValueError as e:  # e.g. month 13: the full loader reports it
        raise Unsupported(str(e)) from None


def _int(value: str) -> int:
    number = parse_int(value)
    if number is None:
        raise Unsupported("integer out of range")
    return number


def parse_int(value: str) -> int | None:
    """A core-schema integer literal's value, or None when it does not fit in 64 bits."""
    if len(value) > MAX_INT_CHARS:
        return None
    if value.startswith("0o"):
        number = int(value[2:], 8)
    else:
        number = int(value, 16) if value.startswith("0x") else int(value, 10)
    return number if INT_MIN <= number <= INT_MAX else None


def _float(value: str) -> float:
    lowered = value.lower()
    sign = -1.0 if lowered.startswith("-") else 1.0
    if lowered.lstrip("+-") == ".inf":
        return sign * math.inf
    return math.nan if lowered == ".nan" else float(value)
