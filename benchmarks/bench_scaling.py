"""Cost against work: grids of 1, 2, 4 and 8 runs; the cost must grow linearly (issue 6.5).

    python benchmarks/bench_scaling.py [--steps 40] [--rounds 2] [--quick]

Each grid (MNIST runs of ``--steps`` steps, scored on ``--eval-samples`` samples)
runs through ``run_grid`` with the default local executor in a fresh child process
(see bench_executor.py; only ``run_grid`` is timed, real-data features come from a
pre-warmed cache). Within a round the four sizes run in turn, the order reversed
every round; each size's cost is its median over rounds.

Linear means ``cost(n) = a + b n`` with a small fixed part ``a``: the figures are the
least-squares ``a`` and ``b`` over the sizes that keep every worker busy, the largest deviation of a measured cost from the
line, and ``cost(8) / cost(4)`` per round (2.0 when the fixed part is negligible).
With W workers a grid of n < W runs leaves workers idle, so ``cost(1)`` sits above
the line by construction.
"""

from __future__ import annotations

import sys

import _common as C  # noqa: E402
from bench_executor import run_child  # noqa: E402

SIZES = (1, 2, 4, 8)


def fit_line(xs, ys):
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    return my - b * mx, b


def main(argv=None) -> int:
    p = C.parser(__doc__, cache=True)
    p.add_argument("--steps", type=int, default=40, help="generator steps per run (default 40)")
    p.add_argument("--eval-samples", type=int, default=1000, help="evaluation samples per run (default 1000)")
    p.add_argument("--rounds", type=int, default=2, help="measured rounds (default 2)")
    p.add_argument("--quick", action="store_true",
                   help="1 round, sizes 2 and 4, 3 steps, 200 samples, no cache warm-up")
    args = p.parse_args(argv)
    sizes = SIZES
    if args.quick:
        args.steps, args.eval_samples, args.rounds, sizes = 3, 200, 1, (2, 4)
    cache = args.cache

    from gan_zoo.bench.runner import default_workers

    workers = default_workers("cpu")
    if not args.quick:  # warm the feature cache (a quick check times nothing that matters)
        run_child(1, 1, args.eval_samples, 1, cache, args.data_root)
    cost = {n: [] for n in sizes}
    for r in range(args.rounds):
        for n in (sizes if r % 2 == 0 else sizes[::-1]):
            cost[n].append(run_child(n, args.steps, args.eval_samples, workers, cache, args.data_root)["seconds"])
    med = {n: C.median(cost[n]) for n in sizes}
    big = [n for n in sizes if n >= workers]  # sizes that keep every worker busy
    a, b = fit_line(big, [med[n] for n in big])
    dev = {n: med[n] / (a + b * n) - 1 for n in sizes}
    print(f"# bench_scaling: {C.command_line()}")
    print(f"# {C.machine()}")
    print(f"MNIST runs of {args.steps} steps, {args.eval_samples} evaluation samples, "
          f"{workers} workers (default), {args.rounds} rounds")
    for n in sizes:
        print(f"  {n} run(s): {med[n]:6.1f} s  ({med[n] / n:5.1f} s per run; {dev[n]:+.1%} from the line)")
    print(f"least squares over n >= {workers}: cost = {a:.1f} s + {b:.1f} s x runs")
    if 8 in cost and 4 in cost:
        print(f"cost(8) / cost(4) (median per-round ratio): {C.spread(C.ratios(cost[8], cost[4]))}")
    worst = max(abs(dev[n]) for n in big)
    print(f"largest deviation from the line for n >= {workers} workers: {worst:.1%}  "
          f"(linear within 10%: {C.verdict(worst <= 0.10)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
