"""The sandbox's wait: it notices a worker's exit at once, not at the next look at its memory and not at the time
limit."""

from __future__ import annotations

import subprocess
import sys
import time

from collection_compiler.testing import sandbox


def test_the_wait_ends_when_the_worker_exits_not_at_the_time_limit():
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.5)"], start_new_session=True)
    started = time.monotonic()
    assert sandbox._watch(process, sandbox.Limits(timeout_s=30), rlimited=True) is None
    assert 0.4 < time.monotonic() - started < 10 and process.returncode == 0


def test_a_finished_worker_is_seen_before_a_poll_interval_passes(monkeypatch):
    monkeypatch.setattr(sandbox, "POLL_S", 5.0)  # were it sleeping through each interval, each look would cost 5 s
    process = subprocess.Popen([sys.executable, "-c", "pass"], start_new_session=True)
    started = time.monotonic()
    assert sandbox._watch(process, sandbox.Limits(timeout_s=60), rlimited=False) is None
    assert time.monotonic() - started < 4 and process.returncode == 0


def test_a_worker_past_its_time_limit_is_killed():
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], start_new_session=True)
    started = time.monotonic()
    assert sandbox._watch(process, sandbox.Limits(timeout_s=0.5), rlimited=True) == "timeout"
    assert time.monotonic() - started < 10 and process.returncode is not None
