"""Checks of single values: DOI, ORCID, SPDX licences, identifiers, resource ids, file suffixes, numbers."""

from __future__ import annotations

import datetime as dt
import json
import keyword
import math
import re
from contextvars import ContextVar
from functools import cache
from importlib import resources
from typing import Any

DOI = re.compile(r"^10\.[0-9]{4}.+$")
ORCID = re.compile(r"^\d{4}-\d{4}-\d{4}-\d{3}[\dX]$")
RESOURCE_ID = re.compile(r"^[a-z0-9_\-/.]+$")
NAME_V03 = re.compile(r"^[A-Za-z0-9_+\- ()]*$")
SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
NUMERIC = re.compile(r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$")
# PEP 440: [N!]N(.N)*[{a|b|rc}N][.postN][.devN][+local], case-insensitive, with the spec's spelling variants
PEP440 = re.compile(r"^\s*v?(\d+!)?\d+(\.\d+)*"
                    r"([-_.]?(a|b|c|rc|alpha|beta|pre|preview)[-_.]?\d*)?"
                    r"((-\d+)|([-_.]?(post|rev|r)[-_.]?\d*))?"
                    r"([-_.]?dev[-_.]?\d*)?"
                    r"(\+[a-z0-9]+([-_.][a-z0-9]+)*)?\s*$", re.IGNORECASE)
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# The Zenodo API whose file URLs (`<api>/records/<id>/files/<name>/content`) name the file before `/content`. The
# reference knows only https://zenodo.org/api; the validator takes the configured one (the tests' fake Zenodo).
ZENODO_API: ContextVar[str] = ContextVar("zenodo_api", default="https://zenodo.org/api")


def is_zenodo_file_url(url: str) -> bool:
    """A Zenodo API file URL: its file name is the path part before `/content` (the reference's rule)."""
    return url.startswith(f"{ZENODO_API.get().rstrip('/')}/records/") and url.endswith("/content")


@cache
def spdx() -> tuple[frozenset[str], frozenset[str]]:
    """(current SPDX ids, deprecated SPDX ids), from the packaged SPDX 3.27 list."""
    text = resources.files("collection_compiler").joinpath("data", "spdx_licenses.json").read_text("utf-8")
    data = json.loads(text)
    return frozenset(data["licenses"]), frozenset(data["deprecated"])


_SI_PREFIX = "(Q|R|Y|Z|E|P|T|G|M|k|h|da|d|c|m|µ|μ|n|p|f|a|z|y|r|q)?"
_SI_UNIT = "(m|g|s|A|K|mol|cd|Hz|N|Pa|J|W|C|V|F|Ω|S|Wb|T|H|lm|lx|Bq|Gy|Sv|kat|l|L)"
_SI_FACTOR = f"{_SI_PREFIX}{_SI_UNIT}(\\^[+-]?[1-9]\\d*)?"
SI_UNIT = re.compile(f"^{_SI_FACTOR}([·/]{_SI_FACTOR})*$")


def si_unit_ok(value: str) -> bool:
    """An SI unit like `m`, `µm^2`, `kg·m/s^2` (`*`, `×` and spaces count as `·`, as in the reference)."""
    text = re.sub(r"\s*[*×]\s*|\s+", "·", value.strip())
    return bool(SI_UNIT.match(text))


def iso_datetime_ok(value: str) -> bool:
    """An ISO 8601 date or date-time (naive allowed), as the reference's isoparse accepts."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        dt.datetime.fromisoformat(text)
    except ValueError:
        return False
    return len(text) >= 10 and text[4] == "-"


def version_ok(value: str | int | float) -> bool:
    return bool(PEP440.match(str(value)))


def orcid_ok(value: str) -> bool:
    """Format and ISO 7064 mod 11-2 check digit."""
    if not ORCID.match(value):
        return False
    digits = value.replace("-", "")
    total = 0
    for ch in digits[:-1]:
        total = (total + int(ch)) * 2
    check = (12 - total % 11) % 11
    return digits[-1] == ("X" if check == 10 else str(check))


def is_identifier(value: Any) -> bool:
    return isinstance(value, str) and value.isidentifier() and not keyword.iskeyword(value)


def is_lower_identifier(value: Any) -> bool:
    return is_identifier(value) and value == value.lower()


def resource_id_problem(value: str, lowercase_first: bool) -> str | None:
    candidate = value.lower() if lowercase_first else value
    if not candidate:
        return "must not be empty"
    if not RESOURCE_ID.match(candidate):
        return f"'{value}' may only contain the characters a-z 0-9 _ - / ."
    if candidate.startswith("/") or candidate.endswith("/"):
        return f"'{value}' must not start or end with '/'"
    return None


def suffix_problem(source: Any, suffixes: tuple[str, ...], case_sensitive: bool = True) -> str | None:
    """The file name's suffix, also for Zenodo API `…/files/<name>/content` URLs and `?query` URLs."""
    if not isinstance(source, str):
        return None
    path = source.split("?", 1)[0].split("#", 1)[0]
    if is_zenodo_file_url(path):
        path = path[: -len("/content")]
    name = path.rstrip("/").rsplit("/", 1)[-1]
    suffix = "." + name.rsplit(".", 1)[1] if "." in name else ""
    check = suffix if case_sensitive else suffix.lower()
    if check in suffixes:
        return None
    expected = suffixes[0] if len(suffixes) == 1 else "one of " + ", ".join(suffixes)
    return f"Expected suffix {expected}, but got {suffix or 'none'}"


def num(value: Any) -> float | None:
    """A number given as a number or numeric string (the reference coerces those), else None."""
    if isinstance(value, int | float):  # bools too: the reference reads True as 1
        return float(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("inf", "+inf", ".inf", "infinity"):
            return math.inf
        if text in ("-inf", "-.inf", "-infinity"):
            return -math.inf
        if NUMERIC.match(value):
            return float(value)
    return None


def int_or_none(value: Any) -> int | None:
    n = num(value)
    return int(n) if n is not None and math.isfinite(n) and n == int(n) else None


def ints(values: Any) -> list[int] | None:
    """A list of integers, or None when any entry is not one."""
    if not isinstance(values, list):
        return None
    out = [int_or_none(v) for v in values]
    return None if any(v is None for v in out) else out  # type: ignore[misc]
