"""Pacing by what the servers say: a request budget per endpoint class (Zenodo search, the rest of Zenodo's API,
the GitHub API, any other host), shared by every thread of one `HttpClient`.

Each class starts from the published limits (`Settings.rate_limits`) and follows the `X-RateLimit-Limit`,
`-Remaining` and `-Reset` headers of every answer: no request is sent beyond the remaining budget before the
reset time, and a 429 or 503 with `Retry-After` pauses the whole class, not just the request that drew it.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypedDict

# "class=N/S[+N/S]" joined by ";": N requests per S seconds, one or more windows per class.
_SPEC = re.compile(r"^\s*([a-z0-9.\-]+)\s*=\s*(\d+\s*/\s*\d+(?:\.\d+)?(?:\s*\+\s*\d+\s*/\s*\d+(?:\.\d+)?)*)\s*$")


class BudgetExhausted(RuntimeError):
    """The class's budget is spent until after the caller's deadline."""


class BudgetReport(TypedDict):
    """What a run tells of one endpoint class (health.json `requests`, the summary line)."""

    requests: int
    throttled: int  # answers 429 (or 503 with Retry-After)
    waited_s: float  # time requests spent waiting for the budget
    remaining: int | None  # what is left of the longest window (an hour for Zenodo and GitHub), as last known


@dataclass
class Window:
    """`limit` requests per `period` seconds; `reset_at` is a Unix time (0: no request yet)."""

    limit: int
    period: float
    remaining: int = 0
    reset_at: float = 0.0
    told: bool = False  # `reset_at` came from the server, not from our own estimate
    share: float = 1.0  # the part of the server's budget this client may use (two processes read one listing)

    def __post_init__(self) -> None:
        self.remaining = self.ours(self.limit)

    def ours(self, count: int) -> int:
        return int(count * self.share)

    def roll(self, now: float, in_flight: int) -> None:
        """A new window once the last one ended. Requests still on their way may arrive in it and count there."""
        if now >= self.reset_at:
            self.remaining = max(1, self.ours(self.limit) - in_flight)
            self.reset_at, self.told = now + self.period, False


def parse_limits(spec: str) -> dict[str, list[Window]]:
    """`zenodo-search=30/60;zenodo=60/60+2000/3600` -> windows by class; ValueError naming the bad part."""
    limits: dict[str, list[Window]] = {}
    for part in filter(str.strip, spec.split(";")):
        match = _SPEC.match(part)
        if not match:
            raise ValueError(f"rate_limits: {part.strip()!r} is not class=N/SECONDS[+N/SECONDS]")
        windows = []
        for window in match[2].split("+"):
            count, seconds = (w.strip() for w in window.split("/"))
            if int(count) < 1 or float(seconds) <= 0:
                raise ValueError(f"rate_limits: {part.strip()!r}: a window needs at least 1 request and a period")
            windows.append(Window(int(count), float(seconds)))
        limits[match[1]] = sorted(windows, key=lambda w: w.period)
    return limits


@dataclass
class Budget:
    """One class's budget. `acquire` before a request, `answered` with its headers after."""

    name: str
    windows: list[Window]
    clock: Callable[[], float]
    sleep: Callable[[float], None]
    paused_until: float = 0.0
    in_flight: int = 0
    requests: int = 0
    throttled: int = 0
    waited: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def acquire(self, deadline: float) -> None:
        """Wait until a request may go (raises BudgetExhausted when that is after `deadline`, a Unix time)."""
        while True:
            with self._lock:
                now = self.clock()
                wait = self._wait(now)
                if wait <= 0:
                    for window in self.windows:
                        window.remaining -= 1
                    self.in_flight += 1
                    self.requests += 1
                    return
                if now + wait > deadline:
                    raise BudgetExhausted(f"the {self.name} request budget is spent for {wait:.0f} s, beyond the "
                                          "stage's time budget")
                self.waited += wait
            self.sleep(wait)

    def _wait(self, now: float) -> float:
        if self.paused_until > now:
            return self.paused_until - now
        for window in self.windows:
            window.roll(now, self.in_flight)
        return max([w.reset_at - now for w in self.windows if w.remaining <= 0], default=0.0)

    def answered(self, headers: Mapping[str, str], status: int, retry_after: float | None) -> None:
        """Follow the server's word: its budget headers, and a pause for every thread after a 429 or 503."""
        with self._lock:
            self.in_flight -= 1
            now = self.clock()
            if status in (429, 503) and (status == 429 or retry_after is not None):
                self.throttled += 1
                until = now + retry_after if retry_after is not None else self._told_reset(headers, now)
                self.paused_until = max(self.paused_until, until)
            self._follow(headers, now)

    def _follow(self, headers: Mapping[str, str], now: float) -> None:
        told = _budget_headers(headers)
        if told is None:
            return
        limit, remaining, reset_at = told
        window = self._window_for(limit, reset_at - now)
        if window is None or reset_at <= now or (window.told and reset_at < window.reset_at):
            return  # an answer from a window that has ended, overtaken on the way
        # Requests still on their way may not be counted in the server's figure yet. Answers of one window
        # arrive out of order, so within a window the lowest figure holds; a new window's first answer sets it.
        left = max(0, window.ours(remaining) - self.in_flight)
        same = window.told and reset_at == window.reset_at
        window.remaining = min(window.remaining, left) if same else left
        window.limit, window.reset_at, window.told = limit, reset_at, True

    def _told_reset(self, headers: Mapping[str, str], now: float) -> float:
        told = _budget_headers(headers)
        return told[2] if told and told[1] <= 0 else now + 1.0

    def _window_for(self, limit: int, seconds_left: float) -> Window | None:
        """The window the headers speak of: the one with that limit, else the shortest one that lasts as long."""
        if not self.windows:
            return None
        same = [w for w in self.windows if w.limit == limit]
        if same:
            return same[0]
        return next((w for w in self.windows if w.period >= seconds_left), self.windows[-1])

    def report(self) -> BudgetReport:
        with self._lock:
            longest = self.windows[-1] if self.windows else None
            return {"requests": self.requests, "throttled": self.throttled, "waited_s": round(self.waited, 2),
                    "remaining": max(0, longest.remaining) if longest else None}


def _budget_headers(headers: Mapping[str, str]) -> tuple[int, int, float] | None:
    """(limit, remaining, reset as a Unix time) from the three headers, or None when any is missing or bad."""
    try:
        limit = int(headers["X-RateLimit-Limit"])
        remaining = int(headers["X-RateLimit-Remaining"])
        reset = float(headers["X-RateLimit-Reset"])
    except (KeyError, TypeError, ValueError):
        return None
    if limit < 1 or reset != reset:  # "nan" parses as a float
        return None
    return limit, remaining, reset


class Budgets:
    """The budgets of one client, by class, made on first use."""

    def __init__(self, spec: str, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep, shares: Mapping[str, float] | None = None):
        self._limits = parse_limits(spec)
        self._shares = dict(shares or {})
        self._clock, self._sleep = clock, sleep
        self._budgets: dict[str, Budget] = {}
        self._lock = threading.Lock()

    def __getitem__(self, name: str) -> Budget:
        with self._lock:
            budget = self._budgets.get(name)
            if budget is None:
                share = self._shares.get(name, 1.0)
                windows = [Window(w.limit, w.period, share=share) for w in self._limits.get(name, [])]
                budget = self._budgets[name] = Budget(name, windows, self._clock, self._sleep)
            return budget

    def report(self) -> dict[str, BudgetReport]:
        with self._lock:
            budgets = sorted(self._budgets.items())
        return {name: budget.report() for name, budget in budgets if budget.requests}


def summary(reports: Mapping[str, BudgetReport]) -> str:
    """`zenodo-search 3 req; zenodo 45 req, 1 429, waited 2.1 s, 1955 left` for a summary line."""
    parts = []
    for name, r in sorted(reports.items()):
        text = f"{name} {r['requests']} req"
        if r["throttled"]:
            text += f", {r['throttled']} 429"
        if r["waited_s"] >= 0.05:
            text += f", waited {r['waited_s']:.1f} s"
        if r["remaining"] is not None:
            text += f", {r['remaining']} left"
        parts.append(text)
    return "; ".join(parts)
