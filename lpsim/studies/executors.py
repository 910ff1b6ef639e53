"""Where runs execute: in this process, in local worker processes (default), or on a Dask cluster.

Every executor maps a picklable function over items and yields ``(item, result)`` as
runs finish, in any order; the store sorts the table back into grid order, so every
executor gives the same table. Runs are independent and fully determined by their spec,
so where one runs cannot change its result.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any, Callable, Iterable, Iterator

EXECUTORS = ("serial", "processes", "dask")
# One process per core, each with one thread: runs are the unit of parallelism, and
# nested BLAS or Numba thread pools would fight over the cores.
_SINGLE_THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMBA_NUM_THREADS": "1",
}


class SerialExecutor:
    name = "serial"

    def map_unordered(self, fn: Callable, items: Iterable) -> Iterator[tuple[Any, Any]]:
        for item in items:
            yield item, fn(item)


@contextlib.contextmanager
def _environment(values: dict[str, str]):
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class ProcessExecutor:
    """A pool of fresh worker processes (spawned, never forked: forking a process that has
    started Numba or BLAS threads can deadlock), one per core by default."""

    name = "processes"

    def __init__(self, workers: int | None = None):
        if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
            raise ValueError(f"workers must be a positive integer or None (one per core), got {workers!r}")
        self.workers = workers or os.cpu_count() or 1

    def map_unordered(self, fn: Callable, items: Iterable) -> Iterator[tuple[Any, Any]]:
        items = list(items)
        if not items:
            return
        context = multiprocessing.get_context("spawn")
        workers = min(self.workers, len(items))
        # Workers start on demand inside submit(), so the environment they inherit is
        # set for the whole map (and restored when it ends, however it ends).
        with _environment(_SINGLE_THREAD_ENV), ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            queue = iter(items)
            # A bounded number of runs in flight: Ctrl-C stops quickly, the queue stays small.
            pending = {pool.submit(fn, item): item for item in _take(queue, 2 * workers)}
            try:
                while pending:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        item = pending.pop(future)
                        result = future.result()
                        for nxt in _take(queue, 1):
                            pending[pool.submit(fn, nxt)] = nxt
                        yield item, result
            finally:
                for future in pending:
                    future.cancel()


def _take(iterator: Iterator, count: int) -> list:
    out = []
    for _ in range(count):
        try:
            out.append(next(iterator))
        except StopIteration:
            break
    return out


class DaskExecutor:
    """Runs on an existing Dask distributed cluster, given its scheduler address
    (``tcp://host:8786``). Workers need lpsim installed; results come back to this process,
    which alone writes the results folder."""

    name = "dask"

    def __init__(self, scheduler: str):
        if not isinstance(scheduler, str) or not scheduler:
            raise ValueError("the dask executor needs a scheduler address, e.g. --scheduler tcp://127.0.0.1:8786")
        self.scheduler = scheduler

    def map_unordered(self, fn: Callable, items: Iterable) -> Iterator[tuple[Any, Any]]:
        try:
            from distributed import Client, as_completed
        except ImportError:
            raise ImportError("the dask executor needs dask.distributed: pip install 'lpsim[dask]'") from None
        items = list(items)
        if not items:
            return
        with Client(self.scheduler, set_as_default=False) as client:
            futures = client.map(fn, items, pure=False)
            index = {future.key: i for i, future in enumerate(futures)}
            try:
                for future in as_completed(futures, loop=client.loop):
                    yield items[index[future.key]], future.result()
            finally:
                client.cancel(futures)


def make_executor(name: str = "processes", *, workers: int | None = None, scheduler: str | None = None):
    if name == "serial":
        return SerialExecutor()
    if name == "processes":
        return ProcessExecutor(workers)
    if name == "dask":
        return DaskExecutor(scheduler)
    raise ValueError(f"executor must be one of {', '.join(EXECUTORS)}, got {name!r}")


__all__ = ["EXECUTORS", "SerialExecutor", "ProcessExecutor", "DaskExecutor", "make_executor"]
