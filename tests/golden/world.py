"""Build one golden tree: `python tests/golden/world.py demo|formats OUT` (run by test_golden.py in a subprocess).

Only the fake servers' ports are pinned here, in-process (a patch of `socket.bind` must not leak into pytest's
process); every other fixed input comes from the environment test_golden.py gives this process.
"""

from __future__ import annotations

import socket
import sys
import tempfile
from pathlib import Path
from typing import Any

# The fake Zenodo and the fake GitHub take a free port (bind to port 0), and their URLs end up in every published
# file, in the sha256 of each rdf.yaml and in the names of the thumbnails: fixed ports make those bytes stable.
# They lie below the kernel's ephemeral range (32768-60999), so no port-0 socket of another process holds them;
# test_golden.py holds a lock while a build runs, so two golden builds on one machine take turns.
PORTS = (28101, 28102)  # in the order the servers start: the demo world starts Zenodo first, then GitHub
SITE_URL = "http://localhost:8000"  # the formats world's site URL (the demo uses this one too); never served
_bind = socket.socket.bind
_pinned: list[int] = []


def _bind_pinned(self: socket.socket, address: Any) -> None:
    if self.family == socket.AF_INET and isinstance(address, tuple) and address[1] == 0:
        if len(_pinned) == len(PORTS):
            raise RuntimeError(f"tests/golden/world.py pins {len(PORTS)} ports, for the fake Zenodo and GitHub; "
                               "something else bound a free port too: give it a fixed port in PORTS")
        address = (address[0], PORTS[len(_pinned)])
        _pinned.append(address[1])
    _bind(self, address)


socket.socket.bind = _bind_pinned  # type: ignore[method-assign]

from collection_compiler.cli import main  # noqa: E402  (after the patch, which must precede any server)

# the formats world's 0.3 partner collection, shared with tests/foundation/test_formats_pipeline.py
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from formats_world import zero_collection_in_format_03  # noqa: E402

from collection_compiler.demo.world import DemoWorld  # noqa: E402


def build_demo(out: Path) -> int:
    """`collection demo --out OUT`, as a user runs it."""
    return main(["demo", "--out", str(out)])


def build_formats(out: Path) -> int:
    """The demo world with ZeroCostDL4Mic in format 0.3, then `collection run` (every stage, the site included)."""
    # the prefix is the one the normaliser in test_golden.py knows: partner rows link into the world's git repos
    with tempfile.TemporaryDirectory(prefix="collection-golden-") as tmp:
        root = Path(tmp)
        with DemoWorld(root / "world").populate() as world:
            zero_collection_in_format_03(world, root / "zero")
            return main(["run", "--zenodo-api", world.zenodo.api, "--github-api", world.github.api,
                         "--github-raw", world.github.raw, "--git-base", str(world.repos),
                         "--repo-root", str(world.hub), "--work-dir", str(root / "work"), "--out", str(out),
                         "--site-url", SITE_URL, "--http-retries", "2", "--http-backoff", "0.01",
                         "--http-timeout", "10",
                         # the package's own models, like the demo's: tested where bubblewrap is missing too
                         "--allow-unsandboxed-models", "1"])


if __name__ == "__main__":
    name, target = sys.argv[1], Path(sys.argv[2]).resolve()
    sys.exit({"demo": build_demo, "formats": build_formats}[name](target))
