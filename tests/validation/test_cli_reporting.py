"""What the CLI tells a user about checks, in both model formats (0.4 and 0.5): files it could not check, a
missing model runtime, a run's stale sources and held-back versions, progress on a terminal. Each test runs the
real `collection` command in a subprocess (the `collection` fixture also checks that no traceback is printed)."""

from __future__ import annotations

import fcntl
import os
import pty
import socket
import struct
import subprocess
import sys
import termios
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from collection_compiler.demo.fakes.zenodo import FakeRecord
from collection_compiler.demo.world import KEYWORDS, DemoWorld

Run = Callable[..., subprocess.CompletedProcess[str]]
INSTALL = "pip install 'collection-compiler[models]'"


@pytest.fixture(params=["0.4", "0.5"])
def model(request: pytest.FixtureRequest, model_v04: dict, model_v05: dict) -> dict[str, Any]:
    return model_v04 if request.param == "0.4" else model_v05


@pytest.fixture
def dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


@pytest.fixture
def silent_url() -> Iterator[str]:
    """A local URL that accepts connections and never answers (a server that hangs)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        yield f"http://127.0.0.1:{s.getsockname()[1]}"


def _with_remote_files(rdf: dict[str, Any], base: str) -> dict[str, Any]:
    """The description with its documentation and weights on `base` (test tensors stay local)."""
    rdf["documentation"] = f"{base}/README.md"
    rdf["weights"]["torchscript"]["source"] = f"{base}/weights.pt"
    return rdf


def test_validate_names_each_unreachable_file_once_and_never_says_available(
        collection: Run, tmp_path: Path, write_package: Any, model: dict, dead_url: str) -> None:
    rdf = write_package(tmp_path / "model", _with_remote_files(model, dead_url))
    result = collection("validate", str(rdf), "--http-retries", "0", "--allowed-hosts", "127.0.0.1")
    assert result.returncode == 1
    assert "could not check 2 files" in result.stdout
    assert "All URLs and paths available" not in result.stdout
    assert "Could not check 2 of 4 files" in result.stdout
    for url in (f"{dead_url}/README.md", f"{dead_url}/weights.pt"):
        assert result.stdout.count(url) == 1, result.stdout
    assert "PASSED (files not all checked)" in result.stdout


def test_validate_keeps_to_its_time_budget(collection: Run, tmp_path: Path, write_package: Any, model: dict,
                                           silent_url: str) -> None:
    rdf = write_package(tmp_path / "model", _with_remote_files(model, silent_url))
    result = collection("validate", str(rdf), "--file-check-budget", "1", "--http-timeout", "60",
                        "--allowed-hosts", "127.0.0.1")
    assert result.returncode == 1
    assert "the time budget for file checks (1 s) was spent" in result.stdout
    assert "could not check 2 files" in result.stdout and "--file-check-budget" in result.stdout


def test_validate_of_reachable_files_passes(collection: Run, tmp_path: Path, write_package: Any,
                                            model: dict) -> None:
    result = collection("validate", str(write_package(tmp_path / "model", model)))
    assert result.returncode == 0, result.stdout
    assert "All URLs and paths available" in result.stdout and "could not check" not in result.stdout


def test_a_missing_model_runtime_is_named_before_the_test(collection: Run, tmp_path: Path, write_package: Any,
                                                          model: dict) -> None:
    rdf = write_package(tmp_path / "model", model)
    for args in ([str(rdf)], [str(rdf), "--weight-format", "torchscript"]):
        result = collection("test", *args, runtimes=False)
        assert result.returncode == 1
        assert result.stderr.strip().splitlines()[-1] == (
            f"collection: error: the model runtime 'torch' is not installed (install it: {INSTALL})")


@pytest.fixture
def world(tmp_path: Path, model: dict, write_package: Any) -> Iterator[DemoWorld]:
    """The demo world, plus a Zenodo upload whose weights do not match their sha256 (it fails validation)."""
    model["weights"]["torchscript"]["sha256"] = "0" * 64
    folder = write_package(tmp_path / "broken", model).parent
    files = {p.name: p.read_bytes() for p in sorted(folder.iterdir())}
    with DemoWorld(tmp_path / "world").populate() as running:
        running.zenodo.add(FakeRecord(7001, 7000, "2024-04-01T10:00:00+00:00", KEYWORDS, files, "Broken", "1"))
        yield running


def test_a_run_reports_stale_sources_and_held_back_versions(collection: Run, world: DemoWorld,
                                                            tmp_path: Path) -> None:
    s = world.settings()
    world.github.stop()  # the partners' collections cannot be read: stale
    result = collection("run", "--skip", "test", "--no-site", "--zenodo-api", s.zenodo_api, "--github-api",
                        s.github_api, "--github-raw", s.github_raw, "--git-base", s.git_base, "--repo-root",
                        str(s.repo_root), "--work-dir", str(tmp_path / "work"), "--out", str(tmp_path / "site"),
                        "--http-retries", "0")
    assert result.returncode == 1  # done, with failures
    stages = [line.split(":")[0] for line in result.stdout.splitlines()]
    assert stages == ["update", "validate", "gather", "plan", "build"]
    report = result.stderr
    assert "stale source partner:ilastik:" in report and "connection failed" in report
    assert "1 version held back:" in report
    assert "10.5281/zenodo.7000/7001: static-validation failed: " in report, report
    assert f"full report: {tmp_path / 'site' / 'health.json'}" in report


def _stderr_on_a_terminal(args: list[str]) -> bytes:
    leader, follower = pty.openpty()
    # a terminal of 24 x 100 characters (a new pty has none, and tqdm draws nothing in zero columns)
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    with subprocess.Popen([str(Path(sys.executable).parent / "collection"), *args], stdout=subprocess.DEVNULL,
                          stderr=follower, stdin=subprocess.DEVNULL) as process:
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the pty closes when the process ends
                break
            if not chunk:
                break
            chunks.append(chunk)
        process.wait(timeout=60)
    os.close(leader)
    return b"".join(chunks)


def test_progress_bars_go_to_a_terminal_and_never_into_a_pipe(collection: Run, tmp_path: Path,
                                                              write_package: Any, model: dict) -> None:
    rdf = str(write_package(tmp_path / "model", model))
    assert b"validate: " in _stderr_on_a_terminal(["validate", rdf, rdf])
    piped = collection("validate", rdf, rdf)
    assert piped.returncode == 0 and piped.stderr == ""
