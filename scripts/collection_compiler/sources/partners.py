"""Community-partner collections: a collection RDF in the partner's repository; each entry is a resource
`<partner_id>/<entry_id>` with the one version `latest`."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypedDict

from collection_compiler.adapters import yamlio
from collection_compiler.adapters.http import FetchError, HttpClient
from collection_compiler.catalogue import ids
from collection_compiler.catalogue.partners import Registration
from collection_compiler.catalogue.rdf import resolve_url
from collection_compiler.settings import Settings
from collection_compiler.sources.candidates import Candidate, SourceOutcome, fingerprint


class PartnerState(TypedDict, total=False):
    """What the next run needs to know of a partner's branch."""

    commit: str
    etag: str


PARTNER_VERSION = "latest"
# Collection fields an entry does not inherit: identity and structure, and the partner's site `config`
# (inheriting it put the partner's splash texts and logo into every entry of the predecessor). The
# collection's `format_version` (0.2.x) is inherited: it is the generic format of entries that name none.
_NOT_INHERITED = {"id", "collection", "config", "type"}
# Display fields of the collection's `config` that describe the partner on the site.
PARTNER_DISPLAY_KEYS = ("logo", "icon", "background_image", "default_type", "explore_button_text", "resource_types",
                        "splash_title", "splash_subtitle", "splash_feature_list", "tags", "about_url", "docs")


def commit_url(settings: Settings, registration: Registration) -> str:
    return f"{settings.github_api}/repos/{registration.repository}/commits/{registration.branch}"


def collection_url(settings: Settings, registration: Registration) -> str:
    return f"{settings.github_raw}/{registration.repository}/{registration.branch}/{registration.collection_file_name}"


def known_head(record: dict[str, Any]) -> PartnerState | None:
    """The commit and ETag a previous run recorded for a partner (None when it recorded no commit)."""
    if not isinstance(record.get("commit"), str):
        return None
    head: PartnerState = {"commit": record["commit"]}
    if isinstance(record.get("etag"), str):
        head["etag"] = record["etag"]
    return head


def branch_commit(client: HttpClient, settings: Settings, registration: Registration,
                  previous: PartnerState | None = None) -> PartnerState:
    """The branch head and its `ETag`. Asked conditionally when the previous run's answer had one: a 304 (the
    same commit) costs no rate-limit budget on GitHub."""
    url = commit_url(settings, registration)
    known = previous or {}
    etag, commit = known.get("etag"), known.get("commit")
    conditional = {"If-None-Match": etag} if isinstance(etag, str) and isinstance(commit, str) else {}
    response = client.get(url, max_bytes=1_000_000, token=True, headers=conditional, ok=(200, 304))
    if response.status == 304 and conditional:
        return {"commit": commit, "etag": etag}
    sha = response.json().get("sha") if response.status == 200 else None
    if not isinstance(sha, str) or not sha:
        raise FetchError(url, "malformed commit response: no sha")
    tag = response.headers.get("ETag")
    return {"commit": sha, **({"etag": tag} if tag else {})}


def partner_details(registration: Registration, collection: dict[str, Any]) -> dict[str, Any]:
    config = collection.get("config") if isinstance(collection.get("config"), dict) else {}
    display = {k: config[k] for k in PARTNER_DISPLAY_KEYS if k in config}
    return {**display, **registration.to_json()}


def with_display_defaults(details: dict[str, Any], resource_types: list[str]) -> dict[str, Any]:
    """`details` with the two fields the bioimage.io front-end reads of every partner and throws without:
    `resource_types` (default: the types of the partner's published resources) and `tags` (default: the partner's
    id, the tag its partner button filters by). A value of the wrong shape gets the default too."""
    defaults = {"resource_types": resource_types, "tags": [str(details.get("id", ""))]}
    out = dict(details)
    for key, default in defaults.items():
        value = out.get(key)
        if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            out[key] = default
    return out


def _entry_id(partner_id: str, entry: dict[str, Any], remote: dict[str, Any]) -> str:
    raw = entry.get("id", remote.get("id"))
    if isinstance(raw, str) and raw.startswith(f"{partner_id}/"):
        raw = raw[len(partner_id) + 1:]
    if not isinstance(raw, str) or "/" in raw:
        raise ids.UnsafeIdError(f"entry id {raw!r} must be a string without '/'")
    return ids.check_path_id(raw, "entry id")


def compose_entry(partner_id: str, collection: dict[str, Any], entry: dict[str, Any],
                  remote: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The entry's RDF: collection fields < its rdf_source content < its inline keys (whole root fields)."""
    rdf = {k: v for k, v in collection.items() if k not in _NOT_INHERITED}
    rdf.update(remote)
    rdf.update({k: v for k, v in entry.items() if k not in ("rdf_source", "entry_source", "entry_sha256")})
    entry_id = _entry_id(partner_id, entry, remote)
    if rdf.get("type") == "model" and "badges" not in entry and "badges" not in remote:
        rdf.pop("badges", None)  # models have no badges field: they do not inherit the collection's
    if rdf.get("type") == "collection":
        raise ValueError("an entry must not be a collection")
    if isinstance(rdf.get("links"), list):
        rdf["links"] = [f"{partner_id}/{link}" if isinstance(link, str) and "/" not in link else link
                        for link in rdf["links"]]
    rdf["id"] = entry_id
    return entry_id, rdf


def _fetch_remote(client: HttpClient, settings: Settings, base_url: str, entry: dict[str, Any]
                  ) -> tuple[str, dict[str, Any]]:
    source = entry.get("rdf_source", entry.get("entry_source"))
    if source is None:
        return base_url, {}
    if not isinstance(source, str):
        raise ValueError("rdf_source must be a URL or a path relative to the collection file")
    url = resolve_url(base_url, source)
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"rdf_source {source!r} is not an http(s) URL or relative path")
    data = client.get(url, max_bytes=settings.max_yaml_bytes, untrusted=True).content
    return url, yamlio.load_mapping(data, url, settings.max_yaml_bytes)


def collect(client: HttpClient, settings: Settings, registration: Registration, previous: PartnerState | None
            ) -> SourceOutcome:
    """The partner's entries as candidates, or `reused` when its branch is at the commit read before."""
    outcome = SourceOutcome(f"partner:{registration.id}")
    try:
        head = branch_commit(client, settings, registration, previous)
        outcome.state.update(head)
        if previous is not None and head["commit"] == previous.get("commit"):
            outcome.reused = True
            return outcome
        url = collection_url(settings, registration)
        collection = yamlio.load_mapping(client.get(url, max_bytes=settings.max_yaml_bytes).content, url,
                                         settings.max_yaml_bytes)
        entries = collection.get("collection")
        if not isinstance(entries, list):
            raise ValueError(f"{url}: field collection: must be a list of entries")
    except (FetchError, yamlio.YamlLoadError, ValueError) as e:
        outcome.error = str(e)
        return outcome
    outcome.state["details"] = partner_details(registration, collection)
    _resolve_entries(client, settings, registration, collection, entries, url, outcome)
    return outcome


def _resolve_entries(client: HttpClient, settings: Settings, registration: Registration,
                     collection: dict[str, Any], entries: list[Any], url: str,
                     outcome: SourceOutcome) -> None:
    def resolve(indexed: tuple[int, Any]) -> Candidate | str:
        index, entry = indexed
        where = f"{url}: field collection.{index}"
        if not isinstance(entry, dict):
            return f"{where}: an entry must be a mapping"
        try:
            root, remote = _fetch_remote(client, settings, url, entry)
            entry_id, rdf = compose_entry(registration.id, collection, entry, remote)
        except (FetchError, yamlio.YamlLoadError, ValueError) as e:
            return f"{where}: {e}"
        rid = f"{registration.id}/{entry_id}"
        return Candidate(
            resource_id=rid, version_id=PARTNER_VERSION, source="partner", partner_id=registration.id,
            root_url=root, raw=rdf, bioimageio={"version_name": PARTNER_VERSION},
            fingerprint=fingerprint(root, json.dumps(yamlio.json_safe(rdf), sort_keys=True)))

    seen: set[str] = set()
    for result in client.map(resolve, list(enumerate(entries))):
        if isinstance(result, str):
            outcome.warnings.append(result)
        elif result.resource_id in seen:
            outcome.warnings.append(f"{url}: duplicate entry id {result.resource_id!r}: later entry ignored")
        else:
            seen.add(result.resource_id)
            outcome.candidates.append(result)


def collect_all(client: HttpClient, settings: Settings, registrations: list[Registration],
                previous: Callable[[str], PartnerState | None]) -> list[SourceOutcome]:
    """Every partner, concurrently (the client bounds the requests in flight)."""
    return list(client.map(lambda r: collect(client, settings, r, previous(r.id)), registrations))
