"""The one adapter to the static validator: `collection test` runs it first and tests only what passes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from collection_compiler.settings import Settings


def static_validation(rdf: dict[str, Any], *, source: str, root: str | Path | None, perform_io: bool,
                      settings: Settings, http: Any) -> tuple[bool, list[dict[str, Any]]]:
    """(whether the description may be tested, the validator's details as sub-summaries)."""
    from collection_compiler.validation.validator import validate_rdf

    result = validate_rdf(rdf, source=source, root=root, perform_io=perform_io, settings=settings, http=http)
    return result.status != "failed", result.sub_summaries()
