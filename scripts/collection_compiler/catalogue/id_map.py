"""`id_map.json`: the published tree's index in the form `bioimageio.spec` reads through `BIOIMAGEIO_ID_MAP`, so
that `load_description("<nickname>")`, `("<resource id>")` and `("<resource id>/<version id>")` resolve to our
published `rdf.yaml`. A resource id and a nickname name the newest published version."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from collection_compiler.catalogue.records import IdMapEntry


def id_map(published: Mapping[str, list[dict[str, Any]]], index: Mapping[str, dict[str, Any]],
           site_url: str) -> dict[str, IdMapEntry]:
    """Every published version under `<rid>/<vid>`, the newest one also under `<rid>` and its nickname.

    `published` holds each resource's published versions, newest first (`version_id`, `rdf_sha256`). The keys
    cannot collide: a resource id has one `/` (`10.5281/zenodo.N`, `<partner>/<entry>`), `<rid>/<vid>` two, and a
    nickname none."""
    out: dict[str, IdMapEntry] = {}
    for rid, versions in sorted(published.items()):
        for version in versions:
            vid = version["version_id"]
            out[f"{rid}/{vid}"] = {"source": f"{site_url}/rdfs/{rid}/{vid}/rdf.yaml", "sha256": version["rdf_sha256"]}
        newest = out[f"{rid}/{versions[0]['version_id']}"]
        out[rid] = newest
        nickname = index[rid].get("nickname")
        if isinstance(nickname, str) and nickname:
            out[nickname] = newest
    return dict(sorted(out.items()))
