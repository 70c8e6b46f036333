"""Benchmark of the partner stages: gather from a large local partner repository, plan, and the per-version
merge of test summaries. Prints numbers; not part of the test suite.

    .venv/bin/python benchmarks/bench_partners.py [N_VERSIONS]
"""

from __future__ import annotations

import logging
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from collection_compiler.adapters import yamlio
from collection_compiler.adapters.files import sha256_bytes, write_json
from collection_compiler.catalogue.partners import Registration, TestSummaries
from collection_compiler.catalogue.results import CheckResult, write_result
from collection_compiler.catalogue.summaries import write_version_summaries
from collection_compiler.layout import SiteTree, WorkDir
from collection_compiler.settings import Settings
from collection_compiler.stages.gather import gather
from collection_compiler.stages.plan import plan


def make_partner_repo(root: Path, versions: list[tuple[str, str, str]]) -> None:
    repo = root / "ilastik" / "resources"
    repo.mkdir(parents=True)
    env = {"GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@x", "GIT_COMMITTER_NAME": "b",
           "GIT_COMMITTER_EMAIL": "b@x", "PATH": "/usr/bin:/bin", "HOME": str(root)}
    subprocess.run(["git", "init", "-q", "-b", "gh-pages"], cwd=repo, check=True, env=env)
    for rid, vid, sha in versions:
        folder = repo / "test_summaries" / rid / vid
        folder.mkdir(parents=True)
        for wf in ("onnx", "torchscript"):
            (folder / f"test_summary_{wf}_1.4.2.yaml").write_text(yamlio.dump_yaml(
                [{"name": "load", "status": "passed", "error": None, "ilastik_version": "1.4.2", "rdf_sha256": sha},
                 {"name": f"predict {wf}", "status": "passed", "error": None, "ilastik_version": "1.4.2"}]))
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True, env=env)
    subprocess.run(["git", "commit", "-q", "-m", "summaries"], cwd=repo, check=True, env=env)


def main() -> None:
    logging.disable(logging.WARNING)  # the model-test stage warns about each (absent) rdf; not measured here
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        versions = [(f"10.5281/zenodo.{i}", str(i * 10), sha256_bytes(str(i).encode())) for i in range(n)]
        make_partner_repo(root / "repos", versions)
        settings = Settings(git_base=str(root / "repos"), work_dir=root / "work")
        work = WorkDir(settings.work_dir)
        write_json(work.resources, {"resources": {rid: {"type": "model", "versions": [
            {"version_id": vid, "rdf_sha256": sha}]} for rid, vid, sha in versions}})
        reg = Registration("ilastik", "ilastik", "ilastik/resources", "main", "collection.yaml",
                           TestSummaries("ilastik/resources", "gh-pages", "test_summaries", "t.yaml", "main"))
        start = time.perf_counter()
        health = gather(settings, [reg])
        t_gather = time.perf_counter() - start
        start = time.perf_counter()
        plan(settings, [reg])
        t_plan = time.perf_counter() - start
        site = SiteTree(root / "site")
        for rid, vid, sha in versions:
            write_result(work, rid, vid, CheckResult("static-validation", "1.0.0", sha, "passed",
                                                     [{"name": "format", "status": "passed", "error": None}]))
        start = time.perf_counter()
        for rid, vid, sha in versions:
            write_version_summaries(site, work, rid, vid, sha, [reg])
        t_merge = time.perf_counter() - start
        start = time.perf_counter()
        for rid, vid, sha in versions:
            write_version_summaries(site, work, rid, vid, sha, [reg])
        t_again = time.perf_counter() - start
    entry = health["partners"]["ilastik"]
    print(f"versions: {n}, partner files: {entry['files']}, summaries kept: {entry['summaries']}")
    print(f"gather (git fetch + read + validate + write): {t_gather:.2f} s")
    print(f"plan (partner pending matrix): {t_plan:.2f} s")
    print(f"merge test_summary.yaml + summary.json: {t_merge:.2f} s ({1000 * t_merge / n:.2f} ms/version)")
    print(f"merge again, nothing changed (no rewrite): {t_again:.2f} s")


if __name__ == "__main__":
    main()
