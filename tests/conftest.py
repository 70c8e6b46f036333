"""Shared test setup: no test may reach the network; the suite pins the clock for reproducible output."""

import importlib.util
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

os.environ.setdefault("COLLECTION_NOW", "2026-01-01T00:00:00+00:00")
for name in ("GITHUB_TOKEN", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"):
    os.environ.pop(name, None)


# ---- the real `collection` command in a subprocess, as a user runs it (the CLI tests) ---------------------------
COLLECTION_SCRIPT = Path(sys.executable).parent / "collection"


def run_collection(*args: str, cwd: Path, runtimes: bool = True, prelude: str = "", timeout: float = 300,
                   env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`collection ARGS…`. `runtimes=False` hides the model runtimes from the process, as on a core-only install;
    `prelude`: Python run first in the same process, before the command's real entry point."""
    if prelude or not runtimes:
        hide = "" if runtimes else "sys.modules.update(onnxruntime=None, torch=None)"
        code = "; ".join(part for part in ("import sys", hide, prelude, f"sys.argv[0] = {str(COLLECTION_SCRIPT)!r}",
                                             "from collection_compiler.cli import main", "sys.exit(main())") if part)
        command = [sys.executable, "-c", code]
    else:
        command = [str(COLLECTION_SCRIPT)]
    environment = {**os.environ, "COLUMNS": "100", **(env or {})}
    return subprocess.run([*command, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=environment, stdin=subprocess.DEVNULL)


@pytest.fixture
def collection(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """`collection ARGS…` run from an empty folder (where a new user starts). It must print no traceback unless
    the test says `traceback=True`."""
    folder = tmp_path / "empty"
    folder.mkdir()

    def run(*args: str, traceback: bool = False, **kwargs: object) -> subprocess.CompletedProcess[str]:
        kwargs.setdefault("cwd", folder)
        result = run_collection(*args, **kwargs)  # type: ignore[arg-type]
        if not traceback:
            assert "Traceback" not in result.stderr + result.stdout, result.stderr
        return result

    return run


@pytest.fixture(scope="session")
def oracle():
    """`tests/oracle.py`: the reference validator (bioimageio.spec) as the tests' oracle."""
    spec = importlib.util.spec_from_file_location("collection_tests_oracle", Path(__file__).with_name("oracle.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
