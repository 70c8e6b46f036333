"""`collection test`: run a model's weights on its test inputs and compare with its test outputs.

    collection test SOURCE [--weight-format F] [--device auto|cpu|cuda] [--summary PATH] [--no-io]
    collection test --matrix [--output PATH]                       print the pipeline's test matrix
    collection test --matrix-entry '{"resource_id": …, "version_id": …, "weight_format": …}'
    collection test --resource-id R --version-id V --weight-format F
    collection test --all                                          the whole matrix, in order

Model runtimes are loaded only in the sandboxed worker process, which starts as soon as the description is read
and loads its runtime while this process validates the description and fetches its files.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from collection_compiler import __version__
from collection_compiler.errors import MissingRuntime, UsageError
from collection_compiler.settings import Settings
from collection_compiler.testing.description import KNOWN_FORMATS
from collection_compiler.testing.runtimes import all_missing, missing_runtimes
from collection_compiler.testing.sandbox import (
    DEVICES,
    Limits,
    SandboxUnavailable,
    TestOptions,
    Worker,
    discard,
    start_worker,
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", nargs="?", help="rdf.yaml, a folder holding one, a zip package, or a URL of either")
    parser.add_argument("--weight-format", choices=KNOWN_FORMATS, help="test only this weights format")
    parser.add_argument("--device", choices=DEVICES, default="auto", help="auto uses CUDA when available")
    parser.add_argument("--summary", type=Path, help="write the summary as JSON here")
    parser.add_argument("--no-io", action="store_true",
                        help="skip the static validator's file checks (the test still fetches and verifies its files)")
    parser.add_argument("--timeout", type=float, default=Limits.timeout_s, help="wall-time limit per test, seconds")
    parser.add_argument("--memory-limit", type=float, default=Limits.memory_bytes / 1024**3,
                        help="memory limit per test, GiB")
    pipeline = parser.add_argument_group("pipeline (against the work folder)")
    pipeline.add_argument("--matrix", action="store_true", help="print the matrix of versions still to test")
    pipeline.add_argument("--output", type=Path, help="with --matrix: write it here instead of stdout")
    pipeline.add_argument("--matrix-entry", help="JSON object with resource_id, version_id, weight_format")
    pipeline.add_argument("--resource-id")
    pipeline.add_argument("--version-id")
    pipeline.add_argument("--all", action="store_true", help="test every matrix entry in order")
    pipeline.add_argument("--accept-results", type=Path, metavar="FOLDER",
                          help="take from each test job's artifact in FOLDER (results-test-<chunk>-<index>/) only "
                               "the result of the matrix entry that job was given")


def _options(args: argparse.Namespace, settings: Settings) -> TestOptions:
    return TestOptions(device=args.device, allow_unsandboxed=settings.allow_unsandboxed_models,
                       limits=Limits(timeout_s=args.timeout, memory_bytes=int(args.memory_limit * 1024**3)))


def main(args: argparse.Namespace, settings: Settings) -> int:
    if args.accept_results:
        return _accept(args.accept_results, settings)
    if args.matrix or args.all or _entry(args) is not None:
        return _pipeline(args, settings)
    if not args.source:
        raise UsageError("give a SOURCE, --matrix, --matrix-entry or --all", hint="e.g. collection test rdf.yaml")
    if args.weight_format:
        _require_runtimes([args.weight_format])
    summary = test_source(args.source, settings, _options(args, settings), args.weight_format,
                          perform_io=not args.no_io)
    if args.summary:
        from collection_compiler.adapters.files import json_text, write_text_atomic

        write_text_atomic(args.summary, json_text(summary))
    _print_details(summary["details"])
    print(f"{summary['source_name']}: {summary['status']}")
    return 0 if summary["status"] in ("passed", "valid-format") else 1


def _require_runtimes(weight_formats: Iterable[str]) -> None:
    """Before any test starts: a runtime the asked-for formats need and that is not installed ends the command."""
    missing = missing_runtimes(weight_formats)
    if missing:
        raise MissingRuntime(missing[0])


def _warn_missing_runtimes(weight_formats: Iterable[str]) -> None:
    """The pipeline's tests go on (each missing one fails with its cause); the cause is named once, up front."""
    for module in missing_runtimes(weight_formats):
        print(f"collection test: warning: {MissingRuntime(module).line()}", file=sys.stderr)


def _start_ahead(weight_format: str, options: TestOptions) -> Worker | None:
    """A worker started ahead of need, loading its runtime meanwhile; where no sandbox works, the test itself
    reports that (starting ahead is only a speed-up)."""
    try:
        return start_worker(weight_format, options)
    except SandboxUnavailable:
        return None


def _pipeline(args: argparse.Namespace, settings: Settings) -> int:
    from collection_compiler.adapters.files import json_text, write_text_atomic
    from collection_compiler.stages.report import test_line
    from collection_compiler.testing import stage

    if args.matrix:
        text = json_text(stage.test_matrix(settings))
        if args.output:
            write_text_atomic(args.output, text)
        else:
            sys.stdout.write(text)
        return 0
    if args.all:
        if all_missing():  # only then is the matrix read twice
            _warn_missing_runtimes(entry["weight_format"] for entry in stage.test_matrix(settings)["include"])
        results = stage.test_work(settings, _options(args, settings))
        print(test_line(results))
        return 1 if any(r.status == "failed" for r in results) else 0
    entry = _entry(args) or {}
    _warn_missing_runtimes([str(entry.get("weight_format"))])
    result = stage.run_matrix_entry(settings, entry, _options(args, settings))  # no sandbox: the CLI says so
    _print_details(result.details)
    return 1 if result.status == "failed" else 0


def _accept(incoming: Path, settings: Settings) -> int:
    from collection_compiler.layout import WorkDir
    from collection_compiler.testing.accept import accept_artifacts

    accepted = accept_artifacts(WorkDir(settings.work_dir), incoming)
    for line in accepted.refused:
        print(f"refused: {line}", file=sys.stderr)
    print(f"accepted {len(accepted.results)} test result(s), refused {len(accepted.refused)} item(s)")
    return 0


def _entry(args: argparse.Namespace) -> dict[str, Any] | None:
    if args.matrix_entry:
        try:
            entry = json.loads(args.matrix_entry)
        except ValueError as e:
            raise UsageError(f"--matrix-entry is not JSON: {e}") from None
        if not isinstance(entry, dict):
            raise UsageError("--matrix-entry must be a JSON object", hint='e.g. \'{"resource_id": "r", ...}\'')
        return entry
    if args.resource_id or args.version_id:
        return {"resource_id": args.resource_id, "version_id": args.version_id, "weight_format": args.weight_format}
    return None


def test_source(source: str, settings: Settings, options: TestOptions, weight_format: str | None = None,
                perform_io: bool = True) -> dict[str, Any]:
    """Static validation, then (if it passes) one dynamic test per weights format; a summary dict."""
    started: dict[str, Worker | None] = {}
    try:
        return _test_source(source, settings, options, weight_format, perform_io, started)
    finally:
        for unused in started.values():  # workers no test took (validation failed, no such format)
            discard(unused, options)


def _test_source(source: str, settings: Settings, options: TestOptions, weight_format: str | None,
                 perform_io: bool, started: dict[str, Worker | None]) -> dict[str, Any]:
    from collection_compiler.testing.fetch import FileFetcher, FileFetchError, LazyHttp
    from collection_compiler.testing.source import SourceError, cache_dir, open_source
    from collection_compiler.testing.static import static_validation
    from collection_compiler.testing.tester import overall, test_model, weight_formats

    with LazyHttp(settings) as http:
        try:
            opened = open_source(source, settings, http)
        except (SourceError, FileFetchError, ValueError, OSError) as e:
            detail = {"name": "load resource description", "status": "failed", "error": str(e), "loc": [],
                      "errors": [{"loc": [], "msg": str(e), "type": "load_error"}], "warnings": [],
                      "traceback": None, "nested_errors": None}
            return _summary(source, {}, [detail], "failed")
        root = opened.root.url or opened.root.folder
        if opened.rdf.get("type") == "model":
            _require_runtimes([weight_format] if weight_format else weight_formats(opened.rdf))
        # The first format's worker loads its runtime while we validate; it runs no model code until given a job.
        first = weight_format or next(iter(weight_formats(opened.rdf)), None)
        if first and opened.rdf.get("type") == "model":
            started[first] = _start_ahead(first, options)
        ok, details = static_validation(opened.rdf, source=opened.name, root=root,
                                        perform_io=perform_io and opened.root.package is None,
                                        settings=settings, http=http)
        if not ok or opened.rdf.get("type") != "model":
            return _summary(opened.name, opened.rdf, details, "passed" if ok else "failed")
        fetcher = FileFetcher(http, cache_dir(settings), opened.root, allow_local=opened.local,
                              max_bytes=settings.max_download_bytes)
        tests = test_model(opened.rdf, fetcher, options, weight_format, started)
    return _summary(opened.name, opened.rdf, details + tests, overall(tests))


def _summary(source: str, rdf: dict[str, Any], details: list[dict[str, Any]], status: str) -> dict[str, Any]:
    from collection_compiler.testing.tester import TESTER_VERSION

    return {"name": "bioimageio model test", "source_name": source, "id": rdf.get("id"), "type": rdf.get("type"),
            "format_version": rdf.get("format_version"), "status": status, "details": details,
            "env": [["collection-compiler", __version__, "", ""],
                    ["collection-compiler-tester", TESTER_VERSION, "", ""]]}


def _print_details(details: list[dict[str, Any]]) -> None:
    for d in details:
        line = f"{d['status']:>14}  {d['name']}"
        if d.get("error"):
            line += f": {d['error']}"
        elif d.get("reason"):
            line += f" ({d['reason']})"
        print(line)
