"""`collection deploy`: publish the built tree to a branch (gh-pages) of a git remote as one commit.

If the remote branch moved while we worked, fetch it and try again. A tree that lost more than the template's
`config.publication.max_resource_loss` share of the previous deploy's distinct resource ids is refused unless
forced, and so is any deploy over a tree whose collection.json cannot be read.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import git

from collection_compiler.catalogue.templates import Publication, load_template
from collection_compiler.errors import CollectionError, UsageError
from collection_compiler.settings import Settings

COMMITTER = ("bioimage.io bot", "bot@bioimage.io")


class DeployRefused(RuntimeError):
    pass


@dataclass
class DeployResult:
    commit: str | None
    changed: bool
    attempts: int


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--remote", help="git remote URL or local path (default: <git-base>/$GITHUB_REPOSITORY.git)")
    parser.add_argument("--branch", default="gh-pages")
    parser.add_argument("--message", default="Deploy collection")
    parser.add_argument("--force", action="store_true", help="deploy even if many resources disappeared")


def main(args: argparse.Namespace, settings: Settings) -> int:
    remote = args.remote or _default_remote(settings)
    if not remote:
        raise UsageError("no --remote and no GITHUB_REPOSITORY to derive it from", hint="give --remote URL")
    max_loss = Publication.from_template(load_template(settings.repo_root)).max_resource_loss
    try:
        result = deploy(settings.out, remote, args.branch, args.message, max_loss, args.force, settings.github_token)
    except DeployRefused as e:
        raise CollectionError(f"deploy refused: {e}", hint="check health.json for a failed source first; "
                              "--force deploys anyway") from e
    print(f"deploy: {'commit ' + (result.commit or '')[:12] if result.changed else 'nothing changed'}"
          f" ({result.attempts} attempt(s))")
    return 0


def _default_remote(settings: Settings) -> str | None:
    repository = os.environ.get("GITHUB_REPOSITORY")
    return settings.clone_url(repository) if repository else None


def _resource_ids(tree: Path) -> set[str] | None:
    """The distinct resource ids of a tree's collection.json (repeated entries must not pad the count), or None
    when it is missing or not a collection."""
    try:
        entries = json.loads((tree / "collection.json").read_text("utf-8")).get("collection")
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(entries, list):
        return None
    return {e["id"] for e in entries if isinstance(e, dict) and isinstance(e.get("id"), str)}


def check_loss(new_tree: Path, old_tree: Path, max_loss: float) -> None:
    before, after = _resource_ids(old_tree), _resource_ids(new_tree)
    if after is None:
        raise DeployRefused(f"{new_tree}/collection.json is missing or unreadable")
    if before is None and _was_published(old_tree):  # what would be lost is unknown: a person decides
        raise DeployRefused("the deployed tree's collection.json is missing or unreadable, so the loss of "
                            "resources cannot be checked (use --force if this is intended)")
    if before and len(after) < len(before) * (1 - max_loss):
        raise DeployRefused(f"the new tree has {len(after)} resources, the deployed one {len(before)}: more than "
                            f"{max_loss:.0%} would disappear (use --force if this is intended)")


def _was_published(tree: Path) -> bool:
    """Whether a tree ever held a collection: a branch made for the first deploy (an empty orphan commit, a
    README) has neither collection.json nor rdfs/."""
    return (tree / "collection.json").exists() or (tree / "rdfs").exists()


def _replace_tree(worktree: Path, site: Path) -> None:
    for item in worktree.iterdir():
        if item.name != ".git":
            shutil.rmtree(item) if item.is_dir() and not item.is_symlink() else item.unlink()
    shutil.copytree(site, worktree, dirs_exist_ok=True, symlinks=False)


def _auth(repo: git.Repo, remote: str, token: str) -> None:
    """Send the token as a header (as actions/checkout does), so it never appears in a URL or a log."""
    if token and remote.startswith("https://"):
        basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
        host = "/".join(remote.split("/")[:3]) + "/"
        repo.git.config(f"http.{host}.extraheader", f"AUTHORIZATION: basic {basic}")


def deploy(site: Path, remote: str, branch: str = "gh-pages", message: str = "Deploy collection",
           max_loss: float = 0.2, force: bool = False, token: str = "", attempts: int = 3) -> DeployResult:
    site = Path(site).resolve()
    with tempfile.TemporaryDirectory(prefix="deploy-") as tmp:
        repo = git.Repo.init(tmp)
        _auth(repo, remote, token)
        origin = repo.create_remote("origin", remote)
        with repo.config_writer() as config:
            config.set_value("user", "name", COMMITTER[0])
            config.set_value("user", "email", COMMITTER[1])
        for attempt in range(1, attempts + 1):
            exists = _fetch(origin, branch)
            if exists:
                repo.git.checkout("-B", branch, f"origin/{branch}", "--force")
                if not force:
                    check_loss(site, Path(tmp), max_loss)
            else:
                repo.git.checkout("--orphan", branch)
            _replace_tree(Path(tmp), site)
            repo.git.add("--all", "--force")
            if exists and not repo.is_dirty(index=True, working_tree=False, untracked_files=False):
                return DeployResult(repo.head.commit.hexsha, False, attempt)
            repo.git.commit("--quiet", "--no-verify", "-m", message)
            try:
                origin.push(f"refs/heads/{branch}:refs/heads/{branch}").raise_if_error()
                return DeployResult(repo.head.commit.hexsha, True, attempt)
            except git.GitCommandError:
                if attempt == attempts:
                    raise
    raise AssertionError("unreachable")


def _fetch(origin: git.Remote, branch: str) -> bool:
    try:
        origin.fetch(f"+refs/heads/{branch}:refs/remotes/origin/{branch}", depth=1)
    except git.GitCommandError as e:
        if "couldn't find remote ref" in str(e).lower() or "not found" in str(e).lower():
            return False
        raise
    return True
