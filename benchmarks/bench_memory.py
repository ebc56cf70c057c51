"""Memory: peak resident memory of a quick MNIST run, and no growth over steps (issue 6.7).

    python benchmarks/bench_memory.py [--steps N] [--slope-steps 4000] [--quick]

Two child processes, so each starts from an empty heap:

1. peak: one run of the ``quick`` budget (MNIST, ``ns``, the budget's steps, batch and
   evaluation samples unless overridden), trained, scored and written as ``gan-zoo bench`` does it
   (``run_item``); resident memory after each phase and the process peak
   (``getrusage`` ``ru_maxrss``). Real-data features come from the shared cache
   (``--cache``), as for every run after a grid's first.
2. slope: the training loop alone for ``--slope-steps`` steps, resident memory
   (``/proc/self/statm``) read every 25 steps; the least-squares slope over the steps
   after the first 100 (allocator warm-up), and the growth it would mean over a
   standard-budget run (18,750 steps). Pass: under 1 KiB per step, i.e. under
   18 MiB over a standard run (the log keeps one small row per 50 steps by design).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import _common as C  # noqa: E402

STANDARD_STEPS = 18_750
SLOPE_LIMIT_KIB_PER_STEP = 1.0


def child_peak(args) -> dict:
    rss = {"start (before importing torch)": C.rss_kib()}
    import gan_zoo.bench.runner as runner
    import gan_zoo.metrics.cache as feature_cache
    import gan_zoo.train as train
    from gan_zoo.bench.grid import BUDGETS, expand_grid

    # resident memory right after each phase, by wrapping the functions that do them
    def after(owner, attr, label):
        original = getattr(owner, attr)

        def wrapped(*a, **k):
            try:
                return original(*a, **k)
            finally:
                rss[label] = C.rss_kib()

        setattr(owner, attr, wrapped)

    after(train.Trainer, "run", "after training")
    after(runner, "score_run", "after evaluation")
    after(feature_cache, "train_features", "after MiFID train-split features")
    item = expand_grid(dataset="mnist", losses=["ns"], regularizers=["none"], seeds=1, sweeps={},
                       budget=BUDGETS["quick"], steps=args.steps or None, device="cpu")[0]
    samples = args.eval_samples or BUDGETS["quick"].samples("mnist")
    with tempfile.TemporaryDirectory(prefix="gan-zoo-mem-") as out:
        res = runner.run_item(item.spec.to_dict(), {}, str(Path(out) / item.run_id), args.data_root,
                              runner.EvalOptions(samples=samples, cache_dir=args.cache))
    assert res["status"] == "ok", res
    rss["end"] = C.rss_kib()
    return {"rss": rss, "peak": C.peak_rss_kib(), "steps": item.spec.steps,
            "batch_size": item.spec.batch_size, "samples": samples}


def child_slope(args) -> dict:
    from gan_zoo.bench.grid import BUDGETS
    from gan_zoo.data import get_dataset
    from gan_zoo.spec import RunSpec
    from gan_zoo.train import Trainer

    data = get_dataset("mnist", root=args.data_root)
    spec = RunSpec(dataset="mnist", loss="ns", batch_size=BUDGETS["quick"].batch_size, steps=1, device="cpu")
    trainer = Trainer(spec, data)
    points = []
    chunk = max(1, min(25, args.slope_steps // 10))  # at least ~10 points to fit
    while trainer.steps_done < args.slope_steps:
        assert trainer.run(chunk).status == "ok"
        points.append((trainer.steps_done, C.rss_kib()))
    return {"points": points}


def spawn(mode: str, args) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", mode, "--steps", str(args.steps),
           "--slope-steps", str(args.slope_steps), "--eval-samples", str(args.eval_samples),
           "--cache", args.cache] + (["--data-root", args.data_root] if args.data_root else [])
    done = subprocess.run(cmd, env={**os.environ, "PYTHONPATH": str(C.REPO)}, capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"child failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    p = C.parser(__doc__, cache=True)
    p.add_argument("--steps", type=int, default=0, help="steps of the quick run (default: the budget's)")
    p.add_argument("--eval-samples", type=int, default=0, help="evaluation samples (default: the budget's)")
    p.add_argument("--slope-steps", type=int, default=4000, help="steps of the slope check (default 4000)")
    p.add_argument("--child", choices=["peak", "slope"], help=argparse.SUPPRESS)
    p.add_argument("--quick", action="store_true", help="5-step run on 200 samples; 50-step slope")
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(child_peak(args) if args.child == "peak" else child_slope(args)))
        return 0
    if args.quick:
        args.steps, args.eval_samples, args.slope_steps = 5, 200, 50

    from gan_zoo.bench.grid import BUDGETS

    peak = spawn("peak", args)
    slope = spawn("slope", args)
    mib = lambda kib: kib / 1024  # noqa: E731
    print(f"# bench_memory: {C.command_line()}")
    print(f"# {C.machine()}")
    print(f"quick MNIST run ({peak['steps']} steps, batch {peak['batch_size']}, {peak['samples']} evaluation samples, "
          f"warm feature cache): peak resident memory {mib(peak['peak']):.0f} MiB")
    for label, kib in peak["rss"].items():
        print(f"  resident {label:<34s} {mib(kib):7.0f} MiB")
    warm = min(100, args.slope_steps // 2)  # allocator warm-up left out of the fit
    pts = [(s, kib) for s, kib in slope["points"] if s > warm]
    xs, ys = [s for s, _ in pts], [kib for _, kib in pts]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    k = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    first, last = slope["points"][0], slope["points"][-1]
    print(f"training loop (batch {BUDGETS['quick'].batch_size}), {slope['points'][-1][0]} steps: resident {mib(first[1]):.0f} MiB at step {first[0]}, "
          f"{mib(last[1]):.0f} MiB at step {last[0]}")
    print(f"  slope after step {warm}: {k:+.2f} KiB/step = {mib(k * STANDARD_STEPS):+.1f} MiB over a "
          f"standard run ({STANDARD_STEPS} steps)")
    print(f"  no growth (< {SLOPE_LIMIT_KIB_PER_STEP:g} KiB/step): {C.verdict(k < SLOPE_LIMIT_KIB_PER_STEP)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
