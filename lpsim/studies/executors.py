"""Where runs execute: in this process, in local worker processes (default), or on a Dask cluster.

Every executor maps a picklable function over items and yields ``(item, result)`` as
runs finish, in any order; the store sorts the table back into grid order, so every
executor gives the same table. Runs are independent and fully determined by their spec,
so where one runs cannot change its result.

Every process an executor starts ends with the process that started it: when a map
ends early (an exception, Ctrl-C, SIGTERM turned into KeyboardInterrupt by the CLI) the
workers are terminated rather than left to finish their runs, and a worker whose parent
dies without a word (kill -9) exits by itself within about a second.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import logging
import multiprocessing
import os
import re
import signal
import socket
import sys
import threading
import time
import warnings
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
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


# Linux's prctl option that asks the kernel to signal this process when its parent dies.
_PR_SET_PDEATHSIG = 1
# How often a worker checks that its parent still lives (where the kernel cannot tell it).
_PARENT_POLL_SECONDS = 0.5


def _exit_with_parent(parent_pid: int) -> None:
    """Make this (worker) process end when ``parent_pid``, its parent, ends, however it ends.

    Without this a worker whose parent is killed waits forever for its next task, keeping
    its memory and the parent's stdout (so a pipe reader such as ``tee`` never sees EOF).
    On Linux the kernel kills it with the parent; everywhere a daemon thread polls the
    parent id, which changes when the parent is gone (the orphan is re-parented).
    """
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    _exit_if_orphaned(parent_pid)  # the parent may have died before the line above
    threading.Thread(target=_watch_parent, args=(parent_pid,), name="lpsim-watch-parent", daemon=True).start()


def _exit_if_orphaned(parent_pid: int) -> None:
    if os.getppid() != parent_pid:
        os._exit(1)


def _watch_parent(parent_pid: int) -> None:
    while True:
        time.sleep(_PARENT_POLL_SECONDS)
        _exit_if_orphaned(parent_pid)


def _init_worker(parent_pid: int) -> None:
    _exit_with_parent(parent_pid)
    # Ctrl-C reaches every process of the terminal's process group; the parent alone
    # decides what happens (it terminates the workers), so workers print no tracebacks.
    with contextlib.suppress(ValueError):  # not this process's main thread: leave it
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _call_keeping_warnings(fn: Callable, item):
    """Run ``fn(item)`` in a worker and return its warnings with the result, so the driver
    shows them where they do not break its progress line (a worker's own stderr would)."""
    with warnings.catch_warnings(record=True) as caught:  # the worker's filters still apply
        result = fn(item)
    return result, [(str(w.message), w.category, w.filename, w.lineno) for w in caught]


def _reissue_warnings(caught: list, registry: dict) -> None:
    """Show a worker's warnings in this process, each distinct warning once per ``registry``."""
    for message, category, filename, lineno in caught:
        warnings.warn_explicit(message, category, filename, lineno, registry=registry)


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
        self.workers = _check_workers(workers) or os.cpu_count() or 1

    def map_unordered(self, fn: Callable, items: Iterable) -> Iterator[tuple[Any, Any]]:
        items = list(items)
        if not items:
            return
        context = multiprocessing.get_context("spawn")
        workers = min(self.workers, len(items))
        task = functools.partial(_call_keeping_warnings, fn)
        shown: dict = {}
        # Workers start on demand inside submit(), so the environment they inherit is
        # set for the whole map (and restored when it ends, however it ends).
        with _environment(_SINGLE_THREAD_ENV):
            pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker,
                                       initargs=(os.getpid(),))
            finished = False
            try:
                queue = iter(items)
                # A bounded number of runs in flight: Ctrl-C stops quickly, the queue stays small.
                pending = {pool.submit(task, item): item for item in _take(queue, 2 * workers)}
                while pending:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        item = pending.pop(future)
                        try:
                            result, caught = future.result()
                        except BrokenProcessPool as exc:
                            raise BrokenProcessPool(_broken_pool_message()) from exc
                        _reissue_warnings(caught, shown)
                        for nxt in _take(queue, 1):
                            pending[pool.submit(task, nxt)] = nxt
                        yield item, result
                finished = True
            finally:
                if finished:
                    pool.shutdown(wait=True)
                else:
                    _terminate(pool)


def _terminate(pool: ProcessPoolExecutor) -> None:
    """Stop a pool now: cancel what has not started, terminate what runs, reap every worker."""
    # The pool's own list of workers: the public API (before Python 3.14) can only wait
    # for running tasks to finish, which may take minutes.
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(Exception):
            process.terminate()
    for process in processes:
        process.join(5)
        if process.is_alive():
            process.kill()
            process.join()
    pool.shutdown(wait=True)


_GUARD_ADVICE = ("put the call under `if __name__ == \"__main__\":` (worker processes are spawned, and a "
                 "spawned worker imports the main script before it starts, running its top-level code)")


def _broken_pool_message() -> str:
    main = sys.modules.get("__main__")
    script = getattr(main, "__file__", None)
    hint = ""
    if script and getattr(main, "__spec__", None) is None:
        hint = f" If {script} calls run_study or resume_study at its top level, {_GUARD_ADVICE}."
    return "a worker process died before its runs finished (out of memory, killed, or failed to start)." + hint


def refuse_in_starting_worker(what: str) -> None:
    """Raise if this process is a spawned worker still importing the parent's main script: a
    script that calls ``what`` at its top level would otherwise start a study in every worker."""
    # multiprocessing marks a spawned process this way until it has imported the main script
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        raise RuntimeError(f"{what} was called while a worker process imported the main script; {_GUARD_ADVICE}")


def _take(iterator: Iterator, count: int) -> list:
    out = []
    for _ in range(count):
        try:
            out.append(next(iterator))
        except StopIteration:
            break
    return out


# tcp://HOST:PORT (also tls, ws, wss, ucx), or HOST:PORT, which Dask reads as tcp
_SCHEDULER_ADDRESS = re.compile(r"(?:(?P<scheme>tcp|tls|ws|wss|ucx)://)?(?P<host>\[[0-9a-fA-F:.]+\]|[^\s:/\[\]]+)"
                                r":(?P<port>\d{1,5})")
# How long to wait for a scheduler to accept a connection before saying it cannot be reached.
_CONNECT_SECONDS = 10.0


def _check_scheduler(scheduler) -> str:
    if not isinstance(scheduler, str) or _SCHEDULER_ADDRESS.fullmatch(scheduler.strip()) is None:
        raise ValueError(f"scheduler must be a Dask scheduler address like tcp://127.0.0.1:8786 (tcp://HOST:PORT), "
                         f"got {scheduler!r}")
    return scheduler.strip()


def _reach_scheduler(scheduler: str) -> None:
    """Fail now, naming the address, when nothing listens there (Dask itself retries for 30 s
    and then hangs a minute more closing its half-made client)."""
    match = _SCHEDULER_ADDRESS.fullmatch(scheduler)
    if match["scheme"] not in (None, "tcp", "tls"):
        return  # other transports: let Dask connect
    host = match["host"].strip("[]")
    try:
        socket.create_connection((host, int(match["port"])), timeout=_CONNECT_SECONDS).close()
    except OSError as exc:
        raise OSError(f"cannot reach the Dask scheduler at {scheduler}: {exc.strerror or exc}") from None


def _init_local_dask_worker() -> None:
    """Run in each local Dask worker: its parent is its nanny, which lives in the driver process."""
    _init_worker(os.getppid())


class DaskExecutor:
    """Runs on a Dask distributed cluster: an existing one given its scheduler address
    (``tcp://host:8786``), or without an address a local cluster of worker processes (one
    per core, or ``workers``) that lives as long as the map. Workers need lpsim installed;
    results come back to this process, which alone writes the results folder."""

    name = "dask"

    def __init__(self, scheduler: str | None = None, workers: int | None = None):
        if scheduler is not None:
            scheduler = _check_scheduler(scheduler)
            if workers is not None:
                raise ValueError("workers applies to the local Dask cluster only; a cluster at a scheduler address "
                                 "has the workers it was started with (drop workers or scheduler)")
        self.scheduler = scheduler
        self.workers = _check_workers(workers)

    def map_unordered(self, fn: Callable, items: Iterable) -> Iterator[tuple[Any, Any]]:
        try:
            from distributed import Client, LocalCluster, as_completed
        except ImportError:
            raise ImportError("the dask executor needs dask.distributed: pip install 'lpsim[dask]'") from None
        items = list(items)
        if not items:
            return
        with contextlib.ExitStack() as stack:
            if self.scheduler is None:
                with _environment(_SINGLE_THREAD_ENV):  # the worker processes start in here
                    cluster = stack.enter_context(LocalCluster(
                        n_workers=min(self.workers or os.cpu_count() or 1, len(items)), threads_per_worker=1,
                        # CRITICAL: no log lines (or heartbeat tracebacks) about workers it stops mid-run when a study is
                        # interrupted; a failing run still reaches the driver through its future
                        processes=True, dashboard_address=None, silence_logs=logging.CRITICAL))
                client = stack.enter_context(Client(cluster, set_as_default=False))
                client.run(_init_local_dask_worker)
            else:
                _reach_scheduler(self.scheduler)
                client = stack.enter_context(Client(self.scheduler, set_as_default=False))
            shown: dict = {}
            futures = client.map(functools.partial(_call_keeping_warnings, fn), items, pure=False)
            index = {future.key: i for i, future in enumerate(futures)}
            try:
                for future in as_completed(futures, loop=client.loop):
                    result, caught = future.result()
                    _reissue_warnings(caught, shown)
                    yield items[index[future.key]], result
            finally:
                client.cancel(futures)


def _check_workers(workers):
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers must be a positive integer or None (one per core), got {workers!r}")
    return workers


def make_executor(name: str = "processes", *, workers: int | None = None, scheduler: str | None = None):
    if name not in EXECUTORS:
        raise ValueError(f"executor must be one of {', '.join(EXECUTORS)}, got {name!r}")
    if scheduler is not None and name != "dask":
        raise ValueError(f"scheduler is the address of a Dask cluster and needs executor 'dask'; the {name} "
                         f"executor runs on this machine (got scheduler {scheduler!r})")
    if name == "serial":
        if workers is not None:
            raise ValueError(f"workers does not apply to the serial executor (it runs in this process), got {workers!r}")
        return SerialExecutor()
    if name == "processes":
        return ProcessExecutor(workers)
    return DaskExecutor(scheduler, workers)


__all__ = ["EXECUTORS", "SerialExecutor", "ProcessExecutor", "DaskExecutor", "make_executor"]
