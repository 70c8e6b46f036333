"""Citation exports built at build time: BibTeX and CITATION.cff for a version."""

from __future__ import annotations

import json
import re
from typing import Any

from collection_compiler.site.model import Resource, Version, authors
from collection_compiler.site.safety import one_line


def _bibtex_value(value: str) -> str:
    # Braces and backslashes would end or escape the field; drop them rather than trust a round trip.
    return re.sub(r"[{}\\]", "", value)


def bibtex(resource: Resource, version: Version, url: str) -> str:
    names = " and ".join(_bibtex_value(a["name"]) for a in authors(version.rdf.get("authors"))) or "Unknown"
    year = version.created[:4] if version.created[:4].isdigit() else ""
    key = re.sub(r"[^A-Za-z0-9]+", "_", f"{resource.rid}_{version.vid}").strip("_")
    fields = [("title", one_line(version.rdf.get("name"), 300) or resource.name), ("author", names),
              ("year", year), ("doi", version.doi), ("url", url),
              ("note", f"BioImage Model Zoo {resource.type} {resource.rid}, version {version.vid}")]
    body = ",\n".join(f"  {k} = {{{_bibtex_value(v)}}}" for k, v in fields if v)
    return f"@misc{{{key},\n{body}\n}}\n"


def _cff_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid YAML double-quoted scalar


def cff(resource: Resource, version: Version, url: str) -> str:
    lines = ["cff-version: 1.2.0", "message: If you use this resource, please cite it as below.",
             f"title: {_cff_string(one_line(version.rdf.get('name'), 300) or resource.name)}",
             f"type: {'software' if resource.type in ('model', 'application', 'notebook') else 'dataset'}",
             f"url: {_cff_string(url)}"]
    if version.doi:
        lines.append(f"doi: {_cff_string(version.doi)}")
    if version.created[:10]:
        lines.append(f"date-released: {_cff_string(version.created[:10])}")
    lines.append(f"version: {_cff_string(version.vid)}")
    people = authors(version.rdf.get("authors")) or [{"name": "Unknown", "affiliation": "", "orcid": ""}]
    lines.append("authors:")
    for person in people:
        lines.append(f"  - name: {_cff_string(person['name'])}")
        if person["affiliation"]:
            lines.append(f"    affiliation: {_cff_string(person['affiliation'])}")
        if person["orcid"]:
            lines.append(f"    orcid: {_cff_string('https://orcid.org/' + person['orcid'])}")
    return "\n".join(lines) + "\n"


def cite_list(rdf: dict[str, Any]) -> list[dict[str, str | None]]:
    from collection_compiler.site.safety import safe_url

    result = []
    for item in rdf.get("cite")[:50] if isinstance(rdf.get("cite"), list) else []:
        if not isinstance(item, dict):
            continue
        doi = one_line(item.get("doi"), 200).removeprefix("https://doi.org/")
        entry = {"text": one_line(item.get("text"), 1000), "doi": doi,
                 "doi_url": safe_url(f"https://doi.org/{doi}") if doi else None, "url": safe_url(item.get("url"))}
        if entry["text"] or entry["doi"] or entry["url"]:
            result.append(entry)
    return result
