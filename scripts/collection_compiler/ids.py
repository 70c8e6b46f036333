"""Resource and version ids: checked before they become paths or URLs."""

from __future__ import annotations

import re

# Lower-case letters, digits and `_ - .`; `/` separates segments (DOIs such as 10.5281/zenodo.123 and
# partner ids such as ilastik/unet). Upper case is allowed in segments because real partner entry ids
# (e.g. `fiji/N2VSEMDemo`) use it.
_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}$")
MAX_ID_LENGTH = 256


class UnsafeIdError(ValueError):
    pass


def check_path_id(value: object, what: str = "id") -> str:
    """Return `value` if it is a safe, relative, slash-separated id; raise UnsafeIdError otherwise."""
    if isinstance(value, str) and value in _checked:
        return value
    _check(value, what)
    if len(_checked) < 1_000_000:
        _checked.add(value)
    return value


_checked: set[str] = set()  # ids already found safe (the same ids are checked many times a run)


def _check(value: object, what: str) -> None:
    if not isinstance(value, str):
        raise UnsafeIdError(f"{what} must be a string, not {type(value).__name__}")
    if not value or len(value) > MAX_ID_LENGTH:
        raise UnsafeIdError(f"{what} {value!r} must have 1 to {MAX_ID_LENGTH} characters")
    if "\\" in value or value.startswith("/") or value.endswith("/"):
        raise UnsafeIdError(f"{what} {value!r} must be relative and use no backslash")
    for segment in value.split("/"):
        if segment in ("", ".", "..") or not _SEGMENT.match(segment):
            raise UnsafeIdError(
                f"{what} {value!r}: segment {segment!r} is not allowed (use letters, digits, '_', '-', '.')")


def is_safe_id(value: object) -> bool:
    try:
        check_path_id(value)
    except UnsafeIdError:
        return False
    return True


_PARTNER_ID = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,63}$")


def check_partner_id(value: object) -> str:
    if not isinstance(value, str) or not _PARTNER_ID.match(value):
        raise UnsafeIdError(f"partner id {value!r} must match {_PARTNER_ID.pattern}")
    return value
