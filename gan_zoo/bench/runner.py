"""Run a benchmark grid: train and score every run, each in its own folder, then rebuild
the tables, plots and report from those folders.

A run's folder is ``OUT/runs/<run_id>``, the id a hash of its full spec. A run is
complete when its ``result.json`` says ok (with ``metrics.json`` beside it) or
diverged, or it was skipped; the same command again skips complete runs and resumes
the others from their last checkpoint, so a grid killed at any moment completes with
no duplicate and no lost row. Every file is written atomically.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Callable, Iterable

from gan_zoo import runs
from gan_zoo.bench import columns as C
from gan_zoo.bench.executors import ExecutorSettings, RunTask, get_executor
from gan_zoo.bench.grid import GridItem
from gan_zoo.bench.local_executor import gpu_slots
from gan_zoo.bench.ray_executor import ray_resources
from gan_zoo.errors import GanZooError
from gan_zoo.io import write_json_atomic
from gan_zoo.metrics import EvalOptions, score_run
from gan_zoo.runs import RunResult, is_complete
from gan_zoo.spec import RunSpec

__all__ = ["EvalOptions", "run_task", "run_item", "run_grid", "gpu_slots", "default_workers", "ray_resources", "write_skipped",
           "DEFAULT_RUNS_PER_GPU"]


def write_skipped(item: GridItem, run_dir: Path) -> dict:
    run_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(run_dir / runs.SPEC_JSON, item.spec.to_dict())
    result = RunResult.skipped(item.run_id, item.skip_reason, item.sweep)
    runs.write_result(run_dir, result)
    return result.to_dict()


def run_task(task: RunTask) -> dict | list[dict]:
    """Train (or resume) and score one run; never raises for a run's own failure.

    Returns the stored result dict (a list of them for a population,
    :class:`gan_zoo.bench.packing.PopulationTask`). What every executor calls, in the
    driver or in a worker process."""
    from gan_zoo.bench.packing import PopulationTask, run_population_task

    if isinstance(task, PopulationTask):
        return run_population_task(task, run_item)
    return run_item(task.spec, task.sweep, task.run_dir, task.data_root, task.evaluation, task.threads,
                    rung=task.rung)


def run_item(spec: RunSpec | dict, sweep: dict, run_dir: str | Path, data_root: str | None,
             evaluation: EvalOptions, threads: int | None = None, rung=None) -> dict:
    """:func:`run_task` with its pieces given one by one (``spec`` a RunSpec or its dict)."""
    import torch

    from gan_zoo.train import train_run

    if threads:
        torch.set_num_threads(threads)
    spec = spec if isinstance(spec, RunSpec) else RunSpec.from_dict(spec)
    run_dir = Path(run_dir)
    _test_only_worker_death(spec.run_id())
    try:
        result = train_run(spec, run_dir, data_root=data_root, progress=False, sweep=sweep,
                           evaluation=evaluation, on_point=rung)
        if result.status == runs.OK and not (run_dir / runs.METRICS_JSON).is_file():
            metrics = score_run(run_dir, evaluation, data_root=data_root)
            write_json_atomic(run_dir / runs.METRICS_JSON, metrics)
        if result.sweep != sweep:  # stored by an earlier version without its sweep
            result.sweep = dict(sweep)
            runs.write_result(run_dir, result)
        return result.to_dict()
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # one run's failure is a row, not the end of the sweep
        reason = f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:500]
        result = RunResult.failed(spec.run_id(), reason, device=spec.device, sweep=sweep)
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / runs.ERROR_TXT).write_text(traceback.format_exc())
        runs.write_result(run_dir, result)
        return result.to_dict()


def _test_only_worker_death(run_id: str) -> None:
    """TEST-ONLY fault injection (not a user feature): in a worker process, the run whose
    id contains ``$_GAN_ZOO_TEST_KILL_RUN`` kills its own worker with SIGKILL, as the OOM
    killer would. The driver process is never killed."""
    import multiprocessing as mp

    target = os.environ.get("_GAN_ZOO_TEST_KILL_RUN")
    if target and target in run_id and mp.current_process().name != "MainProcess":
        os.kill(os.getpid(), signal.SIGKILL)


#: Runs sharing one GPU by default. A DCGAN-sized run at batch 64 (28x28 or 64x64
#: images, 2-D mixtures' MLPs) is bound by kernel launches and Python, so one run keeps
#: a modern GPU busy well under half of the time; four runs overlap each other's gaps
#: while their memory (a few hundred MB each) still fits any GPU.
#: ``benchmarks/bench_gpu.py`` measures 1, 2, 4 and 8 runs per GPU on a GPU machine.
DEFAULT_RUNS_PER_GPU = 4


def default_workers(device: str, runs_per_gpu: int = DEFAULT_RUNS_PER_GPU) -> int:
    """On CPU, one single-threaded worker per core (measured faster than one worker using
    every core: benchmarks/bench_executor.py); ``runs_per_gpu`` workers per GPU otherwise."""
    if device.startswith("cuda"):
        import torch

        return max(1, torch.cuda.device_count()) * max(1, runs_per_gpu)
    return max(1, os.cpu_count() or 1)


def _warm_features(pending: list[GridItem], data_root, evaluation: EvalOptions) -> None:
    """Compute each dataset's real-data features here, once, with every core, before any
    worker starts: the workers then only read them from the cache (without this, two
    workers finishing their first runs together would both compute them)."""
    from gan_zoo.metrics import warm_real_features
    from gan_zoo.resolve import resolve_device

    devices: dict[str, str] = {}
    for it in pending:
        devices.setdefault(it.spec.dataset, resolve_device(it.spec.device))
    for dataset, device in devices.items():
        t0 = time.perf_counter()
        try:
            done = warm_real_features(
                dataset, evaluation.samples, data_root=data_root, device=device,
                feature_extractor=evaluation.feature_extractor,
                inception_weights=evaluation.inception_weights, cache_dir=evaluation.cache_dir,
                reference_seed=evaluation.reference_seed)
        except Exception as exc:  # each run's own evaluation reports it, as a failed row
            print(f"gan-zoo: real-data features for {dataset} not prepared ahead "
                  f"({' '.join(str(exc).split())[:200]}); each run computes what it needs",
                  file=sys.stderr)
            continue
        if done:
            print(f"real-data features for {dataset}: ready ({time.perf_counter() - t0:.1f} s, "
                  f"cached for later grids)", file=sys.stderr)


def run_grid(
    items: list[GridItem],
    out: Path,
    *,
    data_root: str | None,
    evaluation: EvalOptions,
    workers: int = 1,
    executor: str | ExecutorSettings = "local",
    ray_address: str | None = None,
    gpus_per_run: float = 0.0,
    on_done: Callable[[GridItem, dict], None] | None = None,
    pack: str | int = "off",
) -> list[dict]:
    """Run every incomplete item of the grid; returns the results of the runs it ran.

    ``executor``: the plan's :class:`ExecutorSettings`, or an executor's name with
    ``workers``, ``ray_address`` and ``gpus_per_run`` given here. The executor is looked
    up by name (:func:`gan_zoo.bench.executors.get_executor`): local workers on a GPU
    each see one GPU of their own (:func:`gpu_slots`); Ray tasks ask for
    :func:`ray_resources`, so runs share GPUs by ``gpus_per_run``. ``pack`` (``off``,
    ``auto`` or K): compatible runs train as populations, each one task
    (:mod:`gan_zoo.bench.packing`)."""
    runs_root = out / C.RUNS_DIR
    pending = []
    for item in items:
        run_dir = runs_root / item.run_id
        if is_complete(run_dir, item.run_id):
            continue
        if item.skip_reason:
            result = write_skipped(item, run_dir)
            if on_done:
                on_done(item, result)
            continue
        pending.append(item)
    if not pending:
        return []
    from gan_zoo.bench.estimate import relative_cost
    from gan_zoo.resolve import resolve_device

    if not isinstance(executor, ExecutorSettings):
        executor = ExecutorSettings(name=executor, workers=max(1, workers), ray_address=ray_address,
                                    gpus_per_run=gpus_per_run or 0.0,
                                    device=resolve_device(pending[0].spec.device))
    # longest first: the costly critics (wgan, wgan-gp) do not end up alone at the end
    pending.sort(key=lambda it: relative_cost(it.spec), reverse=True)

    def prepare() -> None:
        _warm_features(pending, data_root, evaluation)

    from gan_zoo.bench.packing import PopulationTask, expand, plan_units

    units, notes = plan_units(pending, pack, executor.workers)
    for line in notes:
        print(line, file=sys.stderr)
    ex = get_executor(executor.name)(executor, run_task, prepare=prepare)
    by_task = {}
    for unit in units:
        tasks = [RunTask(spec=it.spec, run_dir=runs_root / it.run_id, evaluation=evaluation,
                         sweep=it.sweep, data_root=data_root, threads=executor.threads, rung=it.rung)
                 for it in unit]
        by_task.update({it.run_id: it for it in unit})
        if len(tasks) == 1:
            ex.submit(tasks[0])
        else:
            from gan_zoo.population import population_id

            ex.submit(PopulationTask(tuple(tasks), population_id([t.run_id for t in tasks])))
    results = []
    try:
        for unit_task, unit_res in ex.results():
            for task, res in expand(unit_task, unit_res):
                results.append(res)
                if on_done:
                    on_done(by_task[task.run_id], res)
    finally:
        ex.close()
    return results


def prepare_out(out: Path, resume: bool) -> None:
    """Make sure ``out`` is a writable results folder of this format.

    ``resume=False`` moves earlier runs aside (``runs.old-<time>``), never deletes them.
    """
    from gan_zoo.bench.tables import check_results_format

    try:
        out.mkdir(parents=True, exist_ok=True)
        # a file of gan-zoo's own (never a user's ``.write-test``), removed at once
        import tempfile

        from gan_zoo.io import TMP_PREFIX

        fd, probe = tempfile.mkstemp(dir=out, prefix=f"{TMP_PREFIX}write-test.")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise GanZooError(f"--out {out} is not writable ({exc.strerror or exc}); choose a folder you can write to") from None
    check_results_format(out)
    runs = out / C.RUNS_DIR
    if not resume and runs.is_dir() and any(runs.iterdir()):
        aside = out / f"runs.old-{time.strftime('%Y%m%d-%H%M%S')}"
        shutil.move(str(runs), str(aside))
        print(f"--no-resume: earlier runs moved to {aside}", file=sys.stderr)


def completed_count(items: Iterable[GridItem], out: Path) -> int:
    return sum(is_complete(out / C.RUNS_DIR / it.run_id, it.run_id) for it in items)
