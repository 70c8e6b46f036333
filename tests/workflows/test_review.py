"""`collection review-prs` against the fake GitHub, backed by a real local git repository of the hub."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from collection_compiler.adapters import yamlio
from collection_compiler.adapters.files import read_json
from collection_compiler.catalogue.results import CheckResult, write_result
from collection_compiler.cli import main as cli_main
from collection_compiler.layout import WorkDir
from collection_compiler.stages.review import (
    FAILURE_MARKER,
    STICKY_MARKER,
    branch_name,
    md_text,
    review_prs,
    sticky_comment,
)

Hub = Any  # the `hub` fixture of conftest.py
HUB_REPOSITORY = "bioimage-io/collection"
MODEL = "10.5281/zenodo.1000"
DATASET = "10.5281/zenodo.2000"


def git_show(repo: Path, ref: str) -> str:
    return subprocess.run(["git", "-C", str(repo), "show", ref], capture_output=True, text=True, check=True).stdout


def commits_on(repo: Path, branch: str) -> int:
    out = subprocess.run(["git", "-C", str(repo), "rev-list", "--count", f"main..{branch}"], capture_output=True,
                         text=True, check=True).stdout
    return int(out)


def pulls_for(hub: Hub, rid: str) -> list[dict]:
    return [p for p in hub.world.github.pulls.values() if p["head"] == branch_name(rid)]


def fail_test(hub: Hub, rid: str, vid: str, status: str = "failed") -> None:
    error = "output differs: max abs 0.5 > 1e-4" if status == "failed" else None
    write_result(WorkDir(hub.settings.work_dir), rid, vid, CheckResult(
        "test-onnx", "1", "sha", status, [{"name": "onnx", "status": status, "error": error}]))


def test_opens_one_pull_request_per_proposal_with_the_proposed_file(hub: Hub):
    records = review_prs(hub.settings, HUB_REPOSITORY)
    assert {r["resource_id"] for r in records} == {MODEL, DATASET}
    assert all(r["action"] == "created" and r["committed"] for r in records)
    model = pulls_for(hub, MODEL)
    assert len(model) == 1 and model[0]["labels"] == ["review"] and model[0]["base"] == "main"
    proposed = (hub.settings.work_dir / "ledger" / MODEL / "resource.yaml").read_text()
    assert git_show(hub.repo, f"{branch_name(MODEL)}:collection/{MODEL}/resource.yaml") == proposed
    assert branch_name(MODEL) == "review/10.5281-zenodo.1000"
    body = model[0]["body"]
    assert "Reviewer checklist" in body and "- [ ]" in body
    assert "`1002`" in body and "`1001`" in body and "@demo-maintainer" in body
    assert f"http://localhost:8000/rdfs/{MODEL}/1002/rdf.yaml" in body
    health = read_json(WorkDir(hub.settings.work_dir).health("review"))
    assert {r["number"] for r in health["pull_requests"]} == {p["number"] for p in hub.world.github.pulls.values()}


def test_a_second_run_updates_the_same_pull_request(hub: Hub):
    review_prs(hub.settings, HUB_REPOSITORY)
    first = pulls_for(hub, MODEL)[0]
    fail_test(hub, MODEL, "1002", "passed")
    records = {r["resource_id"]: r for r in review_prs(hub.settings, HUB_REPOSITORY)}
    assert records[MODEL]["action"] == "updated" and records[MODEL]["number"] == first["number"]
    assert not records[MODEL]["committed"]  # same proposal: no second commit
    assert commits_on(hub.repo, branch_name(MODEL)) == 1
    assert len(pulls_for(hub, MODEL)) == 1
    assert "test-onnx" in pulls_for(hub, MODEL)[0]["body"]  # the new result reached the body
    # a changed proposal becomes one more commit on the same branch
    path = hub.settings.work_dir / "ledger" / MODEL / "resource.yaml"
    path.write_text(path.read_text().replace("status: accepted", "status: pending", 1))
    records = {r["resource_id"]: r for r in review_prs(hub.settings, HUB_REPOSITORY)}
    assert records[MODEL]["committed"] and commits_on(hub.repo, branch_name(MODEL)) == 2
    assert len(hub.world.github.pulls) == 2


def test_maintainers_are_told_once_when_tests_fail(hub: Hub):
    fail_test(hub, MODEL, "1002")
    review_prs(hub.settings, HUB_REPOSITORY)
    number = pulls_for(hub, MODEL)[0]["number"]

    def failure_comments() -> list[dict]:
        return [c for c in hub.world.github.comments.values()
                if c["issue"] == number and c["body"].startswith(FAILURE_MARKER)]

    assert len(failure_comments()) == 1
    text = failure_comments()[0]["body"]
    assert "@demo-maintainer" in text and "output differs" in text
    review_prs(hub.settings, HUB_REPOSITORY)
    assert len(failure_comments()) == 1  # edited in place, never a second one
    fail_test(hub, MODEL, "1002", "passed")
    review_prs(hub.settings, HUB_REPOSITORY)
    assert len(failure_comments()) == 1 and "resolved" in failure_comments()[0]["body"]
    dataset = pulls_for(hub, DATASET)[0]["number"]
    assert not [c for c in hub.world.github.comments.values() if c["issue"] == dataset]


def test_a_closed_pull_request_gets_a_fresh_one_on_a_reset_branch(hub: Hub):
    review_prs(hub.settings, HUB_REPOSITORY)
    old = pulls_for(hub, MODEL)[0]
    old["state"] = "closed"
    records = {r["resource_id"]: r for r in review_prs(hub.settings, HUB_REPOSITORY)}
    assert records[MODEL]["action"] == "created" and records[MODEL]["number"] != old["number"]
    assert commits_on(hub.repo, branch_name(MODEL)) == 1  # reset to main, then one commit


def test_untrusted_rdf_content_is_escaped_and_bad_handles_dropped(hub: Hub):
    rdf_path = WorkDir(hub.settings.work_dir).rdf(MODEL, "1002")
    rdf = yamlio.load_yaml_file(rdf_path)
    rdf["maintainers"] = [{"github_user": "x <img src=y> @everyone"}, {"github_user": "good-one"}, "junk"]
    rdf_path.write_text(yamlio.dump_yaml(rdf))
    fail_test(hub, MODEL, "1002")
    result = WorkDir(hub.settings.work_dir).result(MODEL, "1002", "test-onnx")
    result.write_text(result.read_text().replace("output differs", "<script>alert(1)</script> | [x](javascript:y)"))
    review_prs(hub.settings, HUB_REPOSITORY)
    body = pulls_for(hub, MODEL)[0]["body"]
    assert "@good-one" in body and "<img" not in body and "@everyone" not in body
    assert "<script>" not in body and "\\<script\\>" in body and "\\[x\\]\\(javascript" in body
    assert md_text("a|b\nc") == "a\\|b c"


def test_bad_proposals_are_reported_and_the_rest_goes_on(hub: Hub, capsys: pytest.CaptureFixture[str]):
    bad = hub.settings.work_dir / "ledger" / "10.5281" / "zenodo.9" / "resource.yaml"
    bad.parent.mkdir(parents=True)
    bad.write_text("id: ../../etc\nversions: []\n")
    hub.world.github.fail(r"/pulls$", status=422, times=1)  # the first proposal's lookup is refused
    code = cli_main(["review-prs", *settings_flags(hub)])
    out = capsys.readouterr().out
    assert code == 1
    assert "::error title=review-prs::" in out and "zenodo.9/resource.yaml: field id" in out
    records = read_json(WorkDir(hub.settings.work_dir).health("review"))["pull_requests"]
    assert [r["action"] for r in records].count("failed") == 1
    assert [r["action"] for r in records].count("created") == 1


def test_dry_run_calls_no_api(hub: Hub, capsys: pytest.CaptureFixture[str]):
    hub.world.github.log.clear()
    assert cli_main(["review-prs", "--dry-run", *settings_flags(hub)]) == 0
    assert "would open or update review/10.5281-zenodo.1000" in capsys.readouterr().out
    assert not hub.world.github.log and not hub.world.github.pulls


def test_sticky_checks_comment_is_edited_in_place(hub: Hub, tmp_path: Path):
    review_prs(hub.settings, HUB_REPOSITORY)
    pull = pulls_for(hub, MODEL)[0]
    sha = subprocess.run(["git", "-C", str(hub.repo), "rev-parse", branch_name(MODEL)], capture_output=True,
                         text=True, check=True).stdout.strip()
    assert sticky_comment(hub.settings, HUB_REPOSITORY, sha, "first report") == f"#{pull['number']}: comment created"
    report = tmp_path / "report.md"
    report.write_text("## second report\n")
    assert cli_main(["review-prs", "--pr-comment", str(report), "--head-sha", sha, *settings_flags(hub)]) == 0
    sticky = [c for c in hub.world.github.comments.values() if c["body"].startswith(STICKY_MARKER)]
    assert len(sticky) == 1 and "second report" in sticky[0]["body"] and sticky[0]["issue"] == pull["number"]
    assert sticky_comment(hub.settings, HUB_REPOSITORY, "0" * 40, "x") == "no open pull request has this head commit"
    assert cli_main(["review-prs", "--pr-comment", str(report), "--head-sha", "main; rm -rf /",
                     *settings_flags(hub)]) == 1


def settings_flags(hub: Hub) -> list[str]:
    s = hub.settings
    return ["--github-api", s.github_api, "--work-dir", str(s.work_dir), "--repo-root", str(s.repo_root),
            "--http-retries", "0", "--site-url", s.site_url]
