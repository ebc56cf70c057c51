"""The GPU path (issue 6.6): the training step with each speed switch against fp32,
side by side, and a check that no step between log steps waits for the device.

    python benchmarks/bench_gpu.py [--device auto|cuda|cpu] [--compile] [--rounds 5] [--quick]

Switches (``gan_zoo.train.Accel``): bf16 autocast around the network forward passes
(losses and penalties stay fp32), channels-last layout, optional ``torch.compile``.
The dataset is resident on the device (``get_dataset(device=...)``) and batches are
drawn there by index. Each round times ``--steps`` steps of every variant (order
flipped every round); the figure per variant is the median per-round speed-up over
fp32. Objectives: ``ns`` (one critic step) and ``wgan-gp`` (five, with the penalty).

On a GPU the script also runs steps under ``torch.cuda.set_sync_debug_mode("error")``
so any host synchronisation inside a non-logging step raises. Without a GPU
(``--device cpu``) the same code runs on the CPU, for a check that it works; those
figures say nothing about a GPU.
"""

from __future__ import annotations

import sys

import _common as C  # noqa: E402


def make_stepper(data, loss: str, batch: int, device: str, accel):
    from gan_zoo.spec import RunSpec
    from gan_zoo.train import Trainer

    spec = RunSpec(dataset="mnist", loss=loss, batch_size=batch, steps=1, device=device)
    trainer = Trainer(spec, data, accel=accel)

    def run(n):
        result = trainer.run(n)  # its last step logs: one sync, so the timing is complete
        assert result.status == "ok", result.reason

    return run, trainer


def check_no_sync(trainer, steps: int = 5) -> str:
    import torch

    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for _ in range(steps):
            trainer.step(log=False)
    except RuntimeError as exc:
        return f"a step synchronised with the host: {exc}"
    finally:
        torch.cuda.set_sync_debug_mode("default")
    return "none (set_sync_debug_mode('error') raised nothing)"


def main(argv=None) -> int:
    p = C.parser(__doc__)
    p.add_argument("--device", default="auto", help="auto (cuda when present), cuda or cpu")
    p.add_argument("--compile", action="store_true", help="add torch.compile variants")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--steps", type=int, default=20, help="steps per variant per round (default 20)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--losses", default="ns,wgan-gp")
    p.add_argument("--quick", action="store_true", help="2 rounds of 2 steps, ns only")
    args = p.parse_args(argv)
    if args.quick:
        args.rounds, args.steps, args.losses = 2, 2, "ns"

    import torch

    from gan_zoo.data import get_dataset
    from gan_zoo.resolve import resolve_device
    from gan_zoo.train import Accel

    device = resolve_device(args.device)
    data = get_dataset("mnist", root=args.data_root, device=device)
    variants = {"fp32": Accel(), "channels_last": Accel(channels_last=True),
                "bf16": Accel(amp_bf16=True), "bf16+channels_last": Accel(amp_bf16=True, channels_last=True)}
    if args.compile:
        variants["bf16+channels_last+compile"] = Accel(amp_bf16=True, channels_last=True, compile=True)
    print(f"# bench_gpu: {C.command_line()}")
    print(f"# {C.machine()}; device {device}"
          + (f" ({torch.cuda.get_device_name()})" if device.startswith("cuda") else " (no GPU: a CPU check only)"))
    print(f"default switches here: {Accel.auto(device)}")
    for loss in args.losses.split(","):
        runners = {name: make_stepper(data, loss, args.batch_size, device, acc) for name, acc in variants.items()}
        times = C.interleave({name: (lambda r=r: r[0](args.steps)) for name, r in runners.items()},
                             rounds=args.rounds)
        print(f"{loss}: speed-up over fp32, {args.steps} steps per round (median per-round ratio)")
        for name in variants:
            if name != "fp32":
                print(f"  {name:<28s} {C.spread(C.ratios(times['fp32'], times[name]))}")
        if device.startswith("cuda"):
            print(f"  host syncs inside non-logging steps (bf16+channels_last): "
                  f"{check_no_sync(runners['bf16+channels_last'][1])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
