"""What YAML costs a run of update + build, per parser and emitter (issue 17).

Records every document a cold run and a no-change rerun load and dump (the fake Zenodo and GitHub of
`bench_pipeline.py`, N concepts x 3 versions + 20 partners x 50 entries, no latency, one process), then replays that
traffic through each candidate, best of three:

    python benchmarks/bench_yaml.py                 # 1,000 concepts (the hub's scale and more)
    python benchmarks/bench_yaml.py --concepts 100  # quicker; loads and dumps scale with the versions

Run with `PYTHONPATH=<old checkout>/scripts` to include the hand-written reader and emitter it replaced, where they
exist (`adapters/yamlread.py`, `adapters/yamlemit.py`).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import importlib
import io
import multiprocessing
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_pipeline  # noqa: E402

from collection_compiler.adapters import yamlio  # noqa: E402
from collection_compiler.settings import Settings  # noqa: E402


def record(concepts: int) -> dict[str, tuple[list[bytes], list[Any]]]:
    """The documents loaded (bytes) and dumped (values) by a cold run and a no-change rerun."""
    traffic: dict[str, tuple[list[bytes], list[Any]]] = {}
    loads: list[bytes] = []
    dumps: list[Any] = []
    load, dump = yamlio.load_yaml_bytes, yamlio.dump_yaml

    def recording_load(data: bytes, source: str = "<yaml>", max_bytes: int = yamlio.MAX_YAML_BYTES) -> Any:
        loads.append(bytes(data))
        return load(data, source, max_bytes)

    def recording_dump(value: Any) -> str:
        dumps.append(copy.deepcopy(value))
        return dump(value)

    yamlio.load_yaml_bytes, yamlio.dump_yaml = recording_load, recording_dump
    tmp = Path(tempfile.mkdtemp(prefix="bench-yaml-"))
    args = argparse.Namespace(concepts=concepts, partners=20, entries=50, latency=0.0, limits=False,
                              root=str(tmp / "w"))
    queue: multiprocessing.Queue = multiprocessing.Queue()
    server = multiprocessing.Process(target=bench_pipeline.serve, args=(args, queue), daemon=True)
    server.start()
    try:
        urls = queue.get(timeout=1800)
        budgets = ";".join(f"{name}={rate}/1" for name, rate in bench_pipeline.rate_limits(args).items())
        base = Settings(zenodo_api=urls["zenodo"], github_api=urls["api"], github_raw=urls["raw"],
                        git_base=urls["git"], repo_root=Path(urls["hub"]), concurrency=1, http_timeout=60,
                        rate_limits=budgets)
        site = tmp / "site"
        for name, settings in [("cold", base.with_overrides(work_dir=tmp / "w1", out=site)),
                               ("no-change", base.with_overrides(work_dir=tmp / "w2", out=site, previous=site))]:
            bench_pipeline.timed_run(settings)
            traffic[name] = (loads[:], dumps[:])
            loads.clear()
            dumps.clear()
    finally:
        yamlio.load_yaml_bytes, yamlio.dump_yaml = load, dump
        server.terminate()
        shutil.rmtree(tmp, ignore_errors=True)
    return traffic


def ruamel(pure: bool) -> YAML:
    parser = YAML(typ="safe", pure=pure)
    parser.version = (1, 2)
    parser.default_flow_style = False
    parser.allow_unicode = True
    parser.width = 4096
    return parser


def ruamel_dump(parser: YAML) -> Callable[[Any], str]:
    def dump(value: Any) -> str:
        out = io.StringIO()
        parser.dump(value, out)
        return out.getvalue()
    return dump


def candidates() -> tuple[dict[str, Callable[[bytes], Any]], dict[str, Callable[[Any], str]]]:
    ruamel_c, ruamel_pure = ruamel(False), ruamel(True)
    loaders: dict[str, Callable[[bytes], Any]] = {
        "yamlio (PyYAML CSafeLoader + 1.2 core resolvers)": yamlio.load_yaml_bytes,
        "ruamel safe, C parser": lambda data: ruamel_c.load(data.decode()),
        "ruamel safe, pure": lambda data: ruamel_pure.load(data.decode()),
    }
    dumpers: dict[str, Callable[[Any], str]] = {
        "yamlio (PyYAML SafeDumper, published styles)": yamlio.dump_yaml,
        "PyYAML CSafeDumper (other bytes: escapes emoji)": lambda v: yaml.dump(
            v, Dumper=yaml.CSafeDumper, allow_unicode=True, default_flow_style=False, width=4096),
        "ruamel safe, C emitter (other bytes)": ruamel_dump(ruamel_c),
        "ruamel safe, pure (other bytes)": ruamel_dump(ruamel_pure),
    }
    try:  # the hand-written reader and emitter, where the checkout on the path still has them
        yamlread = importlib.import_module("collection_compiler.adapters.yamlread")
        yamlemit = importlib.import_module("collection_compiler.adapters.yamlemit")
        loaders["yamlread (hand-written, on libyaml events)"] = lambda data: yamlread.load(data.decode(), 64)
        dumpers["yamlemit (hand-written)"] = yamlemit.dump
    except ImportError:
        pass
    return loaders, dumpers


def replay(fn: Callable[[Any], Any], items: list[Any]) -> float:
    """Seconds for all `items`, best of three; a candidate that refuses an item costs what it spent."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for item in items:
            with contextlib.suppress(Exception):  # a refusal (the hand-written reader's fallback) costs what it took
                fn(item)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--concepts", type=int, default=1_000)
    args = parser.parse_args()
    traffic = record(args.concepts)
    versions = args.concepts * 3 + 20 * 50
    loaders, dumpers = candidates()
    for run, (loads, dumps) in traffic.items():
        print(f"\n{run}: {len(loads)} loads ({sum(map(len, loads)) / 1e6:.1f} MB), {len(dumps)} dumps "
              f"for {versions} versions ({len(loads) / versions:.2f} loads, {len(dumps) / versions:.2f} dumps each)")
        for name, fn in loaders.items():
            seconds = replay(fn, loads)
            print(f"  load  {name:52} {seconds:7.2f} s  ({1000 * seconds / max(1, len(loads)):.2f} ms each)")
        for name, fn in dumpers.items():
            seconds = replay(fn, dumps)
            print(f"  dump  {name:52} {seconds:7.2f} s  ({1000 * seconds / max(1, len(dumps)):.2f} ms each)")


if __name__ == "__main__":
    main()
