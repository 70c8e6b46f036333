"""Golden outputs: the published trees of the offline demo and of a world with every format, byte for byte.

Each tree is built from scratch by `world.py` in a subprocess, through the `collection` CLI, and compared file by
file (the set of paths and their bytes) with `tests/golden/<tree>/` and `tests/golden/<tree>.sha256`, after the
few normalisations in `RULES`. What, why and how to re-record: tests/golden/README.md.
"""

from __future__ import annotations

import difflib
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

import pytest

HERE = Path(__file__).parent
TREES = ("demo", "formats")
LARGE = 64 * 1024  # bytes: a larger file, or a binary one, is kept as its sha256 in <tree>.sha256, not as a copy
SHOWN_DIFFS, SHOWN_LINES = 3, 80  # a failure prints the unified diffs of this many files, cut to this many lines

# Inputs that would otherwise change between runs, fixed for the build (settings, not normalisation).
PINNED = {
    "COLLECTION_NOW": "2026-01-01T00:00:00+00:00",  # the run's clock: health.json, the feed, "now" in the pages
    # the partners' repositories are committed by the world: with fixed dates their commit ids (published in
    # test summaries and health.json) are the same on every run, and nobody's git settings (signing) take part
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00+00:00",
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00+00:00",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "CUDA_VISIBLE_DEVICES": "",  # models run on the CPU on a GPU machine too: `device` is in the test summaries
}


@dataclass(frozen=True)
class Rule:
    files: str  # fnmatch pattern of the path in the tree (`*` crosses folders)
    pattern: re.Pattern[str]
    replacement: str


# Everything not named here is compared byte for byte. Each rule names the files it applies to.
RULES = (
    # The world's temporary folder: the demo makes `collection-demo-XXXXXXXX`, world.py `collection-golden-XXXXXXXX`.
    # A partner's row in summary.json links to its test summaries in the world's local git repositories.
    Rule("*", re.compile(r"[^\s\"'<>]*/collection-(?:demo|golden)-[a-z0-9_]{8}(?=[/\"'\s<]|$)"), "<world>"),
    # Durations of the model tests.
    Rule("*test_summary.yaml", re.compile(r"^(\s+(?:load|process|reproduce|sweep)_s: ).+$", re.M), r"\1<seconds>"),
    # The machine's CPU model, and the versions of the installed runtimes (onnxruntime is not pinned by the
    # `test` extra; torch is pinned only by the install instructions).
    Rule("*test_summary.yaml", re.compile(r"^(\s+device_name: ).+$", re.M), r"\1<device>"),
    Rule("*test_summary.yaml", re.compile(r"^(\s+(?:onnxruntime|torch): ).+$", re.M), r"\1<version>"),
    # What the rate-limit headers said was left: the fake GitHub counts in windows of one wall-clock second, and
    # the client's estimate depends on the requests in flight when each answer came.
    Rule("health.json", re.compile(r'("remaining": )\d+'), r"\1<n>"),
    # Cache keys, not contracts: digests over inputs that include the test durations (the result files), the
    # world's local paths (the partners' git base) or the compiler's own code (the salts).
    Rule("*summary.json", re.compile(r'("inputs_sha256": )"[0-9a-f]{64}"'), r'\1"<digest>"'),
    Rule("state/published.json", re.compile(r'(":\[)"[0-9a-f]{64}"'), r'\1"<digest>"'),
    Rule("site-cache/*.json", re.compile(r'("salt": ?)"[0-9a-f]+"'), r'\1"<digest>"'),
)
# No file of the trees is excluded: the HTML site is deterministic once the clock and the ports are fixed.


def normalise(path: str, data: bytes) -> bytes:
    """`data` of the tree's file `path` with RULES applied; binary files (not UTF-8) as they are."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data
    for rule in RULES:
        if fnmatch(path, rule.files):
            text = rule.pattern.sub(rule.replacement, text)
    return text.encode("utf-8")


def _is_text(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def snapshot(tree: Path) -> dict[str, bytes]:
    """Every file of `tree` by its POSIX path relative to `tree`, normalised."""
    files = sorted(p for p in tree.rglob("*") if p.is_file() or p.is_symlink())
    return {p.relative_to(tree).as_posix(): normalise(p.relative_to(tree).as_posix(), p.read_bytes()) for p in files}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _stored(name: str) -> tuple[dict[str, bytes], dict[str, str]]:
    """The golden files of tree `name`: the stored copies, and the sha256 of those kept only in the manifest."""
    folder, manifest = HERE / name, HERE / f"{name}.sha256"
    if not folder.is_dir() or not manifest.is_file():
        pytest.fail(f"no golden files for {name!r}: record them with `pytest tests/golden --record-golden`")
    copies = {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
    lines = manifest.read_text("utf-8").splitlines()
    hashes = {path: digest for digest, path in (line.split("  ", 1) for line in lines if line)}
    return copies, hashes


def record(name: str, files: dict[str, bytes]) -> None:
    folder = HERE / name
    shutil.rmtree(folder, ignore_errors=True)
    manifest = []
    for path, data in files.items():
        if len(data) > LARGE or not _is_text(data):
            manifest.append(f"{_sha256(data)}  {path}\n")
            continue
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    (HERE / f"{name}.sha256").write_text("".join(manifest), "utf-8")


def differences(name: str, files: dict[str, bytes]) -> list[str]:
    """What differs from the golden files, as lines for a failure message (empty: the same)."""
    copies, hashes = _stored(name)
    expected = set(copies) | set(hashes)
    lines = [f"missing from the built tree: {p}" for p in sorted(expected - set(files))]
    lines += [f"not in the golden files: {p}" for p in sorted(set(files) - expected)]
    changed = [p for p in sorted(expected & set(files))
               if (copies[p] != files[p] if p in copies else hashes[p] != _sha256(files[p]))]
    lines += [f"differs: {p}" for p in changed]
    for path in changed[:SHOWN_DIFFS]:
        if path not in copies:
            lines.append(f"--- {path}: sha256 {hashes[path]} in {name}.sha256, {_sha256(files[path])} built")
            continue
        diff = list(difflib.unified_diff(copies[path].decode("utf-8").splitlines(),
                                         files[path].decode("utf-8", "replace").splitlines(),
                                         f"golden/{name}/{path}", f"built/{path}", lineterm=""))
        lines += diff[:SHOWN_LINES] + ([f"... {len(diff) - SHOWN_LINES} more lines"] if len(diff) > SHOWN_LINES else [])
    return lines


@contextmanager
def _ports_lock() -> Iterator[None]:
    """Golden builds on one machine take turns: they serve their fakes on the same fixed ports (world.py)."""
    folder = Path("/tmp") if Path("/tmp").is_dir() else Path(tempfile.gettempdir())
    with open(folder / "collection-golden-ports.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def build(name: str, out: Path) -> None:
    # the tester's own COLLECTION_* settings, git identity or CI context are no input of the golden trees
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COLLECTION_", "GIT_", "GITHUB_"))}
    with _ports_lock():
        done = subprocess.run([sys.executable, str(HERE / "world.py"), name, str(out)], cwd=out.parent,
                              env={**env, **PINNED}, capture_output=True, text=True, timeout=300,
                              stdin=subprocess.DEVNULL)
    assert done.returncode == 0, f"building the {name} tree failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


@pytest.mark.slow
@pytest.mark.parametrize("name", TREES)
def test_the_published_tree_is_the_golden_one(name: str, tmp_path: Path, record_golden: bool) -> None:
    build(name, tmp_path / "site")
    files = snapshot(tmp_path / "site")
    if record_golden:
        record(name, files)
        return
    problems = differences(name, files)
    if problems:
        pytest.fail(f"the {name} tree differs from tests/golden/{name} (a deliberate change: re-record it and list "
                    "it, see tests/golden/README.md):\n" + "\n".join(problems), pytrace=False)


def test_the_normaliser_changes_only_what_it_names() -> None:
    """The rules touch what they name and nothing beside it (a rule too wide would hide real changes)."""
    line = '"link": "/tmp/pytest-of-me/collection-demo-ab_c12xy/repos/x/tree/0123/f", "remaining": 7,'
    assert normalise("health.json", line.encode()) == b'"link": "<world>/repos/x/tree/0123/f", "remaining": <n>,'
    assert normalise("collection.json", b'"remaining": 7') == b'"remaining": 7'  # health.json only
    summary = (b"  timings:\n    load_s: 0.0123\n    total: 1.5\n  device_name: Intel Xeon\n  runtime:\n"
               b"    torch: '2.1'\n")
    assert normalise("rdfs/a/1/test_summary.yaml", summary) == (
        b"  timings:\n    load_s: <seconds>\n    total: 1.5\n  device_name: <device>\n  runtime:\n"
        b"    torch: <version>\n")
    assert normalise("rdfs/a/1/rdf.yaml", summary) == summary
    digest = "ab" * 32
    published = f'{{"a/1":["{digest}",{{"rdf_sha256":"{digest}"}}]}}'.encode()
    expected = f'{{"a/1":["<digest>",{{"rdf_sha256":"{digest}"}}]}}'.encode()  # the inputs digest only
    assert normalise("state/published.json", published) == expected
    png = b"\x89PNG\r\n\x1a\n\xff/collection-demo-abcdefgh"
    assert normalise("thumbnails/x.png", png) == png
