"""The sandboxed test worker: a fresh interpreter in its own scratch folder that loads its model runtime while
the parent validates and fetches, then runs one job under wall-time and memory limits.

The child runs in the `isolation` sandbox (bubblewrap) and gets only an allow-list of environment variables
(never tokens or secrets), HOME and TMPDIR in its scratch folder, and its own process group.

Memory: on CPU the worker sets RLIMIT_AS itself before it runs the job (allocations beyond it fail with
MemoryError); on CUDA, where RLIMIT_AS would break the driver's address-space reservations, this parent polls
the child's resident memory and kills the group when it exceeds the limit. A crash, hang or kill becomes a
failed result, never an exception.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from collection_compiler.testing import isolation
from collection_compiler.testing.description import RUNNABLE
from collection_compiler.testing.isolation import SandboxUnavailable

__all__ = ["DEVICES", "Limits", "SandboxUnavailable", "TestOptions", "Worker", "child_environment", "discard",
           "start_worker"]
DEVICES = ("auto", "cpu", "cuda")
POLL_S = 0.05  # seconds between looks at the resident memory of a CUDA worker
ENV_ALLOWED = {"PATH", "LANG", "LANGUAGE", "TZ", "LD_LIBRARY_PATH", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
               "OPENBLAS_NUM_THREADS", "SYSTEMROOT"}
ENV_ALLOWED_PREFIXES = ("LC_", "CUDA_", "NVIDIA_")
# Any of these anywhere in a name drops it, under the allowed prefixes too (`NVIDIA_NGC_APIKEY`).
ENV_SECRET_WORDS = ("TOKEN", "SECRET", "PASS", "CREDENTIAL", "AUTH", "KEY", "PRIVATE", "SESSION", "COOKIE",
                    "SIGNATURE", "CERT")


@dataclass(frozen=True)
class Limits:
    timeout_s: float = 600.0
    memory_bytes: int = 8 * 1024**3
    file_bytes: int = 4 * 1024**3


@dataclass
class TestOptions:
    __test__ = False  # not a pytest test class

    device: str = "auto"
    limits: Limits = field(default_factory=Limits)
    scratch_root: Path | None = None
    keep_scratch: bool = False
    allow_unsandboxed: bool = False  # run model code even where bubblewrap is missing (a loud warning)


def cuda_present() -> bool:
    """Whether this machine has an NVIDIA driver at all (cheap; the worker decides for real)."""
    return os.path.exists("/proc/driver/nvidia/version") or shutil.which("nvidia-smi") is not None


def resolve_device(device: str) -> str:
    if device not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}, not {device!r}")
    return "cpu" if device == "auto" and not cuda_present() else device


def _allowed(name: str) -> bool:
    upper = name.upper()
    if any(word in upper for word in ENV_SECRET_WORDS):
        return False
    if name in ENV_ALLOWED:
        return True
    prefix = next((p for p in ENV_ALLOWED_PREFIXES if name.startswith(p)), None)
    rest = name[len(prefix):] if prefix else ""
    return bool(rest) and all("A" <= c <= "Z" or (c == "_" and prefix != "LC_") for c in rest)


def child_environment(scratch: str | os.PathLike[str], environ: dict[str, str] | None = None) -> dict[str, str]:
    environ = dict(os.environ if environ is None else environ)
    env = {k: v for k, v in environ.items() if _allowed(k)}
    scratch = os.fspath(scratch)
    tmp = os.path.join(scratch, "tmp")
    os.makedirs(tmp, exist_ok=True)
    env.update(HOME=scratch, TMPDIR=tmp, TORCH_HOME=os.path.join(scratch, "torch"), PYTHONHASHSEED="0",
               PYTHONDONTWRITEBYTECODE="1")
    return env


def start_worker(weight_format: str, options: TestOptions) -> Worker | None:
    """A sandboxed worker for a runnable format, loading its runtime in the background (no model code yet)."""
    if weight_format not in RUNNABLE:
        return None
    return Worker(weight_format, resolve_device(options.device), options.limits, options.scratch_root,
                  options.allow_unsandboxed)


def discard(worker: Worker | None, options: TestOptions) -> None:
    if worker is not None:
        worker.close()
        if not options.keep_scratch:
            shutil.rmtree(worker.scratch, ignore_errors=True)


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """Kill the worker and everything it started (its process group, which outlives it), then reap it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


class Worker:
    """A worker process loading the runtime of `weight_format` in its own scratch folder; it runs no model code
    until `run` hands it a job (with the limits it applies first)."""

    def __init__(self, weight_format: str, device: str, limits: Limits, scratch_root: Path | None = None,
                 allow_unsandboxed: bool = False):
        self.weight_format, self.device, self.limits = weight_format, device, limits
        self.started = time.perf_counter()
        self.scratch = Path(os.path.abspath(tempfile.mkdtemp(prefix=f"test-{weight_format}-", dir=scratch_root)))
        command = [sys.executable, "-I", "-m", "collection_compiler.testing.worker", "--serve", weight_format]
        try:
            command = isolation.wrap(command, str(self.scratch), allow_unsandboxed)
        except SandboxUnavailable:
            self.scratch.rmdir()
            raise
        self._log = (self.scratch / "worker.log").open("wb")
        self.process = subprocess.Popen(command, cwd=self.scratch, env=child_environment(self.scratch),
                                        stdin=subprocess.PIPE, stdout=self._log, stderr=self._log,
                                        start_new_session=True)

    def run(self, job: dict[str, Any]) -> dict[str, Any]:
        """Run `job`; always returns a result dict with `status` and `errors`."""
        job = {**job, "limits": {"memory_bytes": self.limits.memory_bytes, "file_bytes": self.limits.file_bytes}}
        (self.scratch / "job.json").write_text(json.dumps(job), "utf-8")
        result_path = self.scratch / "result.json"
        result_path.unlink(missing_ok=True)
        with contextlib.suppress(BrokenPipeError, OSError):
            assert self.process.stdin is not None
            self.process.stdin.write(b"job.json result.json\n")
            self.process.stdin.close()
        reason = _watch(self.process, self.limits, self.device == "cpu")
        self._log.close()
        result = _read_result(result_path) if reason is None else None
        if result is None:
            result = {"status": "failed", "errors": [_failure_message(reason, self.process.returncode, self.limits)],
                      "log_tail": _tail(self.scratch / "worker.log")}
        result.setdefault("timings", {})["process_s"] = round(time.perf_counter() - self.started, 4)
        return result

    def close(self) -> None:
        """Stop the worker without a job (nothing to test after all)."""
        if self.process.poll() is None:
            kill_group(self.process)
        self._log.close()


def _rss_bytes(pid: int) -> int:
    """Resident memory of `pid` and every process below it: the worker runs under bubblewrap's processes."""
    total, stack, seen = 0, [pid], set()
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        total += _own_rss(current)
        stack.extend(_children(current))
    return total


def _own_rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _children(pid: int) -> list[int]:
    try:
        return [int(child) for task in Path(f"/proc/{pid}/task").iterdir()
                for child in (task / "children").read_text().split()]
    except (OSError, ValueError):
        return []


def _watch(process: subprocess.Popen[bytes], limits: Limits, rlimited: bool) -> str | None:
    """Wait for the child; kill its group on timeout or (where RLIMIT_AS is not used) excess memory."""
    deadline = time.monotonic() + limits.timeout_s
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            kill_group(process)
            return "timeout"
        if not rlimited and _rss_bytes(process.pid) > limits.memory_bytes:
            kill_group(process)
            return "memory"
        try:
            process.wait(left if rlimited else min(left, POLL_S))
            break
        except subprocess.TimeoutExpired:
            continue
    kill_group(process)  # anything the model left running in the group goes too
    return None


def _read_result(path: Path) -> dict[str, Any] | None:
    try:
        result = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    # `ran`: outputs written, for `verdict` to judge; a `passed` the model code wrote itself counts for nothing
    return result if isinstance(result, dict) and result.get("status") in ("ran", "failed") else None


def _failure_message(reason: str | None, returncode: int | None, limits: Limits) -> str:
    if reason == "timeout":
        return f"test process killed after the wall-time limit of {limits.timeout_s:g} s"
    if reason == "memory":
        return f"test process killed for using more than {limits.memory_bytes / 1024**3:.2f} GiB of memory"
    signalled = _signal_number(returncode)
    if signalled is not None:
        name = signal.Signals(signalled).name
        hint = " (possibly out of memory)" if signalled == signal.SIGKILL else ""
        return f"test process died from signal {name}{hint}"
    return f"test process exited with code {returncode} without writing a result"


def _signal_number(returncode: int | None) -> int | None:
    """The signal that ended the worker: a negative return code, or bubblewrap's 128 + signal."""
    if returncode is None:
        return None
    number = -returncode if returncode < 0 else returncode - 128
    return number if number in {int(s) for s in signal.Signals} else None


def _tail(path: Path, limit: int = 4000) -> list[str]:
    try:
        text = path.read_bytes()[-limit:].decode("utf-8", "replace")
    except OSError:
        return []
    return text.splitlines()[-40:]
