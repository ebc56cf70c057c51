"""Run grid items on worker processes of this machine: one GPU per worker, and a worker
that dies (SIGKILL, the OOM killer) costs only its own run.

The runner passes its own ``run_item``, so this module does not import the runner back.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Callable

from gan_zoo import runs
from gan_zoo.runs import RunResult

__all__ = ["run_local", "gpu_slots", "take_gpu"]


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


def _worker_init(threads: int, slots=None, env: dict | None = None) -> None:
    if env is not None:  # a forked worker starts with the fork server's environment: the driver's now
        os.environ.clear()
        os.environ.update(env)
    # Ctrl-C goes to the driver, which stops the pool; workers must not print tracebacks
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
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


def _die_with_parent() -> None:
    """On Linux, end this worker when the driver dies (even by SIGKILL), so a re-run never
    races an orphan for the same run folder."""
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


def run_local(run_item, pending, args, *, workers: int, threads: int, on_done=None,
              prepare: Callable[[], None] = lambda: None, slots: list[str] | None = None) -> list[dict]:
    """Run the items on ``workers`` worker processes, at most ``workers`` in flight.

    A worker that dies (SIGKILL, the OOM killer) breaks the pool: the runs that were in
    flight are then retried one at a time, each alone in a fresh worker, so the run that
    kills its worker again is the one recorded ``failed`` ("worker killed by signal 9")
    while the others complete; the pool is rebuilt for the rest of the grid.
    """
    from collections import deque
    from concurrent.futures import FIRST_COMPLETED, wait
    from concurrent.futures.process import BrokenProcessPool

    results = []
    queue = deque(zip(pending, args))
    pool = _new_pool(workers, threads, slots)
    try:
        # start the workers now so that their start-up overlaps the driver's
        # preparation; runs are handed out only once it is done
        for _ in range(min(workers, len(pending))):
            pool.submit(_preload)
        prepare()
        inflight: dict = {}
        broken: list = []

        def collect(fut) -> None:
            """A finished run's result, or the run onto ``broken`` when its worker died."""
            item, a = inflight.pop(fut)
            try:
                res = fut.result()
            except BrokenProcessPool:
                broken.append((item, a))
                return
            results.append(res)
            if on_done:
                on_done(item, res)

        while queue or inflight:
            while queue and len(inflight) < workers:
                item, a = queue.popleft()
                inflight[pool.submit(run_item, *a)] = (item, a)
            done, _ = wait(set(inflight), return_when=FIRST_COMPLETED)
            broken.clear()

            for fut in done:
                collect(fut)
            if not broken:
                continue
            # the pool is gone: every run still in flight broke with it
            for fut in list(inflight):
                collect(fut)
            inflight.clear()
            _stop(pool)
            for item, a in broken:
                res = _run_alone(run_item, a, threads, slots)
                results.append(res)
                if on_done:
                    on_done(item, res)
            if queue:
                pool = _new_pool(workers, threads, slots)
    except BaseException:
        # interrupted: stop the workers now; their runs resume from checkpoints next time
        _stop(pool)
        raise
    pool.shutdown(wait=True)
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
                               initargs=(threads, queue, dict(os.environ)))


def _stop(pool) -> None:
    for proc in list((getattr(pool, "_processes", None) or {}).values()):
        proc.terminate()
    pool.shutdown(wait=False, cancel_futures=True)


def _run_alone(run_item, a: tuple, threads: int, slots: list[str] | None = None) -> dict:
    """Retry one run whose worker died, alone in a fresh worker; if that worker dies too,
    record the run ``failed`` with how it died (one line, no traceback)."""
    from concurrent.futures.process import BrokenProcessPool

    pool = _new_pool(1, threads, slots)
    fut = pool.submit(run_item, *a)
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
    spec_dict, sweep, run_dir = a[0], a[1], Path(a[2])
    from gan_zoo.spec import RunSpec

    reason = f"{how} (twice; the run was retried once on its own)"
    result = RunResult.failed(RunSpec.from_dict(spec_dict).run_id(), reason,
                              device=spec_dict.get("device", ""), sweep=sweep)
    run_dir.mkdir(parents=True, exist_ok=True)
    runs.write_result(run_dir, result)
    return result.to_dict()
