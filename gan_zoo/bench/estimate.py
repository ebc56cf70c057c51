"""The time a grid will take, calibrated on this machine before it starts.

A few training steps of the grid's first run are timed in this process with the
threads one worker will have (two runs of different lengths; the difference).
Relative to a plain step (one critic and one generator update), a critic update
costs about 0.6 of it, 1.05 with a gradient penalty (its double backward); measured
on dcgan28: wgan-gp's step (5 penalized critic updates) took 5.7 plain steps.
Evaluation is estimated from its sample count. The runner starts the costliest runs
first, and the estimate simulates that schedule. For the default command the
estimate read 9.5 min against 10 min 26 s measured (2026-11-22).
"""

from __future__ import annotations

import time


#: seconds to score 10,000 samples against cached real statistics on one core, with
#: the picture writing around it (about 4 s per 5,000 on two threads measured with
#: cProfile on gan_zoo.metrics.evaluate, 2026-11-22; one core is slower)
EVAL_SECONDS_PER_10K = 14.0
CALIBRATION_STEPS = 4
#: CPU workers sharing the machine slow each other's steps (caches, memory bandwidth):
#: the default command's plain runs took 62 ms a step in the two-worker pool against
#: 53 ms calibrated alone on one thread (2026-11-22, results/mnist-quick)
SHARED_CORES_SLOWDOWN = 1.15
#: what a grid costs besides its runs: worker start-up, the tables, plots and report
FIXED_SECONDS = 15.0


def step_seconds(spec, data_root, threads: int) -> float:
    """Seconds per plain generator step of ``spec``'s backbone, measured here.

    The probe is the grid's own run (its objective, regularizers, ``reg_params`` and
    every swept setting), shortened. Two short runs of different lengths, timed, and
    the difference divided by the difference in steps: what a run costs besides its
    steps (building the networks, first-call allocations) cancels out instead of
    inflating the per-step figure. The result, a step of this run, is converted to
    plain steps with :func:`relative_cost`.
    """
    from gan_zoo.train import torch_threads, train_run

    # the probe trains only: in-training score points would not scale with its steps
    probe = spec.replace(steps=1, log_every=1, curve_points=0)

    def timed(steps: int) -> float:
        t0 = time.perf_counter()
        train_run(probe.replace(steps=steps), data_root=data_root, progress=False)
        return time.perf_counter() - t0

    with torch_threads(threads):
        timed(1)  # warm-up: data, allocations
        short, long = timed(CALIBRATION_STEPS), timed(3 * CALIBRATION_STEPS)
    per_run_step = max(long - short, 1e-9) / (2 * CALIBRATION_STEPS)
    return per_run_step / (relative_cost(probe) / probe.steps)


def estimate_seconds(items, out, *, workers: int, data_root, eval_samples: int) -> float:
    from gan_zoo.bench import columns as C
    from gan_zoo.bench.executors import threads_per_worker
    from gan_zoo.runs import is_complete

    pending = [it for it in items if not is_complete(out / C.RUNS_DIR / it.run_id, it.run_id)]
    if not pending:
        return 0.0
    threads = threads_per_worker(workers)
    per_step = step_seconds(pending[0].spec, data_root, threads)
    if workers > 1 and not str(pending[0].spec.device).startswith("cuda"):
        per_step *= SHARED_CORES_SLOWDOWN
    eval_s = EVAL_SECONDS_PER_10K * eval_samples / 10_000
    costs = [relative_cost(it.spec) * per_step + eval_s + curve_seconds(it.spec) for it in pending]
    return schedule(costs, workers)[1] + FIXED_SECONDS


def schedule(costs, workers: int) -> tuple[list[float], float]:
    """Runs of these costs handed out longest first, each to the least-loaded of
    ``workers``, as the runner does: their finishing times in order, and the last."""
    loads = [0.0] * max(1, min(workers, len(costs)))
    finishes = []
    for c in sorted(costs, reverse=True):
        i = loads.index(min(loads))
        loads[i] += c
        finishes.append(loads[i])
    return sorted(finishes), max(loads)


def curve_seconds(spec) -> float:
    """What a run's in-training score points cost (each scores ``curve_samples``)."""
    return spec.curve_points * EVAL_SECONDS_PER_10K * spec.curve_samples / 10_000


def relative_cost(spec) -> float:
    """A run's training cost in plain generator steps (see the module docstring)."""
    from gan_zoo.resolve import resolve

    res = resolve(spec)
    penalized = res.penalty_weight > 0 or any(r.input_gradients for r in res.regularizers)
    critic = 1.05 if penalized else 0.6
    return spec.steps * ((1 - 0.6) + res.n_critic * critic)
