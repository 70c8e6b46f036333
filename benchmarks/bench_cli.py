"""Benchmark of what a user meets at the command line: `--help` length per command, the demo's wall time from an
empty folder, and how long `collection validate` waits on a description whose files cannot be reached. With
`--base REF` the same is measured on that git revision (checked out into a temporary folder) for comparison.
Prints numbers; not part of pytest.

    .venv/bin/python benchmarks/bench_cli.py [--base main]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COMMANDS = ("update", "validate", "test", "plan", "gather", "dispatch", "check-partners", "review-prs", "build",
            "deploy", "run", "demo", "serve")
UNREACHABLE_FILES = 8


def _runner(scripts: Path) -> list[str]:
    """The CLI of the package under `scripts` on this interpreter."""
    code = (f"import sys; sys.path.insert(0, {str(scripts)!r}); sys.argv[0] = 'collection'; "
            "from collection_compiler.cli import main; sys.exit(main())")
    return [sys.executable, "-c", code]


def _run(command: list[str], cwd: Path, timeout: float = 600) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "COLUMNS": "100"}, stdin=subprocess.DEVNULL)
    return time.perf_counter() - start, done


def help_lines(cli: list[str], tmp: Path) -> dict[str, int]:
    return {c: len(_run([*cli, c, "--help"], tmp)[1].stdout.splitlines()) for c in COMMANDS}


def demo_seconds(cli: list[str], tmp: Path) -> float:
    folder = Path(tempfile.mkdtemp(dir=tmp))
    seconds, done = _run([*cli, "demo", "--out", "demo-site"], folder)
    if done.returncode != 0:
        print(done.stderr[-2000:], file=sys.stderr)
    return seconds


def unreachable_validation(cli: list[str], tmp: Path) -> tuple[float, str]:
    """A 0.5 model whose documentation, weights and other files sit on a host that refuses connections."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    names = [f"file{i}.bin" for i in range(UNREACHABLE_FILES - 1)]
    attachments = "".join(f"    - source: {dead}/{n}\n" for n in names)
    rdf = tmp / "unreachable.yaml"
    rdf.write_text(f"format_version: 0.3.0\ntype: dataset\nname: unreachable\ndescription: files elsewhere\n"
                   f"authors: [{{name: Ada}}]\ncite: [{{text: x, doi: 10.1234/abc}}]\nlicense: MIT\n"
                   f"documentation: {dead}/README.md\nattachments:\n{attachments}", "utf-8")
    seconds, done = _run([*cli, "validate", str(rdf)], tmp)
    return seconds, done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-200:]


def measure(label: str, scripts: Path, tmp: Path) -> None:
    cli = _runner(scripts)
    lines = help_lines(cli, tmp)
    print(f"{label}: --help lines per command: {lines}")
    print(f"{label}: --help lines min/max/total: {min(lines.values())}/{max(lines.values())}/{sum(lines.values())}")
    seconds, last = unreachable_validation(cli, tmp)
    print(f"{label}: validate, {UNREACHABLE_FILES} unreachable files: {seconds:.1f} s; last line: {last}")
    print(f"{label}: demo from an empty folder: {demo_seconds(cli, tmp):.1f} s", flush=True)


def _checkout(ref: str, into: Path) -> Path:
    archive = subprocess.run(["git", "-C", str(REPO), "archive", ref, "scripts"], capture_output=True, check=True)
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into / "scripts"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", help="also measure this git revision (e.g. main)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        if args.base:
            measure(args.base, _checkout(args.base, Path(tmp) / "base"), Path(tmp))
        measure("this tree", REPO / "scripts", Path(tmp))


if __name__ == "__main__":
    main()
