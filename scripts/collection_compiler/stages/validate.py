"""`collection validate SOURCE... [--no-io] [--summary PATH] [--format text|json]`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from collection_compiler import progress
from collection_compiler.adapters.files import json_text, write_text_atomic
from collection_compiler.adapters.http import FetchError, HttpClient
from collection_compiler.errors import UsageError
from collection_compiler.settings import Settings
from collection_compiler.stages.report import count
from collection_compiler.validation.result import Detail, Issue, ValidationResult
from collection_compiler.validation.sources import SourceError, open_source
from collection_compiler.validation.validator import validate_rdf


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("sources", nargs="*", metavar="SOURCE",
                        help="rdf.yaml path or URL, a folder holding one, or a zip package")
    parser.add_argument("--work", action="store_true",
                        help="instead of SOURCEs: validate every version of the work folder (pipeline stage)")
    parser.add_argument("--no-io", dest="perform_io", action="store_false",
                        help="skip file checks (existence, sha256, test tensors)")
    parser.add_argument("--summary", type=Path, help="write the results as JSON (one entry per SOURCE)")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output on stdout")


def validate_source(source: str, settings: Settings, perform_io: bool, http: HttpClient | None) -> ValidationResult:
    try:
        with open_source(source, settings, http) as opened:
            return validate_rdf(opened.content, source=opened.name, root=opened.root, perform_io=perform_io,
                                settings=settings, http=http)
    except (SourceError, FetchError, OSError) as e:
        return ValidationResult(source, None, None, [Detail("load resource description", [Issue((), str(e))])])


def main(args: argparse.Namespace, settings: Settings) -> int:
    if args.work:
        from collection_compiler.layout import WorkDir
        from collection_compiler.stages.report import validate_line
        from collection_compiler.validation.stage import validate_work

        code = validate_work(settings, args.perform_io)
        print(validate_line(WorkDir(settings.work_dir)))
        return code
    if not args.sources:
        raise UsageError("give a SOURCE or --work", hint="e.g. collection validate path/to/rdf.yaml")
    with HttpClient(settings) as http:
        sources = progress.items(args.sources, "validate", len(args.sources), "source")
        results = [validate_source(s, settings, args.perform_io, http) for s in sources]
    entries = [{"source": s, "status": r.status, "details": r.sub_summaries()} for s, r in zip(
        args.sources, results, strict=True)]
    if args.summary:
        write_text_atomic(args.summary, json_text(entries))
    if args.format == "json":
        sys.stdout.write(json.dumps(entries, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
    else:
        for source, result in zip(args.sources, results, strict=True):
            sys.stdout.write(render_text(source, result))
        sys.stdout.write(summary_line(results) + "\n")
    return 0 if all(r.status == "passed" and not r.unchecked_files for r in results) else 1


def summary_line(results: list[ValidationResult]) -> str:
    """One line for the whole call; files that could not be checked are counted, never passed over."""
    statuses = [r.status for r in results]
    line = (f"validate: {count(len(results), 'source')}, {statuses.count('passed')} passed, "
            f"{statuses.count('failed')} failed")
    unchecked = sum(r.unchecked_files for r in results)
    if unchecked:
        line += (f"; could not check {count(unchecked, 'file')} (unreachable, or over the time budget: "
                 "--file-check-budget), so they are not known to be available")
    return line


def render_text(source: str, result: ValidationResult) -> str:
    status = result.status.upper() + (" (files not all checked)" if result.unchecked_files else "")
    lines = [f"{status:7} {source}"]
    for detail in result.details:
        lines.append(f"  [{detail.status}] {detail.name}")
        lines += [f"    error: {e.text()}" for e in detail.errors]
        lines += [f"    warning ({w.severity}): {w.text()}" for w in detail.warnings]
    return "\n".join(lines) + "\n"
