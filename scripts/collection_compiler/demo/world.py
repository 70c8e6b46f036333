"""`collection demo`: the whole pipeline offline, on bundled sample sources.

A fake Zenodo and a fake GitHub (API and raw) are served on 127.0.0.1 by the same code the tests use, the
partners' repositories are real local git repositories, and the models are tiny real ones.
`DemoWorld` builds that world; the tests build variations of it.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from collection_compiler.demo.fakes.github import FakeGitHub
from collection_compiler.demo.fakes.zenodo import FakeRecord, FakeZenodo
from collection_compiler.settings import Settings

KEYWORDS = ["bioimage.io"]


def demo_data() -> Path:
    return Path(str(resources.files("collection_compiler").joinpath("demo", "data")))


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def git_commit_tree(repo: Path, branch: str, content: Path | None, message: str = "update") -> str:
    """Commit the files of `content` as the whole tree of `branch` in `repo` (both created if needed)."""
    def git(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", "-C", str(repo), *args], check=check, capture_output=True, text=True)

    if not (repo / ".git").exists():
        repo.mkdir(parents=True, exist_ok=True)
        git("init", "-q", "-b", branch)
        git("config", "user.email", "demo@example.org")
        git("config", "user.name", "demo")
    elif git("rev-parse", "--verify", "--quiet", f"refs/heads/{branch}", check=False).returncode == 0:
        git("checkout", "-q", "-f", branch)
    else:
        git("checkout", "-q", "--orphan", branch)
    for item in repo.iterdir():
        if item.name != ".git":
            shutil.rmtree(item) if item.is_dir() else item.unlink()
    if content is not None:
        shutil.copytree(content, repo, dirs_exist_ok=True)
    git("add", "-A")
    git("commit", "-q", "--allow-empty", "-m", message)
    return git("rev-parse", "HEAD").stdout.strip()


@dataclass
class DemoWorld:
    """Fake services, partner repositories and a hub checkout in `root`."""

    root: Path
    latency: float = 0.0
    zenodo: FakeZenodo = field(init=False)
    github: FakeGitHub = field(init=False)

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.hub = self.root / "hub"
        self.repos = self.root / "repos"
        self.zenodo = FakeZenodo(self.latency)
        self.github = FakeGitHub(self.repos, self.latency)

    # building -----------------------------------------------------------------------------------------
    def populate(self) -> DemoWorld:
        data = demo_data()
        shutil.copytree(data / "hub", self.hub, dirs_exist_ok=True)
        self.add_model_versions()
        self.zenodo.add(FakeRecord(2001, 2000, "2024-03-01T09:00:00+00:00", KEYWORDS, _files(data / "dataset"),
                                   "Demo Nuclei Images", "1", unique_downloads=7))
        self.zenodo.add(FakeRecord(3001, 3000, "2024-03-02T09:00:00+00:00", KEYWORDS,
                                   {"README.md": b"# no RDF here\n"}, "A record without RDF"))
        self.zenodo.add(FakeRecord(4001, 4000, "2024-03-03T09:00:00+00:00", [*KEYWORDS, "backup.bioimage.io"],
                                   _files(data / "dataset"), "A backup record"))
        self.zenodo.add(FakeRecord(5001, 5000, "2024-03-04T09:00:00+00:00", KEYWORDS,
                                   {"rdf.yaml": b"name: [unclosed\n"}, "Malformed RDF"))
        self.zenodo.add(FakeRecord(6001, 6000, "2024-03-05T09:00:00+00:00", KEYWORDS, _files(data / "dataset"),
                                   "Blocked in the ledger"))
        for owner_repo in ("ilastik/bioimage-io-resources", "HenriquesLab/ZeroCostDL4Mic"):
            for branch_dir in sorted((data / "partners" / owner_repo).iterdir()):
                git_commit_tree(self.repos / owner_repo, branch_dir.name, branch_dir)
        return self

    def add_model_versions(self) -> None:
        models = demo_data() / "models"
        self.zenodo.add(FakeRecord(1001, 1000, "2024-01-01T10:00:00+00:00", KEYWORDS, _files(models / "tiny-v1"),
                                   "Tiny Nuclei Segmenter", "1.0.0", unique_downloads=40))
        self.zenodo.add(FakeRecord(1002, 1000, "2024-02-01T10:00:00+00:00", KEYWORDS, _files(models / "tiny-v2"),
                                   "Tiny Nuclei Segmenter", "2.0.0", unique_downloads=42))

    # running ------------------------------------------------------------------------------------------
    def start(self) -> DemoWorld:
        self.zenodo.start()
        self.github.start()
        return self

    def stop(self) -> None:
        self.zenodo.stop()
        self.github.stop()

    def __enter__(self) -> DemoWorld:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def settings(self, **overrides: object) -> Settings:
        base = Settings(
            zenodo_api=self.zenodo.api, github_api=self.github.api, github_raw=self.github.raw,
            git_base=str(self.repos), site_url="http://localhost:8000", repo_root=self.hub,
            work_dir=self.root / "work", out=self.root / "site", http_retries=2, http_backoff=0.01,
            http_timeout=10.0)
        return base.with_overrides(**overrides)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--keep", action="store_true", help="keep the demo's fake repositories and work folder")


def main(args: argparse.Namespace, settings: Settings) -> int:
    from collection_compiler.stages.run import run

    out = settings.out.resolve()
    # the demo site is served locally unless a site URL was chosen
    site_url = settings.site_url if settings.site_url != Settings().site_url else "http://localhost:8000"
    with tempfile.TemporaryDirectory(prefix="collection-demo-") as tmp:
        work = settings.work_dir.resolve() / "demo" if args.keep else Path(tmp) / "work"
        with DemoWorld(Path(tmp)).populate() as world:
            code = run(world.settings(out=out, work_dir=work, site_url=site_url,
                                      allow_unsandboxed_models=_bundled_models_unsandboxed(settings)))
        if args.keep:
            shutil.copytree(tmp, settings.work_dir.resolve() / "demo-world", dirs_exist_ok=True)
    print(f"\nThe demo site is in {out}. Look at it with:  {_command()} serve {_shortest(out)}")
    return code


def _bundled_models_unsandboxed(settings: Settings) -> bool:
    """The demo's models are the package's own, not a stranger's: without bubblewrap they still run (said once)."""
    from collection_compiler.testing import isolation

    if settings.allow_unsandboxed_models or isolation.working_tool() is not None:
        return settings.allow_unsandboxed_models
    print("note: bubblewrap is not available here, so the demo runs its own bundled models without a sandbox; "
          "the pipeline refuses other models without it (apt-get install bubblewrap)", file=sys.stderr)
    return True


def _command() -> str:
    """How to call `collection` again from here: bare when it is on the PATH, else its path (e.g. .venv/bin)."""
    found = shutil.which("collection")
    script = Path(sys.argv[0])
    if found and (script.name != "collection" or Path(found).resolve() == script.resolve()):
        return "collection"
    return _shortest(script) if script.name == "collection" else f"{sys.executable} -m collection_compiler"


def _shortest(path: Path) -> str:
    """`path` relative to the current folder when it lies inside it (what a person would type), else absolute."""
    absolute = path.resolve()
    try:
        return str(absolute.relative_to(Path.cwd()))
    except ValueError:
        return str(absolute)
