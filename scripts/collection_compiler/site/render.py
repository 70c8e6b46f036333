"""`render_site`: the published tree in, the static HTML site out (same folder)."""

from __future__ import annotations

import base64
import json
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
from markupsafe import Markup

from collection_compiler.adapters.files import id_path, json_text, sha256_bytes, write_bytes_atomic, write_text_atomic
from collection_compiler.settings import Settings
from collection_compiler.site import citation, page_cache, pages
from collection_compiler.site.documentation import fetch_documentation
from collection_compiler.site.feed import feed_entries
from collection_compiler.site.model import FACTS, Resource, Tree, Version, read_tree
from collection_compiler.site.previews import VersionPreviews, build_previews
from collection_compiler.site.prune import prune, remove_listed
from collection_compiler.site.safety import one_line, safe_url, text
from collection_compiler.site.search_index import build_index
from collection_compiler.site.thumbnails import build_thumbnails
from collection_compiler.site.wording import HUB_TESTER, STATUS_WORDS, plural, tested, tested_row

MAX_COVERS = 3


PACKAGED_TEMPLATES = Path(__file__).parent / "templates"


def template_dirs(settings: Settings) -> list[Path]:
    """Where templates are looked up, first match wins: the hub checkout's own `site_templates/` (when it has one),
    then the templates shipped in the package. A hub overrides single files and inherits the rest."""
    own = settings.repo_root / "site_templates"
    return [own, PACKAGED_TEMPLATES] if own.is_dir() else [PACKAGED_TEMPLATES]


def environment(settings: Settings) -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(template_dirs(settings)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True)
    env.filters["safe_url"] = safe_url
    env.filters["plural"] = plural
    env.globals.update(status_words=STATUS_WORDS, tested_row=tested_row)
    return env


def render_site(out: Path, settings: Settings, previous: Path | None = None) -> None:
    """Write the HTML site, thumbnails, search index, feed and 404 page into `out` (which holds the tree)."""
    tree = read_tree(out)
    write_text_atomic(out / FACTS, json_text(tree.facts, indent=None))  # lets the next build skip parsing
    env = environment(settings)
    _copy_static(settings, out)
    covers = _covers(tree.resources)
    logos = [u for p in tree.partners for u in (safe_url(p.get("logo")), safe_url(p.get("icon"))) if u]
    # Partner logos are fetched with the covers (same size caps), so that no page loads another site's image.
    thumbs = build_thumbnails([u for urls in covers.values() for u in urls] + logos, out, previous, settings)
    resource_thumbs = {rid: [thumbs[u] for u in urls if u in thumbs] for rid, urls in covers.items()}
    docs = fetch_documentation(tree.resources, out, previous, settings)
    previews = build_previews(tree.resources, out, previous, settings)
    site = _site_context(tree, settings, thumbs)
    categories = _categories(settings)
    index = build_index(tree.resources, _card_pictures(tree.resources, resource_thumbs, previews),
                        {t["id"]: t["name"] for t in site["tools"]}, categories)
    write_text_atomic(out / "search-index.json", json_text(index, indent=None))
    # The same data as a script, so the home page also works when opened from a local folder (file://).
    write_text_atomic(out / "search-index.js",
                      "window.SEARCH_INDEX = " + _script_json(json_text(index, indent=None)) + ";\n")
    listing = sorted(({"rid": r.rid, "name": r.name, "type": r.type} for r in tree.resources if r.versions),
                     key=lambda r: (r["name"].casefold(), r["rid"]))  # every resource a link, without JavaScript
    _write(env, "home.html", out / "index.html", site=site, root="", n=len(tree.resources), listing=listing)
    _all_resource_pages(settings, out, tree.resources, site, resource_thumbs, docs, previews)
    prune(out / "partners", _partner_pages(env, out, tree, site))
    _write(env, "compatibility.html", out / "compatibility" / "index.html", site=site, root="../",
           rows=_compatibility(tree.resources), tools=site["tools"])
    _write(env, "health.html", out / "health" / "index.html", site=site, root="../", health=_health(tree))
    _write(env, "feed.xml", out / "feed.xml", site=site, entries=feed_entries(tree.resources, settings.site_url))
    _not_found_page(env, out, site, settings)
    write_text_atomic(out / ".nojekyll", "")


def _not_found_page(env: jinja2.Environment, out: Path, site: dict[str, Any], settings: Settings) -> None:
    """A 404 page that works at any depth and on any host: inline style and script, allowed by their hashes."""
    folders = template_dirs(settings)  # first match wins, as for every template
    style, script = (next(f / name for f in folders if (f / name).is_file()).read_text("utf-8")
                     for name in ("404.css", "404.js"))
    base = urlsplit(settings.site_url).path.rstrip("/") + "/"  # the published path; 404.js adapts it elsewhere
    _write(env, "404.html", out / "404.html", site=site, base=base, style=Markup(style), script=Markup(script),
           style_hash=_csp_hash(style), script_hash=_csp_hash(script))


def _csp_hash(source: str) -> str:
    return "sha256-" + base64.b64encode(bytes.fromhex(sha256_bytes(source))).decode()


def _write(env: jinja2.Environment, template: str, path: Path, **context: Any) -> None:
    write_text_atomic(path, env.get_template(template).render(**context))


def _script_json(data: str) -> str:
    # JSON is valid JavaScript; escape what could end a script element or break older parsers.
    return data.strip().replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _copy_static(settings: Settings, out: Path) -> None:
    """The package's static files, overlaid by the hub's own (same relative path: the hub's wins)."""
    files = {}
    for source in reversed([d / "static" for d in template_dirs(settings)]):
        files.update({p.relative_to(source): p for p in sorted(source.rglob("*")) if p.is_file()})
    for relative, path in sorted(files.items()):
        write_bytes_atomic(out / "static" / relative, path.read_bytes())


def _card_pictures(resources: list[Resource], thumbs: dict[str, list[str]],
                   previews: dict[tuple[str, str], VersionPreviews]) -> dict[str, str]:
    """A card's picture: the first cover, else the latest version's test input as the model sees it."""
    pictures = {}
    for resource in resources:
        latest = previews.get((resource.rid, resource.latest.vid)) if resource.latest else None
        shown = latest.inputs or latest.outputs if latest else []
        if thumbs.get(resource.rid) or shown:
            pictures[resource.rid] = thumbs[resource.rid][0] if thumbs.get(resource.rid) else shown[0].src
    return pictures


def _covers(resources: list[Resource]) -> dict[str, list[str]]:
    result = {}
    for resource in resources:
        latest = resource.latest
        raw = latest.facts.get("covers") if latest else resource.entry.get("covers")
        urls = [u for u in (safe_url(c) for c in (raw if isinstance(raw, list) else [])[:MAX_COVERS]) if u]
        result[resource.rid] = urls
    return result


def _categories(settings: Settings) -> dict[str, str]:
    path = next(p for p in (d / "tag_categories.json" for d in template_dirs(settings)) if p.is_file())
    data = json.loads(path.read_text("utf-8"))
    return {tag: category for category, tags in data.items() for tag in tags}


def _site_context(tree: Tree, settings: Settings, thumbs: dict[str, str]) -> dict[str, Any]:
    collection = tree.collection
    partners = [_partner(p, thumbs) for p in tree.partners]
    partner_names = {p["id"]: p["name"] for p in partners}
    testers = sorted({row.tester for r in tree.resources if r.latest for row in r.latest.rows},
                     key=lambda t: (t != HUB_TESTER, t))
    return {"name": one_line(collection.get("name"), 200) or "Model Zoo",
            "description": text(collection.get("description"), 1000), "url": settings.site_url,
            "partners": partners, "partner_names": partner_names,
            "partner_docs": {p["id"]: p["docs"] for p in partners},
            "tools": [{"id": t, "name": tested(t, partner_names)} for t in testers]}


def _partner(details: dict[str, Any], thumbs: dict[str, str]) -> dict[str, Any]:
    """A partner's details; its logo and icon as the site's own copies (paths from the site root), if fetched."""
    logo, icon = (thumbs.get(safe_url(details.get(key)) or "") for key in ("logo", "icon"))
    return {"id": details["id"], "name": one_line(details.get("name"), 200) or details["id"],
            "description": text(details.get("description"), 2000), "logo": logo or icon,
            "docs": safe_url(details.get("docs")),
            "contact": one_line(details.get("contact"), 200)}


@dataclass(frozen=True)
class _PageContext:
    """What every resource page shares, besides the resource itself."""
    env: jinja2.Environment
    out: Path
    site: dict[str, Any]
    known: set[str]  # every resource id in the collection: links to them become internal
    thumbs: dict[str, list[str]]
    docs: dict[tuple[str, str], str]
    previews: dict[tuple[str, str], VersionPreviews]


def _all_resource_pages(settings: Settings, out: Path, resources: list[Resource], site: dict[str, Any],
                        thumbs: dict[str, list[str]], docs: dict[tuple[str, str], str],
                        previews: dict[tuple[str, str], VersionPreviews]) -> None:
    """Resource pages: stale ones removed, unchanged ones skipped (`page_cache`), the rest rendered."""
    cache = page_cache.PageCache(out, page_cache.salt(template_dirs(settings), Path(__file__).parent, site))
    listing = {r.rid: {"digest": cache.old_digest(r.rid), "versions": [v.vid for v in r.versions]}
               for r in resources if r.versions}
    expected = {p for rid, e in listing.items() for p in page_cache.page_file_names(str(out), rid, e["versions"])}
    if cache.known:
        remove_listed(out / "resources", [Path(p) for p in cache.old_files(out) - expected])
    else:
        prune(out / "resources", expected)
    cache.save(listing)  # before rendering: a build that stops half-way still lists every page it may write
    context = _PageContext(environment(settings), out, site, {r.rid for r in resources}, thumbs, docs, previews)
    for resource in resources:
        if resource.versions:
            listing[resource.rid]["digest"] = _render_if_changed(context, resource, listing[resource.rid])
    cache.save(listing)


def _render_if_changed(context: _PageContext, resource: Resource, listed: dict[str, Any]) -> str:
    """Render a resource's pages unless their inputs are those of the files in place; returns the inputs' digest."""
    thumbs = context.thumbs.get(resource.rid, [])
    digest = page_cache.digest(_page_inputs(resource, context.known, thumbs, context.docs, context.previews))
    files = page_cache.page_file_names(str(context.out), resource.rid, listed["versions"])
    if digest != listed["digest"] or not all(os.path.isfile(f) for f in files):
        _resource_pages(context, resource)
    return digest


def _page_inputs(resource: Resource, known: set[str], thumbs: list[str], docs: dict[tuple[str, str], str],
                 previews: dict[tuple[str, str], VersionPreviews]) -> dict[str, Any]:
    """Everything a resource's pages show beyond the site-wide context (which is in the cache's salt)."""
    return {"rid": resource.rid, "entry": resource.entry, "thumbs": thumbs,
            "versions": [[v.vid, v.rdf_sha256, v.rows, v.status, v.created, v.version_name, v.doi,
                          docs.get((resource.rid, v.vid), ""), repr(previews.get((resource.rid, v.vid))),
                          pages.linked(v.facts.get("links"), known),
                          pages.linked(v.facts.get("training_data"), known)] for v in resource.versions]}


def _resource_pages(context: _PageContext, resource: Resource) -> None:
    """Each version's page, citation files, and the resource's own page (its latest version, one folder up)."""
    base = id_path(context.out / "resources", resource.rid)
    depth = resource.rid.count("/") + 2
    common = {"site": context.site, "resource": resource, "entry": _entry_view(resource),
              "thumbs": context.thumbs.get(resource.rid, []),
              "versions": [{"vid": v.vid, "name": v.version_name, "created": v.created[:10], "status": v.status}
                           for v in resource.versions]}
    template = context.env.get_template("resource.html")
    for position, version in enumerate(resource.versions):
        page = {**common, **_version_context(context, resource, version), "latest": position == 0}
        vdir = base / version.vid  # vid checked by model.read_tree
        write_text_atomic(vdir / "index.html", template.render(page, root="../" * (depth + 1), here="../", vdir=""))
        write_text_atomic(vdir / "citation.bib", page["bibtex"])
        write_text_atomic(vdir / "CITATION.cff", page["cff"])
        if position == 0:
            write_text_atomic(base / "index.html",
                              template.render(page, root="../" * depth, here="", vdir=f"{version.vid}/"))


def _version_context(context: _PageContext, resource: Resource, version: Version) -> dict[str, Any]:
    site, key = context.site, (resource.rid, version.vid)
    rdf_path = f"rdfs/{resource.rid}/{version.vid}"
    rdf_url = f"{site['url']}/{rdf_path}/rdf.yaml"
    page_url = f"{site['url']}/resources/{resource.rid}/{version.vid}/index.html"
    return {"version": pages.version_view(resource, version, context.known), "rdf_path": rdf_path,
            "rdf_url": rdf_url, "documentation": context.docs.get(key, ""), "previews": context.previews.get(key),
            "downloads": pages.package_links(resource, version),
            "snippets": pages.snippets(resource, version, rdf_url, site["partner_names"], site["partner_docs"]),
            "get_it": pages.get_it(resource, version),
            "bibtex": citation.bibtex(resource, version, page_url), "cff": citation.cff(resource, version, page_url)}


def _entry_view(resource: Resource) -> dict[str, Any]:
    entry = resource.entry
    count = entry.get("download_count")
    return {"nickname": one_line(entry.get("nickname"), 80), "icon": one_line(entry.get("nickname_icon"), 8),
            "downloads": count if isinstance(count, int) and not isinstance(count, bool) else None,
            "partner": resource.partner_id}


def _partner_pages(env: jinja2.Environment, out: Path, tree: Tree, site: dict[str, Any]) -> list[Path]:
    """The partner pages; returns their paths."""
    cards, written = [], [out / "partners" / "index.html"]
    for partner in site["partners"]:
        own = [r for r in tree.resources if r.partner_id == partner["id"]]
        tested = []
        for resource in tree.resources:
            for row in resource.latest.rows if resource.latest else []:
                if row.tester == partner["id"]:
                    tested.append({"rid": resource.rid, "name": resource.name, "row": row})
        counts = Counter(t["row"].status for t in tested)
        cards.append({**partner, "n_resources": len(own), "counts": dict(counts)})
        written.append(id_path(out / "partners", partner["id"]) / "index.html")
        _write(env, "partner.html", written[-1], root="../../",
               site=site, partner=partner, resources=own, results=tested, counts=counts)
    _write(env, "partners.html", written[0], root="../", site=site, partners=cards)
    return written


def _compatibility(resources: list[Resource]) -> list[dict[str, Any]]:
    return [{"rid": r.rid, "name": r.name, "type": r.type, "status": r.tool_status()}
            for r in resources if r.latest and r.latest.rows]


def _health(tree: Tree) -> dict[str, Any]:
    health = tree.health
    sources = health.get("sources") if isinstance(health.get("sources"), dict) else {}
    counts = health.get("counts") if isinstance(health.get("counts"), dict) else {}
    return {
        "sources": [{"name": one_line(k, 100), "status": one_line(v.get("status"), 40) or "unknown",
                     "since": one_line(v.get("since"), 40), "error": text(v.get("error"), 2000)}
                    for k, v in sorted(sources.items()) if isinstance(v, dict)],
        "counts": [(one_line(k, 100), one_line(json.dumps(v, sort_keys=True) if not isinstance(v, str) else v, 200))
                   for k, v in sorted(counts.items())],
        "dispatches": [one_line(json.dumps(d, sort_keys=True) if not isinstance(d, str) else d, 500)
                       for d in (health.get("dispatches") if isinstance(health.get("dispatches"), list) else [])],
        "held_back": _held_back(health),
        "compiler_errors": [(one_line(k, 300), text(v, 2000)) for k, v in sorted(_mapping(health, "compiler_errors"))],
        "n_resources": len(tree.resources),
        "n_versions": sum(len(r.versions) for r in tree.resources),
    }


def _mapping(data: dict[str, Any], key: str) -> list[tuple[str, Any]]:
    value = data.get(key)
    return [(k, v) for k, v in value.items() if isinstance(k, str)] if isinstance(value, dict) else []


def _held_back(health: dict[str, Any]) -> list[tuple[str, str]]:
    """Each held-back version with the first error of its static validation, where that stage recorded one."""
    stages = health.get("stages") if isinstance(health.get("stages"), dict) else {}
    validate = stages.get("validate") if isinstance(stages.get("validate"), dict) else {}
    errors = dict(_mapping(validate, "first_errors"))
    held = health.get("held_back") if isinstance(health.get("held_back"), list) else []
    return [(one_line(v, 300), text(errors.get(v), 2000)) for v in held if isinstance(v, str)]
