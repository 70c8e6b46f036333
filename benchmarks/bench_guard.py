"""Performance guard of issue 17: two commits' compilers side by side, each through its own CLI, on one fake world.

Each commit's `scripts/` is exported with `git archive` and run as `python -m collection_compiler` on this
interpreter with `PYTHONPATH=<export>/scripts`; its settings travel only as `COLLECTION_*` environment variables
(the stable contract), so the guard does not depend on the package's internals. The world is bench_pipeline's
(N concepts x 3 versions with realistic model RDFs, 20 partners x 50 entries, 20 ms per request, no rate limit),
built and served by this tree's fakes in a separate process. Per commit, after one unmeasured cold run each: the
cold run (update + build --no-site into empty folders) and the no-change rerun (previous deploy = output, in place,
fresh work folder), medians of `--runs` and `--reruns`, old and new alternating so the machine's noise hits both.
Prints a table with the new/old ratios against the 1.5x target; exits 0 whatever they are.

    python benchmarks/bench_guard.py                                # 2ea8411 against HEAD, 1,000 concepts
    python benchmarks/bench_guard.py --old main --new guard --concepts 200
    python benchmarks/bench_guard.py --concepts 10000 --runs 1      # the large run: finishes in bounded memory?
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import queue as queue_module
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import bench_pipeline
from bench_cli import _checkout

REPO = Path(__file__).resolve().parents[1]
TARGET = 1.5  # the limit on new / old, for the cold run and the no-change rerun
IMPORTED = "import collection_compiler; print(collection_compiler.__file__)"


@dataclass
class Compiler:
    """One commit's export, and what its runs measured."""

    label: str
    scripts: Path
    runs: Path  # the work and output folders of its runs
    cold: list[float] = field(default_factory=list)
    rerun: list[float] = field(default_factory=list)
    peak_mb: float = 0.0


def export(role: str, ref: str, tmp: Path) -> Compiler:
    """The commit's `scripts/` in a folder of its own (one each, even when both name the same commit)."""
    short = subprocess.run(["git", "rev-parse", "--short", ref], capture_output=True, text=True, check=True,
                           cwd=REPO).stdout.strip()
    label = f"{role} {ref}" + (f" ({short})" if short != ref else "")
    return Compiler(label, _checkout(ref, tmp / "src" / role), tmp / "runs" / role)


def check_import(compiler: Compiler, env: dict[str, str]) -> None:
    """Makes sure the commit's own package is imported, not the one installed in this interpreter."""
    found = subprocess.run([sys.executable, "-c", IMPORTED], cwd=compiler.scripts.parent, capture_output=True,
                           text=True, check=True, env={**env, "PYTHONPATH": str(compiler.scripts)}).stdout.strip()
    print(f"  {compiler.label}: imports {found}")
    if not Path(found).is_relative_to(compiler.scripts):
        raise RuntimeError(f"{compiler.label} imported {found}, not its export {compiler.scripts}")


def start_world(args: argparse.Namespace, root: Path) -> tuple[multiprocessing.Process, dict[str, str]]:
    """bench_pipeline's world, served in a process of its own; its URLs and hub folder."""
    world = argparse.Namespace(root=str(root), concepts=args.concepts, partners=args.partners, entries=args.entries,
                               latency=args.latency, limits=args.limits, search_limit=args.search_limit,
                               api_limit=args.api_limit, github_limit=args.github_limit)
    queue: multiprocessing.Queue = multiprocessing.Queue()
    server = multiprocessing.Process(target=bench_pipeline.serve, args=(world, queue), daemon=True)
    server.start()
    while True:  # building 10,000 concepts takes minutes; a server that died must not leave the guard waiting
        try:
            return server, queue.get(timeout=5)
        except queue_module.Empty:
            if not server.is_alive():
                raise RuntimeError(f"the world's server exited ({server.exitcode}) before serving") from None


def settings_env(urls: dict[str, str], args: argparse.Namespace) -> dict[str, str]:
    """This environment without any COLLECTION_* or token, plus the world's endpoints and its rate limits (with
    `--limits` the fakes enforce them; else none binds)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COLLECTION_") and k != "GITHUB_TOKEN"}
    budgets = bench_pipeline.rate_limits(args)
    concurrency = args.concurrency
    env.update(COLLECTION_ZENODO_API=urls["zenodo"], COLLECTION_GITHUB_API=urls["api"],
               COLLECTION_GITHUB_RAW=urls["raw"], COLLECTION_GIT_BASE=urls["git"], COLLECTION_REPO_ROOT=urls["hub"],
               COLLECTION_CONCURRENCY=str(concurrency), COLLECTION_HTTP_TIMEOUT="60",
               COLLECTION_RATE_LIMITS=";".join(f"{name}={rate}/1" for name, rate in budgets.items()))
    return env


def cli(compiler: Compiler, env: dict[str, str], argv: list[str], log: Path) -> float:
    """Wall seconds of one command; keeps the peak RSS of its process tree (wait4 reports the largest)."""
    with log.open("w") as out:
        start = time.perf_counter()
        process = subprocess.Popen([sys.executable, *argv], cwd=compiler.scripts.parent, stdout=out,
                                   stderr=subprocess.STDOUT, env={**env, "PYTHONPATH": str(compiler.scripts)})
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, so Popen must not wait again
    if process.returncode:
        raise RuntimeError(f"{compiler.label}: {' '.join(argv)} failed:\n{log.read_text()[-3000:]}")
    compiler.peak_mb = max(compiler.peak_mb, usage.ru_maxrss / 1024)
    return elapsed


def update_build(compiler: Compiler, env: dict[str, str], run: str, site: str, previous: bool) -> float:
    """update + build --no-site in the work folder `run`, writing `site` (also read as the previous deploy)."""
    work, out = compiler.runs / run, compiler.runs / site
    env = {**env, "COLLECTION_WORK_DIR": str(work), "COLLECTION_OUT": str(out)}
    if previous:
        env["COLLECTION_PREVIOUS"] = str(out)
    work.mkdir(parents=True)
    seconds = [cli(compiler, env, ["-m", "collection_compiler", command, *flags], work / f"{command}.log")
               for command, flags in (("update", []), ("build", ["--no-site"]))]
    print(f"  {compiler.label:24} {run:8} update {seconds[0]:6.2f} s  build {seconds[1]:6.2f} s"
          f"  = {sum(seconds):6.2f} s", flush=True)
    return sum(seconds)


def measure(old: Compiler, new: Compiler, env: dict[str, str], runs: int, reruns: int) -> None:
    """One unmeasured cold run each (bytecode, the fakes' and the OS's caches), then the cold runs and the
    no-change reruns on the last cold output, alternating which commit goes first (ABBA) so a trend in the
    machine's load falls on both."""
    for c in (old, new):
        update_build(c, env, "warm-up", "site-warm-up", False)
    for i in range(runs):
        for c in (old, new) if i % 2 == 0 else (new, old):
            c.cold.append(update_build(c, env, f"cold{i}", f"site{i}", False))
    for i in range(reruns):
        for c in (old, new) if i % 2 == 0 else (new, old):
            c.rerun.append(update_build(c, env, f"rerun{i}", f"site{runs - 1}", True))


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} s ({min(values):.2f}–{max(values):.2f})"


def report(old: Compiler, new: Compiler) -> None:
    print(f"\n| commit | cold, update + build (median of {len(old.cold)}) | no-change rerun (median of "
          f"{len(old.rerun)}) | peak RSS, largest process |")
    print("|---|---|---|---|")
    for c in (old, new):
        print(f"| {c.label} | {spread(c.cold)} | {spread(c.rerun)} | {c.peak_mb:.0f} MB |")
    ratios = [statistics.median(getattr(new, k)) / statistics.median(getattr(old, k)) for k in ("cold", "rerun")]
    print("| new / old | " + " | ".join(f"{r:.2f} ({'≤' if r <= TARGET else '>'} {TARGET})" for r in ratios) + " | |")
    verdict = "within" if max(ratios) <= TARGET else "OVER"
    print(f"\n{verdict} the issue-17 guard (new / old ≤ {TARGET} for both); informational, exit 0")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--old", default="2ea8411", help="the commit before the refactor")
    parser.add_argument("--new", default="HEAD")
    parser.add_argument("--concepts", type=int, default=1_000)
    parser.add_argument("--partners", type=int, default=20)
    parser.add_argument("--entries", type=int, default=50)
    parser.add_argument("--latency", type=float, default=20.0, help="milliseconds per request")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--limits", action="store_true",
                        help="the fakes enforce bench_pipeline's scaled rate limits (30 searches, 60 other Zenodo and "
                             "100 GitHub API requests a second), and the compilers are told them")
    parser.add_argument("--search-limit", type=int, default=30)
    parser.add_argument("--api-limit", type=int, default=60)
    parser.add_argument("--github-limit", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3, help="cold runs per commit (their median is reported)")
    parser.add_argument("--reruns", type=int, default=5, help="no-change reruns per commit (median; they are cheap)")
    args = parser.parse_args()
    started = time.perf_counter()
    runs = max(1, args.runs)
    tmp = Path(tempfile.mkdtemp(prefix="bench-guard-"))
    server = None
    try:
        old, new = export("old", args.old, tmp), export("new", args.new, tmp)
        server, urls = start_world(args, tmp / "world")
        env = settings_env(urls, args)
        print(f"{args.concepts} concepts x 3 versions, {args.partners} partners x {args.entries} entries, "
              f"{args.latency:g} ms per request, {os.cpu_count()} cores, Python {sys.version.split()[0]}"
              f" (world ready after {time.perf_counter() - started:.0f} s)")
        for c in (old, new):
            check_import(c, env)
        measure(old, new, env, runs, max(1, args.reruns))
        report(old, new)
    finally:
        if server:
            server.terminate()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"guard's own run time: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
