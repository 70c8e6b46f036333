"""Outbound requests go where the compiler means them to: a partner's `rdf_source` cannot reach a service on the
runner's own network, and a partner URL under the GitHub API is fetched without the token."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from collection_compiler.adapters import yamlio
from collection_compiler.demo.fakes.server import FakeServer, Reply
from collection_compiler.demo.world import DemoWorld, git_commit_tree
from collection_compiler.stages.build import build
from collection_compiler.stages.update import update

SECRET_RDF = b"type: application\nformat_version: 0.2.4\nname: internal secret\ndescription: leaked\n"


def add_entries(world: DemoWorld, tmp_path: Path, entries: list[dict[str, str]]) -> None:
    repo = world.repos / "ilastik/bioimage-io-resources"
    content = tmp_path / "content"
    shutil.copytree(repo, content, ignore=shutil.ignore_patterns(".git"))
    collection = yamlio.load_yaml_file(content / "collection.yaml")
    collection["collection"] += entries
    (content / "collection.yaml").write_text(yamlio.dump_yaml(collection))
    git_commit_tree(repo, "main", content, "entries pointing elsewhere")


def test_partner_urls_never_reach_private_services_nor_carry_the_token(world: DemoWorld, tmp_path: Path):
    world.github.route("GET", r"/api/internal/rdf.yaml", lambda r, m: Reply(200, SECRET_RDF))
    with FakeServer() as internal:  # another service on the runner's network
        internal.route("GET", r"/rdf.yaml", lambda r, m: Reply(200, SECRET_RDF))
        add_entries(world, tmp_path, [{"id": "internal", "rdf_source": internal.url + "/rdf.yaml"},
                                      {"id": "under-api", "rdf_source": world.github.api + "/internal/rdf.yaml"}])
        settings = world.settings(github_token="secret-token")
        update(settings)
        build(settings, site=False)
        assert internal.log == []  # never asked
    published = {e["id"] for e in json.loads((settings.out / "collection.json").read_text())["collection"]}
    assert "ilastik/internal" not in published and "ilastik/ilastik" in published  # the others still run
    warnings = json.loads((settings.out / "health.json").read_text())["stages"]["update"]["warnings"]
    refused = [w for w in warnings["partner:ilastik"] if "non-public address" in w]
    assert len(refused) == 1 and "collection.yaml: field collection." in refused[0]
    # a configured endpoint's host is fetched, but a URL a partner names never carries the token
    fetched = world.github.requests_to(r"^/api/internal/")
    assert len(fetched) == 1 and "authorization" not in fetched[0].headers
    assert all(r.headers.get("authorization") == "Bearer secret-token" for r in world.github.requests_to("/commits/"))
