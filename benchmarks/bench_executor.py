"""Executor scaling: runs per hour of the local executor at its default workers
against one worker using every thread, on the same grid (issue 6.4).

    python benchmarks/bench_executor.py [--runs 4] [--steps 200] [--eval-samples 2000] [--rounds 2] [--quick]

Each contender runs the whole grid (train + evaluate + write every run, through
``gan_zoo.bench.runner.run_grid``) in a fresh child process and a fresh results
folder; only ``run_grid`` is timed, so both sides pay the same start-up and data
loading inside the timed part (worker processes import and load for themselves).
The contenders alternate, order flipped each round; the figure is the median
per-round ratio of runs per hour, default / one worker.

The last line is the ratio's ceiling, measured in the parent process: the training
step timed at one thread and at every core, interleaved (``thread_ceiling``).

Evaluation reads real-data features from a shared, pre-warmed cache
(``--cache``, default ``$TMPDIR/gan-zoo-bench-cache``), so no round pays for
featurising the real data (bench_harness.py measures that once-per-grid cost).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common as C  # noqa: E402

def run_child(runs: int, steps: int, samples: int, workers: int, cache: str, data_root: str | None) -> dict:
    """Time ``run_grid`` of ``runs`` MNIST ``ns`` runs (seeds 0..runs-1) with ``workers``
    in a fresh process."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", "--runs", str(runs), "--steps", str(steps),
           "--eval-samples", str(samples), "--workers", str(workers), "--cache", cache]
    if data_root:
        cmd += ["--data-root", data_root]
    env = {**os.environ, "PYTHONPATH": str(C.REPO)}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"child failed ({' '.join(cmd)}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def child(args) -> int:
    from gan_zoo.bench.grid import BUDGETS, expand_grid
    from gan_zoo.bench.runner import EvalOptions, run_grid

    # the same objective with different seeds: every run costs the same
    items = expand_grid(dataset="mnist", losses=["ns"], regularizers=["none"], seeds=args.runs,
                        sweeps={}, budget=BUDGETS["quick"], steps=args.steps, device="cpu")
    with tempfile.TemporaryDirectory(prefix="gan-zoo-exec-") as out:
        t0 = time.perf_counter()
        results = run_grid(items, Path(out), data_root=args.data_root,
                           evaluation=EvalOptions(samples=args.eval_samples, cache_dir=args.cache),
                           workers=args.workers)
        seconds = time.perf_counter() - t0
    bad = [r for r in results if r["status"] != "ok"]
    if bad or len(results) != len(items):
        print(bad, file=sys.stderr)
        return 1
    print(json.dumps({"seconds": seconds, "runs": len(results),
                      "train_s": sum(r["wall_s"] for r in results)}))
    return 0


def thread_ceiling(data_root, rounds: int, steps: int = 20, batch_size: int = 32) -> list[float]:
    """The ratio's ceiling, from the training step alone in this process: ``steps`` steps
    at one thread and at every core, interleaved. ``cores x t(every core) / t(1)`` is
    what single-threaded workers would gain over one worker with every thread if the
    workers did not slow each other down (and start-up, evaluation and writing cost
    nothing). Per-round values."""
    import torch

    from gan_zoo.data import get_dataset
    from gan_zoo.spec import RunSpec
    from gan_zoo.train import Trainer

    data = get_dataset("mnist", root=data_root)
    cores = os.cpu_count() or 1

    def probe(threads):
        spec = RunSpec(dataset="mnist", loss="ns", batch_size=batch_size, steps=1, device="cpu")
        trainer = Trainer(spec, data)

        def run():
            torch.set_num_threads(threads)
            trainer.run(steps)

        return run

    times = C.interleave({"one": probe(1), "all": probe(cores)}, rounds=rounds)
    return [cores * t_all / t_one for t_all, t_one in zip(times["all"], times["one"])]


def main(argv=None) -> int:
    p = C.parser(__doc__, cache=True)
    p.add_argument("--runs", type=int, default=4, help="runs in the grid (default 4)")
    p.add_argument("--steps", type=int, default=200, help="generator steps per run (default 200)")
    p.add_argument("--eval-samples", type=int, default=2000, help="evaluation samples per run (default 2000)")
    p.add_argument("--rounds", type=int, default=2, help="measured rounds (default 2)")
    p.add_argument("--workers", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--quick", action="store_true",
                   help="1 round of 2 runs x 5 steps, 200 samples, no cache warm-up")
    args = p.parse_args(argv)
    if args.child:
        return child(args)
    if args.quick:
        args.runs, args.steps, args.eval_samples, args.rounds = 2, 5, 200, 1

    from gan_zoo.bench.runner import default_workers

    workers = default_workers("cpu")
    cores = os.cpu_count() or 1
    if not args.quick:  # warm the real-feature cache once (not timed)
        run_child(1, 1, args.eval_samples, 1, args.cache, args.data_root)
    times = {"default": [], "one": []}
    for r in range(args.rounds):
        order = ["default", "one"] if r % 2 == 0 else ["one", "default"]
        for name in order:
            w = workers if name == "default" else 1
            times[name].append(run_child(args.runs, args.steps, args.eval_samples, w, args.cache,
                                         args.data_root)["seconds"])
    speedup = C.ratios(times["one"], times["default"])
    target = 1.3
    print(f"# bench_executor: {C.command_line()}")
    print(f"# {C.machine()}")
    print(f"grid: {args.runs} MNIST runs x {args.steps} steps, {args.eval_samples} evaluation samples, "
          f"{args.rounds} rounds")
    for name, label in (("default", f"default: {workers} workers x {max(1, cores // workers)} thread(s)"),
                        ("one", f"one worker x {cores} threads")):
        rph = [args.runs / t * 3600 for t in times[name]]
        print(f"  {label:<34s} median {C.median(times[name]):6.1f} s per grid, "
              f"{C.median(rph):6.0f} runs/hour")
    print(f"runs/hour default / one worker (median per-round ratio): {C.spread(speedup)}")
    print(f"  target >= {target}: {C.verdict(C.median(speedup) >= target)}")
    ceiling = thread_ceiling(args.data_root, rounds=max(3, 2 * args.rounds))
    print(f"ceiling from the step alone (batch 32, this process): {cores} x t({cores} threads) / t(1 thread) "
          f"= {C.spread(ceiling)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
