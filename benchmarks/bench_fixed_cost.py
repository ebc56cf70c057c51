"""The fixed cost of one run: wall time of the whole ``gan-zoo train --steps 20`` process
on MNIST against the training seconds it records in ``result.json`` (issue 10.6).

    python benchmarks/bench_fixed_cost.py [--runs 5] [--steps 20] [--quick]

Each run is a fresh process (imports, reading the data, building the networks,
training, checkpoint, pictures, result), into a fresh folder, on the CPU. The figure
is the median over runs of wall minus training seconds: what a run costs besides its
steps. Process runs are sequential, so machine load drifts between them; the median
and the min/max are printed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common as C  # noqa: E402  (puts the repository on sys.path)


def one_run(steps: int, data_root: str | None, out: Path) -> tuple[float, float]:
    """(process wall seconds, training seconds from result.json) of one ``gan-zoo train``."""
    cmd = [sys.executable, "-m", "gan_zoo.cli", "train", "--dataset", "mnist", "--steps", str(steps),
           "--device", "cpu", "--out", str(out)] + (["--data-root", data_root] if data_root else [])
    env = {**os.environ, "PYTHONPATH": str(C.REPO), "MPLBACKEND": "Agg"}
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"gan-zoo train failed:\n{done.stderr[-2000:]}")
    result = json.loads((out / "result.json").read_text())
    return wall, float(result["wall_s"])


def main(argv=None) -> int:
    p = C.parser(__doc__)
    p.add_argument("--runs", type=int, default=5, help="process runs (default 5)")
    p.add_argument("--steps", type=int, default=20, help="generator steps per run (default 20)")
    p.add_argument("--quick", action="store_true", help="one run of 2 steps")
    args = p.parse_args(argv)
    if args.quick:
        args.runs, args.steps = 1, 2
    print(f"# bench_fixed_cost: {C.command_line()}")
    print(f"# {C.machine()}")
    walls, trains = [], []
    with tempfile.TemporaryDirectory(prefix="gan-zoo-fixed-") as tmp:
        for i in range(args.runs):
            wall, train = one_run(args.steps, args.data_root, Path(tmp) / f"run{i}")
            walls.append(wall)
            trains.append(train)
            print(f"run {i + 1}: {wall:.2f} s wall, {train:.2f} s training, {wall - train:.2f} s fixed")
    fixed = [w - t for w, t in zip(walls, trains)]
    print(f"gan-zoo train --steps {args.steps} (median of {args.runs}): {C.median(walls):.2f} s wall, "
          f"{C.median(trains):.2f} s training, fixed cost {C.median(fixed):.2f} s "
          f"[min {min(fixed):.2f}, max {max(fixed):.2f}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
