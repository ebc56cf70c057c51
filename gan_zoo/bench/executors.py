"""The executor contract: how a grid's runs are handed to workers and their results
collected, whatever the workers are (processes of this machine, Ray tasks, ...).

An executor is built by a factory registered under a name (``gan-zoo bench
--executor NAME``)::

    factory(settings: ExecutorSettings, run: Callable[[RunTask], dict], *,
            prepare: Callable[[], None] = no-op) -> Executor

and then

* ``submit(task)`` queues one :class:`RunTask` (it may start at once or later); it may
  be called again while :meth:`Executor.results` is being iterated;
* ``results()`` yields ``(task, result)`` for every submitted task as each finishes, in
  any order, until none is left; ``result`` is what ``run(task)`` returned (the stored
  ``result.json`` dict). ``prepare()`` is called once before the first run starts
  (an executor may overlap it with its workers' start-up). A run's own failure is a
  result, not an exception; an exception from ``results()`` ends the grid;
* ``close()`` stops every worker and releases what the executor holds; safe to call
  twice, and called by the runner also when the grid is interrupted (runs in flight
  then resume from their checkpoints next time).

``run`` is passed in by the runner, so an executor never imports the runner back.
Every run writes its own folder (``task.run_dir``); an executor only moves tasks and
results. Adding an executor is one module with a factory plus one line in
:data:`_BUILTIN` (or :func:`register_executor` at run time).
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Protocol, runtime_checkable

from gan_zoo.errors import GanZooError

__all__ = ["RunTask", "ExecutorSettings", "Executor", "ExecutorFactory", "register_executor",
           "get_executor", "executor_names", "threads_per_worker", "EXECUTOR_NAMES"]


def threads_per_worker(workers: int) -> int:
    """Torch threads each of ``workers`` parallel runs gets: this machine's cores shared
    evenly, at least one. The one place this rule is written (the runner, the estimate
    and the wall-clock calibration all use it)."""
    return max(1, (os.cpu_count() or 1) // max(1, workers))


@dataclass(frozen=True)
class RunTask:
    """One run for an executor: its spec, the swept values, its folder, where the data
    is, how it is scored, the torch threads it may use, and a search trial's rung hook."""

    spec: object  # gan_zoo.spec.RunSpec (not imported here: the contract stays light)
    run_dir: Path
    evaluation: object  # gan_zoo.metrics.EvalSettings
    sweep: dict = field(default_factory=dict)
    data_root: str | None = None
    threads: int | None = None
    #: a search trial's pruning hook (picklable; called at each score point), else None
    rung: object = None

    @property
    def run_id(self) -> str:
        return self.spec.run_id()


@dataclass(frozen=True)
class ExecutorSettings:
    """How a grid's runs are spread: ``name`` (a registered executor), ``workers`` in
    parallel, the resolved ``device`` of the grid, and Ray's ``address`` and GPU share
    per run (``gpus_per_run``)."""

    name: str = "local"
    workers: int = 1
    device: str = "cpu"
    gpus_per_run: float = 0.0
    ray_address: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.workers, int) or self.workers < 1:
            raise GanZooError(f"--workers must be a positive integer, got {self.workers}")
        if self.gpus_per_run < 0:
            raise GanZooError(f"--gpus-per-run must be >= 0, got {self.gpus_per_run}")

    @property
    def threads(self) -> int:
        """Torch threads of each run (:func:`threads_per_worker`)."""
        return threads_per_worker(self.workers)


@runtime_checkable
class Executor(Protocol):
    """Runs :class:`RunTask` s; see the module docstring for the contract."""

    def submit(self, task: RunTask) -> None: ...

    def results(self) -> Iterator[tuple[RunTask, dict]]: ...

    def close(self) -> None: ...


ExecutorFactory = Callable[..., Executor]

#: executors shipped with gan-zoo: name -> "module:factory", imported when used (Ray
#: only when asked for)
_BUILTIN: dict[str, str] = {
    "local": "gan_zoo.bench.local_executor:make_executor",
    "ray": "gan_zoo.bench.ray_executor:make_executor",
}
_REGISTERED: dict[str, ExecutorFactory] = {}

#: the names ``--executor`` offers
EXECUTOR_NAMES: tuple[str, ...] = tuple(_BUILTIN)


def register_executor(name: str, factory: ExecutorFactory) -> None:
    """Make ``factory`` the executor called ``name``."""
    _REGISTERED[name] = factory


def executor_names() -> tuple[str, ...]:
    return tuple(dict.fromkeys([*_BUILTIN, *_REGISTERED]))


def get_executor(name: str) -> ExecutorFactory:
    """The factory of executor ``name``; an unknown name is one line listing the valid."""
    if name in _REGISTERED:
        return _REGISTERED[name]
    if name not in _BUILTIN:
        raise GanZooError(f"unknown executor {name!r}; valid: {', '.join(executor_names())}")
    module, attr = _BUILTIN[name].split(":")
    return getattr(importlib.import_module(module), attr)
