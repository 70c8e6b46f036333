"""The sandbox's wait: it notices a worker's exit at once, not at the next poll and not at the time limit."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from collection_compiler.testing import sandbox

pytestmark = pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="no pidfd here: the wait polls instead")


def test_the_wait_sleeps_until_the_worker_exits_and_no_longer():
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.5)"])
    started = time.monotonic()
    with sandbox._exit_waiter(process) as wait:
        wait(30.0)
    waited = time.monotonic() - started
    process.wait()
    assert 0.4 < waited < 10  # woken by the exit: not after one poll interval, not after the 30 s


def test_a_finished_worker_is_seen_before_a_poll_interval_passes(monkeypatch):
    monkeypatch.setattr(sandbox, "POLL_S", 5.0)  # were it polling, each look would cost 5 s
    process = subprocess.Popen([sys.executable, "-c", "pass"], start_new_session=True)
    started = time.monotonic()
    assert sandbox._watch(process, sandbox.Limits(timeout_s=60), rlimited=False) is None
    assert time.monotonic() - started < 4 and process.returncode == 0
