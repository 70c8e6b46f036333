"""The root collection template `collection_rdf_template.yaml`: the hub's collection RDF and source settings."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from collection_compiler.adapters import yamlio
from collection_compiler.errors import ContentError

log = logging.getLogger(__name__)

TEMPLATE_FILE = "collection_rdf_template.yaml"
# The public hub's template ships in the package, so that the compiler runs outside a hub checkout too.
PACKAGED_TEMPLATE = Path(__file__).parents[1] / "data" / TEMPLATE_FILE


def template_path(repo_root: Path) -> Path:
    """The hub checkout's own template, else the package's (the public hub's settings), said once per folder."""
    own = repo_root / TEMPLATE_FILE
    if own.is_file():
        return own
    _say_default(repo_root.resolve())
    return PACKAGED_TEMPLATE


@functools.lru_cache(maxsize=8)
def _say_default(repo_root: Path) -> None:
    log.warning("%s has no %s: using the public hub's (give --repo-root to use a hub checkout's)",
                repo_root, TEMPLATE_FILE)


def load_template(repo_root: Path) -> dict[str, Any]:
    path = template_path(repo_root)
    return yamlio.normalise(yamlio.load_mapping(path.read_bytes(), str(path)))


@dataclass(frozen=True)
class Publication:
    route: str = "automatic"  # automatic | review
    max_resource_loss: float = 0.2

    @classmethod
    def from_template(cls, template: dict[str, Any]) -> Publication:
        section = (template.get("config") or {}).get("publication") or {}
        route = section.get("route", cls.route)
        if route not in ("automatic", "review"):
            raise _field_error("route", f"{route!r} is not automatic or review")
        loss = section.get("max_resource_loss", cls.max_resource_loss)
        if isinstance(loss, bool) or not isinstance(loss, int | float) or not 0 <= loss <= 1:
            raise _field_error("max_resource_loss", f"{loss!r} is not a fraction between 0 and 1")
        return cls(route, float(loss))


def _field_error(name: str, what: str) -> ContentError:
    return ContentError(what, where=f"{TEMPLATE_FILE}: field config.publication.{name}", hint="fix the template")


def collection_root(template: dict[str, Any]) -> dict[str, Any]:
    """The published collection RDF without the compiler's own settings."""
    config = {k: v for k, v in (template.get("config") or {}).items() if k not in ("sources", "publication")}
    return {**{k: v for k, v in template.items() if k != "config"}, "config": config}
