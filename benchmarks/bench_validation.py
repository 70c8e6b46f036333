"""Static validation throughput: descriptions per second on one core, file checks off.

Validates the shared real fixtures plus synthetic copies (names/ids varied, some broken) until at least
1,000 descriptions, from raw YAML bytes (parsing included). Prints numbers; not part of the test suite.
Usage: python benchmarks/bench_validation.py [FIXTURES_DIR] [N]
"""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path

from collection_compiler.adapters.jsonschemas import is_valid, load_schema, schema_names
from collection_compiler.adapters.yamlio import dump_yaml, load_yaml_bytes
from collection_compiler.validation import validate_rdf


def corpus(fixtures: Path, n: int) -> list[bytes]:
    originals = [p.read_bytes() for p in sorted(fixtures.rglob("rdf.yaml"))]
    if not originals:
        sys.exit(f"no rdf.yaml under {fixtures}")
    docs = list(originals)
    i = 0
    while len(docs) < n:
        data = load_yaml_bytes(originals[i % len(originals)])
        data["name"] = f"{data.get('name', 'x')} copy {i}"
        data["id"] = f"synthetic/copy-{i}"
        if i % 7 == 0:
            data.pop("description", None)  # a broken one now and then
        docs.append(dump_yaml(data).encode())
        i += 1
    return docs


def main() -> None:
    fixtures = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/fixtures/real-rdfs/rdfs")
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    started = time.perf_counter()
    for name in schema_names():
        load_schema(name)
        is_valid(name, {})  # compiles the fast validator too
    compile_s = time.perf_counter() - started
    docs = corpus(fixtures, n)
    started = time.perf_counter()
    statuses = [validate_rdf(d, source=f"doc{i}").status for i, d in enumerate(docs)]
    elapsed = time.perf_counter() - started
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, one core used")
    print(f"schemas compiled once: {compile_s * 1000:.1f} ms")
    print(f"descriptions: {len(docs)} ({statuses.count('passed')} passed, {statuses.count('failed')} failed)")
    print(f"total: {elapsed:.2f} s, {len(docs) / elapsed:.0f} descriptions/s, {elapsed / len(docs) * 1000:.2f} ms each")


if __name__ == "__main__":
    main()
