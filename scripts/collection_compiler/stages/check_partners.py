"""`collection check-partners [FILES…]`: the checks a partner's registration pull request must pass.

For each registration: schema and id checks (unique, safe, equal to the file name), the partner's collection
file at the declared branch validated as a collection RDF, every entry resolved and validated statically
(no file downloads), and the test-summary repository and branch when declared. The report is Markdown, one
row per checked item, printed and appended to the job summary (`GITHUB_STEP_SUMMARY`). Exit 1 on any error.
"""

from __future__ import annotations

import argparse
import html
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from collection_compiler.adapters import yamlio
from collection_compiler.adapters.http import FetchError, HttpClient
from collection_compiler.catalogue.partners import (
    Registration,
    RegistrationError,
    load_registration,
    registration_files,
)
from collection_compiler.settings import Settings
from collection_compiler.sources import partners as partner_source

log = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 300


@dataclass
class Row:
    item: str
    kind: str
    status: str  # passed | failed
    message: str = ""


@dataclass
class PartnerReport:
    path: Path
    partner_id: str | None = None
    rows: list[Row] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(r.status == "failed" for r in self.rows)

    def add(self, item: str, kind: str, error: str | None, ok_message: str = "") -> None:
        self.rows.append(Row(item, kind, "failed" if error else "passed", error or ok_message))


# validation adapter --------------------------------------------------------------------------------------

Validator = Callable[[dict[str, Any], str, str], str | None]


def static_validator(settings: Settings) -> Validator:
    """`(rdf, source, root) -> first error or None`, from the validation package when present."""
    try:
        from collection_compiler.validation.validator import validate_rdf
    except ImportError:  # the validation package is optional here: fall back to the bare minimum
        log.warning("check-partners: collection_compiler.validation is not available; only minimal checks")
        return _minimal_validation

    def validate(rdf: dict[str, Any], source: str, root: str) -> str | None:
        result = validate_rdf(rdf, source=source, root=root, perform_io=False, settings=settings)
        if result.status == "passed":
            return None
        issue = result.first_error
        return issue.text() if issue else "failed"

    return validate


def _minimal_validation(rdf: dict[str, Any], source: str, root: str) -> str | None:
    for key in ("type", "name", "format_version"):
        if not isinstance(rdf.get(key), str) or not rdf[key]:
            return f"{key}: a non-empty string is required"
    return None


# checks --------------------------------------------------------------------------------------------------

def ids_by_file(repo_root: Path) -> dict[str, list[Path]]:
    """Every declared partner id in `partners/` and the files declaring it (valid or not)."""
    found: dict[str, list[Path]] = {}
    for path in registration_files(repo_root):
        try:
            data = yamlio.load_yaml_file(path)
        except (yamlio.YamlLoadError, OSError):
            continue
        if isinstance(data, dict) and isinstance(data.get("id"), str):
            found.setdefault(data["id"], []).append(path)
    return found


def check_collection(client: HttpClient, settings: Settings, registration: Registration, report: PartnerReport,
                     validate: Validator) -> None:
    url = partner_source.collection_url(settings, registration)
    try:
        collection = yamlio.load_mapping(client.get(url, max_bytes=settings.max_yaml_bytes).content, url,
                                         settings.max_yaml_bytes)
    except (FetchError, yamlio.YamlLoadError) as e:
        report.add(registration.collection_file_name, "collection", str(e))
        return
    report.add(registration.collection_file_name, "collection", validate(collection, url, url),
               f"{len(collection.get('collection') or [])} entries")
    outcome = partner_source.collect(client, settings, registration, None)
    if outcome.error:
        report.add(registration.collection_file_name, "collection", outcome.error)
    for warning in outcome.warnings:
        report.add(_entry_label(warning), "entry", warning)
    for candidate in outcome.candidates:
        rdf = candidate.raw if isinstance(candidate.raw, dict) else {}
        report.add(candidate.resource_id, str(rdf.get("type") or "?"),
                   validate(rdf, candidate.resource_id, candidate.root_url))


def _entry_label(warning: str) -> str:
    marker = "field collection."
    if marker in warning:
        return "entry " + warning.split(marker, 1)[1].split(":", 1)[0]
    return "entry"


def check_test_summaries(client: HttpClient, settings: Settings, registration: Registration,
                         report: PartnerReport) -> None:
    ts = registration.test_summaries
    if ts is None:
        return
    url = f"{settings.github_api}/repos/{ts.repository}/branches/{ts.deploy_branch}"
    try:
        client.get_json(url, max_bytes=1_000_000, token=True)
    except FetchError as e:
        report.add(f"{ts.repository}@{ts.deploy_branch}", "test summaries",
                   f"test_summaries: repository or branch not found ({e.reason})")
        return
    report.add(f"{ts.repository}@{ts.deploy_branch}", "test summaries", None, f"folder {ts.deploy_folder}")


def check_file(client: HttpClient, settings: Settings, path: Path, declared: dict[str, list[Path]],
               validate: Validator) -> PartnerReport:
    report = PartnerReport(path)
    try:
        registration = load_registration(path)
    except (RegistrationError, OSError) as e:
        report.add("registration", "partner", str(e))
        return report
    report.partner_id = registration.id
    others = [p for p in declared.get(registration.id, []) if p.resolve() != path.resolve()]
    report.add("registration", "partner",
               f"{path}: field id: {registration.id!r} is also declared by {', '.join(map(str, others))}"
               if others else None, f"id {registration.id}")
    check_collection(client, settings, registration, report, validate)
    check_test_summaries(client, settings, registration, report)
    return report


def check_partners(settings: Settings, files: list[Path]) -> list[PartnerReport]:
    declared = ids_by_file(settings.repo_root)
    validate = static_validator(settings)
    with HttpClient(settings) as client:
        return [check_file(client, settings, path, declared, validate) for path in files]


# report --------------------------------------------------------------------------------------------------

def _cell(text: str) -> str:
    """Table-safe and HTML-safe: the job summary renders HTML, and messages come from strangers."""
    text = " ".join(str(text).split())
    if len(text) > MAX_MESSAGE_CHARS:
        text = text[:MAX_MESSAGE_CHARS - 1] + "…"
    return html.escape(text, quote=False).replace("|", "\\|").replace("`", "\\`")


def markdown(reports: list[PartnerReport]) -> str:
    lines = ["# Partner registration checks", ""]
    for report in reports:
        verdict = "❌ failed" if report.failed else "✅ passed"
        lines += [f"## {_cell(report.partner_id or report.path.name)} ({_cell(str(report.path))}): {verdict}", "",
                  "| item | type | status | message |", "|---|---|---|---|"]
        lines += [f"| {_cell(r.item)} | {_cell(r.kind)} | {r.status} | {_cell(r.message)} |" for r in report.rows]
        lines.append("")
    if not reports:
        lines.append("No registration files to check.")
    return "\n".join(lines) + "\n"


# command -------------------------------------------------------------------------------------------------

def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="*", type=Path, metavar="FILE",
                        help="registration files (default: every partners/*.yaml)")


def main(args: argparse.Namespace, settings: Settings) -> int:
    files = list(args.files) or registration_files(settings.repo_root)
    reports = check_partners(settings, files)
    text = markdown(reports)
    print(text, end="")
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as f:
            f.write(text)
    return 1 if any(r.failed for r in reports) else 0
