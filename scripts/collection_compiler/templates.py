"""The root collection template `collection_rdf_template.yaml`: the hub's collection RDF and source settings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import yamlio

TEMPLATE_FILE = "collection_rdf_template.yaml"


def load_template(repo_root: Path) -> dict[str, Any]:
    return yamlio.normalise(yamlio.load_mapping((repo_root / TEMPLATE_FILE).read_bytes(), TEMPLATE_FILE))


@dataclass(frozen=True)
class Publication:
    route: str = "automatic"  # automatic | review
    max_resource_loss: float = 0.2

    @classmethod
    def from_template(cls, template: dict[str, Any]) -> Publication:
        section = (template.get("config") or {}).get("publication") or {}
        route = section.get("route", cls.route)
        if route not in ("automatic", "review"):
            raise ValueError(f"{TEMPLATE_FILE}: field config.publication.route: {route!r} is not automatic or review")
        return cls(route, float(section.get("max_resource_loss", cls.max_resource_loss)))


def collection_root(template: dict[str, Any]) -> dict[str, Any]:
    """The published collection RDF without the compiler's own settings."""
    config = {k: v for k, v in (template.get("config") or {}).items() if k not in ("sources", "publication")}
    return {**{k: v for k, v in template.items() if k != "config"}, "config": config}
