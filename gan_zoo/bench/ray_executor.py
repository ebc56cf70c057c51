"""The ``ray`` executor (:mod:`gan_zoo.bench.executors`): grid runs as Ray tasks, on a
running cluster or a local Ray instance.

Each run asks Ray for ``cpus_per_run`` CPUs and ``gpus_per_run`` GPUs; a fraction of
a GPU packs several small DCGAN runs on one device. Workers write their run folders
themselves (a cluster needs ``--out`` on storage every node sees); the driver only
collects the results and then rebuilds the tables. Ray is the optional extra
``gan-zoo[ray]``.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Iterator

from gan_zoo.bench.executors import ExecutorSettings, RunTask
from gan_zoo.errors import GanZooError

__all__ = ["make_executor", "RayExecutor", "ray_resources", "check_address"]


def _import_ray():
    try:
        import ray
    except ImportError:
        raise GanZooError("--executor ray needs Ray: pip install 'gan-zoo[ray]'") from None
    return ray


#: seconds a Ray address has to accept a connection before the grid is refused
CONNECT_TIMEOUT_S = 5.0
#: Ray's default GCS port, for an address given without one
DEFAULT_RAY_PORT = 6379


def check_address(address: str, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """Refuse, with one line, a ``--ray-address`` (``host:port`` or ``ray://host:port``) that
    accepts no connection within ``timeout`` seconds: ``ray.init`` would retry it for
    minutes. ``auto`` (find a local cluster) is left to Ray."""
    import socket
    from urllib.parse import urlsplit

    if address in ("auto", "local"):
        return
    try:
        parts = urlsplit(address if "://" in address else f"ray://{address}")
        host, port = parts.hostname, parts.port or DEFAULT_RAY_PORT
    except ValueError:
        host = port = None
    if not host:
        raise GanZooError(f"--ray-address {address!r} is not HOST:PORT or ray://HOST:PORT")
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        reason = "no answer" if isinstance(exc, socket.timeout) else (exc.strerror or type(exc).__name__)
        raise GanZooError(f"--ray-address {address} does not answer ({reason} within {timeout:g} s at "
                          f"{host}:{port}); start the cluster (ray start --head) or check the address") from None


def ray_resources(gpus_per_run: float, threads: int) -> dict:
    """What each Ray task asks for: a GPU share and, for a GPU run, one CPU (a run feeds its
    GPU from one thread), so ``1/gpus_per_run`` runs share a GPU; on the CPU, ``threads``."""
    return {"num_gpus": gpus_per_run, "num_cpus": 1 if gpus_per_run > 0 else max(1, threads)}


def make_executor(settings: ExecutorSettings, run: Callable[[RunTask], dict], *,
                  prepare: Callable[[], None] = lambda: None) -> "RayExecutor":
    """The ``ray`` executor: one Ray task per run (:class:`RayExecutor`)."""
    res = ray_resources(settings.gpus_per_run, settings.threads)
    return RayExecutor(run, address=settings.ray_address, gpus_per_run=res["num_gpus"],
                       cpus_per_run=res["num_cpus"], prepare=prepare)


class RayExecutor:
    """Each submitted task runs as a Ray task asking for ``cpus_per_run`` CPUs (its torch
    threads) and ``gpus_per_run`` GPUs; Ray is started (or reached at ``address``) when
    results are first asked for, after ``prepare``, and shut down by :meth:`close` when
    it was started here."""

    def __init__(self, run: Callable, *, address: str | None = None, gpus_per_run: float = 0.0,
                 cpus_per_run: int = 1, prepare: Callable[[], None] = lambda: None):
        self._ray = _import_ray()  # not installed: one line before anything runs
        self._run, self.address = run, address
        self.gpus_per_run, self.cpus_per_run = gpus_per_run, cpus_per_run
        self._prepare = prepare
        self._queue: list = []
        self._refs: dict = {}
        self._task = None
        self._started_here = False

    def submit(self, task: RunTask) -> None:
        self._queue.append(dataclasses.replace(task, threads=self.cpus_per_run))

    def _start(self) -> None:
        ray = self._ray
        if self._prepare is not None:
            prepare, self._prepare = self._prepare, None
            prepare()
        if not ray.is_initialized():
            kwargs = {"address": self.address} if self.address else {"include_dashboard": False}
            try:
                ray.init(log_to_driver=False, configure_logging=False, **kwargs)
            except (ConnectionError, ValueError, RuntimeError) as exc:
                where = self.address or "a local instance"
                raise GanZooError(f"could not start or reach Ray at {where}: {' '.join(str(exc).split())}") from None
            self._started_here = True
        self._task = ray.remote(num_cpus=self.cpus_per_run, num_gpus=self.gpus_per_run,
                                max_retries=0)(self._run)

    def results(self) -> Iterator[tuple[RunTask, dict]]:
        ray = self._ray
        if self._task is None:
            self._start()
        while self._queue or self._refs:
            for task in self._queue:
                self._refs[self._task.remote(task)] = task
            self._queue.clear()
            done, _ = ray.wait(list(self._refs), num_returns=1)
            for ref in done:
                yield self._refs.pop(ref), ray.get(ref)

    def close(self) -> None:
        self._queue.clear()
        self._refs.clear()
        if self._started_here:
            self._started_here = False
            self._ray.shutdown()

