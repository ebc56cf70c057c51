"""The ``local`` executor (:mod:`gan_zoo.bench.executors`): grid runs on worker
processes of this machine, one GPU per worker, and a worker that dies (SIGKILL, the
OOM killer) costs only its own run; with one worker, runs in the driver itself.

The runner passes its own run function, so this module does not import the runner back.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Callable, Iterator

from gan_zoo import runs
from gan_zoo.bench.executors import ExecutorSettings, RunTask
from gan_zoo.runs import RunResult

__all__ = ["make_executor", "LocalExecutor", "InProcessExecutor", "run_local", "gpu_slots", "take_gpu"]


def gpu_slots(device: str, workers: int) -> list[str] | None:
    """The GPU each local worker uses, as ``CUDA_VISIBLE_DEVICES`` values, spread evenly over
    the visible GPUs (worker i gets GPU i mod n); None on the CPU or with a device index
    (``cuda:1``: every run there)."""
    if device != "cuda":
        return None
    import torch

    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    ids = [v.strip() for v in visible.split(",") if v.strip()] if visible else []
    n = torch.cuda.device_count()
    ids = ids[:n] if ids else [str(i) for i in range(n)]
    if not ids:
        return None
    return [ids[i % len(ids)] for i in range(workers)]


def _worker_init(threads: int, slots=None, env: dict | None = None, driver: int | None = None) -> None:
    if env is not None:  # a forked worker starts with the fork server's environment: the driver's now
        os.environ.clear()
        os.environ.update(env)
    # Ctrl-C goes to the driver, which stops the pool; workers must not print tracebacks
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    if driver is not None:
        watch_driver(driver)
    take_gpu(slots)
    import torch

    torch.set_num_threads(threads)


def take_gpu(slots) -> str | None:
    """In a new worker: take the next GPU of the queue ``slots`` and make it this process's
    only visible device, before CUDA starts; None (and no change) without a queue."""
    if slots is None:
        return None
    import queue

    try:
        gpu = slots.get(timeout=10)
    except queue.Empty:
        return None
    os.environ["CUDA_VISIBLE_DEVICES"] = str(gpu)
    return str(gpu)


def watch_driver(pid: int, poll_s: float = 0.5):
    """End this worker as soon as the driver (process ``pid``) ends, however it ends
    (SIGKILL, SIGTERM, a crash), so no worker trains on, or idles, without its grid.

    A worker's parent is the fork server, not the driver, so the parent-death signal
    alone does not reach it (and the fork server waits for its workers): a daemon thread
    waits for the driver instead, on a pidfd where Linux has one (woken the moment the
    driver exits), else by polling whether the driver is still alive, and then ends the
    worker with SIGKILL. Returns the thread.
    """
    import threading

    def alive() -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        try:  # a driver that died but was not reaped yet is a zombie
            with open(f"/proc/{pid}/stat", "rb") as f:
                return f.read().rsplit(b")", 1)[-1].split()[0] != b"Z"
        except (OSError, IndexError):
            return True

    def watch() -> None:
        fd = None
        if hasattr(os, "pidfd_open"):
            try:
                fd = os.pidfd_open(pid)
            except ProcessLookupError:
                os.kill(os.getpid(), signal.SIGKILL)
            except OSError:
                fd = None
        if fd is not None:
            import select

            select.select([fd], [], [])  # readable once the driver has exited
        else:
            import time

            while alive():
                time.sleep(poll_s)
        os.kill(os.getpid(), signal.SIGKILL)

    thread = threading.Thread(target=watch, name="gan-zoo-driver-watch", daemon=True)
    thread.start()
    return thread


def _die_with_parent() -> None:
    """On Linux, end this worker when its parent dies (even by SIGKILL): the driver where
    workers are spawned; where they fork from a server, :func:`watch_driver` watches the
    driver itself."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


#: What every run imports (torch and its optimizer's torch._dynamo take seconds): loaded
#: once by the fork server, so each worker starts with them instead of importing them.
WORKER_MODULES = ["torch", "torch._dynamo", "torch.optim", "gan_zoo.train", "gan_zoo.metrics",
                  "gan_zoo.pictures"]


def _preload() -> None:
    """A worker's first task: the imports every run needs, done while the driver prepares
    the real-data features (free where the fork server already holds them)."""
    import importlib

    for name in WORKER_MODULES:
        importlib.import_module(name)


def make_executor(settings: ExecutorSettings, run: Callable[[RunTask], dict], *,
                  prepare: Callable[[], None] = lambda: None):
    """The ``local`` executor: runs in this process with one worker (no pool to start),
    else :class:`LocalExecutor`'s worker processes."""
    if settings.workers <= 1:
        return InProcessExecutor(run, prepare=prepare)
    return LocalExecutor(run, workers=settings.workers, threads=settings.threads,
                         slots=gpu_slots(settings.device, settings.workers), prepare=prepare)


class InProcessExecutor:
    """One run at a time in the driver itself (``--workers 1``)."""

    def __init__(self, run: Callable[[RunTask], dict], *, prepare: Callable[[], None] = lambda: None):
        from collections import deque

        self._run, self._prepare, self._queue = run, prepare, deque()

    def submit(self, task: RunTask) -> None:
        self._queue.append(task)

    def results(self) -> Iterator[tuple[RunTask, dict]]:
        if self._prepare is not None:
            prepare, self._prepare = self._prepare, None
            prepare()
        while self._queue:
            task = self._queue.popleft()
            yield task, self._run(task)

    def close(self) -> None:
        self._queue.clear()


class LocalExecutor:
    """Runs on ``workers`` worker processes, at most ``workers`` in flight.

    A worker that dies (SIGKILL, the OOM killer) breaks the pool: the runs that were in
    flight are then retried one at a time, each alone in a fresh worker, so the run that
    kills its worker again is the one recorded ``failed`` ("worker killed by signal 9")
    while the others complete; the pool is rebuilt for the rest of the grid.
    """

    def __init__(self, run: Callable, *, workers: int, threads: int, slots: list[str] | None = None,
                 prepare: Callable[[], None] = lambda: None,
                 failed: Callable[[object, tuple, str], dict] | None = None):
        from collections import deque

        self._run, self.workers, self.threads, self.slots = run, workers, threads, slots
        self._prepare = prepare
        self._failed = failed or _failed_task
        self._queue: deque = deque()
        self._pool = None

    def submit(self, task: RunTask) -> None:
        self._put(task, (task,))

    def _put(self, key, args: tuple) -> None:
        """Queue ``run(*args)``, reported as ``key`` (a task, or a caller's item)."""
        self._queue.append((key, args))

    def results(self) -> Iterator[tuple[object, dict]]:
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        try:
            if self._pool is None:
                self._pool = _new_pool(self.workers, self.threads, self.slots)
                # start the workers now so that their start-up overlaps the driver's
                # preparation; runs are handed out only once it is done
                for _ in range(min(self.workers, len(self._queue))):
                    self._pool.submit(_preload)
            if self._prepare is not None:
                prepare, self._prepare = self._prepare, None
                prepare()
            inflight: dict = {}
            while self._queue or inflight:
                while self._queue and len(inflight) < self.workers:
                    key, a = self._queue.popleft()
                    inflight[self._pool.submit(self._run, *a)] = (key, a)
                done, _ = wait(set(inflight), return_when=FIRST_COMPLETED)
                broken, finished = [], []
                for fut in done:
                    key, a = inflight.pop(fut)
                    try:
                        finished.append((key, fut.result()))
                    except BrokenProcessPool:
                        broken.append((key, a))
                if broken:
                    # the pool is gone: every run still in flight broke with it
                    for fut, (key, a) in list(inflight.items()):
                        try:
                            finished.append((key, fut.result()))
                        except BrokenProcessPool:
                            broken.append((key, a))
                    inflight.clear()
                    _stop(self._pool)
                    self._pool = None
                yield from finished
                for key, a in broken:
                    yield key, _run_alone(self._run, key, a, self.threads, self.slots, self._failed)
                if broken and self._queue:
                    self._pool = _new_pool(self.workers, self.threads, self.slots)
            self.shutdown()
        except BaseException:
            # interrupted: stop the workers now; their runs resume from checkpoints next time
            self.close()
            raise

    def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            _stop(pool)
        self._queue.clear()

    def shutdown(self) -> None:
        """Wait for the workers to exit (the end of a grid that was not interrupted)."""
        if self._pool is not None:
            pool, self._pool = self._pool, None
            pool.shutdown(wait=True)


def run_local(run_item, pending, args, *, workers: int, threads: int, on_done=None,
              prepare: Callable[[], None] = lambda: None, slots: list[str] | None = None) -> list[dict]:
    """Call ``run_item(*a)`` for each ``a`` of ``args`` on ``workers`` worker processes
    (:class:`LocalExecutor`); ``on_done(item, result)`` as each finishes."""
    ex = LocalExecutor(run_item, workers=workers, threads=threads, slots=slots, prepare=prepare,
                       failed=_failed_args)
    for item, a in zip(pending, args):
        ex._put(item, tuple(a))
    results = []
    for item, res in ex.results():
        results.append(res)
        if on_done:
            on_done(item, res)
    ex.shutdown()
    return results


def _new_pool(workers: int, threads: int, slots: list[str] | None = None):
    """``workers`` worker processes; with ``slots``, worker i sees only GPU ``slots[i]``
    (each takes one from a queue as it starts).

    Workers are forked from a fork server that imported :data:`WORKER_MODULES` once and
    never ran a torch op (no thread pool, no CUDA context to inherit), so a pool, and each
    one rebuilt after a dead worker, starts in a fraction of a second instead of paying
    torch's imports per worker; each worker takes the driver's environment as it starts.
    Where there is no fork server (Windows, macOS defaults aside), workers are spawned.
    """
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(WORKER_MODULES)  # read when the server first starts
    else:
        ctx = mp.get_context("spawn")
    queue = None
    if slots:
        queue = ctx.Queue()
        for gpu in slots[:workers]:
            queue.put(gpu)
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_worker_init,
                               initargs=(threads, queue, dict(os.environ), os.getpid()))


def _stop(pool) -> None:
    for proc in list((getattr(pool, "_processes", None) or {}).values()):
        proc.terminate()
    pool.shutdown(wait=False, cancel_futures=True)


def _run_alone(run, key, a: tuple, threads: int, slots: list[str] | None, failed) -> dict:
    """Retry one run whose worker died, alone in a fresh worker; if that worker dies too,
    record the run ``failed`` with how it died (one line, no traceback)."""
    from concurrent.futures.process import BrokenProcessPool

    pool = _new_pool(1, threads, slots)
    fut = pool.submit(run, *a)
    procs = list(getattr(pool, "_processes", {}).values())
    try:
        return fut.result()
    except BrokenProcessPool:
        pass
    finally:
        _stop(pool)
    code = next((p.exitcode for p in procs if p.exitcode), None)
    for p in procs:
        p.join(timeout=5)
        code = code or p.exitcode
    how = (f"worker killed by signal {-code}" if code and code < 0
           else f"worker exited with code {code}" if code else "worker died")
    return failed(key, a, f"{how} (twice; the run was retried once on its own)")


def _record_failed(spec, run_dir: Path, sweep: dict, reason: str) -> dict:
    result = RunResult.failed(spec.run_id(), reason, device=spec.device, sweep=sweep)
    run_dir.mkdir(parents=True, exist_ok=True)
    runs.write_result(run_dir, result)
    return result.to_dict()


def _failed_task(task: RunTask, a: tuple, reason: str) -> dict:
    return _record_failed(task.spec, Path(task.run_dir), task.sweep, reason)


def _failed_args(item, a: tuple, reason: str) -> dict:
    """``run_local``'s argument tuples: (spec dict, sweep, run folder, ...)."""
    from gan_zoo.spec import RunSpec

    return _record_failed(RunSpec.from_dict(a[0]), Path(a[2]), a[1], reason)
