"""`collection check-partners` against the fake GitHub serving real local partner repositories."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from collection_compiler import cli
from collection_compiler.adapters import yamlio
from collection_compiler.demo.fakes.github import FakeGitHub
from collection_compiler.settings import Settings
from collection_compiler.stages.check_partners import check_partners, markdown

COLLECTION = {
    "format_version": "0.2.3", "type": "collection", "name": "Acme", "description": "Acme resources",
    "authors": [{"name": "A. Author"}], "cite": [{"text": "Acme", "doi": "10.1234/acme"}], "license": "MIT",
    "tags": ["acme"], "documentation": "README.md",
    "collection": [
        {"id": "app", "format_version": "0.2.3", "type": "application", "name": "Acme app", "description": "An app",
         "source": "https://example.org/app.html"},
        {"id": "data", "rdf_source": "datasets/data/rdf.yaml"},  # entries declare their own format_version
        {"id": "broken", "format_version": "0.2.3", "type": "dataset", "name": "Broken", "cite": "not a list"},
        {"id": "../escape", "type": "dataset", "name": "Escape"},
    ],
}
DATASET = {"format_version": "0.2.3", "type": "dataset", "name": "Acme data",
           "description": "Images <script>alert(1)</script>"}


def registration_yaml(partner_id: str, repository: str, summaries_branch: str | None = "gh-pages") -> str:
    data = {"id": partner_id, "name": partner_id.title(), "repository": repository, "branch": "main",
            "collection_file_name": "collection.yaml"}
    if summaries_branch:
        data["test_summaries"] = {"repository": repository, "deploy_branch": summaries_branch,
                                  "deploy_folder": "test_summaries", "workflow": "test.yaml"}
    return yamlio.dump_yaml(data)


@pytest.fixture
def github(repos: Path) -> Iterator[FakeGitHub]:
    with FakeGitHub(repos) as server:
        yield server


@pytest.fixture
def check_settings(settings: Settings, github: FakeGitHub, repos: Path, h) -> Settings:
    h.make_repo(repos, "acme/models", {
        "main": {"collection.yaml": yamlio.dump_yaml(COLLECTION), "datasets/data/rdf.yaml": yamlio.dump_yaml(DATASET)},
        "gh-pages": {"test_summaries/.keep": ""}})
    h.make_repo(repos, "good/models", {"main": {"collection.yaml": yamlio.dump_yaml(
        {**COLLECTION, "collection": COLLECTION["collection"][:2]}),
        "datasets/data/rdf.yaml": yamlio.dump_yaml(DATASET)}})
    folder = settings.repo_root / "partners"
    folder.mkdir(parents=True)
    (folder / "acme.yaml").write_text(registration_yaml("acme", "acme/models"))
    (folder / "good.yaml").write_text(registration_yaml("good", "good/models", summaries_branch=None))
    return settings.with_overrides(github_api=github.api, github_raw=github.raw)


def rows_of(report) -> dict[str, tuple[str, str]]:
    return {r.item: (r.status, r.message) for r in report.rows}


def test_valid_partner_passes(check_settings: Settings) -> None:
    [report] = check_partners(check_settings, [check_settings.repo_root / "partners" / "good.yaml"])
    assert not report.failed, report.rows
    assert set(rows_of(report)) == {"registration", "collection.yaml", "good/app", "good/data"}
    assert rows_of(report)["collection.yaml"] == ("passed", "2 entries")


def test_bad_entries_and_missing_branch_fail_with_one_row_each(check_settings: Settings, repos: Path, h) -> None:
    h.git(repos / "acme/models", "branch", "-D", "gh-pages")
    [report] = check_partners(check_settings, [check_settings.repo_root / "partners" / "acme.yaml"])
    rows = rows_of(report)
    assert report.failed
    assert rows["acme/app"][0] == "passed" and rows["acme/data"][0] == "passed"
    assert rows["acme/broken"][0] == "failed" and rows["acme/broken"][1].startswith("cite")
    assert rows["entry 3"][0] == "failed" and "entry id '../escape'" in rows["entry 3"][1]
    assert rows["acme/models@gh-pages"] == ("failed", "test_summaries: repository or branch not found (HTTP 404: "
                                                      "Branch not found)")


def test_invalid_registration_and_duplicate_id(check_settings: Settings) -> None:
    folder = check_settings.repo_root / "partners"
    (folder / "copy.yaml").write_text(registration_yaml("acme", "acme/models"))
    (folder / "nameless.yaml").write_text("id: nameless\nrepository: x/y\n")
    reports = {r.path.name: r for r in check_partners(check_settings, sorted(folder.glob("*.yaml")))}
    assert "is also declared by" in rows_of(reports["acme.yaml"])["registration"][1]
    assert "must equal the file name" in rows_of(reports["copy.yaml"])["registration"][1]
    assert "field (top level): 'name' is a required property" in rows_of(reports["nameless.yaml"])["registration"][1]
    assert not reports["good.yaml"].failed


def test_unreachable_collection_is_an_error(check_settings: Settings, repos: Path) -> None:
    path = check_settings.repo_root / "partners" / "gone.yaml"
    path.write_text(registration_yaml("gone", "gone/models", summaries_branch=None))
    [report] = check_partners(check_settings, [path])
    assert rows_of(report)["collection.yaml"][0] == "failed"
    assert "HTTP 404" in rows_of(report)["collection.yaml"][1]


def test_markdown_escapes_stranger_text() -> None:
    from collection_compiler.stages.check_partners import PartnerReport, Row

    report = PartnerReport(Path("partners/x.yaml"), "x", [Row("a|b", "entry", "failed", "<img src=x> `code`\nnext")])
    text = markdown([report])
    assert "| a\\|b | entry | failed | &lt;img src=x&gt; \\`code\\` next |" in text
    assert "❌ failed" in text


def test_command_writes_job_summary_and_exit_code(check_settings: Settings, monkeypatch, tmp_path: Path,
                                                 capsys) -> None:
    summary = tmp_path / "step_summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    base = ["check-partners", "--repo-root", str(check_settings.repo_root), "--github-api", check_settings.github_api,
            "--github-raw", check_settings.github_raw, "--http-retries", "0"]
    good = str(check_settings.repo_root / "partners" / "good.yaml")
    assert cli.main([*base, good]) == 0
    assert "✅ passed" in summary.read_text()
    assert cli.main(base) == 1  # all of partners/: acme has a broken entry
    out = capsys.readouterr().out
    assert "| acme/broken | dataset | failed |" in out
