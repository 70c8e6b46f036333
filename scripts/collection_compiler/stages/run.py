"""`collection run`: every stage in order, on the same folders: the local equivalent of the scheduled workflow.

update -> validate -> test -> gather -> plan -> build -> [review-prs] -> [deploy] -> [dispatch]
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Callable

from ..partners_registry import load_registrations
from ..settings import Settings
from . import build as build_stage
from . import update as update_stage

log = logging.getLogger(__name__)

def _validate(settings: Settings) -> object:
    from ..validation.stage import validate_work

    return validate_work(settings)


def _test(settings: Settings) -> object:
    from ..testing.stage import test_work

    return test_work(settings)


def _gather(settings: Settings) -> object:
    from ..partners_results import gather

    return gather(settings, load_registrations(settings.repo_root)[0])


def _plan(settings: Settings) -> object:
    from ..plan import plan

    return plan(settings, load_registrations(settings.repo_root)[0])


def _dispatch(settings: Settings) -> object:
    from ..dispatch import dispatch

    return dispatch(settings, load_registrations(settings.repo_root)[0])


# the stages between update and build, in order (as the scheduled workflow runs them)
CHECK_STAGES: list[tuple[str, Callable[[Settings], object]]] = [
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


def _timed(name: str, fn: Callable[[], object]) -> object:
    start = time.perf_counter()
    result = fn()
    print(f"[{name}] done in {time.perf_counter() - start:.1f} s")
    return result


def run(settings: Settings, skip: tuple[str, ...] = (), site: bool = True, deploy_to: str | None = None,
        dispatch: bool = False, review: str | None = None) -> int:
    report = _timed("update", lambda: update_stage.update(settings))
    print(report.summary())
    if not report.usable:
        return 1
    for name, stage in CHECK_STAGES:
        if name not in skip:
            _timed(name, lambda stage=stage: stage(settings))
    built = _timed("build", lambda: build_stage.build(settings, site=site))
    print(built.summary())
    if review:
        from ..review import review_prs

        _timed("review-prs", lambda: review_prs(settings, review))
    if deploy_to:
        from ..deploy import deploy
        from ..templates import Publication, load_template

        max_loss = Publication.from_template(load_template(settings.repo_root)).max_resource_loss
        _timed("deploy", lambda: deploy(settings.out, deploy_to, max_loss=max_loss, token=settings.github_token))
    if dispatch:
        _timed("dispatch", lambda: _dispatch(settings))
    return 0


def main(args: argparse.Namespace, settings: Settings) -> int:
    return run(settings, tuple(args.skip), not args.no_site, args.deploy, args.dispatch, args.review)
