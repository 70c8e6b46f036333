"""The `collection` command: one entry point, kebab-case subcommands, exit 0 on success and 1 otherwise.

Each subcommand lives in its own module exposing `configure(parser)` and `main(args, settings) -> int`;
modules are imported only when their command runs, so `collection test` starts fast.
"""

from __future__ import annotations

import gc
import importlib
import sys
from collections.abc import Sequence

from . import __version__

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing, which `collection test` waits for
if TYPE_CHECKING:
    import argparse
    from typing import Any

COMMANDS: dict[str, tuple[str, str]] = {
    "update": ("collection_compiler.stages.update", "fetch Zenodo and partner sources into the work folder"),
    "validate": ("collection_compiler.validation.cli", "statically validate resource descriptions"),
    "test": ("collection_compiler.testing.cli", "run a model's weights on its test inputs and compare"),
    "plan": ("collection_compiler.plan", "decide what needs testing (our matrix and each partner's)"),
    "gather": ("collection_compiler.partners_results", "gather partner test summaries from their repositories"),
    "dispatch": ("collection_compiler.dispatch", "trigger partner workflows with their pending matrices"),
    "check-partners": ("collection_compiler.partners_check", "check partner registrations (for their PRs)"),
    "review-prs": ("collection_compiler.review", "open or update one review pull request per resource"),
    "build": ("collection_compiler.stages.build", "write the published tree (collection.json, rdfs/, site)"),
    "deploy": ("collection_compiler.deploy", "publish the built tree to gh-pages as one commit"),
    "run": ("collection_compiler.stages.run", "all stages in order (the local scheduled run)"),
    "demo": ("collection_compiler.demo", "the whole pipeline offline on bundled sample sources"),
    "serve": ("collection_compiler.serve", "serve a built tree on localhost"),
}
# Commands whose slowest step needs nothing but the command line: `start_early(argv)` takes it before the
# parser, settings and the command's own imports load, and the command finds its result in `args.early`.
EARLY_STARTS: dict[str, str] = {"test": "collection_compiler.testing.launch"}


def build_parser(commands: Sequence[str] | None = None) -> argparse.ArgumentParser:
    import argparse

    from . import settings as settings_module

    parser = argparse.ArgumentParser(
        prog="collection", description=f"Collection compiler of the BioImage Model Zoo ({__version__})")
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in commands or COMMANDS:
        module_name, help_text = COMMANDS[name]
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        module = importlib.import_module(module_name)
        module.configure(command_parser)
        settings_module.add_arguments(command_parser)
        command_parser.set_defaults(_module=module)
    return parser


def _command_name(argv: Sequence[str]) -> str | None:
    return next((a for a in argv if not a.startswith("-")), None)


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; `argv` None means the process's own command line (the process ends after this)."""
    if argv is None:
        try:
            return main(sys.argv[1:])
        finally:
            # The interpreter's final collections would walk every object the command imported (~40 ms after
            # the validator's imports); frozen, they skip them. Not for calls with an argv (tests): they go on.
            gc.freeze()
    argv = list(argv)
    name = _command_name(argv)
    early = _start_early(name, argv)
    try:
        return _run(name, argv, early)
    finally:
        if early is not None:
            early.close()  # a no-op once the command took it


def _start_early(name: str | None, argv: list[str]) -> Any:
    module = EARLY_STARTS.get(name or "")
    return importlib.import_module(module).start_early(argv) if module else None


def _run(name: str | None, argv: list[str], early: Any) -> int:
    import logging

    from . import settings as settings_module

    # Import only the module of the command asked for; `--help` without a command lists them all.
    parser = build_parser([name] if name in COMMANDS else None)
    args = parser.parse_args(argv)
    args.early = early
    logging.basicConfig(level=logging.WARNING - 10 * min(args.verbose, 2),
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    settings = settings_module.from_args(args)
    try:
        return int(args._module.main(args, settings) or 0)
    except KeyboardInterrupt:
        return 130
