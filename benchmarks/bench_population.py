"""Population training against separate runs: run-steps per second of a population of K
members and of K single runs on the same cores, side by side (issue 26, item 6).

    python benchmarks/bench_population.py [--device cpu|cuda] [--ks 1,2,4,8,16,32,64]
        [--configs ring8-ns,mnist-ns,mnist-wgan-gp] [--seconds 1.5] [--rounds 2] [--quick]

For each configuration and K, the population (``gan_zoo.population.Population``, K seeds)
and one single run (``gan_zoo.train.Trainer``) each train the same number of generator
steps per round, in alternating rounds (order flipped each round); K separate runs make K
times the single run's steps in K times its time (one after another on the same cores,
as the CPU runner's one-thread workers do, each on its core), so the ratio is

    (K * single seconds per step) / (population seconds per step)

per round, reported as the median over rounds. Both sides run the same step function
with logging figures (gradient norms) on, at the grids' batch size 64, on one thread on
the CPU (``torch.set_num_threads(1)``, as each worker of the CPU runner). On a GPU it
also prints the peak memory per member. Steps per round are sized so that the
population's side lasts about ``--seconds``.

Targets: on this 2-core CPU >= 1.8x for the MLP at the best K; on a GPU >= 20x runs per
hour at K = 64 for DCGAN28 ns against one run per GPU.
"""

from __future__ import annotations

import math
import sys
import time

import _common as C  # noqa: E402

CONFIGS = {
    "ring8-ns": dict(dataset="ring8", loss="ns"),
    "mnist-ns": dict(dataset="mnist", loss="ns"),
    "mnist-wgan-gp": dict(dataset="mnist", loss="wgan-gp"),
}


def main(argv=None) -> int:
    p = C.parser(__doc__)
    p.add_argument("--device", default="cpu")
    p.add_argument("--ks", default="1,2,4,8,16,32,64")
    p.add_argument("--configs", default=",".join(CONFIGS))
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--seconds", type=float, default=1.5, help="target length of one population round")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--quick", action="store_true", help="a check that the script works (K 1, 2; tiny)")
    args = p.parse_args(argv)
    import torch

    from gan_zoo.data import get_dataset
    from gan_zoo.population import Population
    from gan_zoo.spec import RunSpec
    from gan_zoo.train import Trainer

    if args.quick:
        args.ks, args.rounds, args.seconds, args.batch_size = "1,2", 1, 0.05, 8
    ks = [int(k) for k in args.ks.split(",")]
    names = [n.strip() for n in args.configs.split(",") if n.strip()]
    unknown = [n for n in names if n not in CONFIGS]
    if unknown or any(k < 1 for k in ks):
        print(f"unknown config {unknown} (valid: {', '.join(CONFIGS)}) or K < 1", file=sys.stderr)
        return 2
    cuda = args.device.startswith("cuda")
    if cuda and not torch.cuda.is_available():
        print("no GPU here: use --device cpu", file=sys.stderr)
        return 2
    if not cuda:
        torch.set_num_threads(1)

    def sync():
        if cuda:
            torch.cuda.synchronize()

    print(f"# bench_population: {C.command_line()}")
    print(f"# {C.machine()}")
    print(f"# device {args.device}, batch {args.batch_size}, rounds {args.rounds}; "
          "ratio = K x single s/step / population s/step (median of rounds)")
    print("| config | K | population run-steps/s | single run-steps/s | ratio | steps/round | mem/member MiB |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    best: dict[str, tuple[float, int]] = {}
    for name in names:
        cfg = CONFIGS[name]
        data = get_dataset(cfg["dataset"], root=args.data_root, train=True, device=args.device,
                           limit=2000 if args.quick else None)
        for K in ks:
            specs = [RunSpec(**cfg, seed=s, device=args.device, batch_size=args.batch_size) for s in range(K)]
            if cuda:
                torch.cuda.reset_peak_memory_stats()
            pop = Population(specs, data)
            single = Trainer(specs[0], data)
            for _ in range(1):  # warm-up: first-call allocations, kernel choice
                pop.step(log=True)
                single.step(log=True)
            sync()
            t0 = time.perf_counter()
            pop.step(log=True)
            sync()
            per = time.perf_counter() - t0
            n = max(1, math.ceil(args.seconds / max(per, 1e-6)))

            def run_pop():
                for _ in range(n):
                    pop.step(log=True)
                sync()

            def run_single():
                for _ in range(n):
                    single.step(log=True)
                sync()

            times = C.interleave({"pop": run_pop, "single": run_single}, args.rounds, warmup=0)
            rs = [K * s / p for p, s in zip(times["pop"], times["single"])]
            ratio = C.median(rs)
            pop_rate = K * n / C.median(times["pop"])
            single_rate = n / C.median(times["single"])
            mem = f"{torch.cuda.max_memory_allocated() / K / 2**20:.0f}" if cuda else "n/a"
            print(f"| {name} | {K} | {pop_rate:.1f} | {single_rate:.1f} | {ratio:.2f}x "
                  f"[{min(rs):.2f}-{max(rs):.2f}] | {n} | {mem} |", flush=True)
            if ratio > best.get(name, (0.0, 0))[0]:
                best[name] = (ratio, K)
            del pop, single
    for name, (ratio, K) in best.items():
        print(f"# best {name}: {ratio:.2f}x at K={K}")
    if "ring8-ns" in best and not cuda:
        print(f"# target MLP >= 1.8x on the CPU: {C.verdict(best['ring8-ns'][0] >= 1.8)}")
    if "mnist-ns" in best and cuda:
        print("# target DCGAN28 ns >= 20x at K=64 on a GPU: see the K=64 row (runs/hour ratio = ratio)")
    print(f"# finished; {C.machine()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
