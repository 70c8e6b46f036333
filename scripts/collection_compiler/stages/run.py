"""`collection run`: every stage in order, on the same folders: the local equivalent of the scheduled workflow.

update -> validate -> test -> gather -> plan -> build -> [review-prs] -> [deploy] -> [dispatch]
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable
from typing import Any

from collection_compiler import progress
from collection_compiler.catalogue.partners import load_registrations
from collection_compiler.errors import EXIT_DONE, EXIT_FAILURES
from collection_compiler.layout import WorkDir
from collection_compiler.settings import Settings
from collection_compiler.stages import build as build_stage
from collection_compiler.stages import report
from collection_compiler.stages import update as update_stage
from collection_compiler.testing.runtimes import all_missing, missing_runtimes

log = logging.getLogger(__name__)

def _validate(settings: Settings) -> str:
    from collection_compiler.validation.stage import validate_work

    validate_work(settings)
    return report.validate_line(WorkDir(settings.work_dir))


def _test(settings: Settings) -> str:
    from collection_compiler.testing.stage import test_work

    return report.test_line(test_work(settings))


def _gather(settings: Settings) -> str:
    from collection_compiler.stages.gather import gather

    return report.gather_line(gather(settings, load_registrations(settings.repo_root)[0]))


def _plan(settings: Settings) -> str:
    from collection_compiler.stages.plan import plan

    return report.plan_line(plan(settings, load_registrations(settings.repo_root)[0]))


def _dispatch(settings: Settings) -> str:
    from collection_compiler.stages.dispatch import dispatch

    outcomes = dispatch(settings, load_registrations(settings.repo_root)[0])
    return f"dispatch: {len(outcomes)} partner workflows"


# the stages between update and build, in order (as the scheduled workflow runs them); each returns its summary
CHECK_STAGES: list[tuple[str, Callable[[Settings], str]]] = [
    ("validate", _validate),
    ("test", _test),
    ("gather", _gather),
    ("plan", _plan),
]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--skip", action="append", default=[], choices=[name for name, _ in CHECK_STAGES],
                        help="leave out a stage (repeatable), e.g. --skip test")
    parser.add_argument("--no-site", action="store_true", help="skip the HTML site")
    parser.add_argument("--deploy", metavar="REMOTE", help="deploy the built tree to this git remote's gh-pages")
    parser.add_argument("--review", metavar="OWNER/REPO",
                        help="open or update the review pull requests in this repository after the build")
    parser.add_argument("--dispatch", action="store_true", help="dispatch partner workflows at the end")


def _stage(name: str, fn: Callable[[], object]) -> object:
    """Run one stage; its one-line summary (what `fn` returns, or its report's `summary()`) ends with its time."""
    start = time.perf_counter()
    with progress.stage(name):
        result = fn()
    summary = result if isinstance(result, str) else getattr(result, "summary", lambda: f"{name}: done")()
    print(f"{summary}  [{time.perf_counter() - start:.1f} s]", flush=True)
    return result


def _pending_runtimes(settings: Settings) -> list[str]:
    """Model runtimes the test stage needs and lacks, named before it starts (once, on stderr; the demo too)."""
    from collection_compiler.errors import MODELS_EXTRA
    from collection_compiler.testing.stage import test_matrix

    if not all_missing():
        return []  # the usual case, answered without reading the matrix
    missing = missing_runtimes(entry["weight_format"] for entry in test_matrix(settings)["include"])
    if missing:
        print(f"test: the model runtimes {', '.join(missing)} are not installed: the tests that need them will "
              f"fail and hold their versions back (install them: {MODELS_EXTRA})", file=sys.stderr)
    return missing


def run(settings: Settings, skip: tuple[str, ...] = (), site: bool = True, deploy_to: str | None = None,
        dispatch: bool = False, review: str | None = None) -> int:
    """Every stage in order; ends with a short report on stderr. 0: done; 1: done with failures (a stale source,
    a missing model runtime) or nothing usable to build."""
    updated = _stage("update", lambda: update_stage.update(settings))
    if not updated.usable:
        _end(settings, [], "nothing to build: no source could be read and no previous deploy was given (--previous)",
             built=False)
        return EXIT_FAILURES
    missing = [] if "test" in skip else _pending_runtimes(settings)
    for name, stage in CHECK_STAGES:
        if name not in skip:
            _stage(name, lambda stage=stage: stage(settings))
    built = _stage("build", lambda: build_stage.build(settings, site=site))
    if review:
        from collection_compiler.stages.review import review_prs

        _stage("review-prs", lambda: f"review-prs: {len(review_prs(settings, review))} proposals")
    if deploy_to:
        from collection_compiler.catalogue.templates import Publication, load_template
        from collection_compiler.stages.deploy import deploy

        max_loss = Publication.from_template(load_template(settings.repo_root)).max_resource_loss
        _stage("deploy", lambda: _deploy_line(deploy(settings.out, deploy_to, max_loss=max_loss,
                                                     token=settings.github_token)))
    if dispatch:
        _stage("dispatch", lambda: _dispatch(settings))
    outcome = _end(settings, missing, "" if built.resources else "nothing built: no resource was published")
    return EXIT_FAILURES if outcome.has_failures or not built.resources else EXIT_DONE


def _deploy_line(result: Any) -> str:
    return f"deploy: commit {result.commit}" if result.changed else "deploy: nothing changed"


def _end(settings: Settings, missing: list[str], problem: str, built: bool = True) -> report.RunReport:
    outcome = report.run_report(settings.work_dir, settings.out if built else None, missing)
    lines = outcome.lines() + ([problem] if problem else [])
    if lines:
        print("\n".join(["", "run report:", *(f"  {line}" for line in lines)]), file=sys.stderr)
    return outcome


def main(args: argparse.Namespace, settings: Settings) -> int:
    return run(settings, tuple(args.skip), not args.no_site, args.deploy, args.dispatch, args.review)
