"""Validation results in the ecosystem's words: details with `loc`-bearing errors and severity-tagged warnings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

INFO, WARNING, ALERT, ERROR = 20, 30, 35, 50
UNCHECKED = "unreachable"  # the warning type of a file the file checks could not see (io_checks)

Loc = tuple[str | int, ...]


@dataclass
class Issue:
    loc: Loc
    msg: str
    type: str = "value_error"
    severity: int = ERROR

    def to_json(self, *, warning: bool) -> dict[str, Any]:
        out: dict[str, Any] = {"loc": list(self.loc), "msg": self.msg, "type": self.type}
        if warning:
            out["severity"] = self.severity
        return out

    def text(self) -> str:
        where = ".".join(str(p) for p in self.loc)
        return f"{where}: {self.msg}" if where else self.msg


@dataclass
class Detail:
    name: str
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    loc: Loc = ()

    @property
    def status(self) -> str:
        return "failed" if self.errors else "passed"

    def to_json(self) -> dict[str, Any]:
        """A test_summary.yaml sub-summary: the old keys (`error`, `warnings` as text) plus `loc` lists."""
        return {
            "name": self.name,
            "status": self.status,
            "loc": list(self.loc),
            "error": self.errors[0].text() if self.errors else None,
            "errors": [e.to_json(warning=False) for e in self.errors],
            "warnings": [w.to_json(warning=True) for w in self.warnings],
            "traceback": None,
            "nested_errors": None,
        }


@dataclass
class ValidationResult:
    source: str
    type: str | None
    format_version: str | None
    details: list[Detail]

    @property
    def status(self) -> str:
        """`failed` on any error (file checks are part of the format, as in the reference), else `passed`.

        `valid-format` is left to the merge with dynamic tests (format fine, a test failed)."""
        if not self.details or any(d.errors for d in self.details):
            return "failed"
        return "passed"

    @property
    def unchecked_files(self) -> int:
        """Files the file checks could not see (unreachable, or out of time): never counted as available."""
        return sum(w.type == UNCHECKED for d in self.details for w in d.warnings)

    @property
    def first_error(self) -> Issue | None:
        return next((e for d in self.details for e in d.errors), None)

    def sub_summaries(self) -> list[dict[str, Any]]:
        return [d.to_json() for d in self.details]

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "status": self.status, "type": self.type,
                "format_version": self.format_version, "details": self.sub_summaries()}
