"""Benchmark: `review-prs` for N proposals against the fake GitHub (real git repository behind it).

    python benchmarks/review_prs.py [N]

Prints the time of the first run (branches, commits, pull requests created) and of a second, no-change run
(bodies compared, nothing committed).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from collection_compiler.adapters import yamlio
from collection_compiler.adapters.files import write_json
from collection_compiler.demo.fakes.github import FakeGitHub
from collection_compiler.demo.world import git_commit_tree
from collection_compiler.settings import Settings
from collection_compiler.stages.review import review_prs


def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        hub = root / "hub"
        (hub / "collection").mkdir(parents=True)
        (hub / "README.md").write_text("hub\n")
        git_commit_tree(root / "repos/bench/hub", "main", hub, "hub")
        resources = {}
        for i in range(n):
            rid = f"10.5281/zenodo.{100000 + i}"
            proposal = {"id": rid, "status": "accepted",
                        "versions": [{"version_id": str(200000 + i), "status": "accepted", "created": "2025-01-01"}]}
            path = root / "work/ledger" / rid / "resource.yaml"
            path.parent.mkdir(parents=True)
            path.write_text(yamlio.dump_yaml(proposal))
            resources[rid] = {"id": rid, "name": f"Model {i}", "type": "model"}
        write_json(root / "work/resources.json", {"resources": resources})
        with FakeGitHub(root / "repos") as github:
            settings = Settings(github_api=github.api, repo_root=hub, work_dir=root / "work", http_retries=0)
            for label in ("first run", "no-change run"):
                start = time.perf_counter()
                records = review_prs(settings, "bench/hub")
                elapsed = time.perf_counter() - start
                actions = sorted({r["action"] for r in records})
                print(f"{label}: {n} proposals in {elapsed:.2f} s ({elapsed / n * 1000:.0f} ms each), "
                      f"actions {actions}, {len(github.log)} requests so far")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)
