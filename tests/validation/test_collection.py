"""Partner collection files: entry composition (collection fields, rdf_source, inline keys, id) and validation."""

from __future__ import annotations

import copy
from typing import Any

from collection_compiler.validation.collection import compose_entries, validate_entries

DATASET = {"format_version": "0.2.3", "type": "dataset", "name": "cells", "description": "d", "id": "cells",
           "links": ["other-thing", "bioimageio/x"]}


def _collection(entries: list[Any]) -> dict[str, Any]:
    return {"format_version": "0.2.4", "type": "collection", "id": "partner", "name": "Partner",
            "description": "p", "license": "MIT", "badges": [{"label": "b", "url": "https://x.org"}],
            "collection": entries}


def test_composition_order_and_ids() -> None:
    sources = {"datasets/cells.yaml": copy.deepcopy(DATASET)}
    entries = [{"rdf_source": "datasets/cells.yaml", "name": "cells (inline name)"},
               {"id": "tool", "type": "application", "format_version": "0.2.3", "name": "a tool",
                "description": "t"}]
    composed = compose_entries(_collection(entries), sources.__getitem__)
    first, second = composed
    assert first.full_id == "partner/cells"
    assert first.rdf["name"] == "cells (inline name)"  # inline keys overlay the source
    assert first.rdf["license"] == "MIT"  # inherited from the collection
    assert first.rdf["badges"] == [{"label": "b", "url": "https://x.org"}]
    assert first.rdf["links"] == ["partner/other-thing", "bioimageio/x"]
    assert "rdf_source" not in first.rdf and "collection" not in first.rdf
    assert second.full_id == "partner/tool"


def test_entry_validation_and_errors() -> None:
    def load(source: str) -> dict[str, Any]:
        if source == "broken.yaml":
            raise OSError("404")
        return copy.deepcopy(DATASET)

    model_v05 = {"id": "m", "type": "model", "format_version": "0.5.4"}
    entries = [{"rdf_source": "cells.yaml"}, {"rdf_source": "broken.yaml"}, {"name": "no id"},
               {"rdf_source": "cells.yaml"}, model_v05, {"id": "nested", "type": "collection"},
               {"rdf_source": "cells.yaml", "id": "cells2", "name": ""}]
    results = validate_entries(_collection(entries), load)
    statuses = [r.status for _, r in results]
    assert statuses == ["passed", "failed", "failed", "failed", "failed", "failed", "failed"]
    messages = [r.first_error.text() for _, r in results[1:]]
    assert "cannot read broken.yaml" in messages[0]
    assert "Field required" in messages[1]
    assert "Duplicate entry id 'cells'" in messages[2]
    assert "not allowed in collection 0.2" in messages[3]
    assert "nested" in messages[4]
    assert messages[5].startswith("name")
