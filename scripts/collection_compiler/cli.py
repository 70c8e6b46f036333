"""The `collection` command: one entry point, kebab-case subcommands.

Each subcommand lives in its own module exposing `configure(parser)` and `main(args, settings) -> int`;
only the module of the command asked for is imported (the others pull in git, jinja2 or the validator). This
module is the boundary where errors meet people (`errors`): exit 0 done, 1 done with failures or nothing built,
2 usage error; a `CollectionError` is one line on stderr, anything else a bug with its traceback and a request
to report it.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import traceback
from collections.abc import Sequence
from typing import Any

from collection_compiler import __version__, errors, progress
from collection_compiler import settings as settings_module
from collection_compiler.helptext import Formatter, epilog, setting_names, show_help

COMMANDS: dict[str, tuple[str, str]] = {
    "update": ("collection_compiler.stages.update", "fetch Zenodo and partner sources into the work folder"),
    "validate": ("collection_compiler.stages.validate", "statically validate resource descriptions"),
    "test": ("collection_compiler.stages.test", "run a model's weights on its test inputs and compare"),
    "plan": ("collection_compiler.stages.plan", "decide what needs testing (our matrix and each partner's)"),
    "gather": ("collection_compiler.stages.gather", "gather partner test summaries from their repositories"),
    "dispatch": ("collection_compiler.stages.dispatch", "trigger partner workflows with their pending matrices"),
    "check-partners": ("collection_compiler.stages.check_partners", "check partner registrations (for their PRs)"),
    "review-prs": ("collection_compiler.stages.review", "open or update one review pull request per resource"),
    "build": ("collection_compiler.stages.build", "write the published tree (collection.json, rdfs/, site)"),
    "deploy": ("collection_compiler.stages.deploy", "publish the built tree to gh-pages as one commit"),
    "run": ("collection_compiler.stages.run", "all stages in order (the local scheduled run)"),
    "demo": ("collection_compiler.demo.world", "the whole pipeline offline on bundled sample sources"),
    "serve": ("collection_compiler.stages.serve", "serve a built tree on localhost"),
}
# The settings each command reads (its --help lists only these); "@endpoints" and "@network" name groups of
# settings.py, None means all. `collection help settings` lists every one once.
COMMAND_SETTINGS: dict[str, tuple[str, ...] | None] = {
    "update": ("@endpoints", "@network", "repo_root", "work_dir", "previous", "max_yaml_bytes",
               "max_download_bytes"),
    "validate": ("@network", "work_dir", "previous", "max_yaml_bytes", "max_download_bytes", "file_check_budget"),
    "test": ("@network", "work_dir", "previous", "max_yaml_bytes", "max_download_bytes", "allow_unsandboxed_models"),
    "plan": ("repo_root", "work_dir", "previous"),
    "gather": ("git_base", "@network", "repo_root", "work_dir", "previous", "max_yaml_bytes"),
    "dispatch": ("github_api", "@network", "repo_root", "work_dir"),
    "check-partners": ("@endpoints", "@network", "repo_root", "max_yaml_bytes"),
    "review-prs": ("github_api", "@network", "repo_root", "work_dir", "previous", "site_url"),
    "build": ("git_base", "@network", "repo_root", "work_dir", "out", "previous", "site_url", "max_cover_bytes",
              "max_preview_bytes"),
    "deploy": ("git_base", "repo_root", "out"),
    "run": None,
    "demo": ("work_dir", "out", "site_url"),
    "serve": (),
}
EXAMPLES: dict[str, tuple[str, ...]] = {
    "update": ("collection update --repo-root ../collection --work-dir work",),
    "validate": ("collection validate path/to/rdf.yaml", "collection validate --no-io https://example.org/rdf.yaml"),
    "test": ("collection test path/to/rdf.yaml --weight-format onnx", "collection test --all"),
    "plan": ("collection plan",),
    "gather": ("collection gather --partner ilastik",),
    "dispatch": ("collection dispatch --dry-run",),
    "check-partners": ("collection check-partners partners/ilastik.yaml",),
    "review-prs": ("collection review-prs --dry-run",),
    "build": ("collection build --out site", "collection build --no-site --previous gh-pages-checkout"),
    "deploy": ("collection deploy --remote ../gh-pages.git", "collection deploy --force"),
    "run": ("collection run --skip test --out site", "collection run --previous gh-pages-checkout --deploy origin"),
    "demo": ("collection demo --out demo-site", "collection serve demo-site"),
    "serve": ("collection serve demo-site", "collection serve site --port 8080"),
}
# Commands that show their own progress (per stage) or none (a server that runs until stopped).
OWN_PROGRESS = {"run", "demo", "serve"}
EPILOG = ("exit status: 0 done, 1 done with failures (or nothing built), 2 usage error.\n"
          "Settings shared by many commands: collection help settings")


def build_parser(commands: Sequence[str] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="collection", description=f"Collection compiler of the BioImage Model Zoo ({__version__})",
        epilog=EPILOG, formatter_class=Formatter)
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more log output, and tracebacks of errors (-vv: debug)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in commands or COMMANDS:
        _add_command(sub, name)
    sub.add_parser("help", help="help on a command, or on the settings: collection help settings",
                   formatter_class=Formatter).add_argument("topic", nargs="?", metavar="settings|COMMAND")
    return parser


def _add_command(sub: Any, name: str) -> None:
    module_name, help_text = COMMANDS[name]
    names = setting_names(COMMAND_SETTINGS.get(name))
    command_parser = sub.add_parser(name, help=help_text, description=help_text, formatter_class=Formatter)
    module = importlib.import_module(module_name)
    module.configure(command_parser)
    own = command_parser.epilog  # a command's own notes come first, then the examples and settings
    command_parser.epilog = "\n\n".join(filter(None, [own, epilog(EXAMPLES.get(name, ()), names)]))
    settings_module.add_arguments(command_parser, names)
    command_parser.set_defaults(_module=module)


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; `argv` None means the process's own command line."""
    argv = list(sys.argv[1:] if argv is None else argv)
    verbose = argv.count("-v") + argv.count("--verbose") + 2 * argv.count("-vv")
    try:
        return _parse_and_run(argv)
    except KeyboardInterrupt:
        print("collection: interrupted", file=sys.stderr)
        return errors.EXIT_INTERRUPTED
    except Exception as e:  # the boundary: every error leaves as one line for people, or as a reported bug
        return _report_error(e, verbose)


def _parse_and_run(argv: list[str]) -> int:
    name = next((a for a in argv if not a.startswith("-")), None)
    # Import only the module of the command asked for; `--help` without a command lists them all.
    args = build_parser([name] if name in COMMANDS else None).parse_args(argv)
    if args.command == "help":
        return show_help(args.topic, build_parser)
    # people read `warning: …`; with -v the logger's name says which module spoke
    detail = "%(levelname)s %(name)s: %(message)s" if args.verbose else "%(levelname)s: %(message)s"
    logging.basicConfig(level=logging.WARNING - 10 * min(args.verbose, 2), format=detail, stream=sys.stderr)
    settings = settings_module.from_args(args)
    if args.command in OWN_PROGRESS:
        return int(args._module.main(args, settings) or 0)
    with progress.stage(args.command):  # on a terminal: the elapsed time while the command works
        return int(args._module.main(args, settings) or 0)


def _report_error(error: Exception, verbose: int) -> int:
    known = error if isinstance(error, errors.CollectionError) else _known_error(error)
    if known is None:
        traceback.print_exc()
        print(f"collection: internal error: {type(error).__name__}: {error}\n"
              f"This is a bug: please report it with the lines above at {errors.REPORT_URL}", file=sys.stderr)
        return errors.EXIT_FAILURES
    if verbose:
        traceback.print_exc()
    print(f"collection: error: {known.line()}", file=sys.stderr)
    return known.exit_code


def _known_error(error: Exception) -> errors.CollectionError | None:
    """Errors of input or environment that other modules raise as their own types, as a `CollectionError`."""
    from collection_compiler.adapters.http import FetchError
    from collection_compiler.adapters.yamlio import YamlLoadError
    from collection_compiler.catalogue.ids import UnsafeIdError

    if isinstance(error, FetchError):  # its message names the URL and what the service answered
        return errors.CollectionError(str(error), hint="check the network, the service and its token")
    if isinstance(error, YamlLoadError):  # its message names the file (and line and column)
        return errors.CollectionError(str(error), hint="fix the file")
    if isinstance(error, UnsafeIdError):  # an id from input that would not be a safe path
        return errors.CollectionError(str(error), hint="ids are relative paths of letters, digits and _ - .")
    return errors.from_environment_error(error)
