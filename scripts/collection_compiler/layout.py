"""Where each stage reads and writes: the work folder and the published tree.

Stages talk only through these files, so a GitHub Actions job can run one stage and hand its folder on.

Work folder (`--work-dir`):
    resources.json                       index of every resource and version to publish (update stage)
    rdfs/<rid>/<vid>.yaml                materialised RDFs of new and changed versions (update stage; the
                                         others are read from the previous deploy: `WorkDir.version_rdf`)
    uploads/<rid>/<vid>.yaml             the RDFs as uploaded, of the versions fetched this run (update stage)
    ledger/<rid>/resource.yaml           proposed ledger changes for review (update stage)
    results/<rid>/<vid>/<checker>.json   our checks: static validation, one model test per weights format
    partner_results/<partner>/<rid>/<vid>/summaries.json   gathered partner sub-summaries (gather stage)
    plan/…                               pending matrices (plan stage)
    health/<stage>.json                  each stage's part of the health report
    requests/<stage>.json                each stage's requests per endpoint class (its rate-limit budget); in
                                         health.json
    download_counts.json, partners.json, source_state.json

Published tree (`--out`, and `--previous` for the last deploy):
    collection.json, partner_details.json, id_map.json, download_counts.json, health.json, schemas/*.json,
    rdfs/<rid>/<vid>/{rdf.yaml,test_summary.yaml,summary.json}, pending/<partner>.json,
    state/sources.json (fingerprints that make the next run incremental), state/published.json (the versions
    the tree holds, with the digest and outcome of their test summaries),
    state/held/<rid>/<vid>/{rdf.yaml,results.json} (held-back versions: their RDF and our
    check results, so the next run neither downloads nor checks them again), index.html and the site.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from collection_compiler.adapters.files import id_path


@dataclass(frozen=True)
class WorkDir:
    root: Path

    @property
    def resources(self) -> Path:
        return self.root / "resources.json"

    @property
    def download_counts(self) -> Path:
        return self.root / "download_counts.json"

    @property
    def partners(self) -> Path:
        return self.root / "partners.json"

    @property
    def source_state(self) -> Path:
        return self.root / "source_state.json"

    @property
    def rdfs(self) -> Path:
        return self.root / "rdfs"

    def rdf(self, rid: str, vid: str) -> Path:
        # A file per version beside its siblings, not a folder per version as in the published tree: creating
        # 31,000 folders cost a cold run more kernel time than writing the files themselves.
        path = id_path(self.rdfs, rid, vid)
        return path.with_name(f"{path.name}.yaml")

    def upload(self, rid: str, vid: str) -> Path:
        """The version's RDF as uploaded (fetched this run), which the validate stage judges."""
        path = id_path(self.root / "uploads", rid, vid)
        return path.with_name(f"{path.name}.yaml")

    def version_rdf(self, rid: str, vid: str, previous: Path | None) -> Path:
        """The version's materialised RDF: this run's, or, for a version that `update` found unchanged (it
        does not copy those), the previous deploy's."""
        path = self.rdf(rid, vid)
        if previous is None or path.is_file():
            return path
        return SiteTree(previous).kept_rdf(rid, vid)

    def ledger_proposal(self, rid: str) -> Path:
        return id_path(self.root / "ledger", rid) / "resource.yaml"

    def results_dir(self, rid: str, vid: str) -> Path:
        return id_path(self.root / "results", rid, vid)

    def result(self, rid: str, vid: str, checker: str) -> Path:
        return self.results_dir(rid, vid) / f"{checker}.json"

    def partner_result(self, partner_id: str, rid: str, vid: str) -> Path:
        return id_path(self.root / "partner_results", partner_id, rid, vid) / "summaries.json"

    @property
    def plan(self) -> Path:
        return self.root / "plan"

    def health(self, stage: str) -> Path:
        return self.root / "health" / f"{stage}.json"

    def requests(self, stage: str) -> Path:
        return self.root / "requests" / f"{stage}.json"


@dataclass(frozen=True)
class SiteTree:
    root: Path

    @property
    def collection(self) -> Path:
        return self.root / "collection.json"

    @property
    def partner_details(self) -> Path:
        return self.root / "partner_details.json"

    @property
    def id_map(self) -> Path:
        return self.root / "id_map.json"

    @property
    def download_counts(self) -> Path:
        return self.root / "download_counts.json"

    @property
    def health(self) -> Path:
        return self.root / "health.json"

    @property
    def schemas(self) -> Path:
        return self.root / "schemas"

    @property
    def rdfs(self) -> Path:
        return self.root / "rdfs"

    def version_dir(self, rid: str, vid: str) -> Path:
        return id_path(self.rdfs, rid, vid)

    def rdf(self, rid: str, vid: str) -> Path:
        return self.version_dir(rid, vid) / "rdf.yaml"

    def test_summary(self, rid: str, vid: str) -> Path:
        return self.version_dir(rid, vid) / "test_summary.yaml"

    def held_dir(self, rid: str, vid: str) -> Path:
        return id_path(self.held, rid, vid)

    def held_rdf(self, rid: str, vid: str) -> Path:
        return self.held_dir(rid, vid) / "rdf.yaml"

    def held_results(self, rid: str, vid: str) -> Path:
        return self.held_dir(rid, vid) / "results.json"

    def kept_rdf(self, rid: str, vid: str) -> Path:
        """The version's RDF in this tree: published, else held back (the published path when neither)."""
        published = self.rdf(rid, vid)
        if published.is_file():
            return published
        held = self.held_rdf(rid, vid)
        return held if held.is_file() else published

    def summary_json(self, rid: str, vid: str) -> Path:
        return self.version_dir(rid, vid) / "summary.json"

    def pending(self, partner_id: str) -> Path:
        return id_path(self.root / "pending", partner_id).with_suffix(".json")

    @property
    def source_state(self) -> Path:
        return self.root / "state" / "sources.json"

    @property
    def published_index(self) -> Path:
        return self.root / "state" / "published.json"

    @property
    def held(self) -> Path:
        return self.root / "state" / "held"
