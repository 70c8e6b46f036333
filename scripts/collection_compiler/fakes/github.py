"""A fake GitHub (REST API and raw content) on 127.0.0.1, backed by real local git repositories.

`repos_root/<owner>/<repo>` (or `<repo>.git`) are git repositories; the same folder is the
`COLLECTION_GIT_BASE` for clones. Base URLs: API `<url>/api`, raw `<url>/raw`.
Workflow dispatches are recorded in `dispatches` (and answered with a configurable status per repository).
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .server import FakeServer, Reply, Request

_REPO = r"([A-Za-z0-9_.\-]+)/([A-Za-z0-9_.\-]+)"


@dataclass
class Dispatch:
    repository: str
    workflow: str
    body: Any
    headers: dict[str, str]


class FakeGitHub(FakeServer):
    def __init__(self, repos_root: Path, latency: float = 0.0):
        super().__init__(latency)
        self.repos_root = Path(repos_root)
        self.dispatches: list[Dispatch] = []
        self.dispatch_replies: dict[str, tuple[int, str]] = {}
        self.route("GET", rf"/api/repos/{_REPO}", self._repo)
        self.route("GET", rf"/api/repos/{_REPO}/commits/(.+)", self._commit)
        self.route("GET", rf"/api/repos/{_REPO}/branches/(.+)", self._branch)
        self.route("POST", rf"/api/repos/{_REPO}/actions/workflows/([^/]+)/dispatches", self._dispatch)
        self.route("GET", rf"/raw/{_REPO}/(.+)", self._raw)

    @property
    def api(self) -> str:
        return self.url + "/api"

    @property
    def raw(self) -> str:
        return self.url + "/raw"

    # git access ----------------------------------------------------------------------------------------
    def repo_dir(self, owner: str, name: str) -> Path | None:
        for candidate in (self.repos_root / owner / name, self.repos_root / owner / f"{name}.git"):
            if candidate.is_dir():
                return candidate
        return None

    @staticmethod
    def _git(repo: Path, *args: str) -> bytes | None:
        done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=False)
        return done.stdout if done.returncode == 0 else None

    def _sha(self, repo: Path, ref: str) -> str | None:
        if ref.startswith("-"):
            return None
        out = self._git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
        return out.decode().strip() if out else None

    # handlers ------------------------------------------------------------------------------------------
    def _repo(self, _: Request, m: re.Match[str]) -> Reply:
        repo = self.repo_dir(m[1], m[2])
        if repo is None:
            return Reply.not_found()
        return Reply.json({"full_name": f"{m[1]}/{m[2]}", "default_branch": "main", "private": False})

    def _commit(self, _: Request, m: re.Match[str]) -> Reply:
        repo = self.repo_dir(m[1], m[2])
        sha = self._sha(repo, m[3]) if repo else None
        return Reply.json({"sha": sha, "commit": {"message": ""}}) if sha else Reply.json(
            {"message": f"No commit found for SHA: {m[3]}"}, 422)

    def _branch(self, _: Request, m: re.Match[str]) -> Reply:
        repo = self.repo_dir(m[1], m[2])
        sha = self._sha(repo, f"refs/heads/{m[3]}") if repo else None
        return Reply.json({"name": m[3], "commit": {"sha": sha}}) if sha else Reply.not_found("Branch not found")

    def _raw(self, _: Request, m: re.Match[str]) -> Reply:
        repo = self.repo_dir(m[1], m[2])
        if repo is None:
            return Reply(404, b"404: Not Found")
        parts = m[3].split("/")
        for cut in range(1, len(parts)):  # branch names may contain slashes: try each split
            branch, path = "/".join(parts[:cut]), "/".join(parts[cut:])
            if self._sha(repo, f"refs/heads/{branch}"):
                content = self._git(repo, "show", f"refs/heads/{branch}:{path}")
                return Reply(200, content, {"Content-Type": "text/plain"}) if content is not None else Reply(
                    404, b"404: Not Found")
        return Reply(404, b"404: Not Found")

    def _dispatch(self, request: Request, m: re.Match[str]) -> Reply:
        repository = f"{m[1]}/{m[2]}"
        self.dispatches.append(Dispatch(repository, m[3], request.json(), request.headers))
        status, message = self.dispatch_replies.get(repository, (204, ""))
        return Reply(status) if status == 204 else Reply.json({"message": message}, status)
