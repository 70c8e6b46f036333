"""Model code that tries each way out of the sandbox: real architecture files run by `collection test`, the
parent's token in its environment, a server on 127.0.0.1, a folder beside the scratch folder."""

from __future__ import annotations

import hashlib
import os
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from collection_compiler.adapters import yamlio
from collection_compiler.settings import Settings
from collection_compiler.stages.test import test_source as run_test
from collection_compiler.testing import isolation
from collection_compiler.testing.sandbox import child_environment
from collection_compiler.testing.tester import TestOptions

pytestmark = pytest.mark.skipif(isolation.working_tool() is None, reason="bubblewrap cannot run here")
CANARY = "ghp_canary_of_the_parent_process"
ESCAPES = '''

class Escape(TinyNet):
    """Tries every way out, then raises with what it achieved: each attempt reports `blocked` or `ESCAPED`."""

    def __init__(self, outside="", port=0, marker="", **kwargs):
        super().__init__(**kwargs)
        self.outside, self.port, self.marker = outside, port, marker

    def forward(self, x):
        import glob, os, socket, subprocess, sys
        report = []

        def attempt(name, action):
            try:
                action()
                report.append(f"{name}: ESCAPED")
            except Exception as e:
                report.append(f"{name}: blocked ({type(e).__name__})")

        def read_environs():
            leaked = [p for p in glob.glob("/proc/[0-9]*/environ") if "ghp_canary" in open(p, errors="replace").read()]
            if not leaked:
                raise PermissionError("no process with the token in sight")

        def write_outside():
            with open(self.outside, "w") as f:
                f.write("pwned")

        def connect():
            socket.create_connection(("127.0.0.1", self.port), timeout=2).close()

        def outlive():
            subprocess.Popen([sys.executable, "-c", f"import time; time.sleep(20)  # {self.marker}"],
                             start_new_session=True)
            raise RuntimeError("started; the test checks that it does not outlive the test")

        attempt("environ of other processes", read_environs)
        attempt("write outside scratch", write_outside)
        attempt("network", connect)
        attempt("lingering process", outlive)
        raise RuntimeError("escape report: " + "; ".join(report))


class Forger(TinyNet):
    """Patches the comparison, writes zeros as its outputs and a result of its own, and leaves."""

    def __init__(self, status="ran", **kwargs):
        super().__init__(**kwargs)
        self.status = status

    def forward(self, x):
        import json, os
        import numpy as np
        from collection_compiler.testing import compare, verdict
        compare.compare = verdict.compare = lambda *a, **k: compare.Comparison(True, None, 0, 1)
        os.makedirs("outputs", exist_ok=True)
        np.save("outputs/0.npy", np.zeros((1, 2, 16, 24), dtype=np.float32))
        with open("result.json", "w") as f:
            json.dump({"status": self.status, "errors": [], "outputs": ["outputs/0.npy"]}, f)
        os._exit(0)
'''


def _hostile_model(path: Path, callable_name: str, kwargs: dict[str, Any]) -> Path:
    """The built model at `path`, with only its state-dict weights and the hostile classes in its architecture."""
    architecture = path.parent / "tiny_arch.py"
    architecture.write_text(architecture.read_text() + ESCAPES)
    digest = hashlib.sha256(architecture.read_bytes()).hexdigest()
    rdf = yamlio.load_yaml_file(path)
    entry = rdf["weights"]["pytorch_state_dict"]
    if isinstance(entry["architecture"], dict):  # 0.5
        entry["architecture"].update(sha256=digest, callable=callable_name, kwargs=kwargs)
    else:  # 0.4
        entry.update(architecture=f"tiny_arch.py:{callable_name}", architecture_sha256=digest, kwargs=kwargs)
    rdf["weights"] = {"pytorch_state_dict": entry}
    path.write_text(yamlio.dump_yaml(rdf))
    return path


def _run(rdf: Path, tmp_path: Path, **options: Any) -> dict[str, Any]:
    settings = Settings(work_dir=tmp_path / "work", http_retries=0, http_timeout=10)
    summary = run_test(str(rdf), settings, TestOptions(device="cpu", **options), perform_io=False)
    return next(d for d in summary["details"] if d.get("weights_format") == "pytorch_state_dict")


def _processes_with(marker: str) -> list[str]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if marker.encode() in cmdline.read_bytes():
                found.append(cmdline.parent.name)
        except OSError:
            continue
    return found


@pytest.mark.parametrize("generation", ["single05", "single04"])
def test_model_code_cannot_leave_the_sandbox(model_copy: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             generation: str):
    monkeypatch.setenv("GITHUB_TOKEN", CANARY)
    monkeypatch.setenv("NVIDIA_NGC_APIKEY", CANARY)
    outside = tmp_path / "outside" / "pwned"
    outside.parent.mkdir()
    listener = socket.create_server(("127.0.0.1", 0))
    marker = f"lingering-{os.getpid()}-{generation}"
    rdf = _hostile_model(model_copy(generation), "Escape",
                         {"outside": str(outside), "port": listener.getsockname()[1], "marker": marker})
    started = time.monotonic()
    detail = _run(rdf, tmp_path)
    listener.close()
    assert time.monotonic() - started < 120
    assert detail["status"] == "failed" and "escape report:" in detail["error"]
    assert "ESCAPED" not in detail["error"] and detail["error"].count("blocked") == 4, detail["error"]
    assert CANARY not in str(detail)
    assert not outside.exists()
    assert _processes_with(marker) == []  # the lingering process died with the sandbox


@pytest.mark.parametrize("generation", ["single05", "single04"])
@pytest.mark.parametrize(("status", "error"), [("ran", "output 'prob'"), ("passed", "without writing a result")])
def test_model_code_cannot_pass_by_patching_the_comparison_or_forging_its_result(model_copy: Any, tmp_path: Path,
                                                                                 generation: str, status: str,
                                                                                 error: str):
    detail = _run(_hostile_model(model_copy(generation), "Forger", {"status": status}), tmp_path)
    assert detail["status"] == "failed" and error in detail["error"], detail["error"]


@pytest.mark.parametrize(("generation", "architecture"), [("single04", "os.system"),
                                                         ("single05", {"import_from": "os", "callable": "system"})])
def test_an_architecture_from_an_installed_module_is_refused(model_copy: Any, tmp_path: Path, generation: str,
                                                             architecture: Any):
    marker = tmp_path / "shell-ran"
    rdf_path = model_copy(generation)
    rdf = yamlio.load_yaml_file(rdf_path)
    entry = rdf["weights"]["pytorch_state_dict"]
    if isinstance(architecture, dict):
        entry["architecture"] = {**architecture, "kwargs": {"command": f"touch {marker}"}}
    else:
        entry.pop("architecture_sha256")
        entry.update(architecture=architecture, kwargs={"command": f"touch {marker}"})
    rdf["weights"] = {"pytorch_state_dict": entry}
    rdf_path.write_text(yamlio.dump_yaml(rdf))
    detail = _run(rdf_path, tmp_path)
    assert detail["status"] == "failed" and "only a callable defined in the model's own architecture" in detail["error"]
    assert not marker.exists()


def test_a_callable_the_architecture_file_only_imports_is_refused(model_copy: Any, tmp_path: Path):
    rdf = model_copy("single05")
    architecture = rdf.parent / "tiny_arch.py"
    architecture.write_text(architecture.read_text() + "\nfrom os import system\n")
    detail = _run(_hostile_model(rdf, "system", {"command": f"touch {tmp_path / 'shell-ran'}"}), tmp_path)
    assert detail["status"] == "failed" and "'system' is not a callable defined in tiny_arch.py" in detail["error"]
    assert not (tmp_path / "shell-ran").exists()


def test_without_bubblewrap_model_code_is_refused_unless_allowed(model_copy: Any, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(isolation, "working_tool", lambda: None)  # a machine without bwrap
    rdf = model_copy("single05")
    refused = _run(rdf, tmp_path)
    assert refused["status"] == "failed" and "model code not run: bubblewrap" in refused["error"]
    assert _run(rdf, tmp_path, allow_unsandboxed=True)["status"] == "passed"


def test_secret_looking_names_are_dropped_under_allowed_prefixes_too(tmp_path: Path):
    env = child_environment(tmp_path, {"NVIDIA_NGC_APIKEY": "k", "CUDA_PRIVATE_THING": "p", "LC_SESSION": "s",
                                       "NVIDIA_VISIBLE_DEVICES": "all", "CUDA_VISIBLE_DEVICES": "0"})
    assert set(env) >= {"NVIDIA_VISIBLE_DEVICES", "CUDA_VISIBLE_DEVICES"}
    assert not {"NVIDIA_NGC_APIKEY", "CUDA_PRIVATE_THING", "LC_SESSION"} & set(env)


def test_the_memory_watchdog_sees_the_worker_below_bubblewrap(tmp_path: Path):
    """On CUDA the parent polls resident memory (RLIMIT_AS would break the driver): the worker is bubblewrap's
    grandchild, so the watchdog must count the whole tree, or a GPU model could use any amount of memory."""
    import subprocess
    import sys

    from collection_compiler.testing import sandbox

    hog = "import sys, time; block = bytearray(300 * 1024**2); block[::4096] = b'x' * len(block[::4096]); " \
          "print('ready', flush=True); time.sleep(30)"
    command = isolation.wrap([sys.executable, "-I", "-c", hog], str(tmp_path))
    process = subprocess.Popen(command, stdout=subprocess.PIPE, start_new_session=True)
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == b"ready"
        assert sandbox._rss_bytes(process.pid) > 300 * 1024**2
    finally:
        process.kill()
        process.wait()
