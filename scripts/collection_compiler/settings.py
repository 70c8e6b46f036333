"""Settings: every external endpoint, path and limit in one place.

Precedence: command-line flag > `COLLECTION_*` environment variable > default.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

ENV_PREFIX = "COLLECTION_"


@dataclass(frozen=True)
class Settings:
    # endpoints
    zenodo_api: str = "https://zenodo.org/api"
    github_api: str = "https://api.github.com"
    github_raw: str = "https://raw.githubusercontent.com"
    git_base: str = "https://github.com"
    site_url: str = "https://bioimage-io.github.io/collection"
    github_token: str = field(default="", repr=False)
    # paths
    repo_root: Path = Path(".")
    work_dir: Path = Path("work")
    out: Path = Path("site")
    previous: Path | None = None
    # network behaviour
    concurrency: int = 16
    http_timeout: float = 30.0
    http_retries: int = 4
    http_backoff: float = 0.5
    max_retry_after: float = 60.0
    # size limits (bytes)
    max_yaml_bytes: int = 2_000_000
    max_download_bytes: int = 2_000_000_000
    max_cover_bytes: int = 10_000_000
    # CLI (issue 19): validation's file checks of one description stop waiting after this many seconds; the
    # files left are reported as "could not check", never as available
    file_check_budget: float = 60.0
    # politeness and outbound requests (issues 18, 22): the services' published limits as starting budgets
    # (`ratelimit`: class=N/SECONDS[+N/SECONDS]; the answers' headers correct them), hosts that untrusted URLs
    # may name although they resolve to private addresses (`outbound`: host or host:port, comma-separated), one
    # request's overall deadline and a stage's network time budget (seconds)
    rate_limits: str = "zenodo-search=30/60;zenodo=60/60+2000/3600;github-api=1000/3600"
    allowed_hosts: str = ""
    request_deadline: float = 600.0
    stage_budget: float = 3600.0
    # site pictures: the largest test tensor (.npy) drawn as a preview on a model page
    max_preview_bytes: int = 64_000_000
    # model sandbox (issue 22): run model code even where bubblewrap is missing; only for a machine that runs
    # nothing else and holds no secrets
    allow_unsandboxed_models: bool = False

    def __post_init__(self) -> None:
        for name in ("zenodo_api", "github_api", "github_raw", "git_base", "site_url"):
            object.__setattr__(self, name, getattr(self, name).rstrip("/"))

    def clone_url(self, repository: str) -> str:
        """Clone URL of `owner/repo`: `<git_base>/<owner>/<repo>.git`, or a local folder when git_base is one."""
        base = self.git_base
        if base.startswith("file://") or "://" not in base:
            local = Path(base.removeprefix("file://")) / repository
            for candidate in (local.with_name(local.name + ".git"), local):
                if candidate.exists():
                    return str(candidate)
            return str(local)
        return f"{base}/{repository}.git"

    def with_overrides(self, **overrides: object) -> Settings:
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


_PATH_FIELDS = {"repo_root", "work_dir", "out", "previous"}
_INT_FIELDS = {"concurrency", "http_retries", "max_yaml_bytes", "max_download_bytes", "max_cover_bytes",
               "max_preview_bytes"}
_FLOAT_FIELDS = {"http_timeout", "http_backoff", "max_retry_after", "file_check_budget", "request_deadline",
                 "stage_budget"}


_BOOL_FIELDS = {"allow_unsandboxed_models"}


def _boolean(raw: str) -> bool:
    return raw.strip().lower() in ("1", "true", "yes", "on")


def _type_of(name: str) -> Any:
    if name in _BOOL_FIELDS:
        return _boolean
    if name in _PATH_FIELDS:
        return Path
    return int if name in _INT_FIELDS else float if name in _FLOAT_FIELDS else str


def _convert(name: str, raw: str) -> object:
    kind = _type_of(name)
    try:
        return kind(raw)
    except ValueError:
        from collection_compiler.errors import UsageError

        raise UsageError(f"{raw!r} is not a valid {kind.__name__}", where=ENV_PREFIX + name.upper(),
                         hint="fix or unset the variable") from None


def from_environment(environ: dict[str, str] | None = None) -> Settings:
    environ = dict(os.environ if environ is None else environ)
    values: dict[str, object] = {}
    for f in fields(Settings):
        raw = environ.get(ENV_PREFIX + f.name.upper())
        if raw:
            values[f.name] = _convert(f.name, raw)
    token = environ.get("GITHUB_TOKEN") or environ.get(ENV_PREFIX + "GITHUB_TOKEN")
    if token:
        values["github_token"] = token
    return Settings(**values)


# ---- help: what each setting means, and the groups commands pick from (each --help lists only its own) ------
SETTING_HELP: dict[str, str] = {
    "zenodo_api": "Zenodo REST API", "github_api": "GitHub REST API",
    "github_raw": "raw file host of GitHub", "git_base": "where repositories are cloned from (a URL or a folder)",
    "site_url": "public URL of the published site", "github_token": "token for the GitHub API and git pushes",
    "repo_root": "the hub checkout: template, partners/, collection/, site_templates/",
    "work_dir": "working folder of the stages", "out": "the published tree (and site) to write",
    "previous": "the previous deploy's tree (makes runs incremental)",
    "concurrency": "parallel downloads and checks", "http_timeout": "seconds per HTTP request",
    "http_retries": "retries of a failed request", "http_backoff": "first retry delay, seconds (doubles)",
    "max_retry_after": "longest Retry-After honoured, seconds", "max_yaml_bytes": "largest YAML file read",
    "max_download_bytes": "largest file downloaded", "max_cover_bytes": "largest cover image read",
    "file_check_budget": "seconds validation may spend checking files before it reports the rest unchecked",
    "rate_limits": "starting request budgets per endpoint class (class=N/SECONDS[+N/SECONDS];...); the services' "
                   "rate-limit headers correct them",
    "allowed_hosts": "hosts (host or host:port, comma-separated) that URLs from RDFs and partner files may name "
                     "although they resolve to private or loopback addresses",
    "request_deadline": "seconds one request may take in all, however slowly its bytes arrive",
    "stage_budget": "seconds of network time a stage may spend, waits for request budget included",
    "max_preview_bytes": "largest test tensor (.npy) drawn as a picture on the site",
    "allow_unsandboxed_models": "1: run model code even without a working bubblewrap (a machine holding no secrets)",
}
ENDPOINTS = ("zenodo_api", "github_api", "github_raw", "git_base")
NETWORK = ("concurrency", "http_timeout", "http_retries", "http_backoff", "max_retry_after", "rate_limits",
           "allowed_hosts", "request_deadline", "stage_budget")


def describe(name: str) -> str:
    """One setting's meaning, default and environment variable (for --help and `collection help settings`)."""
    default = getattr(Settings(), name)
    shown = "none" if default in (None, "") else default
    return f"{SETTING_HELP[name]} (default: {shown}; env {ENV_PREFIX}{name.upper()})"


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


# the settings people pass most: a command's --help describes these in full and only names the others
PATHS = ("repo_root", "work_dir", "out", "previous", "site_url")


def add_arguments(parser: argparse.ArgumentParser, names: tuple[str, ...] | None = None) -> None:
    """Settings flags (all optional; the environment fills the gaps). The help describes the paths among the
    settings the subcommand uses (`names`; None: all) and hides the rest; every flag is accepted, so that a script
    may pass one set of settings to every command."""
    used = set(command_settings(names))
    group = parser.add_argument_group("settings (flag > COLLECTION_* environment variable > default)")
    for name in command_settings(None):
        shown = name in used and name in PATHS
        group.add_argument(flag(name), dest=f"setting_{name}", type=_type_of(name), default=None,
                           metavar=name.upper(), help=describe(name) if shown else argparse.SUPPRESS)


def command_settings(names: tuple[str, ...] | None) -> list[str]:
    """The settings of a command (None: all) that can be flags, in the dataclass's order."""
    wanted = [f.name for f in fields(Settings) if names is None or f.name in names]
    return [n for n in wanted if n != "github_token"]  # a secret never goes on a command line


def from_args(args: argparse.Namespace, environ: dict[str, str] | None = None) -> Settings:
    base = from_environment(environ)
    overrides = {f.name: getattr(args, f"setting_{f.name}", None) for f in fields(Settings)}
    return base.with_overrides(**overrides)
