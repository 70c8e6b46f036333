"""CPU-bound work over many items on worker processes (the build's per-version files)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

MIN_ITEMS_FOR_PROCESSES = 200  # below this, starting processes costs more than it saves


def cpu_map(fn: Callable[[T], R], items: Iterable[T], concurrency: int) -> list[R]:
    """`fn` over `items` in order; on up to `min(cores, concurrency)` processes when there is enough work.

    `fn` must be a module-level function (or a `functools.partial` of one: its arguments are sent once per
    batch of items, not once per item) and items picklable."""
    items = list(items)
    workers = min(os.cpu_count() or 1, concurrency)
    if workers <= 1 or len(items) < MIN_ITEMS_FOR_PROCESSES:
        return [fn(item) for item in items]
    chunk = max(16, len(items) // (workers * 8))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(fn, items, chunksize=chunk))
