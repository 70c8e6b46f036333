"""`collection run`: every stage in order, on the same folders: the local equivalent of the scheduled workflow.

update -> validate -> test -> plan -> gather -> build -> [deploy] -> [dispatch]
"""

from __future__ import annotations

import argparse
import importlib
import logging
import time
from collections.abc import Callable

from ..settings import Settings
from . import build as build_stage
from . import update as update_stage

log = logging.getLogger(__name__)

# (name, module, function taking Settings); stages after update and before build
CHECK_STAGES: list[tuple[str, str, str]] = [
    ("validate", "collection_compiler.validation.stage", "validate_work"),
    ("test", "collection_compiler.testing.stage", "test_work"),
    ("plan", "collection_compiler.plan", "plan_work"),
    ("gather", "collection_compiler.partners_results", "gather_work"),
]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--skip", action="append", default=[], choices=[s[0] for s in CHECK_STAGES],
                        help="leave out a stage (repeatable), e.g. --skip test")
    parser.add_argument("--no-site", action="store_true", help="skip the HTML site")
    parser.add_argument("--deploy", metavar="REMOTE", help="deploy the built tree to this git remote's gh-pages")
    parser.add_argument("--dispatch", action="store_true", help="dispatch partner workflows at the end")


def _stage_function(module_name: str, function: str) -> Callable[[Settings], object] | None:
    try:
        return getattr(importlib.import_module(module_name), function)
    except (ImportError, AttributeError) as e:
        log.info("stage %s.%s not available: %s", module_name, function, e)
        return None


def _timed(name: str, fn: Callable[[], object]) -> object:
    start = time.perf_counter()
    result = fn()
    print(f"[{name}] done in {time.perf_counter() - start:.1f} s")
    return result


def run(settings: Settings, skip: tuple[str, ...] = (), site: bool = True, deploy_to: str | None = None,
        dispatch: bool = False) -> int:
    report = _timed("update", lambda: update_stage.update(settings))
    print(report.summary())
    if not report.usable:
        return 1
    for name, module_name, function in CHECK_STAGES:
        fn = _stage_function(module_name, function)
        if name in skip or fn is None:
            continue
        _timed(name, lambda fn=fn: fn(settings))
    built = _timed("build", lambda: build_stage.build(settings, site=site))
    print(built.summary())
    if deploy_to:
        from ..deploy import deploy
        from ..templates import Publication, load_template

        max_loss = Publication.from_template(load_template(settings.repo_root)).max_resource_loss
        _timed("deploy", lambda: deploy(settings.out, deploy_to, max_loss=max_loss, token=settings.github_token))
    if dispatch:
        fn = _stage_function("collection_compiler.dispatch", "dispatch_work")
        if fn is not None:
            _timed("dispatch", lambda: fn(settings))
    return 0


def main(args: argparse.Namespace, settings: Settings) -> int:
    return run(settings, tuple(args.skip), not args.no_site, args.deploy, args.dispatch)
