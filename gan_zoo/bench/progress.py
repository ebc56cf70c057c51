"""What a running grid shows: a grid-level bar with runs done and an ETA on a terminal,
and one line per finished run (objective, regularizers, seed, status, headline score,
time) on the terminal or, without one, in the log on stderr.

The ETA comes from the runner's schedule: the runs still to do, each weighted by its
relative cost (a wgan run counts for several plain ones), are laid out longest first on
the workers as the runner does; when the k-th run finishes, the elapsed time over the
schedule's k-th finishing time gives the seconds per unit of cost, and the rest of the
schedule is scaled by it. With two workers whose runs end in pairs, the first of a pair
no longer reads as half the work done in all the time spent (the ETA swung by a third).
Before the first run finishes the ETA is the calibrated estimate. Given the estimate's
tasks (``tasks``: the populations and single runs, with their calibrated seconds), the
schedule is of those tasks, and a population's members finish together: nine runs
that end at once after 27 min read as one task done, not as nine runs' worth of a
single-run schedule.
"""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path
from typing import Callable

import click

from gan_zoo.bench import columns as C
from gan_zoo.bench.estimate import schedule
from gan_zoo.metrics import keys

__all__ = ["GridProgress", "headline", "duration"]


def duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def headline(run_dir: Path) -> str:
    """The run's headline score from its metrics.json: FID, else modes covered; "" if none."""
    try:
        metrics = json.loads((Path(run_dir) / C.METRICS_JSON).read_text())
    except (OSError, ValueError):
        return ""
    fid = metrics.get(keys.FID)
    if isinstance(fid, (int, float)) and math.isfinite(fid):
        return f"FID {fid:.1f}"
    modes = metrics.get(keys.MODES)
    if isinstance(modes, (int, float)) and math.isfinite(modes):
        total = metrics.get(keys.MODES_TOTAL)
        hq = metrics.get(keys.HQ_FRAC)
        text = f"modes {modes:.0f}" + (f"/{total}" if total else "")
        return text + (f", HQ {100 * hq:.0f}%" if isinstance(hq, (int, float)) else "")
    return ""


class GridProgress:
    """``on_done(item, result)`` for :func:`gan_zoo.bench.runner.run_grid`, plus ``close()``.

    ``total``: runs in the grid; ``done``: already complete before this start; ``cost``:
    relative cost of an item (for the ETA); ``workers``: runs in parallel; ``estimate``:
    seconds the remaining runs are expected to take before any has finished; ``tasks``:
    ``(units, seconds)`` of :func:`gan_zoo.bench.estimate.estimate_plan` (populations
    and single runs as the runner trains them), which replace ``todo`` and ``cost``.
    ``quiet`` shows nothing; ``stream`` defaults to stderr, and a bar is drawn only when
    it is a terminal.
    """

    def __init__(self, total: int, done: int, out: Path, *, todo=(), cost: Callable | None = None,
                 workers: int = 1, estimate: float | None = None, quiet: bool = False, stream=None,
                 tasks: tuple[list, list] | None = None):
        self.total, self.n, self.out, self.quiet = total, done, Path(out), quiet
        self.cost = cost or (lambda item: 1.0)
        if tasks and tasks[0]:
            units, seconds = tasks
            self.finishes, self.makespan = schedule(seconds, workers, [len(u) for u in units])
        else:
            costs = [self.cost(it) for it in todo] or [1.0] * max(0, total - done)
            self.finishes, self.makespan = schedule(costs, workers)
        self.trained = 0  # runs of this start that finished (skipped records cost nothing)
        self.estimate = estimate
        self.start = time.monotonic()
        self.stream = stream or sys.stderr
        self.bar = None
        if not quiet and hasattr(self.stream, "isatty") and self.stream.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=done, file=self.stream, unit="run",
                            bar_format="{desc}{percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} runs "
                                       "[{elapsed}{postfix}]", dynamic_ncols=True)
            self._postfix()

    def eta(self) -> float | None:
        """Seconds left: the schedule after the latest finish, at the measured seconds per
        unit of cost; the estimate before any run has finished."""
        if self.trained <= 0 or not self.finishes:
            return self.estimate
        at = self.finishes[min(self.trained, len(self.finishes)) - 1]
        if at <= 0:
            return self.estimate
        return (time.monotonic() - self.start) / at * max(self.makespan - at, 0.0)

    def _postfix(self) -> None:
        eta = self.eta()
        if self.bar is not None:
            self.bar.set_postfix_str(f"ETA {duration(eta)}" if eta is not None else "ETA ?", refresh=True)

    def line(self, item, result: dict) -> str:
        spec = item.spec
        status = result.get("status") or "?"
        parts = [f"[{self.n}/{self.total}] {spec.loss} {spec.regularizers} seed {spec.seed}: {status}"]
        if item.sweep:
            parts[0] += " " + ",".join(f"{k}={v}" for k, v in sorted(item.sweep.items()))
        score = headline(self.out / C.RUNS_DIR / item.run_id) if status in (C.OK, C.DIVERGED) else ""
        if score:
            parts.append(score)
        wall = result.get("wall_s")
        if isinstance(wall, (int, float)) and wall > 0:
            parts.append(duration(wall))
        if result.get("reason"):
            parts.append(str(result["reason"]))
        return ", ".join(parts)

    def __call__(self, item, result: dict) -> None:
        self.n += 1
        if not item.skip_reason:
            self.trained += 1
        if self.quiet:
            return
        text = self.line(item, result)
        if self.bar is not None:
            self.bar.write(text, file=self.stream)
            self.bar.update(1)
            self._postfix()
        else:
            eta = self.eta()
            click.echo(text + (f" (ETA {duration(eta)})" if eta is not None and self.n < self.total else ""),
                       err=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
