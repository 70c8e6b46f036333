"""`collection build`: write the published tree from the work folder.

collection.json, rdfs/<rid>/<vid>/{rdf.yaml,test_summary.yaml,summary.json}, partner_details.json, id_map.json,
download_counts.json, health.json, schemas/, pending/, state/sources.json, state/published.json, then the HTML
site. Unchanged files are not rewritten; versions no longer published are removed (no orphans).
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import typing
from collections import Counter
from dataclasses import dataclass
from typing import Any

from collection_compiler.adapters import yamlio
from collection_compiler.adapters.files import link_atomic, publish_file, read_json, write_bytes_atomic, write_json
from collection_compiler.adapters.jsonschemas import publish_schemas
from collection_compiler.catalogue import held_back as held_back_versions
from collection_compiler.catalogue import ids, results
from collection_compiler.catalogue.id_map import id_map
from collection_compiler.catalogue.partners import load_registrations
from collection_compiler.catalogue.records import CollectionDocument, CollectionEntry, HealthDocument, PartnerDetails
from collection_compiler.catalogue.state import read_published
from collection_compiler.catalogue.summaries import partner_lists, summarise_version, summary_inputs_digest
from collection_compiler.catalogue.templates import Publication, collection_root, load_template
from collection_compiler.layout import SiteTree, WorkDir
from collection_compiler.settings import Settings
from collection_compiler.sources.partners import with_display_defaults
from collection_compiler.stages.plan import publish_pending
from collection_compiler.validation.validator import CHECKER as STATIC_CHECKER

log = logging.getLogger(__name__)

def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-site", action="store_true", help="skip the HTML site (JSON and YAML files only)")


def main(args: argparse.Namespace, settings: Settings) -> int:
    if not WorkDir(settings.work_dir).resources.is_file():
        from collection_compiler.errors import CollectionError

        raise CollectionError("holds no resources.json: nothing to build", where=str(settings.work_dir),
                              hint="run `collection update` first, or give the work folder with --work-dir")
    report = build(settings, site=not args.no_site)
    print(report.summary())
    return 0 if report.resources or not report.expected else 1


@dataclass
class BuildReport:
    resources: int
    versions: int
    unpublished: int
    removed: int
    expected: bool = True

    def summary(self) -> str:
        return (f"build: {self.resources} resources, {self.versions} versions published, "
                f"{self.unpublished} held back, {self.removed} removed")


# ---- what to publish -------------------------------------------------------------------------------------

def versions_with_results(work: WorkDir) -> set[str]:
    """`<rid>/<vid>` of every version that has at least one of our check results (one walk, not one per version)."""
    root = work.root / "results"
    return {os.path.relpath(top, root).replace(os.sep, "/") for top, _, names in os.walk(root)
            if any(n.endswith(".json") for n in names)}


def _passes_our_checks(work: WorkDir, rid: str, vid: str, checked: set[str]) -> bool:
    """No check that exists has failed (checks not run yet do not hold a version back)."""
    return f"{rid}/{vid}" not in checked or all(r.status != "failed" for r in results.read_results(work, rid, vid))


def _passes_static_validation(work: WorkDir, rid: str, vid: str, checked: set[str]) -> bool:
    return f"{rid}/{vid}" not in checked or all(
        r.status != "failed" for r in results.read_results(work, rid, vid) if r.checker == STATIC_CHECKER)


def published_versions(resource: dict[str, Any], publication: Publication, work: WorkDir,
                       checked: set[str]) -> list[dict[str, Any]]:
    versions = resource["versions"]
    if resource["source"] != "zenodo":  # as the partner lists them, but never an invalid one
        return [v for v in versions if _passes_static_validation(work, resource["id"], v["version_id"], checked)]
    if publication.route == "review":
        return [v for v in versions if v["status"] == "accepted"]
    return [v for v in versions
            if v["status"] == "accepted" or _passes_our_checks(work, resource["id"], v["version_id"], checked)]


# ---- files per version -----------------------------------------------------------------------------------

def _publish_version(tree: SiteTree, work: WorkDir, settings: Settings, registrations: list[Any], rid: str,
                     version: dict[str, Any], resource_type: str) -> list[Any]:
    """Link one version's RDF and write its test summaries. Returns its `state/published.json` record:
    [summary inputs digest, outcome]."""
    vid = version["version_id"]
    link_atomic(work.version_rdf(rid, vid, settings.previous), tree.rdf(rid, vid))
    return list(summarise_version(tree, work, rid, vid, version["rdf_sha256"], registrations,
                                  resource_type=resource_type, site_url=settings.site_url, git_base=settings.git_base))


def versions_with_partner_results(work: WorkDir) -> set[str]:
    """`<rid>/<vid>` of every version with gathered partner summaries (one walk)."""
    root = work.root / "partner_results"
    found = set()
    for top, _, names in os.walk(root):
        if "summaries.json" in names:
            found.add(os.path.relpath(top, root).replace(os.sep, "/").split("/", 1)[1])
    return found


def publish_versions(tree: SiteTree, work: WorkDir, published: dict[str, list[dict[str, Any]]],
                     index: dict[str, Any], settings: Settings, held: dict[str, list[Any]], checked: set[str]
                     ) -> dict[str, list[Any]]:
    """Every published version's RDF and summaries in the tree; returns the new `state/published.json`.

    A version the tree already holds (`held`: its `state/published.json`) with the same summary inputs digest
    (which covers the RDF's sha256), and without result or partner files whose summaries could have changed,
    is left alone without touching the disk: on a large collection that is most of them."""
    registrations = load_registrations(settings.repo_root)[0]
    with_files = checked | versions_with_partner_results(work)
    records: dict[str, list[Any]] = {}
    for rid, versions in published.items():
        resource_type = index[rid]["type"]
        expected = partner_lists(registrations, resource_type)[1]
        for v in versions:
            key = f"{rid}/{v['version_id']}"
            known = held.get(key)
            if known and key not in with_files and known[0] == summary_inputs_digest(
                    rid, v["version_id"], v["rdf_sha256"], expected, site_url=settings.site_url,
                    git_base=settings.git_base):
                records[key] = known
            else:
                records[key] = _publish_version(tree, work, settings, registrations, rid, v, resource_type)
    return records


def published_before(site: SiteTree, held: dict[str, list[Any]] | None) -> set[str]:
    """The `<rid>/<vid>` folders the tree holds before this build: as its `state/published.json` says, or (a
    tree without one) found by walking `rdfs/`. Asked before publishing, so a new tree is not walked after it
    is filled."""
    if held is not None:
        return set(held)
    root = str(site.rdfs)
    return {os.path.relpath(top, root).replace(os.sep, "/") for top, _, names in os.walk(root) if "rdf.yaml" in names}


def remove_orphans(site: SiteTree, before: set[str], keep: set[tuple[str, str]]) -> int:
    """Delete version folders of the published tree that are no longer published."""
    removed = 0
    keep_dirs = {f"{rid}/{vid}" for rid, vid in keep}
    for key in sorted(before - keep_dirs):
        folder = site.rdfs / key
        if not ids.is_safe_id(key) or not (folder / "rdf.yaml").is_file():
            continue
        shutil.rmtree(folder)
        removed += 1
        parent = folder.parent
        while parent != site.rdfs and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent
    return removed


# ---- collection.json -------------------------------------------------------------------------------------

def _clean_entry(entry: dict[str, Any], resource: dict[str, Any]) -> dict[str, Any]:
    """Required fields present with the right types, whatever the RDF held."""
    for key, default in (("name", resource["name"]), ("description", ""), ("type", resource["type"])):
        if not isinstance(entry.get(key), str):
            entry[key] = default
    for key in ("tags", "links", "covers"):
        if key in entry or key == "tags":
            entry[key] = [v for v in entry.get(key) or [] if isinstance(v, str)] if isinstance(
                entry.get(key), list) else []
    return entry


def collection_entries(published: dict[str, list[dict[str, Any]]], index: dict[str, Any], settings: Settings,
                       extra_links: dict[str, list[str]]) -> list[CollectionEntry]:
    """One entry per resource: its newest published version's RDF fields (extracted by update) and ours."""
    entries: list[CollectionEntry] = []
    for rid, versions in published.items():
        resource = index[rid]
        entry = _clean_entry(dict(versions[0]["entry"]), resource)
        added = [link for link in extra_links.get(rid, []) if link not in entry.get("links", [])]
        if added:
            entry["links"] = [*entry.get("links", []), *added]
            entry["test_links"] = added  # links that come from passing partner tests, not from the RDF
        entry.update({
            "id": rid,
            "rdf_source": f"{settings.site_url}/rdfs/{rid}/{versions[0]['version_id']}/rdf.yaml",
            "versions": [v["version_id"] for v in versions],
            "download_count": resource.get("download_count") or 0,
        })
        entries.append(typing.cast(CollectionEntry, entry))
    entries.sort(key=lambda e: (-e["download_count"], e["id"]))
    return entries


def _partners_with_defaults(partners: list[dict[str, Any]], index: dict[str, Any],
                            published: dict[str, list[dict[str, Any]]]) -> list[PartnerDetails]:
    types: dict[str, set[str]] = {}
    for rid in published:
        resource = index[rid]
        if resource.get("partner_id"):
            types.setdefault(resource["partner_id"], set()).add(resource["type"])
    return [typing.cast(PartnerDetails, with_display_defaults(p, sorted(types.get(p.get("id"), ()))))
            for p in partners]


def collection_document(template: dict[str, Any], entries: list[CollectionEntry], partners: list[PartnerDetails],
                        published: dict[str, list[dict[str, Any]]]) -> CollectionDocument:
    root = yamlio.json_safe(collection_root(template))  # entries, partners and counts are JSON-safe already
    types = {e["id"]: e["type"] for e in entries}
    n_resources = Counter(types.values())
    n_versions = Counter()
    for rid, versions in published.items():
        n_versions[types[rid]] += len(versions)
    root["config"] = {**root["config"], "partners": partners, "n_resources": dict(sorted(n_resources.items())),
                      "n_resource_versions": dict(sorted(n_versions.items()))}
    root["collection"] = entries
    return typing.cast(CollectionDocument, root)


# ---- other published files -------------------------------------------------------------------------------

def health_document(work: WorkDir, entries: list[CollectionEntry], published: dict[str, list[dict[str, Any]]],
                    held_back: list[str]) -> HealthDocument:
    stages = {p.stem: read_json(p) for p in sorted((work.root / "health").glob("*.json"))}
    update = stages.get("update") or {}
    sources = dict(update.get("sources") or {})
    for name, part in (stages.get("gather") or {}).get("partners", {}).items():
        sources[f"summaries:{name}"] = {k: v for k, v in (("status", part.get("status")),
                                        ("since", part.get("stale_since")), ("error", part.get("error"))) if v}
    return {
        "sources": sources,
        "counts": {
            "resources": len(entries),
            "versions": sum(len(v) for v in published.values()),
            "by_type": dict(sorted(Counter(e["type"] for e in entries).items())),
            "held_back": len(held_back),
        },
        "held_back": held_back[:500],
        # valid uploads whose published RDF our validator rejects: the compiler's own bugs, never the uploader's
        "compiler_errors": (stages.get("validate") or {}).get("compiler_errors") or {},
        "dispatches": (stages.get("dispatch") or {}).get("dispatches", []),
        "stages": stages,
        "requests": {p.stem: read_json(p) for p in sorted((work.root / "requests").glob("*.json"))},
    }


def write_health(tree: SiteTree, health: HealthDocument) -> None:
    """health.json, unless only the run's request counts changed: they differ from run to run and alone never
    warrant a deploy commit."""
    old = read_json(tree.health, default=None)
    if not (isinstance(old, dict) and {**old, "requests": None} == {**health, "requests": None}):
        write_json(tree.health, health)


def _render_site(site: SiteTree, settings: Settings) -> None:
    from collection_compiler.site import render_site

    render_site(site.root, settings, settings.previous)


# ---- the stage -------------------------------------------------------------------------------------------

def build(settings: Settings, site: bool = True) -> BuildReport:
    """The published tree, then the HTML site. Unchanged versions are not read again (`state/published.json`) and
    unchanged files are not rewritten, so a build from the same inputs changes nothing."""
    tree = SiteTree(settings.out)
    report = _build_tree(settings, WorkDir(settings.work_dir), tree)
    (tree.root / "state" / "build.json").unlink(missing_ok=True)  # an older compiler's build record: nothing reads it
    if site:
        _render_site(tree, settings)
    return report


def _build_tree(settings: Settings, work: WorkDir, tree: SiteTree) -> BuildReport:
    template = load_template(settings.repo_root)
    publication = Publication.from_template(template)
    index = (read_json(work.resources) or {}).get("resources") or {}
    published: dict[str, list[dict[str, Any]]] = {}
    held_back: list[str] = []
    checked = versions_with_results(work)
    for rid, resource in index.items():
        versions = published_versions(resource, publication, work, checked)
        held_back += [f"{rid}/{v['version_id']}" for v in resource["versions"] if v not in versions]
        if versions:
            published[rid] = versions
    tree.root.mkdir(parents=True, exist_ok=True)
    held = read_published(tree.root)
    before = published_before(tree, held)
    partners = _partners_with_defaults(read_json(work.partners, default=[]) or [], index, published)
    records = publish_versions(tree, work, published, index, settings, held or {}, checked)
    extra_links: dict[str, list[str]] = {}
    for rid, versions in published.items():
        _, newest = records[f"{rid}/{versions[0]['version_id']}"]  # [summary inputs digest, outcome]
        # an application link counts only where that application is a published resource
        extra_links[rid] = [link for link in newest["links"] if link in published]
    removed = remove_orphans(tree, before, {(rid, v["version_id"]) for rid, vs in published.items() for v in vs})
    entries = collection_entries(published, index, settings, extra_links)
    write_json(tree.collection, collection_document(template, entries, partners, published))
    write_json(tree.partner_details, partners)
    write_json(tree.id_map, id_map(published, index, settings.site_url))
    publish_file(work.download_counts, tree.download_counts)
    write_health(tree, health_document(work, entries, published, held_back))
    held_back_versions.keep(tree, work, held_back, settings.previous)
    publish_file(work.source_state, tree.source_state)
    write_json(tree.published_index, dict(sorted(records.items())), indent=None)
    publish_schemas(tree.schemas)
    publish_pending(tree, work)
    write_bytes_atomic(tree.root / ".nojekyll", b"")
    return BuildReport(len(entries), sum(len(v) for v in published.values()), len(held_back), removed,
                       expected=bool(index))
