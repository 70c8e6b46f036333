"""The test-status rule, once: how statuses combine, and the four words a row of the site speaks.

The words are the ecosystem's: `passed`, `valid-format` (the format is fine, a test failed or none ran),
`failed`, `not-applicable`; `untested` where nothing ran. `not-applicable` never counts as failed.
"""

from __future__ import annotations

from collections.abc import Iterable

ROW_STATUSES = ("passed", "failed", "not-applicable", "untested")


def combined_status(statuses: Iterable[str]) -> str:
    """failed if any failed; untested if none; not-applicable if all are; valid-format if any; else passed."""
    statuses = list(statuses)
    if not statuses:
        return "untested"
    if "failed" in statuses:
        return "failed"
    relevant = [s for s in statuses if s != "not-applicable"]
    if not relevant:
        return "not-applicable"
    if "valid-format" in relevant:
        return "valid-format"
    return "passed"


def row_status(status: str) -> str:
    """A tester's status in `summary.json` and on the site: a valid format is a pass of that tester's checks, and
    a word outside the four is a failure (it comes from a file a stranger may have written)."""
    if status == "valid-format":
        return "passed"
    return status if status in ROW_STATUSES else "failed"
