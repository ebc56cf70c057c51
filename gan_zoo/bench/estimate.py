"""The time a grid will take, calibrated on this machine before it starts.

A few training steps of the grid's first run are timed in this process with the
threads one worker will have (two runs of different lengths; the difference).
Relative to a plain step (one critic and one generator update), a critic update
costs about 0.6 of it, 1.05 with a gradient penalty (its double backward); measured
on dcgan28: wgan-gp's step (5 penalized critic updates) took 5.7 plain steps.
Evaluation is estimated from its sample count. The runner starts the costliest runs
first, and the estimate simulates that schedule. Runs that ``--pack`` trains as one
population are one task of the schedule: the population's steps are timed here against
its first member's single steps, the same way (:func:`population_factor`), so the
speed-up that populations give on this machine is measured, not assumed. For the default command the
estimate read 9.5 min against 10 min 26 s measured (2026-11-22).
"""

from __future__ import annotations

import time


#: seconds to score 10,000 samples against cached real statistics on one core, with
#: the picture writing around it (about 4 s per 5,000 on two threads measured with
#: cProfile on gan_zoo.metrics.evaluate, 2026-11-22; one core is slower)
EVAL_SECONDS_PER_10K = 14.0
CALIBRATION_STEPS = 4
#: the least of three: one figure of a ring8 step read 9.8 to 13.1 ms in five tries on
#: an idle machine, and the estimate of one grid 51 and 97 min in two calls (2026-12-05)
CALIBRATION_REPEATS = 3
#: a calibration run shorter than this is lengthened (the 2-D MLPs' steps take a few ms)
MIN_TIMED_SECONDS = 0.25
MAX_CALIBRATION_STEPS = 4096
#: grids of fewer plain steps than this (smoke grids, tests) are calibrated quickly:
#: one figure of 4 and 12 steps, as before the careful calibration
CAREFUL_FROM_STEPS = 20_000
#: a population against its single run is a ratio of two short timings, so both are
#: longer and the least of two is kept: at 4 steps, one figure for five ring8 runs
#: read 8.5, 2.8 and 1.9 in three tries on a busy machine (2026-12-05)
POPULATION_CALIBRATION_STEPS = 16
POPULATION_CALIBRATION_REPEATS = 2
#: CPU workers sharing the machine slow each other's steps (caches, memory bandwidth):
#: the default command's plain runs took 62 ms a step in the two-worker pool against
#: 53 ms calibrated alone on one thread (2026-11-22, results/mnist-quick)
SHARED_CORES_SLOWDOWN = 1.15
#: what a grid costs besides its runs: worker start-up, the tables, plots and report
FIXED_SECONDS = 15.0


def step_seconds(spec, data_root, threads: int, careful: bool = True) -> float:
    """Seconds per plain generator step of ``spec``'s backbone, measured here.

    The probe is the grid's own run (its objective, regularizers, ``reg_params`` and
    every swept setting), shortened. Two short runs of different lengths, timed, and
    the difference divided by the difference in steps: what a run costs besides its
    steps (building the networks, first-call allocations) cancels out instead of
    inflating the per-step figure. The result, a step of this run, is converted to
    plain steps with :func:`relative_cost`.
    """
    from gan_zoo.train import train_run

    # the probe trains only: in-training score points would not scale with its steps
    probe = spec.replace(steps=1, log_every=1, curve_points=0)
    per_run_step = _timed_steps(lambda n: train_run(probe.replace(steps=n), data_root=data_root, progress=False),
                                threads, repeats=CALIBRATION_REPEATS if careful else 1,
                                min_seconds=MIN_TIMED_SECONDS if careful else 0.0)
    return per_run_step / (relative_cost(probe) / probe.steps)


def _timed_steps(train, threads: int, steps: int = CALIBRATION_STEPS, repeats: int = 1,
                 min_seconds: float = 0.0) -> float:
    """Seconds per step of ``train(n)``: two lengths (``steps``, doubled until a run of it
    takes ``min_seconds``, and three times as many) timed after a warm-up, the difference
    over the difference in steps (what does not scale with steps cancels); with
    ``repeats``, the least of that many such figures (a busy machine only adds time)."""
    from gan_zoo.train import torch_threads

    def timed(steps: int) -> float:
        t0 = time.perf_counter()
        train(steps)
        return time.perf_counter() - t0

    figures = []
    with torch_threads(threads):
        timed(1)  # warm-up: data, allocations
        while min_seconds and timed(steps) < min_seconds and steps < MAX_CALIBRATION_STEPS:
            steps *= 2  # cheap steps: long enough that the clock's and the machine's noise is small
        for _ in range(repeats):
            short, long = timed(steps), timed(3 * steps)
            figures.append(max(long - short, 1e-9) / (2 * steps))
    return min(figures)


def population_factor(specs, data_root, threads: int, careful: bool = True) -> float:
    """Seconds per step of ``specs`` trained as one population over seconds per step of
    its first member trained alone, both timed here in turn (neither writes anything).
    A population of K members costs this factor times one member's run, where K single
    runs cost K."""
    from gan_zoo.population import train_population
    from gan_zoo.train import train_run

    probes = [s.replace(steps=1, log_every=1, curve_points=0) for s in specs]
    timing = dict(threads=threads, steps=POPULATION_CALIBRATION_STEPS if careful else CALIBRATION_STEPS,
                  repeats=POPULATION_CALIBRATION_REPEATS if careful else 1,
                  min_seconds=MIN_TIMED_SECONDS if careful else 0.0)
    single = _timed_steps(lambda n: train_run(probes[0].replace(steps=n), data_root=data_root, progress=False),
                          **timing)
    together = _timed_steps(lambda n: train_population([p.replace(steps=n) for p in probes], None,
                                                       data_root=data_root, artifacts=False, progress=False),
                            **timing)
    return together / single


def estimate_seconds(items, out, *, workers: int, data_root, eval_samples: int, pack="off") -> float:
    """Wall seconds for the runs of ``items`` not yet complete in ``out``: each run's
    training (calibrated here) plus its evaluation and score points, scheduled as the
    runner schedules them; with ``pack`` (``--pack``), grouped into the populations the
    runner will train, each timed against its single runs (:func:`population_factor`)."""
    return estimate_plan(items, out, workers=workers, data_root=data_root, eval_samples=eval_samples,
                         pack=pack)[0]


def estimate_plan(items, out, *, workers: int, data_root, eval_samples: int,
                  pack="off") -> tuple[float, list[list], list[float]]:
    """:func:`estimate_seconds`, with the tasks it scheduled: the units (a population's
    runs, or one run) and each unit's estimated seconds, for the progress ETA."""
    from gan_zoo.bench import columns as C
    from gan_zoo.bench.executors import threads_per_worker
    from gan_zoo.bench.packing import plan_units
    from gan_zoo.runs import is_complete

    pending = [it for it in items if not is_complete(out / C.RUNS_DIR / it.run_id, it.run_id)]
    if not pending:
        return 0.0, [], []
    threads = threads_per_worker(workers)
    # a careful calibration costs seconds: worth it where the grid takes minutes and more
    careful = sum(relative_cost(it.spec) for it in pending) >= CAREFUL_FROM_STEPS
    per_step = step_seconds(pending[0].spec, data_root, threads, careful=careful)
    if workers > 1 and not str(pending[0].spec.device).startswith("cuda"):
        per_step *= SHARED_CORES_SLOWDOWN
    eval_s = EVAL_SECONDS_PER_10K * eval_samples / 10_000

    # a resumed run costs the steps after its checkpoint (each run's log read once)
    left = {it.run_id: 1.0 - steps_done(out / C.RUNS_DIR / it.run_id, it.spec) / max(1, it.spec.steps)
            for it in pending}

    def run_cost(it) -> float:
        return relative_cost(it.spec) * per_step * left[it.run_id]

    units, _ = plan_units(pending, pack, workers)

    def key(unit) -> tuple:
        spec = unit[0].spec
        return spec.dataset, spec.backbone, spec.device, len(unit)

    # one calibration per dataset, backbone and population size, on its cheapest population
    probe_of: dict[tuple, list] = {}
    for unit in units:
        if len(unit) > 1 and (key(unit) not in probe_of or run_cost(unit[0]) < run_cost(probe_of[key(unit)][0])):
            probe_of[key(unit)] = unit
    factors = {k: population_factor([it.spec for it in unit], data_root, threads, careful=careful)
               for k, unit in probe_of.items()}
    costs = []
    for unit in units:
        scoring = sum(eval_s + curve_seconds(it.spec) for it in unit)
        if len(unit) == 1:
            costs.append(run_cost(unit[0]) + scoring)
        else:
            costs.append(factors[key(unit)] * max(run_cost(it) for it in unit) + scoring)
    return schedule(costs, workers)[1] + FIXED_SECONDS, units, costs


def schedule(costs, workers: int, sizes=None) -> tuple[list[float], float]:
    """Tasks of these costs handed out longest first, each to the least-loaded of
    ``workers``, as the runner does: their runs' finishing times in order, and the last.
    ``sizes``: runs per task (a population's members all finish when it does)."""
    sizes = list(sizes) if sizes is not None else [1] * len(costs)
    loads = [0.0] * max(1, min(workers, len(costs)))
    finishes = []
    for c, n in sorted(zip(costs, sizes), key=lambda cn: cn[0], reverse=True):
        i = loads.index(min(loads))
        loads[i] += c
        finishes += [loads[i]] * n
    return sorted(finishes), max(loads)


def steps_done(run_dir, spec) -> int:
    """Generator steps an unfinished run resumes from: its log's last step, down to the
    checkpoint before it (0 without a checkpoint). Reads the log's tail, not the
    checkpoint, so a grid's estimate stays cheap."""
    from pathlib import Path

    from gan_zoo.runs import CHECKPOINT, LOG_CSV

    run_dir = Path(run_dir)
    if not (run_dir / CHECKPOINT).is_file():
        return 0
    try:
        with open(run_dir / LOG_CSV, "rb") as f:
            f.seek(0, 2)
            f.seek(max(0, f.tell() - 4096))
            last = f.read().decode("utf-8", "replace").strip().splitlines()[-1]
        step = int(float(last.split(",")[0]))
    except (OSError, ValueError, IndexError):
        return 0
    every = max(1, int(spec.checkpoint_every or 1))
    return max(0, min(int(spec.steps), step if step >= spec.steps else step // every * every))


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
