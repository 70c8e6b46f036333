"""The slim search index the home page loads: short keys, truncated descriptions, latest test status per tool.

Kept separate from `collection.json` (the consumers' API) so that site changes never break consumers.
"""

from __future__ import annotations

from typing import Any

from collection_compiler.site.model import Resource, authors, tags
from collection_compiler.site.safety import one_line
from collection_compiler.site.wording import STATUS_WORDS

DESCRIPTION_CHARS = 140
MAX_TAGS = 12
STATUS_CODES = {"passed": "p", "failed": "f", "not-applicable": "n", "untested": "u"}


def index_item(resource: Resource, thumbnail: str | None) -> dict[str, Any]:
    entry = resource.entry
    latest = resource.latest
    created = (latest.created if latest else "") or one_line(entry.get("created"), 40)
    downloads = entry.get("download_count")
    item = {
        "i": resource.rid, "n": resource.name, "t": resource.type,
        "d": one_line(entry.get("description"), DESCRIPTION_CHARS),
        "g": tags(entry.get("tags"))[:MAX_TAGS],
        "c": downloads if isinstance(downloads, int) and not isinstance(downloads, bool) else 0,
        "r": created[:10],
        "s": {tool: STATUS_CODES[status] for tool, status in sorted(resource.tool_status().items())},
    }
    optional = {"k": one_line(entry.get("nickname"), 80), "e": one_line(entry.get("nickname_icon"), 8),
                "l": one_line(entry.get("license"), 80), "h": thumbnail or "",
                "a": [a["name"] for a in authors(entry.get("authors"))[:4]]}
    item.update({k: v for k, v in optional.items() if v})
    return item


def build_index(resources: list[Resource], thumbnails: dict[str, str], tool_names: dict[str, str],
                categories: dict[str, str]) -> dict[str, Any]:
    items = [index_item(r, thumbnails.get(r.rid)) for r in resources]
    used_tags = {t for item in items for t in item["g"]}
    return {"format": 1,
            "tools": {t: tool_names.get(t, t) for t in sorted({s for item in items for s in item["s"]})},
            "words": STATUS_WORDS,
            "categories": {t: c for t, c in sorted(categories.items()) if t in used_tags},
            "items": items}
