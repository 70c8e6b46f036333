"""Start a sandboxed test worker: a fresh interpreter that loads its model runtime, then waits for a job.

Loading the runtime is the longest step of a test, so `collection test SOURCE --weight-format F` takes this
step first of all, from a plain scan of its command line, before the parser, settings, YAML and validator
load (`start_early`); `cli` hands the started worker to the command, which uses it only if the parsed
arguments agree. The module therefore imports nothing beyond the standard library's process basics.

The child runs in the `isolation` sandbox (bubblewrap) and gets only an allow-list of environment variables
(never tokens or secrets), HOME and TMPDIR in its scratch folder, and its own process group.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Sequence

from collection_compiler.testing import isolation

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see the module docstring)
if TYPE_CHECKING:
    from typing import IO

RUNNABLE = ("onnx", "pytorch_state_dict", "torchscript")
DEVICES = ("auto", "cpu", "cuda")
ENV_ALLOWED = {"PATH", "LANG", "LANGUAGE", "TZ", "LD_LIBRARY_PATH", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
               "OPENBLAS_NUM_THREADS", "SYSTEMROOT"}
ENV_ALLOWED_PREFIXES = ("LC_", "CUDA_", "NVIDIA_")
# Any of these anywhere in a name drops it, under the allowed prefixes too (`NVIDIA_NGC_APIKEY`).
ENV_SECRET_WORDS = ("TOKEN", "SECRET", "PASS", "CREDENTIAL", "AUTH", "KEY", "PRIVATE", "SESSION", "COOKIE",
                    "SIGNATURE", "CERT")
# Flags after which `collection test` does something other than test one SOURCE.
NOT_A_SOURCE_TEST = {"--matrix", "--all", "--matrix-entry", "--resource-id", "--version-id", "--accept-results",
                     "-h", "--help"}


def cuda_present() -> bool:
    """Whether this machine has an NVIDIA driver at all (cheap; the worker decides for real)."""
    import shutil

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


class Launched:
    """A worker process loading the runtime of `weight_format` in `scratch`; it runs no model code until a
    job arrives on its stdin. `close` ends it and removes the scratch folder unless a `Worker` took it."""

    def __init__(self, weight_format: str, device: str, scratch_root: str | os.PathLike[str] | None = None,
                 allow_unsandboxed: bool = False):
        self.weight_format, self.device = weight_format, device
        self.started = time.perf_counter()
        self.scratch = _make_scratch(f"test-{weight_format}-", scratch_root)
        command = [sys.executable, "-I", "-m", "collection_compiler.testing.worker", "--serve", weight_format, device]
        try:
            command = isolation.wrap(command, self.scratch, allow_unsandboxed)
        except isolation.SandboxUnavailable:
            os.rmdir(self.scratch)
            raise
        self.log: IO[bytes] = open(os.path.join(self.scratch, "worker.log"), "wb")  # noqa: SIM115 - the Worker closes it
        self.process = subprocess.Popen(command, cwd=self.scratch, env=child_environment(self.scratch),
                                        stdin=subprocess.PIPE, stdout=self.log, stderr=self.log,
                                        start_new_session=True)
        self.taken = False

    def close(self) -> None:
        if self.taken:
            return
        import shutil

        if self.process.poll() is None:
            kill_group(self.process)
        self.log.close()
        shutil.rmtree(self.scratch, ignore_errors=True)


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """Kill the worker and everything it started (its process group, which outlives it), then reap it."""
    import signal

    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _make_scratch(prefix: str, root: str | os.PathLike[str] | None) -> str:
    """A new private folder, as `tempfile.mkdtemp` makes one, without importing tempfile and shutil."""
    root = os.fspath(root) if root is not None else os.environ.get("TMPDIR") or "/tmp"
    while True:
        path = os.path.join(root, prefix + os.urandom(6).hex())
        try:
            os.mkdir(path, 0o700)
            return os.path.abspath(path)
        except FileExistsError:
            continue


def start_early(argv: Sequence[str]) -> Launched | None:
    """The worker of `test SOURCE --weight-format F [--device D]` (a runnable format), from a plain scan of
    `argv`; None for any other use of the command. The parsed arguments decide later whether it is used."""
    if any(a.split("=", 1)[0] in NOT_A_SOURCE_TEST for a in argv):
        return None
    weight_format, device = _flag(argv, "--weight-format"), _flag(argv, "--device") or "auto"
    if weight_format not in RUNNABLE or device not in DEVICES or isolation.working_tool() is None:
        return None  # without a sandbox the command decides, with its settings, whether to run at all
    return Launched(weight_format, resolve_device(device))


def _flag(argv: Sequence[str], name: str) -> str | None:
    for i, arg in enumerate(argv):
        if arg == name and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None
