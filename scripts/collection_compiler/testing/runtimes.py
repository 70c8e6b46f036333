"""Which model runtimes are installed, asked without importing them (torch alone takes seconds to import).

The sandboxed test worker runs this same interpreter, so a runtime missing here is missing there too: the CLI
names it before any test starts instead of letting each test fail on it.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable

# the module each runnable weights format needs (testing.runners imports these)
RUNTIME_OF = {"onnx": "onnxruntime", "pytorch_state_dict": "torch", "torchscript": "torch"}


def installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def missing_runtimes(weight_formats: Iterable[str]) -> list[str]:
    """The runtimes that tests of these weights formats need and that are not installed (sorted, once each)."""
    needed = {RUNTIME_OF[f] for f in weight_formats if f in RUNTIME_OF}
    return sorted(m for m in needed if not installed(m))


def all_missing() -> list[str]:
    return missing_runtimes(RUNTIME_OF)
