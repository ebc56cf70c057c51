"""The fixed cost of one run: wall time of the whole ``gan-zoo train --steps 20`` process
on MNIST against the training seconds it records in ``result.json`` (issue 10.6).

    python benchmarks/bench_fixed_cost.py [--runs 5] [--steps 20] [--quick] [--against DIR]

Each run is a fresh process (imports, reading the data, building the networks,
training, checkpoint, pictures, result), into a fresh folder, on the CPU. The figure
is the median over runs of wall minus training seconds: what a run costs besides its
steps. Beside each run, in the same round, a process that only imports what torch's
Adam itself imports on its first use (``torch``, ``torch.optim``, ``torch._dynamo``) is
timed: the floor no project change can lower. Fixed cost minus floor is the project's
own share (reading data, building networks, pictures, checkpoint, its own imports).
Rounds are sequential and alternate the two processes, so machine load hits both alike;
medians and min/max are printed. Every process also reports its CPU seconds (user + sys,
one thread): on a shared machine wall seconds swell with the load while CPU seconds barely
move, so the CPU figures are the ones to compare there (with ``--steps 2`` the training
share of them is a few tenths of a second). ``--against DIR`` times a second checkout (say an older
commit, ``git worktree add DIR COMMIT``) in the same rounds, for a ratio.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common as C  # noqa: E402  (puts the repository on sys.path)


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(cmd: list[str], env: dict) -> tuple[float, float, subprocess.CompletedProcess]:
    """(wall seconds, CPU seconds, the finished process) of one child process."""
    cpu0, t0 = _child_cpu(), time.perf_counter()
    done = subprocess.run(cmd, env={**env, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True,
                          check=False)
    return time.perf_counter() - t0, _child_cpu() - cpu0, done


def one_run(steps: int, data_root: str | None, out: Path, repo: Path = C.REPO) -> tuple[float, float, float]:
    """(process wall seconds, training seconds from result.json, process CPU seconds) of
    one ``gan-zoo train`` of the checkout ``repo``."""
    cmd = [sys.executable, "-m", "gan_zoo.cli", "train", "--dataset", "mnist", "--steps", str(steps),
           "--device", "cpu", "--out", str(out)] + (["--data-root", data_root] if data_root else [])
    env = {**os.environ, "PYTHONPATH": str(repo), "MPLBACKEND": "Agg"}
    wall, cpu, done = _timed(cmd, env)
    if done.returncode != 0:
        raise SystemExit(f"gan-zoo train failed:\n{done.stderr[-2000:]}")
    result = json.loads((out / "result.json").read_text())
    return wall, float(result["wall_s"]), cpu


FLOOR = "import torch, torch.optim, torch._dynamo"


def floor_run() -> tuple[float, float]:
    """(wall, CPU) seconds of a process that imports only what torch's optimizer imports."""
    wall, cpu, done = _timed([sys.executable, "-c", FLOOR], dict(os.environ))
    if done.returncode != 0:
        raise SystemExit(f"{FLOOR} failed:\n{done.stderr[-2000:]}")
    return wall, cpu


def main(argv=None) -> int:
    p = C.parser(__doc__)
    p.add_argument("--runs", type=int, default=5, help="process runs (default 5)")
    p.add_argument("--steps", type=int, default=20, help="generator steps per run (default 20)")
    p.add_argument("--quick", action="store_true", help="one run of 2 steps")
    p.add_argument("--against", type=Path, default=None,
                   help="a second checkout timed in the same rounds (e.g. an older commit)")
    args = p.parse_args(argv)
    if args.quick:
        args.runs, args.steps = 1, 2
    print(f"# bench_fixed_cost: {C.command_line()}")
    print(f"# {C.machine()}")
    rows: dict[str, list[tuple[float, float]]] = {"this": [], "floor": [], "other": []}
    with tempfile.TemporaryDirectory(prefix="gan-zoo-fixed-") as tmp:
        for i in range(args.runs):
            if args.against:
                wall, train, cpu = one_run(args.steps, args.data_root, Path(tmp) / f"other{i}", args.against)
                rows["other"].append((wall - train, cpu))
                print(f"run {i + 1} of {args.against}: {wall:.2f} s wall, {train:.2f} s training, "
                      f"{wall - train:.2f} s fixed; {cpu:.2f} s CPU")
            wall, train, cpu = one_run(args.steps, args.data_root, Path(tmp) / f"run{i}")
            rows["this"].append((wall - train, cpu))
            print(f"run {i + 1}: {wall:.2f} s wall, {train:.2f} s training, {wall - train:.2f} s fixed; "
                  f"{cpu:.2f} s CPU")
            f_wall, f_cpu = floor_run()
            rows["floor"].append((f_wall, f_cpu))
            print(f"  torch floor: {f_wall:.2f} s wall, {f_cpu:.2f} s CPU")

    def summary(name: str, k: int) -> str:
        xs = [r[k] for r in rows[name]]
        return f"{C.median(xs):.2f} s [{min(xs):.2f}-{max(xs):.2f}]"

    def own(name: str, k: int) -> list[float]:
        return [r[k] - f[k] for r, f in zip(rows[name], rows["floor"])]

    print(f"gan-zoo train --steps {args.steps}, medians of {args.runs} [min-max]:")
    print(f"  this checkout: fixed cost {summary('this', 0)} wall, whole process {summary('this', 1)} CPU")
    print(f"  torch floor ({FLOOR}): {summary('floor', 0)} wall, {summary('floor', 1)} CPU")
    print(f"  the project's own share (minus the floor): {C.median(own('this', 0)):.2f} s wall, "
          f"{C.median(own('this', 1)):.2f} s CPU")
    if rows["other"]:
        ratio = [o[0] / t[0] for o, t in zip(rows["other"], rows["this"])]
        ratio_cpu = [o[1] / t[1] for o, t in zip(rows["other"], rows["this"])]
        own_ratio = [o / max(t, 1e-9) for o, t in zip(own("other", 1), own("this", 1))]
        print(f"  {args.against}: fixed cost {summary('other', 0)} wall, whole process "
              f"{summary('other', 1)} CPU, own share {C.median(own('other', 1)):.2f} s CPU")
        print(f"  it / this, per round, median: fixed wall {C.median(ratio):.2f}, process CPU "
              f"{C.median(ratio_cpu):.2f}, own share CPU {C.median(own_ratio):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
