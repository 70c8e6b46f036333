"""Progress of long work, for a person at a terminal: tqdm bars on stderr.

Only when stderr is a terminal: CI logs and pipes get the plain one-line stage summaries instead, and stdout
(which a caller may parse) never gets a bar.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
REFRESH_S = 0.5


def on_terminal() -> bool:
    return sys.stderr.isatty()


@contextlib.contextmanager
def stage(name: str) -> Iterator[None]:
    """A line `name: <elapsed>` that keeps counting while the stage runs (cleared when it ends)."""
    if not on_terminal():
        yield
        return
    from tqdm import tqdm
    from tqdm.contrib.logging import logging_redirect_tqdm

    bar = tqdm(desc=name, bar_format="{desc}: {elapsed}", file=sys.stderr, leave=False)
    stop = threading.Event()

    def tick() -> None:  # tqdm redraws only on updates: a stage that waits on the network would look frozen
        while not stop.wait(REFRESH_S):
            bar.refresh()

    ticker = threading.Thread(target=tick, name=f"progress-{name}", daemon=True)
    ticker.start()
    try:
        with logging_redirect_tqdm():  # log lines print above the bar instead of through it
            yield
    finally:
        stop.set()
        ticker.join()
        bar.close()


def items(iterable: Iterable[T], desc: str, total: int | None = None, unit: str = "it") -> Iterable[T]:
    """`iterable` with a bar counting its items (on a terminal), else `iterable` itself."""
    if not on_terminal():
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, desc=desc, total=total, unit=unit, file=sys.stderr, leave=False, dynamic_ncols=True)
