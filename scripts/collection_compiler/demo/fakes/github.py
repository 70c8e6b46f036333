"""A fake GitHub (REST API and raw content) on 127.0.0.1, backed by real local git repositories.

`repos_root/<owner>/<repo>` (or `<repo>.git`) are git repositories; the same folder is the
`COLLECTION_GIT_BASE` for clones. Base URLs: API `<url>/api`, raw `<url>/raw`.
Workflow dispatches are recorded in `dispatches` (and answered with a configurable status per repository).

For review pull requests it also serves the Git refs API (read/create/update a branch), the Contents API
(read and commit one file to a branch, through git plumbing on the real repository), pull requests (list
with `head`/`state` filters, create, read, update), issue comments (list, create, edit) and labels. Pull
requests and comments live in memory (`pulls`, `comments`); branches and commits live in git.

The API enforces a rate limit (GitHub's hourly budget scaled to `api_limit` per `period` seconds) with GitHub's
headers and 429 answers; a commit answers with an `ETag`, and a request whose `If-None-Match` names the current
one gets 304, which costs no budget, as on GitHub.
"""

from __future__ import annotations

import base64
import itertools
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from collection_compiler.demo.fakes.server import FakeServer, Reply, Request

_REPO = r"([A-Za-z0-9_.\-]+)/([A-Za-z0-9_.\-]+)"


@dataclass
class Dispatch:
    repository: str
    workflow: str
    body: Any
    headers: dict[str, str]


API = r"^/api/"


class FakeGitHub(FakeServer):
    def __init__(self, repos_root: Path, latency: float = 0.0, api_limit: int = 100, period: int = 1):
        super().__init__(latency)
        self.limit(API, api_limit, period)
        self.repos_root = Path(repos_root)
        self.dispatches: list[Dispatch] = []
        self.dispatch_replies: dict[str, tuple[int, str]] = {}
        self.route("GET", rf"/api/repos/{_REPO}", self._repo)
        self.route("GET", rf"/api/repos/{_REPO}/commits/(.+)", self._commit)
        self.route("GET", rf"/api/repos/{_REPO}/branches/(.+)", self._branch)
        self.route("POST", rf"/api/repos/{_REPO}/actions/workflows/([^/]+)/dispatches", self._dispatch)
        self.route("GET", rf"/raw/{_REPO}/(.+)", self._raw)
        self.pulls: dict[int, dict[str, Any]] = {}
        self.comments: dict[int, dict[str, Any]] = {}
        self._numbers = itertools.count(1)
        self._comment_ids = itertools.count(1000)
        self.route("GET", rf"/api/repos/{_REPO}/git/ref/heads/(.+)", self._get_ref)
        self.route("POST", rf"/api/repos/{_REPO}/git/refs", self._create_ref)
        self.route("PATCH", rf"/api/repos/{_REPO}/git/refs/heads/(.+)", self._update_ref)
        self.route("GET", rf"/api/repos/{_REPO}/contents/(.+)", self._get_contents)
        self.route("PUT", rf"/api/repos/{_REPO}/contents/(.+)", self._put_contents)
        self.route("GET", rf"/api/repos/{_REPO}/pulls", self._list_pulls)
        self.route("POST", rf"/api/repos/{_REPO}/pulls", self._create_pull)
        self.route("GET", rf"/api/repos/{_REPO}/pulls/(\d+)", self._get_pull)
        self.route("PATCH", rf"/api/repos/{_REPO}/pulls/(\d+)", self._update_pull)
        self.route("GET", rf"/api/repos/{_REPO}/issues/(\d+)/comments", self._list_comments)
        self.route("POST", rf"/api/repos/{_REPO}/issues/(\d+)/comments", self._create_comment)
        self.route("PATCH", rf"/api/repos/{_REPO}/issues/comments/(\d+)", self._update_comment)
        self.route("POST", rf"/api/repos/{_REPO}/issues/(\d+)/labels", self._add_labels)

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

    def _commit(self, request: Request, m: re.Match[str]) -> Reply:
        repo = self.repo_dir(m[1], m[2])
        sha = self._sha(repo, m[3]) if repo else None
        if not sha:
            return Reply.json({"message": f"No commit found for SHA: {m[3]}"}, 422)
        etag = f'"{sha}"'
        if request.headers.get("if-none-match") == etag:
            return Reply(304, b"", {"ETag": etag})
        reply = Reply.json({"sha": sha, "commit": {"message": ""}})
        reply.headers["ETag"] = etag
        return reply

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

    # branches, files, pull requests, comments (review-prs) ----------------------------------------------
    def _repo_or_none(self, m: re.Match[str]) -> tuple[str, Path | None]:
        return f"{m[1]}/{m[2]}", self.repo_dir(m[1], m[2])

    def _get_ref(self, _: Request, m: re.Match[str]) -> Reply:
        _, repo = self._repo_or_none(m)
        sha = self._sha(repo, f"refs/heads/{m[3]}") if repo else None
        if not sha:
            return Reply.not_found()
        return Reply.json({"ref": f"refs/heads/{m[3]}", "object": {"sha": sha, "type": "commit"}})

    def _create_ref(self, request: Request, m: re.Match[str]) -> Reply:
        _, repo = self._repo_or_none(m)
        body = request.json() or {}
        ref, sha = str(body.get("ref", "")), str(body.get("sha", ""))
        if repo is None:
            return Reply.not_found()
        if not ref.startswith("refs/heads/") or not self._sha(repo, sha):
            return Reply.json({"message": "Invalid request"}, 422)
        if self._sha(repo, ref):
            return Reply.json({"message": "Reference already exists"}, 422)
        self._git(repo, "update-ref", ref, sha)
        return Reply.json({"ref": ref, "object": {"sha": sha, "type": "commit"}}, 201)

    def _update_ref(self, request: Request, m: re.Match[str]) -> Reply:
        _, repo = self._repo_or_none(m)
        body = request.json() or {}
        sha = self._sha(repo, str(body.get("sha", ""))) if repo else None
        if repo is None or not sha or not self._sha(repo, f"refs/heads/{m[3]}"):
            return Reply.json({"message": "Reference does not exist"}, 422)
        self._git(repo, "update-ref", f"refs/heads/{m[3]}", sha)
        return Reply.json({"ref": f"refs/heads/{m[3]}", "object": {"sha": sha, "type": "commit"}})

    def _blob(self, repo: Path, ref: str, path: str) -> str | None:
        out = self._git(repo, "rev-parse", "--verify", "--quiet", f"{ref}:{path}")
        return out.decode().strip() if out else None

    def _get_contents(self, request: Request, m: re.Match[str]) -> Reply:
        _, repo = self._repo_or_none(m)
        ref = request.query.get("ref", "main")
        blob = self._blob(repo, f"refs/heads/{ref}", m[3]) if repo and not ref.startswith("-") else None
        content = self._git(repo, "cat-file", "blob", blob) if repo and blob else None
        if content is None:
            return Reply.not_found()
        return Reply.json({"type": "file", "path": m[3], "sha": blob, "encoding": "base64",
                           "content": base64.b64encode(content).decode()})

    def _put_contents(self, request: Request, m: re.Match[str]) -> Reply:
        """Commit one file on a branch, as GitHub does: `sha` must name the current blob when the file exists."""
        _, repo = self._repo_or_none(m)
        body = request.json() or {}
        branch, path = str(body.get("branch") or "main"), m[3]
        head = self._sha(repo, f"refs/heads/{branch}") if repo else None
        if repo is None or head is None:
            return Reply.not_found("Branch not found")
        current = self._blob(repo, head, path)
        if current and body.get("sha") != current:
            return Reply.json({"message": f"{path} does not match {body.get('sha')}"}, 409)
        if not current and body.get("sha"):
            return Reply.json({"message": "sha given for a file that does not exist"}, 422)
        commit = self._commit_file(repo, head, path, base64.b64decode(body.get("content") or ""),
                                   str(body.get("message") or "update"))
        self._git(repo, "update-ref", f"refs/heads/{branch}", commit, head)
        return Reply.json({"content": {"path": path, "sha": self._blob(repo, commit, path)},
                           "commit": {"sha": commit}}, 200 if current else 201)

    def _commit_file(self, repo: Path, parent: str, path: str, data: bytes, message: str) -> str:
        def git(*args: str, stdin: bytes | None = None) -> str:
            env = {**os.environ, "GIT_INDEX_FILE": index, "GIT_AUTHOR_NAME": "fake", "GIT_AUTHOR_EMAIL": "f@x",
                   "GIT_COMMITTER_NAME": "fake", "GIT_COMMITTER_EMAIL": "f@x"}
            return subprocess.run(["git", "-C", str(repo), *args], input=stdin, env=env, check=True,
                                  capture_output=True).stdout.decode().strip()

        with tempfile.TemporaryDirectory() as tmp:
            index = str(Path(tmp) / "index")
            git("read-tree", parent)
            blob = git("hash-object", "-w", "--stdin", stdin=data)
            git("update-index", "--add", "--cacheinfo", f"100644,{blob},{path}")
            tree = git("write-tree")
            return git("commit-tree", tree, "-p", parent, "-m", message)

    def _pull_json(self, repository: str, pull: dict[str, Any]) -> dict[str, Any]:
        repo = self.repo_dir(*repository.split("/"))
        sha = self._sha(repo, f"refs/heads/{pull['head']}") if repo else None
        owner = repository.split("/")[0]
        return {**{k: v for k, v in pull.items() if k not in ("head", "base", "repository")},
                "head": {"ref": pull["head"], "label": f"{owner}:{pull['head']}", "sha": sha},
                "base": {"ref": pull["base"]},
                "html_url": f"{self.url}/{repository}/pull/{pull['number']}"}

    def _list_pulls(self, request: Request, m: re.Match[str]) -> Reply:
        repository, _ = self._repo_or_none(m)
        state, head = request.query.get("state", "open"), request.query.get("head")
        found = [self._pull_json(repository, p) for p in self.pulls.values() if p["repository"] == repository
                 and (state == "all" or p["state"] == state)
                 and (head is None or f"{m[1]}:{p['head']}" == head)]
        return Reply.json(found)

    def _create_pull(self, request: Request, m: re.Match[str]) -> Reply:
        repository, repo = self._repo_or_none(m)
        body = request.json() or {}
        head, base = str(body.get("head", "")), str(body.get("base", ""))
        if repo is None or not self._sha(repo, f"refs/heads/{head}") or not self._sha(repo, f"refs/heads/{base}"):
            return Reply.json({"message": "Validation Failed"}, 422)
        if any(p["repository"] == repository and p["head"] == head and p["state"] == "open"
               for p in self.pulls.values()):
            return Reply.json({"message": f"A pull request already exists for {m[1]}:{head}."}, 422)
        number = next(self._numbers)
        self.pulls[number] = {"number": number, "repository": repository, "head": head, "base": base,
                              "title": body.get("title", ""), "body": body.get("body", ""), "state": "open",
                              "labels": []}
        return Reply.json(self._pull_json(repository, self.pulls[number]), 201)

    def _find_pull(self, m: re.Match[str]) -> dict[str, Any] | None:
        pull = self.pulls.get(int(m[3]))
        return pull if pull and pull["repository"] == f"{m[1]}/{m[2]}" else None

    def _get_pull(self, _: Request, m: re.Match[str]) -> Reply:
        pull = self._find_pull(m)
        return Reply.json(self._pull_json(pull["repository"], pull)) if pull else Reply.not_found()

    def _update_pull(self, request: Request, m: re.Match[str]) -> Reply:
        pull = self._find_pull(m)
        if pull is None:
            return Reply.not_found()
        body = request.json() or {}
        pull.update({k: body[k] for k in ("title", "body", "state") if k in body})
        return Reply.json(self._pull_json(pull["repository"], pull))

    def _list_comments(self, _: Request, m: re.Match[str]) -> Reply:
        if self._find_pull(m) is None:
            return Reply.not_found()
        return Reply.json([c for c in self.comments.values() if c["issue"] == int(m[3])
                           and c["repository"] == f"{m[1]}/{m[2]}"])

    def _create_comment(self, request: Request, m: re.Match[str]) -> Reply:
        if self._find_pull(m) is None:
            return Reply.not_found()
        comment_id = next(self._comment_ids)
        self.comments[comment_id] = {"id": comment_id, "issue": int(m[3]), "repository": f"{m[1]}/{m[2]}",
                                     "body": (request.json() or {}).get("body", ""),
                                     "user": {"login": "github-actions[bot]"}}
        return Reply.json(self.comments[comment_id], 201)

    def _update_comment(self, request: Request, m: re.Match[str]) -> Reply:
        comment = self.comments.get(int(m[3]))
        if comment is None or comment["repository"] != f"{m[1]}/{m[2]}":
            return Reply.not_found()
        comment["body"] = (request.json() or {}).get("body", "")
        return Reply.json(comment)

    def _add_labels(self, request: Request, m: re.Match[str]) -> Reply:
        pull = self._find_pull(m)
        if pull is None:
            return Reply.not_found()
        for label in (request.json() or {}).get("labels") or []:
            if label not in pull["labels"]:
                pull["labels"].append(label)
        return Reply.json([{"name": label} for label in pull["labels"]])
