"""One wording for test results across the site (pages, search index, scripts): words a scientist knows,
not tester ids. "Tested by the hub: passed", "Tested in ilastik 1.4.1: failed"."""

from __future__ import annotations

HUB_TESTER = "bioimageio.core"  # the hub's own test runs bioimageio.core
STATUS_WORDS = {"passed": "passed", "failed": "failed", "not-applicable": "does not apply",
                "untested": "not yet"}


def tested(tester: str, names: dict[str, str], version: str = "") -> str:
    """Who tested, in words: "Tested by the hub", "Tested in ilastik 1.4.1"."""
    if tester == HUB_TESTER:
        return "Tested by the hub"
    return f"Tested in {names.get(tester, tester)}" + (f" {version}" if version else "")


def tested_row(tester: str, tool: str, version: str, names: dict[str, str]) -> str:
    """A test table row's "where": the tool's version goes with the tester when they are one, else with the tool:
    "Tested in ilastik 1.4.1", "Tested by the hub (bioimageio.core 0.9.6)", "Tested in ilastik (with x 0.1)"."""
    if tester != HUB_TESTER and tool in ("", tester):
        return tested(tester, names, version)
    used = " ".join(part for part in (tool or tester, version) if part)
    return f"{tested(tester, names)} ({'' if tester == HUB_TESTER else 'with '}{used})"


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"
