"""`collection dispatch`: trigger each partner's test workflow with its pending matrix.

For every partner whose registration names a `workflow` and whose pending matrix (written by `plan`) is not
empty: `POST <github_api>/repos/<repository>/actions/workflows/<workflow>/dispatches` with
`{"ref": <workflow_ref>, "inputs": {"pending_matrix": "<matrix as a JSON string>"}}`. A matrix too long for
a dispatch input is replaced by the wildcard (test everything) and the report says so. An empty matrix is
never dispatched. Each attempt is recorded in `work/health/dispatch.json`.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass
from typing import Any

from collection_compiler.adapters.files import json_text, write_json
from collection_compiler.adapters.http import FetchError, HttpClient
from collection_compiler.catalogue.partners import Registration, selected_registrations
from collection_compiler.catalogue.state import now_iso
from collection_compiler.layout import WorkDir
from collection_compiler.settings import Settings
from collection_compiler.stages.plan import read_pending

log = logging.getLogger(__name__)

STAGE = "dispatch"
# GitHub caps a workflow_dispatch payload at 65,535 characters; leave room for the rest of the body.
MAX_INPUT_CHARS = 60_000
WILDCARD = {"include": [{"resource_id": "**", "version_id": "*"}]}


@dataclass(frozen=True)
class Outcome:
    partner: str
    entries: int
    outcome: str  # dispatched | failed | dry-run
    wildcard: bool
    error: str | None
    time: str

    def to_json(self) -> dict[str, Any]:
        return {"partner": self.partner, "entries": self.entries, "outcome": self.outcome,
                "wildcard": self.wildcard, "error": self.error, "time": self.time}


def matrix_input(entries: list[dict[str, Any]], max_chars: int = MAX_INPUT_CHARS) -> tuple[str, bool]:
    """The `pending_matrix` input (compact JSON) and whether it had to fall back to the wildcard."""
    text = json_text({"include": entries}, indent=None).strip()
    if len(text) <= max_chars:
        return text, False
    return json_text(WILDCARD, indent=None).strip(), True


def dispatch_url(settings: Settings, registration: Registration) -> str:
    ts = registration.test_summaries
    assert ts is not None and ts.workflow
    return f"{settings.github_api}/repos/{ts.repository}/actions/workflows/{ts.workflow}/dispatches"


def dispatch_partner(client: HttpClient | None, settings: Settings, registration: Registration,
                     entries: list[dict[str, Any]], now: str, max_chars: int = MAX_INPUT_CHARS) -> Outcome:
    """Send one dispatch (or, with no client, only say what would be sent)."""
    ts = registration.test_summaries
    assert ts is not None and ts.workflow
    text, wildcard = matrix_input(entries, max_chars)
    if wildcard:
        log.warning("%s: pending matrix of %d entries is too long for a dispatch input; dispatching the "
                    "wildcard (test everything) instead", registration.id, len(entries))
    body = {"ref": ts.workflow_ref or "main", "inputs": {"pending_matrix": text}}
    if client is None:
        print(f"{registration.id}: would POST {dispatch_url(settings, registration)} {json_text(body, None)}",
              end="")
        return Outcome(registration.id, len(entries), "dry-run", wildcard, None, now)
    if not settings.github_token:
        return Outcome(registration.id, len(entries), "failed", wildcard, "GITHUB_TOKEN is not set", now)
    try:
        client.request("POST", dispatch_url(settings, registration), json=body, ok=(200, 204), max_bytes=100_000,
                       token=True,
                       headers={"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"})
    except FetchError as e:
        return Outcome(registration.id, len(entries), "failed", wildcard,
                       f"{registration.name} ({ts.repository}, {ts.workflow}): {e.reason}", now)
    return Outcome(registration.id, len(entries), "dispatched", wildcard, None, now)


def dispatch(settings: Settings, registrations: list[Registration], dry_run: bool = False,
             now: str | None = None, max_chars: int = MAX_INPUT_CHARS) -> list[Outcome]:
    """Dispatch every partner with a workflow and a non-empty pending matrix; records them unless dry-run."""
    work = WorkDir(settings.work_dir)
    stamp = now or now_iso()
    outcomes = []
    with HttpClient(settings) as client:
        for registration in registrations:
            ts = registration.test_summaries
            if ts is None or not ts.workflow:
                continue
            entries = read_pending(work, registration.id)
            if not entries:
                continue  # never dispatch an empty matrix
            outcomes.append(dispatch_partner(None if dry_run else client, settings, registration, entries,
                                             stamp, max_chars))
    if not dry_run:
        write_json(work.health(STAGE), {"dispatches": [o.to_json() for o in outcomes]})
    return outcomes


# command -------------------------------------------------------------------------------------------------

def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="print the requests instead of sending them")
    parser.add_argument("--partner", action="append", default=None, metavar="ID",
                        help="dispatch only this partner (repeatable)")


def main(args: argparse.Namespace, settings: Settings) -> int:
    registrations = selected_registrations(settings.repo_root, args.partner)
    outcomes = dispatch(settings, registrations, dry_run=args.dry_run)
    for o in outcomes:
        note = " (wildcard: matrix too long for an input)" if o.wildcard else ""
        print(f"{o.partner}: {o.outcome}, {o.entries} entries{note}" + (f": {o.error}" if o.error else ""))
    if not outcomes:
        print("nothing to dispatch")
    return 1 if any(o.outcome == "failed" for o in outcomes) else 0
