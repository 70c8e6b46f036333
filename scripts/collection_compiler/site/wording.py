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


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"
