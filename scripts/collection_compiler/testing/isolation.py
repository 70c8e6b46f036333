"""The sandbox model code runs in: bubblewrap (`bwrap`, Debian/Ubuntu package `bubblewrap`), the isolation tool
Flatpak uses, rather than checks of our own.

The worker gets its own user, pid, network, IPC, UTS and cgroup namespaces (`--unshare-all`): no network at all,
no view of the parent's processes (so no `/proc/<parent pid>/environ`), and every process it starts dies with it
(the pid namespace ends when its first process does, `--die-with-parent` ends that with the parent). The file
system is a read-only view of the system folders and the Python installation, a private /tmp, and the scratch
folder, the only place it can write. GPU device nodes are bound where present, so CUDA keeps working.

`--die-with-parent` follows the thread that started bubblewrap: a worker must be started by a thread that
outlives it (the test stage and `collection test` start them from the thread that waits for them).
"""

from __future__ import annotations

import functools
import glob
import os
import shutil
import subprocess
import sys

from collection_compiler.errors import CollectionError

TOOL = "bwrap"
SYSTEM_FOLDERS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc")
UNAVAILABLE = ("bubblewrap (`bwrap`) is not installed or cannot create namespaces on this machine, so untrusted "
               "model code is not run: install it (apt-get install bubblewrap; on Ubuntu 24.04 also allow "
               "unprivileged user namespaces) or, on a machine that runs nothing else, set "
               "COLLECTION_ALLOW_UNSANDBOXED_MODELS=1")


class SandboxUnavailable(CollectionError):
    """No working bubblewrap: model code is refused (a problem of the machine, not of the model)."""


def wrap(argv: list[str], scratch: str, allow_unsandboxed: bool = False) -> list[str]:
    """`argv` run inside the sandbox with `scratch` as its only writable folder and working directory."""
    tool = working_tool()
    if tool is not None:
        return [tool, *namespace_arguments(scratch), "--", *argv]
    if not allow_unsandboxed:
        raise SandboxUnavailable(UNAVAILABLE)
    sys.stderr.write(f"WARNING: model code runs WITHOUT a sandbox: {UNAVAILABLE}\n")
    return argv


@functools.cache
def working_tool() -> str | None:
    """The bwrap binary, if it is installed and can set up the namespaces here (checked once per process:
    some kernels refuse unprivileged user namespaces, and then every test would die at start)."""
    tool = shutil.which(TOOL)
    if tool is None:
        return None
    probe = [tool, *namespace_arguments("/"), "--", sys.executable, "-I", "-S", "-c", ""]
    try:
        done = subprocess.run(probe, stdin=subprocess.DEVNULL, capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return tool if done.returncode == 0 else None


def namespace_arguments(scratch: str) -> list[str]:
    arguments = ["--unshare-all", "--die-with-parent", "--new-session", "--hostname", "sandbox",
                 "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    for folder in SYSTEM_FOLDERS:
        if os.path.islink(folder):  # merged /usr: /lib -> usr/lib
            arguments += ["--symlink", os.readlink(folder), folder]
        elif os.path.isdir(folder):
            arguments += ["--ro-bind", folder, folder]
    for folder in python_folders():
        arguments += ["--ro-bind", folder, folder]
    arguments += ["--ro-bind-try", "/sys", "/sys"]  # CUDA and the runtimes read the hardware's description
    for device in sorted(glob.glob("/dev/nvidia*")):
        arguments += ["--dev-bind", device, device]
    if scratch != "/":
        arguments += ["--bind", scratch, scratch, "--chdir", scratch]
    return arguments


def python_folders() -> list[str]:
    """The interpreter's installation, the virtual environment and the folders on `sys.path` (where this
    package and its dependencies live), outside the system folders already bound."""
    found: list[str] = []
    for entry in (sys.base_prefix, sys.prefix, *sys.path):
        folder = os.path.realpath(entry) if entry else ""
        if os.path.isdir(folder) and folder != "/" and not _covered(folder, [*SYSTEM_FOLDERS, *found]):
            found.append(folder)
    return found


def _covered(folder: str, roots: list[str]) -> bool:
    return any(folder == root or folder.startswith(root.rstrip("/") + "/") for root in roots)
