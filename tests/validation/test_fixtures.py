"""Agreement with the reference validator's verdicts on the shared real descriptions (file checks off)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from collection_compiler.validation import validate_rdf

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "real-rdfs"
if not FIXTURES.is_dir():
    FIXTURES = Path("/work/shared/fixtures/real-rdfs")


def fixture_rows() -> list[dict[str, str]]:
    path = FIXTURES / "verdicts.csv"
    if not path.is_file():
        return []
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def fixture_path(row: dict[str, str]) -> Path:
    return FIXTURES / "rdfs" / row["resource_id"] / row["version_id"] / "rdf.yaml"


ROWS = fixture_rows()


def _ref_loc(first_error: str) -> str:
    """`cite.0.doi: msg` -> `cite.0.doi`; a model-level error has no location."""
    head = first_error.split(": ", 1)[0]
    return "" if head.startswith("Value error") or " " in head else head


@pytest.mark.skipif(not ROWS, reason="shared fixtures not available")
@pytest.mark.parametrize("row", ROWS, ids=[f"{r['resource_id']}/{r['version_id']}" for r in ROWS])
def test_verdict_and_first_error_match_reference(row: dict[str, str]) -> None:
    result = validate_rdf(fixture_path(row).read_bytes(), source=str(fixture_path(row)))
    expected = "passed" if row["reference_verdict"] in ("passed", "valid-format") else "failed"
    assert result.status == expected, [e.text() for d in result.details for e in d.errors]
    if expected == "failed":
        first = result.first_error
        assert first is not None
        assert ".".join(map(str, first.loc)) == _ref_loc(row["reference_first_error"])
        assert first.msg == row["reference_first_error"].split(": ", 1)[-1] or first.text() == row[
            "reference_first_error"]


@pytest.mark.skipif(not ROWS, reason="shared fixtures not available")
def test_fixture_results_are_deterministic_sub_summaries() -> None:
    row = ROWS[0]
    one = validate_rdf(fixture_path(row).read_bytes(), source="x").sub_summaries()
    two = validate_rdf(fixture_path(row).read_bytes(), source="x").sub_summaries()
    assert one == two
    detail = one[0]
    assert {"name", "status", "error", "warnings", "traceback", "nested_errors", "errors", "loc"} <= set(detail)
    assert detail["name"].startswith("static validation of model RDF 0.4.8 (as 0.4.10)")
