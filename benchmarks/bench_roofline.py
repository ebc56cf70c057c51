"""Roofline of the training step: achieved FLOP/s as a share of the fp32 matmul peak
(issue 6.2).

    python benchmarks/bench_roofline.py [--rounds 7] [--steps 10] [--quick]

The FLOPs of one MNIST ``ns`` generator step (dcgan28, batch 64) are counted with
``torch.utils.flop_counter.FlopCounterMode`` (convolutions forward and backward; a
multiply-add counts 2). The peak is what ``torch.mm`` of two square fp32 matrices
reaches here, at the same thread count, measured in the same rounds as the step:
each round times the matmul and ``--steps`` training steps, the share is
step FLOP/s / matmul FLOP/s, and the figure is the median over rounds.

Rows for the speed switches (channels-last, bf16 autocast) use the same fp32 peak,
so a bf16 share can exceed what fp32 arithmetic allows; they are for comparison
only. The last row replays the step's convolutions alone, at the shapes the step
gives them (``conv_probe``): what these layer sizes reach on this machine with
nothing else in the way, a ceiling for the fp32 step. ``--profile`` also prints where the default step spends its time, by operator.
"""

from __future__ import annotations

import sys

import _common as C  # noqa: E402


def matmul_probe(n: int, reps: int):
    """``run()`` doing ``reps`` n x n fp32 matmuls, and the FLOPs of one call."""
    import torch

    a, b = torch.randn(n, n), torch.randn(n, n)
    out = torch.empty(n, n)

    def run():
        for _ in range(reps):
            torch.mm(a, b, out=out)

    return run, 2.0 * n ** 3 * reps


def step_probe(data, batch_size: int, steps: int, accel):
    """``run()`` doing ``steps`` training steps (the real loop), and its FLOPs."""
    from torch.utils.flop_counter import FlopCounterMode

    from gan_zoo.spec import RunSpec
    from gan_zoo.train import Trainer

    spec = RunSpec(dataset="mnist", loss="ns", batch_size=batch_size, steps=1, device="cpu")
    trainer = Trainer(spec, data, accel=accel)

    def run(n=steps):
        trainer.run(n)

    run(2)  # warm-up
    counter = FlopCounterMode(display=False)
    with counter:
        run(1)
    return run, counter.get_total_flops() * steps, trainer


def conv_probe(trainer, reps: int):
    """``run()`` replaying the step's convolutions alone, ``reps`` times, and its FLOPs.

    Each convolution of G and D is recorded with the input shape it sees in the real
    step (one forward hook pass over a training step), then replayed on random
    tensors: forward, then backward to both the input and the weights, as in
    training. Nothing but the convolutions runs, so this is the share the step's own
    convolution shapes reach here: a ceiling for the whole step in fp32.
    """
    import torch
    from torch import nn
    from torch.utils.flop_counter import FlopCounterMode

    shapes: dict[nn.Module, tuple] = {}

    def record(m, inp, out):  # returns None: the output is left as it is
        shapes.setdefault(m, tuple(inp[0].shape))

    hooks = [m.register_forward_hook(record)
             for net in (trainer.g, trainer.d) for m in net.modules()
             if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    trainer.run(1)
    for h in hooks:
        h.remove()
    cases = []
    for m, shape in shapes.items():
        conv = type(m)(m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding,
                       bias=m.bias is not None)
        x = torch.randn(shape, requires_grad=True)
        gy = torch.randn_like(conv(x))
        cases.append((conv, x, gy))

    def once():
        for conv, x, gy in cases:
            torch.autograd.backward(conv(x), gy)

    def run():
        for _ in range(reps):
            once()

    counter = FlopCounterMode(display=False)
    with counter:
        once()
    return run, counter.get_total_flops() * reps, len(cases)


def main(argv=None) -> int:
    p = C.parser(__doc__)
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--steps", type=int, default=10, help="training steps per round (default 10)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--matmul-size", type=int, default=2048)
    p.add_argument("--profile", action="store_true", help="print the step's time by operator")
    p.add_argument("--quick", action="store_true", help="3 rounds of 2 steps")
    args = p.parse_args(argv)
    if args.quick:
        args.rounds, args.steps = 3, 2

    import torch

    from gan_zoo.data import get_dataset
    from gan_zoo.train import Accel

    data = get_dataset("mnist", root=args.data_root)
    mm_run, mm_flops = matmul_probe(args.matmul_size, reps=3)
    variants = {"fp32 (default)": Accel(), "channels_last": Accel(channels_last=True),
                "bf16 autocast": Accel(amp_bf16=True)}
    steps = {name: step_probe(data, args.batch_size, args.steps, acc) for name, acc in variants.items()}
    conv_run, conv_flops, n_convs = conv_probe(steps["fp32 (default)"][2], reps=args.steps)
    contenders = {"matmul": mm_run, **{name: s[0] for name, s in steps.items()}, "convs": conv_run}
    times = C.interleave(contenders, rounds=args.rounds)

    peak = [mm_flops / t for t in times["matmul"]]
    print(f"# bench_roofline: {C.command_line()}")
    print(f"# {C.machine()}")
    print(f"fp32 matmul peak ({args.matmul_size}^2, torch.mm): median {C.median(peak) / 1e9:.1f} GFLOP/s "
          f"[{min(peak) / 1e9:.1f}, {max(peak) / 1e9:.1f}]")
    flops_step = steps["fp32 (default)"][1] / args.steps
    print(f"training step (mnist ns dcgan28, batch {args.batch_size}): {flops_step / 1e9:.2f} GFLOP per "
          f"generator step (FlopCounterMode)")
    target = 0.70
    for name, (_, flops, _) in steps.items():
        share = [flops / t / pk for t, pk in zip(times[name], peak)]
        achieved = C.median([flops / t for t in times[name]])
        line = f"  {name:<16s} {achieved / 1e9:6.1f} GFLOP/s, share of fp32 peak {C.spread(share)}"
        if name.startswith("fp32"):
            line += f"  target >= {target:.0%}: {C.verdict(C.median(share) >= target)}"
        print(line)

    conv_share = [conv_flops / t / pk for t, pk in zip(times["convs"], peak)]
    print(f"  the step's {n_convs} convolutions alone (fp32, forward + both backwards, same shapes): "
          f"{C.median([conv_flops / t for t in times['convs']]) / 1e9:.1f} GFLOP/s, share of fp32 peak "
          f"{C.spread(conv_share)}")

    if args.profile:
        from torch.profiler import ProfilerActivity, profile

        run = steps["fp32 (default)"][0]
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            run(args.steps)
        events = [e for e in prof.key_averages() if e.self_cpu_time_total > 0]
        total = sum(e.self_cpu_time_total for e in events)
        print(f"where the default step's time goes (self CPU time, {args.steps} steps):")
        for e in sorted(events, key=lambda e: -e.self_cpu_time_total)[:10]:
            print(f"  {e.key:<40s} {e.self_cpu_time_total / total:6.1%}")
    del torch
    return 0


if __name__ == "__main__":
    sys.exit(main())
