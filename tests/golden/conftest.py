from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    # registered when tests/golden is named on the command line: `pytest tests/golden --record-golden`
    parser.addoption("--record-golden", action="store_true",
                     help="write the built trees as the new golden files instead of comparing (tests/golden/README.md)")


@pytest.fixture
def record_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--record-golden", default=False))
