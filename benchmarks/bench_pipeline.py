"""Benchmark of `update` + `build` (the published JSON/YAML tree, without the HTML site).

A fake Zenodo with N concepts x 3 versions and a fake GitHub with 20 partners x 50 entries run in a separate
process with a fixed latency per request. Reported: the cold run, a no-change rerun (previous deploy = output,
in place), and the cold run with concurrency 1 (the sequential baseline), with peak memory and each run's
requests per endpoint class.

    python benchmarks/bench_pipeline.py                    # 1,000 concepts (the hub's scale and more), 20 ms
    python benchmarks/bench_pipeline.py --concepts 10000   # the large run (takes ~15 min)
    python benchmarks/bench_pipeline.py --reruns 5         # the median of five no-change reruns
    python benchmarks/bench_pipeline.py --limits           # the fakes enforce rate limits (below)

Without `--limits` the fakes enforce no limit, so the numbers measure the compiler. With `--limits` they enforce
Zenodo's and GitHub's published limits scaled from a minute to a second (search 30, the rest of Zenodo's API 60,
GitHub's API 100 per second; `--search-limit`, `--api-limit`), the compiler starts from those budgets, and the
script reports the floor the limits allow (per class, its requests / its rate; the slowest class), the cold
run's wall time against it, the 429s drawn, and the requests of the no-change rerun.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import importlib
import json
import multiprocessing
import os
import pstats
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from collection_compiler.demo.fakes import github as fake_github
from collection_compiler.demo.fakes import zenodo as fake_zenodo
from collection_compiler.demo.fakes.zenodo import FakeRecord
from collection_compiler.demo.world import DemoWorld, demo_data, git_commit_tree
from collection_compiler.settings import Settings
from collection_compiler.stages import build as build_stage
from collection_compiler.stages import update as update_stage

TEMPLATE_PAGE_SIZE = 100
RESET_PHASES: list[Callable[[], None]] = []


def rdf_text(i: int, version: int) -> bytes:
    """A realistic model RDF (about 2.5 kB, like the real ones), different for every version."""
    base = (demo_data() / "models" / "tiny-v1" / "rdf.yaml").read_text()
    text = base.replace("name: Tiny Nuclei Segmenter", f"name: Benchmark model {i}")
    text = text.replace("version: 1.0.0", f"version: {version}.0.0")
    return (text + f"config:\n  benchmark: {{index: {i}, version: {version}}}\n").encode()


def build_world(root: Path, concepts: int, partners: int, entries: int, latency: float) -> DemoWorld:
    world = DemoWorld(root, latency=latency)
    world.hub.mkdir(parents=True)
    shutil.copytree(demo_data() / "hub", world.hub, dirs_exist_ok=True)
    for partner in (world.hub / "partners").glob("*.yaml"):
        partner.unlink()
    template = world.hub / "collection_rdf_template.yaml"
    template.write_text(template.read_text().replace("page_size: 2", f"page_size: {TEMPLATE_PAGE_SIZE}"))
    for c in range(concepts):
        concept = 100_000 + c * 10
        for v in range(1, 4):
            world.zenodo.add(FakeRecord(concept + v, concept, f"2024-{v:02d}-{(c % 28) + 1:02d}T00:00:00+00:00",
                                        ["bioimage.io"], {"rdf.yaml": rdf_text(c, v)}, f"Model {c}", f"{v}.0.0",
                                        unique_downloads=c % 1000))
    content = root / "partner-content"
    for p in range(partners):
        pid = f"partner{p:02d}"
        (world.hub / "partners" / f"{pid}.yaml").write_text(
            f"id: {pid}\nname: Partner {p}\nrepository: org{p}/resources\nbranch: main\n"
            f"collection_file_name: collection.yaml\n")
        lines = [f"format_version: 0.2.4\ntype: collection\nid: {pid}\nname: Partner {p}\n"
                 "description: benchmark partner\ncollection:\n"]
        for e in range(entries):
            lines.append(f"  - {{id: app{e}, type: application, format_version: 0.2.4, name: App {p}-{e},"
                         f" description: An application for benchmarking., tags: [bench, p{p}]}}\n")
        shutil.rmtree(content, ignore_errors=True)
        content.mkdir()
        (content / "collection.yaml").write_text("".join(lines))
        git_commit_tree(world.repos / f"org{p}" / "resources", "main", content)
    return world


def rate_limits(args: argparse.Namespace) -> dict[str, int]:
    """Requests per second by class: the scaled published limits with `--limits`, else none that binds."""
    if not args.limits:
        return {"zenodo-search": 1_000_000, "zenodo": 1_000_000, "github-api": 1_000_000}
    return {"zenodo-search": args.search_limit, "zenodo": args.api_limit, "github-api": args.github_limit}


def serve(args: argparse.Namespace, queue: multiprocessing.Queue) -> None:
    world = build_world(Path(args.root), args.concepts, args.partners, args.entries, args.latency / 1000)
    limits = rate_limits(args) if args.limits else {}
    world.zenodo.limit(fake_zenodo.SEARCH, limits.get("zenodo-search", 0), 1)
    world.zenodo.limit(fake_zenodo.API, limits.get("zenodo", 0), 1)
    world.github.limit(fake_github.API, limits.get("github-api", 0), 1)
    world.start()
    queue.put({"zenodo": world.zenodo.api, "api": world.github.api, "raw": world.github.raw,
               "git": str(world.repos), "hub": str(world.hub)})
    while True:
        time.sleep(3600)


PHASES = {  # module: functions whose wall time `--phases` prints, relative to the start of the run
    "collection_compiler.stages.update": ("collect_sources", "ingest_new", "materialise_rest",
                                          "propose_ledger_changes", "resource_index"),
    "collection_compiler.stages.build": ("publish_versions", "collection_entries"),
}


def trace_phases() -> Callable[[], None]:
    """Wrap the phase functions to print when each starts and ends; returns a function resetting the clock."""
    clock = [time.perf_counter()]

    def wrap(module: Any, name: str) -> None:
        fn = getattr(module, name)

        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                print(f"    {started - clock[0]:6.2f} -> {time.perf_counter() - clock[0]:6.2f} s  {name}", flush=True)

        setattr(module, name, timed)

    for module_name, names in PHASES.items():
        module = importlib.import_module(module_name)
        for name in names:
            wrap(module, name)

    def reset() -> None:
        clock[0] = time.perf_counter()

    return reset


def timed_run(settings: Settings, profile: bool = False) -> tuple[float, dict[str, Any]]:
    """The wall time of update + build, and update's requests per endpoint class."""
    profiler = cProfile.Profile() if profile else None
    if RESET_PHASES:
        RESET_PHASES[0]()
    start = time.perf_counter()
    if profiler:
        profiler.enable()
    report = update_stage.update(settings)
    built = build_stage.build(settings, site=False)
    elapsed = time.perf_counter() - start
    if profiler:
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    print(f"  {report.summary()}\n  {built.summary()}  [{elapsed:.1f} s]", flush=True)
    return elapsed, dict(report.requests)


def limits_results(args: argparse.Namespace, cold: float, cold_requests: dict[str, Any],
                   rerun_requests: dict[str, Any]) -> dict[str, Any]:
    """The floor the limits allow (the slowest class: its requests / its rate), wall / floor, the 429s drawn."""
    rates = rate_limits(args)
    floors = {name: r["requests"] / rates[name] for name, r in cold_requests.items() if name in rates}
    floor = max(floors.values(), default=0.0)
    sent = sum(r["requests"] for r in cold_requests.values())
    throttled = sum(r["throttled"] for r in cold_requests.values())
    return {"floor_s": round(floor, 1), "floors_s": {k: round(v, 1) for k, v in sorted(floors.items())},
            "cold_over_floor": round(cold / floor, 3) if floor else None,
            "cold_requests": sent, "cold_429": throttled, "cold_429_share": round(throttled / max(1, sent), 4),
            "no_change_requests": {k: r["requests"] for k, r in sorted(rerun_requests.items())}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--concepts", type=int, default=1_000)
    parser.add_argument("--partners", type=int, default=20)
    parser.add_argument("--entries", type=int, default=50)
    parser.add_argument("--latency", type=float, default=20.0, help="milliseconds per request")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--skip-sequential", action="store_true")
    parser.add_argument("--reruns", type=int, default=1,
                        help="no-change reruns (each in a fresh work folder); their median is reported")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the cold and no-change runs")
    parser.add_argument("--phases", action="store_true", help="print the wall time of each phase of every run")
    parser.add_argument("--limits", action="store_true", help="the fakes enforce rate limits (see above)")
    parser.add_argument("--search-limit", type=int, default=30, help="Zenodo searches per second (--limits)")
    parser.add_argument("--api-limit", type=int, default=60, help="other Zenodo API requests per second (--limits)")
    parser.add_argument("--github-limit", type=int, default=100, help="GitHub API requests per second (--limits)")
    args = parser.parse_args()
    if args.phases:
        RESET_PHASES.append(trace_phases())
    tmp = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    args.root = str(tmp / "world")
    queue: multiprocessing.Queue = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(args, queue), daemon=True)
    server.start()
    urls = queue.get(timeout=1800)
    budgets = ";".join(f"{name}={rate}/1" for name, rate in rate_limits(args).items())
    base = Settings(zenodo_api=urls["zenodo"], github_api=urls["api"], github_raw=urls["raw"], git_base=urls["git"],
                    repo_root=Path(urls["hub"]), concurrency=args.concurrency, http_timeout=60, rate_limits=budgets)
    print(f"{args.concepts} concepts x 3 versions, {args.partners} partners x {args.entries} entries, "
          f"{args.latency:g} ms per request, {os.cpu_count()} cores, Python {sys.version.split()[0]}"
          f"{', limits ' + budgets if args.limits else ''}", flush=True)
    site = tmp / "site"
    print("cold run:")
    cold, cold_requests = timed_run(base.with_overrides(work_dir=tmp / "w1", out=site), args.profile)
    reruns = []
    for n in range(max(1, args.reruns)):
        print("no-change rerun (previous deploy = output):")
        work = tmp / f"w2-{n}"
        elapsed, rerun_requests = timed_run(base.with_overrides(work_dir=work, out=site, previous=site), args.profile)
        reruns.append(elapsed)
        shutil.rmtree(work, ignore_errors=True)
    rerun = statistics.median(reruns)
    results = {"cold_s": round(cold, 1), "no_change_s": round(rerun, 2), "no_change_share": round(rerun / cold, 3)}
    if args.limits:
        results.update(limits_results(args, cold, cold_requests, rerun_requests))
    if len(reruns) > 1:
        results["no_change_runs_s"] = [round(r, 2) for r in reruns]
    if not args.skip_sequential:
        print("cold run, concurrency 1 (sequential baseline):")
        sequential, _ = timed_run(base.with_overrides(work_dir=tmp / "w3", out=tmp / "site-seq", concurrency=1))
        results.update(sequential_s=round(sequential, 1), cold_share_of_sequential=round(cold / sequential, 3))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    results.update(peak_rss_mb=round(peak), peak_rss_largest_child_mb=round(peak_children))
    print(json.dumps(results, indent=2))
    server.terminate()
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
