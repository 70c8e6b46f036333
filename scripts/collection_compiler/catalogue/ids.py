"""Resource and version ids: checked before they become paths or URLs."""

from __future__ import annotations

import re

# Lower-case letters, digits and `_ - .`; `/` separates segments (DOIs such as 10.5281/zenodo.123 and
# partner ids such as ilastik/unet). Upper case is allowed in segments because real partner entry ids
# (e.g. `fiji/N2VSEMDemo`) use it.
# Patterns are ASCII classes, matched whole (`fullmatch`: a `$` would also match before a final newline).
_SEGMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}")
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
        if segment in ("", ".", "..") or not _SEGMENT.fullmatch(segment):
            raise UnsafeIdError(
                f"{what} {value!r}: segment {segment!r} is not allowed (use letters, digits, '_', '-', '.')")


def is_safe_id(value: object) -> bool:
    try:
        check_path_id(value)
    except UnsafeIdError:
        return False
    return True


_PARTNER_ID = re.compile(r"[a-z0-9][a-z0-9_\-]{0,63}")
# Folder names of the published tree and the work folder: a partner id is the first segment of its resources'
# ids and the name of its own folders, so it must never be one of them.
RESERVED_PARTNER_IDS = frozenset({
    "collection", "health", "ledger", "partner_results", "partners", "pending", "plan", "rdfs", "resources",
    "results", "schemas", "search", "state", "static"})
# A Zenodo resource is a concept DOI of Zenodo's own prefix; its versions are Zenodo record ids.
_ZENODO_CONCEPT = re.compile(r"10\.5281/zenodo\.[0-9]{1,20}")
_ZENODO_RECORD = re.compile(r"[0-9]{1,20}")


def check_partner_id(value: object) -> str:
    if not isinstance(value, str) or not _PARTNER_ID.fullmatch(value):
        raise UnsafeIdError(f"partner id {value!r} must match {_PARTNER_ID.pattern}")
    if value in RESERVED_PARTNER_IDS:
        raise UnsafeIdError(f"partner id {value!r} is the name of one of the tree's own folders")
    return value


def is_zenodo_ids(concept: object, record_id: object) -> bool:
    """Whether `concept` is a Zenodo concept DOI (`10.5281/zenodo.<digits>`) and `record_id` a record id (ASCII
    digits only: `str.isdigit` also takes full-width and other Unicode digits)."""
    return (isinstance(concept, str) and isinstance(record_id, str) and _ZENODO_CONCEPT.fullmatch(concept) is not None
            and _ZENODO_RECORD.fullmatch(record_id) is not None)
