"""jsonschema errors in the reference's words and order (field order of the description class)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from collection_compiler.adapters.jsonschemas import is_valid, load_schema, schema_document
from collection_compiler.validation.result import Issue, Loc

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

_TYPE_WORDS = {"string": "a valid string", "object": "a valid dictionary", "array": "a valid list",
               "integer": "a valid integer", "number": "a valid number", "boolean": "a valid boolean",
               "null": "None"}


def schema_issues(schema: str, data: Any) -> list[Issue]:
    """The structural errors of `data` against the shipped schema `schema`, in the reference's order."""
    if is_valid(schema, data):
        return []
    issues = [_issue(e) for e in load_schema(schema).iter_errors(data)]
    return sort_issues(issues, property_order(schema))


def property_order(schema: str) -> list[str]:
    return list(schema_document(schema).get("properties", {}))


def sort_issues(issues: Iterable[Issue], order: list[str]) -> list[Issue]:
    rank = {k: i for i, k in enumerate(order)}

    def key(issue: Issue) -> tuple[Any, ...]:
        head = issue.loc[0] if issue.loc else ""
        rest = [(0, isinstance(p, str), str(p).zfill(6)) for p in issue.loc[1:]]
        if issue.type == "extra_forbidden" and rest:  # the reference reports unknown keys after the known fields
            rest[-1] = (1, *rest[-1][1:])
        if issue.type == "extra_forbidden" and not rest:
            return (len(rank) + 1, ())
        return (rank.get(str(head), len(rank)), tuple(rest))

    return sorted(issues, key=key)


def _issue(error: ValidationError) -> Issue:
    error = _deepest(error)
    loc: Loc = tuple(error.absolute_path)
    kind = str(error.validator)
    worded = _WORDING[kind](loc, error) if kind in _WORDING else None
    return worded or Issue(loc, error.message[:300], kind)


# ---- one wording per jsonschema keyword; None leaves jsonschema's own message


def _not(loc: Loc, error: ValidationError) -> Issue | None:
    forbidden = isinstance(error.schema, dict) and error.schema.get("x-forbidden")
    return Issue(loc, "Extra inputs are not permitted", "extra_forbidden") if forbidden else None


def _required(loc: Loc, error: ValidationError) -> Issue:
    instance = error.instance
    missing = next((k for k in error.validator_value if k not in instance), "?") if isinstance(instance, dict) else "?"
    return Issue((*loc, missing), "Field required", "missing")


def _additional_properties(loc: Loc, error: ValidationError) -> Issue:
    allowed = error.schema.get("properties", {})
    extra = [k for k in error.instance if k not in allowed] if isinstance(error.instance, dict) else ["?"]
    return Issue((*loc, extra[0]), "Extra inputs are not permitted", "extra_forbidden")


def _type(loc: Loc, error: ValidationError) -> Issue:
    value = error.validator_value
    words = " or ".join(_TYPE_WORDS.get(t, t) for t in (value if isinstance(value, list) else [value]))
    return Issue(loc, f"Input should be {words}, not {_shown(error.instance)}", f"{_first(value)}_type")


def _union(loc: Loc, error: ValidationError) -> Issue:
    expected = error.schema.get("x-expected", "one of the allowed forms")
    return Issue(loc, f"Input should be {expected}, not {_shown(error.instance)}", "union_error")


def _pattern(loc: Loc, error: ValidationError) -> Issue:
    return Issue(loc, f"String should match pattern '{error.validator_value}'", "string_pattern_mismatch")


def _literal(loc: Loc, error: ValidationError) -> Issue:
    value = error.validator_value
    options = ", ".join(repr(v) for v in (value if error.validator == "enum" else [value]))
    return Issue(loc, f"Input should be {options}, not {_shown(error.instance)}", "literal_error")


_COUNTS = {"minItems": ("List should have at least", "item", "too_short"),
           "minLength": ("String should have at least", "character", "string_too_short"),
           "maxLength": ("String should have at most", "character", "string_too_long")}


def _count(loc: Loc, error: ValidationError) -> Issue:
    words, unit, kind = _COUNTS[str(error.validator)]
    value = error.validator_value
    return Issue(loc, f"{words} {value} {unit}{'s' if value != 1 else ''}", kind)


_BOUNDS = {"minimum": "greater than or equal to", "maximum": "less than or equal to",
           "exclusiveMinimum": "greater than", "exclusiveMaximum": "less than"}


def _bound(loc: Loc, error: ValidationError) -> Issue:
    kind = str(error.validator)
    return Issue(loc, f"Input should be {_BOUNDS[kind]} {error.validator_value}", f"{kind}_error")


def _min_properties(loc: Loc, error: ValidationError) -> Issue | None:
    return Issue(loc, "Missing weights entry", "missing") if loc == ("weights",) else None


_WORDING: dict[str, Callable[[Loc, ValidationError], Issue | None]] = {
    "not": _not, "required": _required, "additionalProperties": _additional_properties, "type": _type,
    "anyOf": _union, "oneOf": _union, "pattern": _pattern, "enum": _literal, "const": _literal,
    **dict.fromkeys(_COUNTS, _count), **dict.fromkeys(_BOUNDS, _bound), "minProperties": _min_properties,
}


def _deepest(error: ValidationError) -> ValidationError:
    """For a failed union, the first error of its first branch, as the reference reports unions.

    A nullable field (`x-nullable`) is not a union to the reference: its non-null branch is reported.
    """
    from jsonschema.exceptions import best_match

    while error.validator in ("anyOf", "oneOf") and error.context:
        if error.schema.get("x-expected") and not error.schema.get("x-nullable"):
            first = [e for e in error.context if e.schema_path and e.schema_path[0] == 0]
            if not first or not any(e.relative_path or e.validator in ("required", "additionalProperties")
                                    for e in first):
                break  # a plain type mismatch: report the union as a whole
        else:
            first = [e for e in error.context if e.schema_path and e.schema_path[0] == 1] or list(error.context)
        error = best_match(first)
    return error


def _first(value: Any) -> str:
    return str(value[0] if isinstance(value, list) else value)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
