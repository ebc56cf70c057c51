"""The time a grid will take, calibrated on this machine before it starts.

A few training steps of the grid's first run are timed in this process with the
threads one worker will have. Relative to a plain step (one critic and one generator
update), a critic update costs about 0.6 of it, 1.05 with a gradient penalty (its
double backward); measured on dcgan28: wgan-gp's step (5 penalized critic updates)
took 5.7 plain steps. Evaluation is estimated from its sample count. The runner
starts the costliest runs first, and the estimate simulates that schedule.
"""

from __future__ import annotations

import os
import time

import torch

#: seconds to score 10,000 samples against cached real statistics on one core (measured
#: with benchmarks/bench_eval.py)
EVAL_SECONDS_PER_10K = 25.0
CALIBRATION_STEPS = 4


def step_seconds(spec, data_root, threads: int) -> float:
    """Seconds per plain generator step of ``spec``'s backbone, measured here."""
    from gan_zoo.train import train_run
    from gan_zoo.train import torch_threads

    probe = spec.replace(loss="ns", regularizers="none", n_critic=1, steps=1, log_every=1)
    with torch_threads(threads):
        train_run(probe, data_root=data_root, progress=False)  # warm-up: data, allocations
        t0 = time.perf_counter()
        train_run(probe.replace(steps=CALIBRATION_STEPS), data_root=data_root, progress=False)
        return (time.perf_counter() - t0) / CALIBRATION_STEPS


def estimate_seconds(items, out, *, workers: int, data_root, eval_samples: int) -> float:
    from gan_zoo.bench import columns as C
    from gan_zoo.bench.runner import is_complete

    pending = [it for it in items if not is_complete(out / C.RUNS_DIR / it.run_id, it.run_id)]
    if not pending:
        return 0.0
    threads = max(1, (os.cpu_count() or 1) // max(1, workers))
    per_step = step_seconds(pending[0].spec, data_root, threads)
    eval_s = EVAL_SECONDS_PER_10K * eval_samples / 10_000
    costs = sorted((relative_cost(it.spec) * per_step + eval_s for it in pending), reverse=True)
    loads = [0.0] * max(1, min(workers, len(pending)))
    for cost in costs:  # longest first onto the least-loaded worker, as the runner does
        loads[loads.index(min(loads))] += cost
    return max(loads)


def relative_cost(spec) -> float:
    """A run's training cost in plain generator steps (see the module docstring)."""
    from gan_zoo.train import resolve

    res = resolve(spec)
    penalized = res.penalty_weight > 0 or any(r.input_gradients for r in res.regularizers)
    critic = 1.05 if penalized else 0.6
    return spec.steps * ((1 - 0.6) + res.n_critic * critic)
