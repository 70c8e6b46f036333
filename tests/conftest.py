"""Shared test setup: no test may reach the network; the suite pins the clock for reproducible output."""

import os

os.environ.setdefault("COLLECTION_NOW", "2026-01-01T00:00:00+00:00")
for name in ("GITHUB_TOKEN", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"):
    os.environ.pop(name, None)
