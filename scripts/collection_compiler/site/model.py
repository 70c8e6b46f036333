"""Read the published tree into plain view data for the pages. Files in only; bad files are logged and skipped."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from collection_compiler.adapters import yamlio
from collection_compiler.adapters.files import sha256_bytes
from collection_compiler.catalogue import ids
from collection_compiler.catalogue.status import row_status
from collection_compiler.layout import SiteTree
from collection_compiler.site.safety import one_line, safe_url, text, text_list

log = logging.getLogger(__name__)

@dataclass
class TestRow:
    tester: str
    tool: str
    status: str
    version: str
    error: str
    link: str | None


FACTS = "site-cache/rdf-facts.json"  # {"salt", "rdfs": {sha256 of rdf.yaml: the fields needed before rendering}}
FACT_KEYS = ("covers", "documentation", "links", "training_data")
# Facts are only as good as the code that extracted them: change the salt when `_facts` or the YAML loader would
# find something else in the same bytes, and every RDF is read again.
FACTS_SALT = "facts-2"


@dataclass
class Version:
    vid: str
    rdf_sha256: str
    rows: list[TestRow]
    status: str
    created: str
    version_name: str
    doi: str
    facts: dict[str, Any]  # FACT_KEYS of the RDF, raw (made safe where used)
    source: bytes = b""  # the rdf.yaml, parsed only when a page of this version is rendered
    origin: str = ""  # its path, for messages
    parsed: dict[str, Any] | None = None

    @property
    def rdf(self) -> dict[str, Any]:
        if self.parsed is None:
            try:
                self.parsed = yamlio.normalise(yamlio.load_mapping(self.source, self.origin))
            except yamlio.YamlLoadError as e:  # read fine before (same sha256); kept safe all the same
                log.warning("%s", e)
                self.parsed = {}
        return self.parsed


@dataclass
class Resource:
    rid: str
    entry: dict[str, Any]
    versions: list[Version] = field(default_factory=list)

    @property
    def latest(self) -> Version | None:
        return self.versions[0] if self.versions else None

    @property
    def type(self) -> str:
        return one_line(self.entry.get("type"), 40) or "resource"

    @property
    def name(self) -> str:
        return one_line(self.entry.get("name"), 200) or self.rid

    @property
    def partner_id(self) -> str | None:
        # Zenodo resources are DOIs (`10.<registrant>/…`); partner resources are `<partner_id>/<entry_id>`.
        return None if self.rid.startswith("10.") else self.rid.split("/", 1)[0]

    def tool_status(self) -> dict[str, str]:
        """Per tester: the latest version's status (what "works with" means)."""
        latest = self.latest
        return {row.tester: row.status for row in latest.rows} if latest else {}


@dataclass
class Tree:
    collection: dict[str, Any]
    resources: list[Resource]
    partners: list[dict[str, Any]]
    health: dict[str, Any]
    facts: dict[str, Any]  # what to save as FACTS for the next build


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return None
    except (ValueError, UnicodeDecodeError) as e:
        log.warning("%s: unreadable JSON (%s), ignored", path, e)
        return None


def read_tree(out: Path) -> Tree:
    tree = SiteTree(out)
    collection = _read_json(tree.collection)
    if not isinstance(collection, dict):
        raise FileNotFoundError(f"{tree.collection}: missing or not a JSON object; build it before the site")
    entries = collection.get("collection") if isinstance(collection.get("collection"), list) else []
    known = _read_json(out / FACTS)
    known = known.get("rdfs") if isinstance(known, dict) and known.get("salt") == FACTS_SALT else None
    known = {k: v for k, v in known.items() if isinstance(v, dict)} if isinstance(known, dict) else {}
    resources = [r for r in (_resource(tree, e, known) for e in entries) if r is not None]
    resources.sort(key=lambda r: r.rid)
    health = _read_json(tree.health)
    facts = {"salt": FACTS_SALT, "rdfs": {v.rdf_sha256: v.facts for r in resources for v in r.versions}}
    return Tree(collection, resources, _partners(tree, collection), health if isinstance(health, dict) else {}, facts)


def _partners(tree: SiteTree, collection: dict[str, Any]) -> list[dict[str, Any]]:
    config = collection.get("config") if isinstance(collection.get("config"), dict) else {}
    details = config.get("partners")
    if not isinstance(details, list):
        details = _read_json(tree.partner_details)
        details = details.get("partners", details) if isinstance(details, dict) else details
    found = {}
    for item in details if isinstance(details, list) else []:
        if isinstance(item, dict) and ids.is_safe_id(item.get("id")) and "/" not in item["id"]:
            found[item["id"]] = item
    return [found[k] for k in sorted(found)]


def _resource(tree: SiteTree, entry: Any, known: dict[str, dict[str, Any]]) -> Resource | None:
    if not isinstance(entry, dict) or not ids.is_safe_id(entry.get("id")):
        log.warning("collection.json: entry with a missing or unsafe id skipped: %r", str(entry)[:200])
        return None
    resource = Resource(entry["id"], entry)
    vids = entry.get("versions") if isinstance(entry.get("versions"), list) else []
    for vid in vids:
        if not ids.is_safe_id(vid):
            log.warning("collection.json: %s: unsafe version id %r skipped", resource.rid, vid)
            continue
        version = _version(tree, resource.rid, str(vid), known)
        if version is not None:
            resource.versions.append(version)
    return resource


def _version(tree: SiteTree, rid: str, vid: str, known: dict[str, dict[str, Any]]) -> Version | None:
    """A version; its RDF is parsed now only when the facts of these exact bytes are not known from the last build."""
    path = tree.rdf(rid, vid)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        log.warning("%s: missing, version skipped on the site", path)
        return None
    sha = sha256_bytes(data)
    parsed = None
    facts = known.get(sha)
    if facts is None:
        try:
            parsed = yamlio.normalise(yamlio.load_mapping(data, str(path)))
        except yamlio.YamlLoadError as e:
            log.warning("%s", e)
            return None
        facts = _facts(parsed)
    summary = _read_json(tree.summary_json(rid, vid))  # written by the build beside test_summary.yaml
    summary = summary if isinstance(summary, dict) else {}
    rows, status = _rows(summary), one_line(summary.get("status"), 40)
    return Version(vid=vid, rdf_sha256=sha, rows=rows, status=status or "untested",
                   created=one_line(facts.get("created"), 40), version_name=one_line(facts.get("version_name"), 100),
                   doi=one_line(facts.get("doi"), 200), facts=facts, source=data, origin=str(path),
                   parsed=parsed)


def _facts(rdf: dict[str, Any]) -> dict[str, Any]:
    bio = _config_bioimageio(rdf)
    facts = {k: rdf[k] for k in FACT_KEYS if rdf.get(k) is not None}
    facts.update({k: bio[k] for k in ("created", "version_name", "doi") if isinstance(bio.get(k), str)})
    if rdf.get("type") == "model":
        facts["test_tensors"] = model_test_tensors(rdf)
    return facts


MAX_TEST_TENSORS = 4  # per side: enough to show what a model does


def model_test_tensors(rdf: dict[str, Any]) -> list[dict[str, str]]:
    """A model's test tensors, both formats: [{side: inputs|outputs, id, url, axes}] (axes as 0.4-style letters)."""
    found = []
    for side, files_key in (("inputs", "test_inputs"), ("outputs", "test_outputs")):
        tensors = [t for t in rdf.get(side, []) if isinstance(t, dict)] if isinstance(rdf.get(side), list) else []
        files = rdf.get(files_key) if isinstance(rdf.get(files_key), list) else []  # 0.4
        for n, tensor in enumerate(tensors[:MAX_TEST_TENSORS]):
            test = tensor.get("test_tensor")  # 0.5
            source = test.get("source") if isinstance(test, dict) else (files[n] if n < len(files) else None)
            url = safe_url(source)
            if url:
                found.append({"side": side, "id": one_line(tensor.get("id") or tensor.get("name"), 64),
                              "url": url, "axes": _axis_letters(tensor.get("axes"))})
    return found


def _axis_letters(axes: Any) -> str:
    if isinstance(axes, str):
        return one_line(axes, 8)
    letters = ""
    for axis in axes[:8] if isinstance(axes, list) else []:
        axis = axis if isinstance(axis, dict) else {}
        kind, axis_id = one_line(axis.get("type"), 20), one_line(axis.get("id"), 32)
        letters += {"batch": "b", "channel": "c", "index": "i", "time": "t"}.get(kind) or (
            axis_id if axis_id in ("x", "y", "z") else "i")
    return letters


def _config_bioimageio(rdf: dict[str, Any]) -> dict[str, Any]:
    config = rdf.get("config") if isinstance(rdf.get("config"), dict) else {}
    bio = config.get("bioimageio")
    return bio if isinstance(bio, dict) else {}


def _rows(summary: dict[str, Any]) -> list[TestRow]:
    rows = []
    for row in summary.get("rows") if isinstance(summary.get("rows"), list) else []:
        if not isinstance(row, dict) or not one_line(row.get("tester"), 100):
            continue
        rows.append(TestRow(tester=one_line(row.get("tester"), 100), tool=one_line(row.get("tool"), 100),
                            status=row_status(one_line(row.get("status"), 40)),
                            version=one_line(row.get("version"), 100), error=text(row.get("error"), 5000),
                            link=safe_url(row.get("link"))))
    return sorted(rows, key=lambda r: (r.tester != "bioimageio.core", r.tester, r.tool))


def authors(value: Any) -> list[dict[str, str | None]]:
    """Authors as {name, affiliation, orcid, github}; strings become names."""
    result = []
    for item in value[:200] if isinstance(value, list) else []:
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, dict) or not one_line(item.get("name"), 200):
            continue
        orcid = one_line(item.get("orcid"), 40)
        result.append({"name": one_line(item.get("name"), 200), "affiliation": one_line(item.get("affiliation"), 300),
                       "orcid": orcid if _is_orcid(orcid) else "",
                       "github": one_line(item.get("github_user"), 100)})
    return result


def _is_orcid(value: str) -> bool:
    parts = value.split("-")
    return len(parts) == 4 and all(len(p) == 4 and p[:3].isdigit() for p in parts)


def tags(value: Any) -> list[str]:
    return list(dict.fromkeys(t.lower() for t in text_list(value, 100) if len(t) <= 80))
