"""Shared helpers for the partner tests: real local git repositories and a real work folder."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from collection_compiler.adapters import yamlio
from collection_compiler.adapters.files import sha256_bytes, write_json
from collection_compiler.catalogue.partners import Registration, TestSummaries
from collection_compiler.layout import WorkDir
from collection_compiler.settings import Settings

SHA_A = sha256_bytes(b"rdf a")
SHA_B = sha256_bytes(b"rdf b")
SHA_C = sha256_bytes(b"rdf c")


def git(repo: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.org", "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(repo),
           "PATH": "/usr/bin:/bin:/usr/local/bin"}
    done = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def make_repo(root: Path, repository: str, branches: dict[str, dict[str, Any]]) -> Path:
    """A git repo at `root/<owner>/<repo>` with one commit per branch; file values are text, bytes or
    `("link", target)` for a symbolic link."""
    repo = root / repository
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    for branch, files in branches.items():
        if branch != "main":
            git(repo, "checkout", "-q", "--orphan", branch)
            git(repo, "rm", "-rq", "--cached", "--ignore-unmatch", ".")
            for child in repo.iterdir():
                if child.name != ".git":
                    subprocess.run(["rm", "-rf", str(child)], check=True)
        for rel, content in files.items():
            path = repo / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, tuple):
                path.symlink_to(content[1])
            else:
                path.write_bytes(content if isinstance(content, bytes) else content.encode())
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "--allow-empty", "-m", f"{branch} content")
    git(repo, "checkout", "-q", "main")
    return repo


def summary_yaml(value: Any) -> str:
    return yamlio.dump_yaml(value)


def registration(partner_id: str, repository: str | None = None, folder: str = "test_summaries",
                 tested_types: tuple[str, ...] = ("model",), workflow: str | None = "test.yaml") -> Registration:
    repository = repository or f"{partner_id}/resources"
    return Registration(
        id=partner_id, name=partner_id.title(), repository=repository, branch="main",
        collection_file_name="collection.yaml",
        test_summaries=TestSummaries(repository, "gh-pages", folder, workflow, "refs/heads/main" if workflow else None),
        tested_types=tested_types)


def write_resources(work: WorkDir, versions: dict[str, list[tuple[str, str]]],
                    types: dict[str, str] | None = None) -> None:
    """resources.json with `rid -> [(vid, rdf_sha256), …]` (newest first)."""
    resources = {
        rid: {"id": rid, "type": (types or {}).get(rid, "model"), "name": rid, "source": "zenodo",
              "versions": [{"version_id": vid, "rdf_sha256": sha, "status": "accepted"} for vid, sha in vs]}
        for rid, vs in versions.items()}
    write_json(work.resources, {"resources": resources})


@pytest.fixture
def repos(tmp_path: Path) -> Path:
    root = tmp_path / "repos"
    root.mkdir()
    return root


@pytest.fixture
def settings(tmp_path: Path, repos: Path) -> Settings:
    return Settings(git_base=str(repos), work_dir=tmp_path / "work", out=tmp_path / "site",
                    site_url="https://example.org/collection", http_retries=1, http_backoff=0.01,
                    repo_root=tmp_path / "repo")


@pytest.fixture
def work(settings: Settings) -> WorkDir:
    return WorkDir(settings.work_dir)


@pytest.fixture
def h() -> Any:
    """The helpers above, for test modules (importlib mode cannot import conftest by name)."""
    import types

    return types.SimpleNamespace(git=git, make_repo=make_repo, summary_yaml=summary_yaml,
                                 registration=registration, write_resources=write_resources,
                                 SHA_A=SHA_A, SHA_B=SHA_B, SHA_C=SHA_C)
