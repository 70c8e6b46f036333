"""CPU-bound work (YAML parsing and dumping of thousands of RDFs) on worker processes, and the garbage-collector
setting of the stages that handle a whole collection in memory."""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Generic, TypeVar

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


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector (usable as a decorator). A stage builds millions of small acyclic
    objects (state, search hits, the index), and the collector would walk the growing heap again and again:
    the largest single cost of a no-change run of a 30,000-version collection. Reference counting still frees
    them."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def helper_process(warm_up: Callable[[], object], initializer: Callable[..., object] | None = None,
                   initargs: tuple[object, ...] = ()) -> ProcessPoolExecutor:
    """One worker process from the fork server (safe while threads run), with `warm_up` as its first job, so that
    its start and imports overlap whatever the caller does next. `initializer(*initargs)` runs first: the way to
    hand it what cannot travel with a job (shared memory)."""
    helper = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("forkserver"), initializer=initializer,
                                 initargs=initargs)
    helper.submit(warm_up)
    return helper


def _run_batch(fn: Callable[[T], R], items: list[T]) -> list[R]:
    return [fn(item) for item in items]


class StreamingMap(Generic[T, R]):
    """`fn` over items that arrive one at a time (RDFs as their downloads finish), in batches on worker
    processes, so the CPU work overlaps the waiting on the network. `results()` returns them in order.

    Workers start only once enough items came to pay for them, from a fork server: the items arrive while
    download threads run, and forking a process that has threads can copy a lock held by one of them."""

    def __init__(self, fn: Callable[[T], R], concurrency: int, batch: int = 64):
        self.fn, self.batch = fn, batch
        self._workers = min(os.cpu_count() or 1, concurrency)
        self._pool: ProcessPoolExecutor | None = None
        self._pending: list[T] = []
        self._parts: list[Future[list[R]] | list[T]] = []
        self._count = 0

    def submit(self, item: T) -> None:
        self._pending.append(item)
        self._count += 1
        if self._pool is None and self._workers > 1 and self._count >= MIN_ITEMS_FOR_PROCESSES:
            self._pool = ProcessPoolExecutor(self._workers, mp_context=multiprocessing.get_context("forkserver"))
            queued, self._parts = self._parts, []
            for part in queued:
                self._parts.append(self._pool.submit(_run_batch, self.fn, part))
        if len(self._pending) >= self.batch:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            items, self._pending = self._pending, []
            self._parts.append(self._pool.submit(_run_batch, self.fn, items) if self._pool else items)

    def results(self) -> list[R]:
        self._flush()
        try:
            out: list[R] = []
            for part in self._parts:
                out.extend(part.result() if isinstance(part, Future) else _run_batch(self.fn, part))
            return out
        finally:
            self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
