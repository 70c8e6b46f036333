"""`collection dispatch` against the local fake GitHub API, which records every dispatch request."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from collection_compiler import cli
from collection_compiler.adapters import yamlio
from collection_compiler.adapters.files import read_json, write_json
from collection_compiler.demo.fakes.github import FakeGitHub
from collection_compiler.settings import Settings
from collection_compiler.stages.dispatch import WILDCARD, dispatch

NOW = "2024-02-01T03:00:00+00:00"
ENTRIES = [{"resource_id": "10.5281/zenodo.1", "version_id": "111"},
           {"resource_id": "10.5281/zenodo.2", "version_id": "333"}]


@pytest.fixture(scope="module")
def _server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeGitHub]:
    with FakeGitHub(tmp_path_factory.mktemp("repos")) as server:  # one server: stopping one costs 0.5 s
        yield server


@pytest.fixture
def github(_server: FakeGitHub) -> FakeGitHub:
    _server.log.clear()
    _server.dispatches.clear()
    _server.dispatch_replies.clear()
    _server.faults.clear()
    return _server


@pytest.fixture
def api_settings(settings: Settings, github: FakeGitHub) -> Settings:
    return settings.with_overrides(github_api=github.api, github_token="t0ken")


def pending(work, partner: str, entries: list[dict]) -> None:
    write_json(work.plan / "partners" / f"{partner}.json", {"include": entries})


def test_dispatch_sends_the_exact_request(api_settings: Settings, work, h, github: FakeGitHub) -> None:
    pending(work, "ilastik", ENTRIES)
    outcomes = dispatch(api_settings, [h.registration("ilastik")], now=NOW)
    assert [o.outcome for o in outcomes] == ["dispatched"]
    [sent] = github.dispatches
    assert sent.repository == "ilastik/resources" and sent.workflow == "test.yaml"
    assert sent.body == {"ref": "refs/heads/main",
                         "inputs": {"pending_matrix": json.dumps({"include": ENTRIES}, separators=(",", ":"),
                                                                 sort_keys=True)}}
    assert sent.headers["authorization"] == "Bearer t0ken"
    assert sent.headers["accept"] == "application/vnd.github+json"
    [request] = github.requests_to("/dispatches")
    assert request.method == "POST"
    assert request.path == "/api/repos/ilastik/resources/actions/workflows/test.yaml/dispatches"
    assert read_json(work.health("dispatch")) == {"dispatches": [
        {"partner": "ilastik", "entries": 2, "outcome": "dispatched", "wildcard": False, "error": None,
         "time": NOW}]}


def test_empty_matrix_and_missing_workflow_are_never_dispatched(api_settings: Settings, work, h,
                                                                github: FakeGitHub) -> None:
    pending(work, "ilastik", [])
    pending(work, "noflow", ENTRIES)
    outcomes = dispatch(api_settings, [h.registration("ilastik"), h.registration("noflow", workflow=None),
                                       h.registration("unplanned")], now=NOW)
    assert outcomes == [] and github.dispatches == []
    assert read_json(work.health("dispatch")) == {"dispatches": []}


def test_too_long_matrix_dispatches_the_wildcard(api_settings: Settings, work, h, github: FakeGitHub) -> None:
    pending(work, "ilastik", ENTRIES * 50)
    [outcome] = dispatch(api_settings, [h.registration("ilastik")], now=NOW, max_chars=500)
    assert outcome.wildcard and outcome.entries == 100
    assert json.loads(github.dispatches[0].body["inputs"]["pending_matrix"]) == WILDCARD


def test_4xx_is_reported_with_partner_and_message(api_settings: Settings, work, h, github: FakeGitHub) -> None:
    github.dispatch_replies["ilastik/resources"] = (403, "Resource not accessible by integration")
    pending(work, "ilastik", ENTRIES)
    pending(work, "biapy", ENTRIES)
    outcomes = dispatch(api_settings, [h.registration("ilastik"), h.registration("biapy")], now=NOW)
    by_partner = {o.partner: o for o in outcomes}
    assert by_partner["biapy"].outcome == "dispatched"  # one partner's failure does not stop the others
    failed = by_partner["ilastik"]
    assert failed.outcome == "failed"
    assert "Ilastik" in failed.error and "HTTP 403: Resource not accessible by integration" in failed.error
    assert len(github.requests_to("ilastik/resources/actions")) == 1  # a 4xx is not retried


def test_5xx_is_retried(api_settings: Settings, work, h, github: FakeGitHub) -> None:
    github.fail("/dispatches$", status=502, times=1)
    pending(work, "ilastik", ENTRIES)
    [outcome] = dispatch(api_settings, [h.registration("ilastik")], now=NOW)
    assert outcome.outcome == "dispatched"
    assert len(github.requests_to("/dispatches")) == 2 and len(github.dispatches) == 1


def test_without_token_nothing_is_sent(settings: Settings, work, h, github: FakeGitHub) -> None:
    pending(work, "ilastik", ENTRIES)
    [outcome] = dispatch(settings.with_overrides(github_api=github.api), [h.registration("ilastik")], now=NOW)
    assert outcome.outcome == "failed" and "GITHUB_TOKEN" in outcome.error
    assert github.log == []


def test_command_dry_run_and_exit_code(api_settings: Settings, work, h, github: FakeGitHub, capsys,
                                       monkeypatch) -> None:
    partners = api_settings.repo_root / "partners"
    partners.mkdir(parents=True)
    (partners / "ilastik.yaml").write_text(yamlio.dump_yaml(h.registration("ilastik").to_json()))
    pending(work, "ilastik", ENTRIES)
    monkeypatch.setenv("GITHUB_TOKEN", "t0ken")
    base = ["dispatch", "--repo-root", str(api_settings.repo_root), "--work-dir", str(api_settings.work_dir),
            "--github-api", github.api]
    assert cli.main([*base, "--dry-run"]) == 0
    assert "would POST" in capsys.readouterr().out and github.log == []
    assert not work.health("dispatch").exists()
    github.dispatch_replies["ilastik/resources"] = (404, "Not Found")
    assert cli.main(base) == 1
    assert "ilastik: failed" in capsys.readouterr().out
