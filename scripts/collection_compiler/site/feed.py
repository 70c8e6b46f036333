"""Atom feed of new and updated resources: one entry per resource, dated by its newest version."""

from __future__ import annotations

from collection_compiler.site.model import Resource
from collection_compiler.site.safety import one_line

MAX_ENTRIES = 100


def _atom_date(created: str) -> str:
    """An RFC 3339 date from the ledger's `created` ('2023-03-06 10:47:06.88' or ISO); '' when unusable."""
    value = created.replace(" ", "T")[:19]
    if len(value) == 10:
        value += "T00:00:00"
    return value + "Z" if len(value) == 19 and value[:4].isdigit() and value[10] == "T" else ""


def feed_entries(resources: list[Resource], site_url: str) -> list[dict[str, str]]:
    entries = []
    for resource in resources:
        latest = resource.latest
        updated = _atom_date(latest.created) if latest else ""
        if not updated:
            continue
        url = f"{site_url}/resources/{resource.rid}/index.html"
        entries.append({"id": url, "url": url, "title": resource.name, "updated": updated,
                        "summary": one_line(resource.entry.get("description"), 500),
                        "version": latest.version_name or latest.vid,
                        "new": "new" if len(resource.versions) == 1 else "updated", "type": resource.type})
    entries.sort(key=lambda e: (e["updated"], e["id"]), reverse=True)
    return entries[:MAX_ENTRIES]
