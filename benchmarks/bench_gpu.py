"""The GPU path: the training step at each precision, and several runs sharing one GPU.

    python benchmarks/bench_gpu.py [--rounds 5] [--steps 50] [--runs-per-gpu 1,2,4,8] [--quick]

Part 1, precision: one MNIST DCGAN trainer per precision (``tf32`` the baseline: fp32
storage with TF32 matrix products and convolutions; ``fp32`` with TF32 off; ``bf16``
autocast), timed side by side in alternating rounds with the TF32 flags set
explicitly before each variant (``gan_zoo.precision.set_backend_flags``). Prints ms per
step, samples/s, and each variant's median per-round speed relative to ``tf32``; then
checks that no step between log steps waits for the device
(``torch.cuda.set_sync_debug_mode("error")``).

Part 2, runs per GPU: N separate training processes on one GPU (N = 1, 2, 4, 8), started
together once each is warmed up. Prints runs/hour (of a run of ``--steps`` steps), ms per
step and samples/s summed over the N runs, and the GPU busy share during the window
(NVML through pynvml or ``nvidia-smi``; "unavailable" when neither is present). The
README's defaults (precision tf32 on a GPU, ``--runs-per-gpu 4``) are what these
figures should confirm or change.

Without a GPU it prints one line saying it needs one and exits 0.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import _common as C  # noqa: E402

PRECISIONS = ("tf32", "fp32", "bf16")  # tf32 first: the baseline

CHILD = r"""
import sys, time, torch
from gan_zoo.data import get_dataset
from gan_zoo.spec import RunSpec
from gan_zoo.train import Trainer
root, precision, steps, batch = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
data = get_dataset("mnist", root=None if root == "-" else root, device="cuda")
t = Trainer(RunSpec(dataset="mnist", batch_size=batch, steps=10**9, precision=precision, device="cuda"), data)
t.run(3)
torch.cuda.synchronize()
print("ready", flush=True)
sys.stdin.readline()
t0 = time.perf_counter()
t.run(steps)
torch.cuda.synchronize()
print(f"done {time.perf_counter() - t0:.6f}", flush=True)
"""


def gpu_busy_sampler():
    """A function returning the GPU's busy percentage now, and how it is read; None if no way."""
    try:
        import pynvml

        pynvml.nvmlInit()
        handle = pynvml.nvmlDeviceGetHandleByIndex(0)
        return (lambda: float(pynvml.nvmlDeviceGetUtilizationRates(handle).gpu)), "NVML (pynvml)"
    except Exception:  # noqa: BLE001 - any failure means: try the next way
        pass
    try:
        subprocess.run(["nvidia-smi", "-L"], capture_output=True, check=True, timeout=10)

        def smi():
            out = subprocess.run(["nvidia-smi", "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits",
                                  "-i", "0"], capture_output=True, text=True, timeout=10).stdout
            return float(out.split()[0])

        return smi, "nvidia-smi"
    except Exception:  # noqa: BLE001
        return None, "unavailable (neither pynvml nor nvidia-smi)"


def precision_part(args, torch) -> None:
    from gan_zoo.data import get_dataset
    from gan_zoo.precision import set_backend_flags
    from gan_zoo.spec import RunSpec
    from gan_zoo.train import Trainer

    data = get_dataset("mnist", root=args.data_root, device="cuda")
    trainers = {p: Trainer(RunSpec(dataset="mnist", batch_size=args.batch_size, steps=10**9, precision=p,
                                   device="cuda"), data) for p in PRECISIONS}

    def runner(p):
        def run():
            set_backend_flags(p, "cuda")
            trainers[p].run(args.steps)  # its last step logs: one sync, so the timing is complete
            torch.cuda.synchronize()
        return run

    times = C.interleave({p: runner(p) for p in PRECISIONS}, rounds=args.rounds)
    print(f"precision: {args.steps} steps per round, batch {args.batch_size}, {args.rounds} rounds")
    for p in PRECISIONS:
        med = sorted(times[p])[len(times[p]) // 2]
        ms = med / args.steps * 1000
        line = f"  {p:<5s} {ms:8.2f} ms/step  {args.batch_size / ms * 1000:9.0f} samples/s"
        if p != "tf32":
            line += f"  speed vs tf32 {C.spread(C.ratios(times['tf32'], times[p]))}"
        print(line)
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for _ in range(5):
            trainers[PRECISIONS[0]].step(log=False)
        print("  host syncs inside non-logging steps: none (set_sync_debug_mode('error') raised nothing)")
    except RuntimeError as exc:
        print(f"  host syncs inside non-logging steps: a step synchronised with the host: {exc}")
    finally:
        torch.cuda.set_sync_debug_mode("default")


def runs_per_gpu_part(args) -> None:
    sample, how = gpu_busy_sampler()
    print(f"runs per GPU: {args.steps} steps per run, precision {args.precision}, batch {args.batch_size}; "
          f"GPU busy share from {how}")
    for n in [int(v) for v in args.runs_per_gpu.split(",")]:
        procs = [subprocess.Popen([sys.executable, "-c", CHILD, args.data_root or "-", args.precision,
                                   str(args.steps), str(args.batch_size)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True) for _ in range(n)]
        for p in procs:
            assert p.stdout.readline().strip() == "ready", "a training process failed to start"
        busy, stop = [], threading.Event()

        def poll():
            while not stop.wait(0.2):
                busy.append(sample())

        poller = threading.Thread(target=poll, daemon=True) if sample else None
        t0 = time.perf_counter()
        for p in procs:
            p.stdin.write("go\n")
            p.stdin.flush()
        if poller:
            poller.start()
        for p in procs:
            assert p.stdout.readline().startswith("done"), "a training process failed"
        wall = time.perf_counter() - t0
        stop.set()
        for p in procs:
            p.wait()
        share = f"{sum(busy) / len(busy):5.1f} %" if busy else "unavailable"
        total = n * args.steps
        print(f"  {n} run(s): {n * 3600 / wall:8.1f} runs/hour  {wall / total * 1000:7.2f} ms/step  "
              f"{total * args.batch_size / wall:9.0f} samples/s  GPU busy {share}")


def main(argv=None) -> int:
    p = C.parser(__doc__)
    p.add_argument("--device", default="auto", help="auto or cuda (cpu: only says that a GPU is needed)")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--steps", type=int, default=50, help="steps per variant per round, and per run (default 50)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--precision", default="tf32", help="precision of the runs-per-GPU part (default tf32)")
    p.add_argument("--runs-per-gpu", default="1,2,4,8")
    p.add_argument("--quick", action="store_true", help="2 rounds of 3 steps; 1 and 2 runs per GPU")
    args = p.parse_args(argv)
    if args.quick:
        args.rounds, args.steps, args.runs_per_gpu = 2, 3, "1,2"

    import torch

    if args.device == "cpu" or not torch.cuda.is_available():
        print("bench_gpu: needs a CUDA GPU and none is visible here (no GPU: a CPU check only of its "
              "arguments); nothing measured")
        return 0
    print(f"# bench_gpu: {C.command_line()}")
    print(f"# {C.machine()}; GPU {torch.cuda.get_device_name()}")
    precision_part(args, torch)
    runs_per_gpu_part(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
