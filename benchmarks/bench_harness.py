"""Harness efficiency: the wall time of a whole ``gan-zoo bench`` grid against the sum
of its runs' pure training time (issue 6.3).

    python benchmarks/bench_harness.py [--runs 3] [--budget quick] [--quick]

Runs ``gan-zoo bench`` in this process (one worker, so every phase happens here and
can be timed) on MNIST with ``--runs`` objectives, into a fresh results folder and,
unless ``--cache`` is given, a fresh feature cache: the grid pays for featurising the
real data once, as the first grid on a machine does. Pure training time is each
run's ``wall_s`` (the training loop alone, as recorded in result.json). Everything
else is overhead: start-up checks, the time estimate's calibration steps, data
loading, checkpoints, pictures, evaluation, the tables / plots / report at the end.
Phases are timed by wrapping the functions that do them. The real data's features
are computed by the runner before the first run (``runner._warm_features``); the
runs' evaluations then read them from the cache.

Both figures come from the same process run (a share, not a comparison across runs).
The standard-budget line scales the measured per-run overhead (evaluation by its
sample count, checkpoints by their number) against that budget's 18,750 steps at the
step time measured here: an estimate, labelled as such.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import _common as C  # noqa: E402

LOSSES = ["ns", "lsgan", "hinge", "minimax", "rsgan", "wgan", "rahinge", "ralsgan"]


class PhaseTimer:
    """Accumulates wall time and calls per phase by wrapping module attributes."""

    def __init__(self):
        self.seconds = collections.Counter()
        self.calls = collections.Counter()
        self._undo = []
        self.order: list[str] = []

    def wrap(self, owner, attr: str, phase: str, when=None):
        original = getattr(owner, attr)
        self.order.append(phase)

        @functools.wraps(original)
        def timed(*args, **kwargs):
            if when is not None and not when(*args, **kwargs):
                return original(*args, **kwargs)
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[phase] += time.perf_counter() - t0
                self.calls[phase] += 1

        setattr(owner, attr, timed)
        self._undo.append((owner, attr, original))

    def restore(self):
        for owner, attr, original in reversed(self._undo):
            setattr(owner, attr, original)


def main(argv=None) -> int:
    p = C.parser(__doc__)
    p.add_argument("--runs", type=int, default=3, help=f"objectives in the grid, from {', '.join(LOSSES)}")
    p.add_argument("--losses", default=None,
                   help="the grid's objectives as gan-zoo bench takes them (e.g. all: the default "
                        "command's grid); overrides --runs")
    p.add_argument("--budget", default="quick", help="bench budget (default quick: 400 steps, 5,000 samples)")
    p.add_argument("--steps", type=int, default=None, help="override the budget's steps")
    p.add_argument("--eval-samples", type=int, default=None, help="override the budget's samples")
    p.add_argument("--cache", default=None, help="feature cache folder (default: a fresh one, cold)")
    p.add_argument("--quick", action="store_true",
                   help="2 runs of 5 steps, 200 samples, cache in $TMPDIR/gan-zoo-bench-cache (warm after once)")
    args = p.parse_args(argv)
    if args.quick:
        args.runs, args.steps, args.eval_samples = 2, 5, 200
        args.cache = args.cache or C.BENCH_CACHE

    import torch_fidelity.utils as tfu

    import gan_zoo.bench.estimate as estimate
    import gan_zoo.bench.report as report
    import gan_zoo.bench.runner as runner
    import gan_zoo.data as data
    import gan_zoo.metrics.cache as feature_cache
    import gan_zoo.pictures as pictures
    import gan_zoo.train as train
    from gan_zoo.metrics import fidelity
    from gan_zoo.bench.grid import BUDGETS
    from gan_zoo.cli import cli

    timer = PhaseTimer()
    timer.wrap(estimate, "estimate_seconds", "time estimate (calibration steps)")
    timer.wrap(train, "train_run", "train_run (all of it)")
    timer.wrap(train.Trainer, "run", "training loops (incl. calibration runs)")
    timer.wrap(train.Trainer, "save_checkpoint", "checkpoints + log.csv")
    timer.wrap(data, "get_dataset", "get_dataset calls")
    timer.wrap(pictures, "write_run_pictures", "pictures (samples, best50, curves)")
    timer.wrap(runner, "_warm_features", "real-data features, before the first run")
    timer.wrap(feature_cache, "train_features", "  MiFID train-split features (hit or miss)")
    timer.wrap(fidelity, "extract_features", "    computed (cache miss)",
               when=lambda images, *a, **k: len(images) > 20_000)
    timer.wrap(tfu, "get_featuresdict_from_dataset", "  real test-set featurisation",
               when=lambda inp, *a, **k: getattr(inp, "role", "") == "real")
    timer.wrap(runner, "score_run", "evaluation (sampling + metrics)")
    timer.wrap(report, "rebuild", "tables, plots, report.md")

    with contextlib.ExitStack() as stack:
        out = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="gan-zoo-harness-")))
        cache = args.cache or str(out / "cache")
        os.environ["GAN_ZOO_CACHE"] = cache
        cmd = ["bench", "--dataset", "mnist", "--losses", args.losses or ",".join(LOSSES[:args.runs]),
               "--budget", args.budget, "--workers", "1", "--device", "cpu", "--out", str(out / "results")]
        if args.steps:
            cmd += ["--steps", str(args.steps)]
        if args.eval_samples:
            cmd += ["--eval-samples", str(args.eval_samples)]
        if args.data_root:
            cmd += ["--data-root", args.data_root]
        sink = io.StringIO()
        t0 = time.perf_counter()
        try:
            with contextlib.redirect_stderr(sink), contextlib.redirect_stdout(sink):
                cli.main(args=cmd, standalone_mode=False)
        except (Exception, SystemExit) as exc:  # bad options: gan-zoo's own one-line message
            lines = [ln for ln in sink.getvalue().splitlines() if ln.strip()] or [repr(exc)]
            print(f"bench_harness: gan-zoo {' '.join(cmd[:1])} failed: {lines[-1]}", file=sys.stderr)
            return 2
        wall = time.perf_counter() - t0
        timer.restore()
        results = [json.loads(f.read_text()) for f in (out / "results" / "runs").glob("*/result.json")]
        metric_files = [json.loads(f.read_text()) for f in (out / "results" / "runs").glob("*/metrics.json")]

    if args.losses:
        args.runs = len(results)
    assert len(results) == args.runs and all(r["status"] == "ok" for r in results), results
    train_s = sum(r["wall_s"] for r in results)
    steps = results[0]["steps"]
    samples = metric_files[0].get("eval_samples") if metric_files else None
    step_s = train_s / (steps * len(results))
    overhead = 1 - train_s / wall
    print(f"# bench_harness: {C.command_line()}")
    print(f"# {C.machine()}")
    batch = results[0]["resolved"]["batch_size"]
    print(f"grid: {args.runs} MNIST runs ({args.losses or ','.join(LOSSES[:args.runs])}) x {steps} steps (batch {batch}), {samples} evaluation samples each, "
          f"1 worker, feature cache {'given' if args.cache else 'fresh (cold)'}")
    print(f"wall {wall:.1f} s, pure training {train_s:.1f} s ({step_s * 1000:.0f} ms/step)")
    print(f"overhead = 1 - training / wall: {overhead:.1%}   target <= 10%: {C.verdict(overhead <= 0.10)}")
    print("phases (wall seconds, calls; nested phases are indented and counted in their parent):")
    for phase in timer.order:
        print(f"  {phase:<40s} {timer.seconds[phase]:7.1f} s  x{timer.calls[phase]}")
    print(f"  real statistics computed: test-set features x{timer.calls['  real test-set featurisation']}, "
          f"train-split features x{timer.calls['    computed (cache miss)']}, for {args.runs} runs")
    # the standard budget, by scaling this run's per-run costs (an estimate)
    per_run_eval = timer.seconds["evaluation (sampling + metrics)"] / args.runs
    per_run_pics = timer.seconds["pictures (samples, best50, curves)"] / args.runs
    ckpt_calls = max(1, timer.calls["checkpoints + log.csv"])
    per_ckpt = timer.seconds["checkpoints + log.csv"] / ckpt_calls
    fixed = wall - train_s - timer.seconds["evaluation (sampling + metrics)"] \
        - timer.seconds["pictures (samples, best50, curves)"] - timer.seconds["checkpoints + log.csv"]
    std = BUDGETS["standard"]
    std_steps = std.steps("mnist", std.batch_size)
    if samples:
        std_train = std_steps * step_s * std.batch_size / batch  # compute grows with the batch
        std_over = (per_run_eval * std.eval_samples / samples + per_run_pics
                    + per_ckpt * (std_steps // 500 + 1))
        std_share = (std_over + fixed / args.runs) / (std_train + std_over + fixed / args.runs)
        print(f"estimate for the standard budget ({std_steps} steps, {std.eval_samples} samples per run), "
              f"from this run's per-run costs: overhead {std_share:.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
