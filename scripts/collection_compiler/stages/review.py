"""`collection review-prs`: one review pull request per resource with proposed ledger changes.

For each `work/ledger/<rid>/resource.yaml` written by `update`, the branch `review/<rid with / as ->` gets
one commit setting `collection/<rid>/resource.yaml` (Git refs and Contents API); the open pull request of that
branch is found (`GET pulls?head=<owner>:<branch>&state=open`) and its body updated, or one is opened; never
a second one. The body holds a reviewer checklist, the new versions, a table of our test results and the
maintainers named in the RDFs. When a test failed, one comment (found again by its marker) tells the
maintainers. What was done is recorded in `work/health/review.json`.

`--pr-comment FILE --head-sha SHA` is the privileged half of the pull-request checks (`workflow_run`): it
posts FILE (Markdown produced by the unprivileged run, treated as text only) as one sticky comment on the open
pull request whose head is SHA, editing that comment on later runs.
"""

from __future__ import annotations

import argparse
import base64
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from collection_compiler.adapters import yamlio
from collection_compiler.adapters.files import read_json, write_json
from collection_compiler.adapters.http import FetchError, HttpClient
from collection_compiler.catalogue import ids
from collection_compiler.catalogue.results import read_results
from collection_compiler.errors import CollectionError, UsageError
from collection_compiler.layout import WorkDir
from collection_compiler.settings import Settings

log = logging.getLogger(__name__)

STAGE = "review"
BRANCH_PREFIX = "review/"
LABEL = "review"
FAILURE_MARKER = "<!-- collection-review: test failures -->"
STICKY_MARKER = "<!-- collection-pr-checks -->"
MAX_BODY_CHARS = 60_000  # GitHub refuses bodies over 65,536 characters
MAX_ROWS = 200
_GITHUB_USER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+!|~])")


class ReviewError(CollectionError):
    pass


# what to propose ---------------------------------------------------------------------------------------------

@dataclass
class TestRow:
    version_id: str
    check: str
    status: str
    error: str | None


@dataclass
class Proposal:
    resource_id: str
    name: str
    text: str  # the proposed resource.yaml
    new_versions: list[dict[str, Any]]
    maintainers: list[str]
    tests: list[TestRow] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(row.status == "failed" for row in self.tests)


def branch_name(rid: str) -> str:
    """`review/<rid>` with `/` (and anything else unusual) turned into `-`, so one flat branch per resource."""
    return BRANCH_PREFIX + re.sub(r"[^A-Za-z0-9._-]", "-", ids.check_path_id(rid, "resource id"))


def md_text(value: object, limit: int = 300) -> str:
    """Untrusted text for a Markdown table cell: one line, bounded, Markdown and HTML characters escaped."""
    text = " ".join(str(value).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return _MD_SPECIAL.sub(r"\\\1", text)


def maintainers_of(rdf: dict[str, Any]) -> list[str]:
    """GitHub user names from the RDF's `maintainers[].github_user`; anything that is not one is dropped."""
    found = []
    for person in rdf.get("maintainers") or []:
        user = person.get("github_user") if isinstance(person, dict) else None
        if isinstance(user, str) and _GITHUB_USER.match(user.strip().lstrip("@")):
            found.append(user.strip().lstrip("@"))
    return found


def _current_versions(repo_root: Path, rid: str) -> set[str]:
    path = repo_root / "collection" / rid / "resource.yaml"
    try:
        data = yamlio.load_yaml_file(path) if path.is_file() else {}
    except yamlio.YamlLoadError as e:
        log.warning("review: %s", e)
        return set()
    versions = data.get("versions") if isinstance(data, dict) else None
    return {str(v.get("version_id")) for v in versions or [] if isinstance(v, dict)}


def _rdf(work: WorkDir, rid: str, vid: str, previous: Path | None) -> dict[str, Any]:
    try:
        data = yamlio.load_yaml_file(work.version_rdf(rid, vid, previous))
    except (OSError, yamlio.YamlLoadError, ids.UnsafeIdError):
        return {}
    return data if isinstance(data, dict) else {}


def _first_error(details: list[dict[str, Any]]) -> str | None:
    for detail in details:
        if isinstance(detail, dict) and detail.get("status") == "failed":
            return str(detail.get("error") or detail.get("name") or "failed")
    return None


def test_rows(work: WorkDir, rid: str, version_ids: list[str]) -> list[TestRow]:
    rows = []
    for vid in version_ids:
        results = read_results(work, rid, vid)
        rows += [TestRow(vid, r.checker, r.status, _first_error(r.details)) for r in results]
        if not results:
            rows.append(TestRow(vid, "-", "untested", None))
    return rows


def load_proposal(settings: Settings, path: Path) -> Proposal:
    """The proposal in `path` (`work/ledger/<rid>/resource.yaml`): its id must match its folder."""
    work = WorkDir(settings.work_dir)
    data = yamlio.load_yaml_file(path)
    if not isinstance(data, dict):
        raise ReviewError(f"{path}: the top level must be a mapping")
    rid = ids.check_path_id(data.get("id"), f"{path}: field id")
    if work.ledger_proposal(rid) != path:
        raise ReviewError(f"{path}: field id: {rid!r} does not match its folder")
    known = _current_versions(settings.repo_root, rid)
    new = [v for v in data.get("versions") or [] if isinstance(v, dict) and str(v.get("version_id")) not in known]
    new_ids = [ids.check_path_id(str(v.get("version_id")), f"{path}: field versions.version_id") for v in new]
    resource = ((read_json(work.resources, {}) or {}).get("resources") or {}).get(rid) or {}
    maintainers: list[str] = []
    for vid in new_ids:
        maintainers += [m for m in maintainers_of(_rdf(work, rid, vid, settings.previous)) if m not in maintainers]
    return Proposal(rid, str(resource.get("name") or rid), path.read_text("utf-8"), new, maintainers,
                    test_rows(work, rid, new_ids))


def find_proposals(settings: Settings) -> tuple[list[Proposal], list[str]]:
    root = settings.work_dir / "ledger"
    proposals, errors = [], []
    for path in sorted(root.glob("**/resource.yaml")) if root.is_dir() else []:
        try:
            proposals.append(load_proposal(settings, path))
        except (ReviewError, ids.UnsafeIdError, yamlio.YamlLoadError, OSError) as e:
            errors.append(str(e))
    return proposals, errors


# what the pull request says ------------------------------------------------------------------------------------

def run_url() -> str | None:
    server, repository, run_id = (os.environ.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY",
                                                               "GITHUB_RUN_ID"))
    return f"{server}/{repository}/actions/runs/{run_id}" if server and repository and run_id else None


def pr_title(proposal: Proposal) -> str:
    count = len(proposal.new_versions)
    what = f"{count} new version{'s' if count != 1 else ''}" if count else "ledger update"
    return f"Review {proposal.resource_id}: {what}"[:250]


def pr_body(proposal: Proposal, site_url: str) -> str:
    rid = proposal.resource_id
    lines = [f"Proposed ledger changes for **{md_text(proposal.name)}** (`{rid}`).", "",
             "### Reviewer checklist", "",
             "- [ ] the resource is a genuine bioimage analysis resource (no spam, no personal data)",
             "- [ ] name, description, authors and license are meaningful",
             "- [ ] the documentation explains what the resource does and how to use it",
             "- [ ] the test results below are acceptable (or the failures are understood)",
             "- [ ] to refuse a version, set its `status: blocked` (and a `reason`) in `resource.yaml` before merging",
             "", "### New versions", ""]
    for version in proposal.new_versions or [{"version_id": "(none: other ledger changes)"}]:
        vid = md_text(version.get("version_id"))
        extra = ", ".join(md_text(f"{k}: {version[k]}") for k in ("version_name", "created", "doi") if version.get(k))
        link = f" ([rdf.yaml]({site_url}/rdfs/{rid}/{vid}/rdf.yaml))" if ids.is_safe_id(version.get("version_id")) \
            else ""
        lines.append(f"- `{vid}`{' (' + extra + ')' if extra else ''}{link}")
    lines += ["", "### Test results", ""] + _results_table(proposal.tests)
    mentions = " ".join(f"@{m}" for m in proposal.maintainers) or "none named in the RDF"
    lines += ["", f"Maintainers: {mentions}"]
    url = run_url()
    if url:
        lines += ["", f"Updated by [this run]({url})."]
    return _bounded("\n".join(lines) + "\n")


def _results_table(rows: list[TestRow]) -> list[str]:
    if not rows:
        return ["No results yet."]
    lines = ["| version | check | status | error |", "|---|---|---|---|"]
    for row in rows[:MAX_ROWS]:
        icon = {"passed": "✔️", "valid-format": "✔️", "failed": "❌"}.get(row.status, "➖")
        lines.append(f"| {md_text(row.version_id)} | {md_text(row.check)} | {icon} {md_text(row.status)} | "
                     f"{md_text(row.error) if row.error else ''} |")
    if len(rows) > MAX_ROWS:
        lines.append(f"\n… and {len(rows) - MAX_ROWS} more rows.")
    return lines


def failure_comment(proposal: Proposal) -> str:
    mentions = " ".join(f"@{m}" for m in proposal.maintainers) or "Maintainers (none named in the RDF)"
    failed = [row for row in proposal.tests if row.status == "failed"]
    lines = [FAILURE_MARKER, f"{mentions}: some tests of the new versions of `{proposal.resource_id}` failed.", "",
             *_results_table(failed), "",
             "Please upload a fixed version, or tell the reviewers why these failures are expected."]
    url = run_url()
    if url:
        lines += ["", f"Details: [run]({url})."]
    return _bounded("\n".join(lines) + "\n")


def resolved_comment(proposal: Proposal) -> str:
    return f"{FAILURE_MARKER}\nThe earlier test failures of `{proposal.resource_id}` are resolved: all tests pass.\n"


def _bounded(text: str) -> str:
    return text if len(text) <= MAX_BODY_CHARS else text[:MAX_BODY_CHARS] + "\n\n… (truncated)\n"


# the GitHub API -----------------------------------------------------------------------------------------------

class GitHubRepo:
    """The few REST calls review-prs needs, on one repository."""

    def __init__(self, http: HttpClient, api: str, repository: str):
        owner, _, name = repository.partition("/")
        if not (owner and name and re.fullmatch(r"[A-Za-z0-9_.-]+", owner) and re.fullmatch(r"[A-Za-z0-9_.-]+", name)):
            raise ReviewError(f"GITHUB_REPOSITORY {repository!r} is not owner/name")
        self.http, self.owner, self.base = http, owner, f"{api}/repos/{owner}/{name}"

    def _call(self, method: str, path: str, ok: tuple[int, ...] = (200,), **kwargs: Any) -> Any:
        response = self.http.request(method, self.base + path, ok=ok, max_bytes=20_000_000, token=True,
                                     headers={"Accept": "application/vnd.github+json"}, **kwargs)
        return response.json() if response.content else None

    def default_branch(self) -> str:
        return str(self._call("GET", "")["default_branch"])

    def branch_sha(self, branch: str) -> str | None:
        try:
            return self._call("GET", f"/git/ref/heads/{quote(branch)}")["object"]["sha"]
        except FetchError as e:
            if e.status == 404:
                return None
            raise

    def create_branch(self, branch: str, sha: str) -> None:
        self._call("POST", "/git/refs", ok=(201,), json={"ref": f"refs/heads/{branch}", "sha": sha})

    def reset_branch(self, branch: str, sha: str) -> None:
        self._call("PATCH", f"/git/refs/heads/{quote(branch)}", json={"sha": sha, "force": True})

    def file(self, path: str, ref: str) -> tuple[str | None, bytes | None]:
        try:
            found = self._call("GET", f"/contents/{quote(path)}", params={"ref": ref})
        except FetchError as e:
            if e.status == 404:
                return None, None
            raise
        return found["sha"], base64.b64decode(found.get("content") or "")

    def put_file(self, path: str, branch: str, content: bytes, message: str, sha: str | None) -> None:
        payload = {"message": message, "branch": branch, "content": base64.b64encode(content).decode()}
        if sha:
            payload["sha"] = sha
        self._call("PUT", f"/contents/{quote(path)}", ok=(200, 201), json=payload)

    def open_pulls(self, head_branch: str | None = None) -> list[dict[str, Any]]:
        params = {"state": "open", "per_page": "100"}
        if head_branch:
            params["head"] = f"{self.owner}:{head_branch}"
        return list(self._call("GET", "/pulls", params=params) or [])

    def create_pull(self, branch: str, base: str, title: str, body: str) -> dict[str, Any]:
        return self._call("POST", "/pulls", ok=(201,), json={"title": title, "head": branch, "base": base,
                                                              "body": body, "maintainer_can_modify": True})

    def update_pull(self, number: int, title: str, body: str) -> None:
        self._call("PATCH", f"/pulls/{number}", json={"title": title, "body": body})

    def add_labels(self, number: int, labels: list[str]) -> None:
        self._call("POST", f"/issues/{number}/labels", json={"labels": labels})

    def comments(self, number: int) -> list[dict[str, Any]]:
        return list(self._call("GET", f"/issues/{number}/comments", params={"per_page": "100"}) or [])

    def upsert_comment(self, number: int, marker: str, body: str, create: bool = True) -> str | None:
        """Edit the comment that starts with `marker`, or post one (when `create`); None when nothing was done."""
        for comment in self.comments(number):
            if str(comment.get("body") or "").startswith(marker):
                if comment.get("body") == body:
                    return "unchanged"
                self._call("PATCH", f"/issues/comments/{int(comment['id'])}", json={"body": body})
                return "updated"
        if not create:
            return None
        self._call("POST", f"/issues/{number}/comments", ok=(201,), json={"body": body})
        return "created"


# doing it ------------------------------------------------------------------------------------------------------

def review_one(repo: GitHubRepo, base: str, proposal: Proposal, site_url: str) -> dict[str, Any]:
    branch = branch_name(proposal.resource_id)
    record: dict[str, Any] = {"resource_id": proposal.resource_id, "branch": branch,
                              "new_versions": [str(v.get("version_id")) for v in proposal.new_versions],
                              "tests_failed": proposal.failed, "maintainers": proposal.maintainers}
    existing = repo.open_pulls(branch)
    base_sha = repo.branch_sha(base)
    if base_sha is None:
        raise ReviewError(f"base branch {base!r} not found")
    head_sha = repo.branch_sha(branch)
    if head_sha is None:
        repo.create_branch(branch, base_sha)
    elif not existing:
        repo.reset_branch(branch, base_sha)  # a leftover branch of a closed pull request: start afresh
    path = f"collection/{proposal.resource_id}/resource.yaml"
    sha, content = repo.file(path, branch)
    record["committed"] = content != proposal.text.encode("utf-8")
    if record["committed"]:
        repo.put_file(path, branch, proposal.text.encode("utf-8"), pr_title(proposal), sha)
    title, body = pr_title(proposal), pr_body(proposal, site_url)
    if existing:
        pull = existing[0]
        changed = pull.get("body") != body or pull.get("title") != title
        if changed:
            repo.update_pull(int(pull["number"]), title, body)
        record["action"] = "updated" if changed or record["committed"] else "unchanged"
    else:
        pull = repo.create_pull(branch, base, title, body)
        repo.add_labels(int(pull["number"]), [LABEL])
        record["action"] = "created"
    record["number"], record["url"] = int(pull["number"]), pull.get("html_url")
    if proposal.failed:
        record["comment"] = repo.upsert_comment(record["number"], FAILURE_MARKER, failure_comment(proposal))
    else:
        record["comment"] = repo.upsert_comment(record["number"], FAILURE_MARKER, resolved_comment(proposal),
                                                create=False)
    return record


def review_prs(settings: Settings, repository: str, dry_run: bool = False) -> list[dict[str, Any]]:
    """Open or update the review pull request of every proposal; one failure never stops the others."""
    proposals, errors = find_proposals(settings)
    records: list[dict[str, Any]] = [{"error": e, "action": "skipped"} for e in errors]
    if dry_run:
        records += [{"resource_id": p.resource_id, "branch": branch_name(p.resource_id), "action": "dry-run",
                     "title": pr_title(p), "body": pr_body(p, settings.site_url), "tests_failed": p.failed}
                    for p in proposals]
        return records
    with HttpClient(settings) as http:
        repo = GitHubRepo(http, settings.github_api, repository)
        base = repo.default_branch() if proposals else ""
        for proposal in proposals:
            try:
                records.append(review_one(repo, base, proposal, settings.site_url))
            except (FetchError, ReviewError, KeyError, TypeError, ValueError) as e:
                records.append({"resource_id": proposal.resource_id, "action": "failed", "error": str(e)})
    write_json(WorkDir(settings.work_dir).health(STAGE), {"stage": STAGE, "pull_requests": records})
    return records


def sticky_comment(settings: Settings, repository: str, head_sha: str, text: str) -> str:
    """Post or edit the one checks comment on the open pull request whose head commit is `head_sha`."""
    if not re.fullmatch(r"[0-9a-f]{40}", head_sha):
        raise ReviewError(f"--head-sha {head_sha!r} is not a commit id")
    with HttpClient(settings) as http:
        repo = GitHubRepo(http, settings.github_api, repository)
        pulls = [p for p in repo.open_pulls() if (p.get("head") or {}).get("sha") == head_sha]
        if not pulls:
            return "no open pull request has this head commit"
        body = _bounded(f"{STICKY_MARKER}\n{text.strip()}\n")
        number = int(pulls[0]["number"])
        return f"#{number}: comment {repo.upsert_comment(number, STICKY_MARKER, body)}"


def read_report(path: Path, run_link: str | None = None) -> str:
    """The Markdown of an unprivileged run: a file, or the sorted `*.md` files of a folder (read as text only)."""
    files = sorted(p for p in path.glob("*.md") if p.is_file() and not p.is_symlink()) if path.is_dir() else [path]
    parts = [p.read_text("utf-8", errors="replace")[:MAX_BODY_CHARS] for p in files]
    text = "\n\n".join(part.strip() for part in parts if part.strip()) or "No report was produced."
    if run_link and re.fullmatch(r"https://[A-Za-z0-9./_-]+|http://127\.0\.0\.1[A-Za-z0-9:./_-]*", run_link):
        text += f"\n\n[Checks run]({run_link})"
    return text


# command -------------------------------------------------------------------------------------------------------

def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="print what would be done; no API calls")
    parser.add_argument("--pr-comment", type=Path, metavar="PATH",
                        help="instead: post PATH (a Markdown file, or a folder of *.md) as the sticky checks comment "
                             "of a pull request")
    parser.add_argument("--head-sha", help="with --pr-comment: the pull request's head commit")
    parser.add_argument("--run-url", help="with --pr-comment: the checks run to link")
    parser.epilog = "Repository from GITHUB_REPOSITORY, token from GITHUB_TOKEN, API base from --github-api."


def main(args: argparse.Namespace, settings: Settings) -> int:
    repository = os.environ.get("GITHUB_REPOSITORY", "")
    if not repository and not args.dry_run:
        raise UsageError("GITHUB_REPOSITORY is not set", hint="set it to owner/name, or pass --dry-run")
    if args.pr_comment:
        text = read_report(args.pr_comment, args.run_url)
        print(sticky_comment(settings, repository, args.head_sha or "", text))
        return 0
    records = review_prs(settings, repository, args.dry_run)  # a ReviewError or FetchError ends at the CLI boundary
    for record in records:
        _report(record, args.dry_run)
    if not records:
        print("review-prs: no ledger proposals")
    return 1 if any(r.get("action") in ("failed", "skipped") for r in records) else 0


def _report(record: dict[str, Any], dry_run: bool) -> None:
    if record.get("action") in ("failed", "skipped"):
        print(f"::error title=review-prs::{record.get('resource_id', '')} {record['error']}".replace("\n", " "))
    elif dry_run:
        print(f"{record['resource_id']}: would open or update {record['branch']}: {record['title']}")
    else:
        print(f"{record['resource_id']}: pull request #{record['number']} {record['action']}"
              f"{', test failures reported' if record['tests_failed'] else ''}")
