"""The published test summary of a version: `rdfs/<rid>/<vid>/test_summary.yaml` and `summary.json`.

This is the one place that defines both files. It merges our own check results (`work/results/…`, one
`CheckResult` per checker) with the partner sub-summaries gathered by `collection gather`
(`work/partner_results/<partner>/<rid>/<vid>/summaries.json`), deduplicates them, and derives one headline
status from our own tests plus one status per tester (the rule: `catalogue.status`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from collection_compiler.adapters import yamlio
from collection_compiler.adapters.files import json_bytes, json_text, read_json, sha256_bytes, write_text_atomic
from collection_compiler.catalogue.records import SummaryRow, TestSummary, VersionSummary
from collection_compiler.catalogue.results import CheckResult, read_results
from collection_compiler.catalogue.status import combined_status, row_status
from collection_compiler.layout import SiteTree, WorkDir

OUR_TESTER = "bioimageio"
SUMMARY_FORMAT = 1  # bump when the files change for the same inputs
MAX_ERROR_CHARS = 1000
# Fields that identify a sub-summary for deduplication (plus every `*_version` field).
_DEDUP_FIELDS = ("name", "status", "error", "warnings", "rdf_sha256")
# Fields of a partner summary that only say where it came from; they do not make it a different result.
_PROVENANCE_FIELDS = ("file", "stale", "source_name")


@dataclass(frozen=True)
class PartnerRecord:
    """What `gather` stored for one partner and one version."""

    partner_id: str
    repository: str
    commit: str
    folder: str  # the version's folder inside the partner repository
    recovered: bool  # partner unreachable: these are its previously published results
    summaries: list[dict[str, Any]]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PartnerRecord:
        return cls(str(data["partner_id"]), str(data.get("repository") or ""), str(data.get("commit") or ""),
                   str(data.get("folder") or ""), bool(data.get("recovered")),
                   [s for s in data.get("summaries") or [] if isinstance(s, dict)])

    def to_json(self) -> dict[str, Any]:
        return {"partner_id": self.partner_id, "repository": self.repository, "commit": self.commit,
                "folder": self.folder, "recovered": self.recovered, "summaries": self.summaries}


# deduplication -------------------------------------------------------------------------------------------

def dedup_key(sub: dict[str, Any]) -> str:
    fields = {k: sub.get(k) for k in _DEDUP_FIELDS}
    fields.update({k: v for k, v in sub.items() if k.endswith("_version")})
    return json.dumps(fields, sort_keys=True, default=str)


def deduplicate(subs: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """First occurrence wins; order is kept."""
    seen: set[str] = set()
    kept = []
    for sub in subs:
        key = dedup_key(sub)
        if key not in seen:
            seen.add(key)
            kept.append(sub)
    return kept


# reading the inputs --------------------------------------------------------------------------------------

def read_partner_records(work: WorkDir, rid: str, vid: str, partner_ids: Iterable[str]) -> list[PartnerRecord]:
    records = []
    for partner_id in sorted(set(partner_ids)):
        data = read_json(work.partner_result(partner_id, rid, vid))
        if isinstance(data, dict):
            records.append(PartnerRecord.from_json({**data, "partner_id": partner_id}))
    return records


def _partner_status(record: PartnerRecord) -> tuple[str, bool]:
    """A partner's status for this version from its current summaries (stale ones only when nothing else)."""
    fresh = [s for s in record.summaries if not s.get("stale")]
    chosen = fresh or record.summaries
    stale = record.recovered or not fresh
    return combined_status(str(s.get("status")) for s in chosen), stale


def _first_error(subs: Iterable[dict[str, Any]]) -> str | None:
    for sub in subs:
        if sub.get("status") == "failed" and sub.get("error"):
            return str(sub["error"])[:MAX_ERROR_CHARS]
    for sub in subs:
        if sub.get("status") == "failed":
            return f"{sub.get('name') or 'a test'} failed"
    return None


def _versions(subs: Iterable[dict[str, Any]]) -> dict[str, list[str]]:
    found: dict[str, set[str]] = {}
    for sub in subs:
        for key, value in sub.items():
            if key.endswith("_version") and isinstance(value, str | int | float) and value != "":
                found.setdefault(key, set()).add(str(value))
    return {k: sorted(v) for k, v in sorted(found.items())}


# building ------------------------------------------------------------------------------------------------

def build_test_summary(rdf_sha256: str, ours: Sequence[CheckResult],
                       partners: Sequence[PartnerRecord]) -> TestSummary:
    """The test_summary.yaml document (plain data, deterministic order)."""
    tests: dict[str, list[dict[str, Any]]] = {OUR_TESTER: deduplicate(s for r in ours for s in r.sub_summaries())}
    statuses = {OUR_TESTER: combined_status(r.status for r in ours)}
    tester_versions: dict[str, Any] = {OUR_TESTER: {r.checker: r.checker_version for r in ours}}
    stale_testers = []
    for record in partners:
        subs = deduplicate({k: v for k, v in s.items() if k != "source_name"} for s in record.summaries)
        if not subs:
            continue
        tests[record.partner_id] = subs
        statuses[record.partner_id], stale = _partner_status(record)
        tester_versions[record.partner_id] = {"commit": record.commit, **_versions(subs)}
        if stale:
            stale_testers.append(record.partner_id)
    summary: TestSummary = {
        "rdf_sha256": rdf_sha256,
        "status": statuses[OUR_TESTER],
        "statuses": statuses,
        "tester_versions": tester_versions,
        "tests": tests,
    }
    if stale_testers:
        summary["stale_testers"] = stale_testers
    # the predecessor's consumers read these two at the top level: the highest version found in our tests
    for key in ("bioimageio_spec_version", "bioimageio_core_version"):
        values = _versions(tests[OUR_TESTER]).get(key)
        if values:
            summary[key] = max(values, key=_version_key)
    return summary


def _version_key(value: str) -> tuple[Any, ...]:
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in value.replace("-", ".").split("."))


def build_rows(rdf_sha256: str, summary_link: str, ours: Sequence[CheckResult],
               partners: Sequence[PartnerRecord], expected_partners: Iterable[str],
               git_base: str) -> VersionSummary:
    """The summary.json document: one row per tester/tool, for the site."""
    rows: list[SummaryRow] = [{"tester": OUR_TESTER, "tool": r.checker, "version": r.checker_version,
             "status": row_status(r.status), "error": _first_error(r.details), "link": summary_link,
             "stale": r.rdf_sha256 != rdf_sha256} for r in ours]
    if not ours:
        rows.append(_untested_row(OUR_TESTER, summary_link))
    seen = set()
    for record in partners:
        if not record.summaries:
            continue
        seen.add(record.partner_id)
        status, stale = _partner_status(record)
        tool_versions = [v for vs in _versions(record.summaries).values() for v in vs]
        link = f"{git_base}/{record.repository}/tree/{record.commit}/{record.folder}" if record.commit else None
        rows.append({"tester": record.partner_id, "tool": record.partner_id,
                     "version": ", ".join(sorted(set(tool_versions))) or None, "status": row_status(status),
                     "error": _first_error(record.summaries), "link": link, "stale": stale})
    rows.extend(_untested_row(p, None) for p in sorted(set(expected_partners) - seen))
    return {"rdf_sha256": rdf_sha256, "status": combined_status(r.status for r in ours), "rows": rows}


def _untested_row(tester: str, link: str | None) -> SummaryRow:
    return {"tester": tester, "tool": tester, "version": None, "status": "untested", "error": None,
            "link": link, "stale": False}


def application_links(partners: Sequence[PartnerRecord]) -> list[str]:
    """`<partner>/<partner>` for each partner whose current tests of this version all pass."""
    links = []
    for record in partners:
        status, stale = _partner_status(record)
        if record.summaries and status == "passed" and not stale:
            links.append(f"{record.partner_id}/{record.partner_id}")
    return links


# writing -------------------------------------------------------------------------------------------------

def write_version_summaries(site: SiteTree, work: WorkDir, rid: str, vid: str, rdf_sha256: str,
                            published_partners: Sequence[Any], *, resource_type: str = "model",
                            site_url: str = "", git_base: str = "https://github.com") -> dict[str, Any]:
    """Merge and write `test_summary.yaml` and `summary.json` of one published version.

    `published_partners` are partner registrations (anything with `id`, `tested_types`, `test_summaries`);
    those that test `resource_type` and sent nothing get an `untested` row. Files are rewritten only when
    their content changed. Returns `{"status", "statuses", "links"}` for collection.json: `links` are the
    application links of partners whose tests of this version all pass.
    """
    return summarise_version(site, work, rid, vid, rdf_sha256, published_partners, resource_type=resource_type,
                             site_url=site_url, git_base=git_base)[1]


def summarise_version(site: SiteTree, work: WorkDir, rid: str, vid: str, rdf_sha256: str,
                      published_partners: Sequence[Any], *, resource_type: str, site_url: str, git_base: str
                      ) -> tuple[str, dict[str, Any]]:
    """`write_version_summaries`, also returning the inputs digest the two files are keyed on."""
    partner_ids, expected = partner_lists(published_partners, resource_type)
    link = _summary_link(site_url, rid, vid)
    digest = _inputs_digest(_parameters(rdf_sha256, expected, link, git_base), work, rid, vid, partner_ids)
    known = read_json(site.summary_json(rid, vid))
    if isinstance(known, dict) and known.get("inputs_sha256") == digest and site.test_summary(rid, vid).is_file():
        return digest, known["outcome"]  # nothing that goes into the two files changed: neither is read nor written
    ours = read_results(work, rid, vid)
    records = read_partner_records(work, rid, vid, partner_ids)
    summary = build_test_summary(rdf_sha256, ours, records)
    rows = build_rows(rdf_sha256, link, ours, records, expected, git_base)
    outcome = {"status": summary["status"], "statuses": summary["statuses"], "links": application_links(records)}
    write_text_atomic(site.test_summary(rid, vid), yamlio.dump_yaml(summary))
    write_text_atomic(site.summary_json(rid, vid), json_text({**rows, "inputs_sha256": digest, "outcome": outcome}))
    return digest, outcome


def _summary_link(site_url: str, rid: str, vid: str) -> str:
    return f"{site_url}/rdfs/{rid}/{vid}/test_summary.yaml"


def partner_lists(published_partners: Sequence[Any], resource_type: str) -> tuple[list[str], list[str]]:
    """(partners that send summaries, those expected to test `resource_type`): the same for every version of a
    type, so a caller going through many versions can work them out once per type."""
    partner_ids = sorted({p.id for p in published_partners if getattr(p, "test_summaries", None)})
    expected = [p.id for p in published_partners
                if getattr(p, "test_summaries", None) and resource_type in getattr(p, "tested_types", ("model",))]
    return partner_ids, expected


def summary_inputs_digest(rid: str, vid: str, rdf_sha256: str, expected: list[str], *, site_url: str,
                          git_base: str) -> str:
    """The digest `summarise_version` keys the files of a version without result or partner files on: made of
    the parameters alone, so a build tells unchanged versions in memory. `expected`: the second list of
    `partner_lists` for the version's type."""
    return sha256_bytes(_parameters(rdf_sha256, expected, _summary_link(site_url, rid, vid), git_base))


def _parameters(rdf_sha256: str, expected: list[str], link: str, git_base: str) -> bytes:
    return json_bytes([SUMMARY_FORMAT, [rdf_sha256, expected, link, git_base]], indent=None)


def _inputs_digest(parameters: bytes, work: WorkDir, rid: str, vid: str, partner_ids: Sequence[str]) -> str:
    """The digest of the parameters followed by the version's result files and partner records."""
    parts = [parameters]
    folder = work.results_dir(rid, vid)
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        parts.append(path.name.encode() + b"\0" + path.read_bytes())
    for partner_id in partner_ids:
        path = work.partner_result(partner_id, rid, vid)
        if path.is_file():
            parts.append(partner_id.encode() + b"\0" + path.read_bytes())
    return sha256_bytes(b"".join(parts))
