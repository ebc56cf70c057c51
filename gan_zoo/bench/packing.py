"""Packing a grid's runs into populations (``gan-zoo bench --pack K|auto|off``).

Runs that differ only in what a population member keeps for itself (seed, learning
rates, betas, clip, gradient-penalty weight; :func:`gan_zoo.population.pack_key`) train
together as one :class:`PopulationTask`: one task for any executor (a local worker, a
Ray task), which trains the population (:func:`gan_zoo.population.train_population`) and
then scores each member as a single run is scored. Runs that cannot be packed
(:func:`gan_zoo.population.refusal`) train singly, and the bench output says why.

``auto`` packs only where ``benchmarks/bench_population.py`` measured a gain on this
kind of device (:data:`AUTO_PACK`); ``off`` trains every run singly, as every shipped
study was trained. A population's members match their single runs to float rounding,
not bitwise (see :mod:`gan_zoo.population`), so ``--pack off`` is what reproduces the
shipped numbers exactly.
"""

from __future__ import annotations

import math
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from gan_zoo.bench.executors import RunTask
from gan_zoo.errors import GanZooError

__all__ = ["PopulationTask", "parse_pack", "plan_units", "run_population_task", "expand",
           "AUTO_PACK", "PACK_DEFAULT"]


#: ``--pack auto``: the population size per (device type, backbone) where the population
#: benchmark measured a gain of at least :data:`AUTO_MIN_GAIN` (benchmarks/RESULTS.md,
#: section 9). Everything else trains singly under ``auto``: the DCGANs on the CPU
#: (grouped convolutions ran at 0.99-1.12x of separate runs) and anything on a GPU (not
#: measured yet).
AUTO_PACK: dict[tuple[str, str], int] = {("cpu", "mlp"): 16}
AUTO_MIN_GAIN = 1.2
PACK_DEFAULT = "auto"


def parse_pack(value) -> str | int:
    """``--pack``: ``off``, ``auto`` or a population size K >= 1 (1 = off); anything else
    is one line naming what is allowed."""
    text = str(value).strip().lower()
    if text in ("off", "auto"):
        return text
    try:
        k = int(text)
    except ValueError:
        k = None
    if k is None or k < 1 or str(k) != text.lstrip("+"):
        raise GanZooError(f"--pack {value}: expected off, auto or a population size K >= 1 "
                          "(runs trained together in one process)")
    return "off" if k == 1 else k


@dataclass(frozen=True)
class PopulationTask:
    """Runs trained as one population, handed to an executor as one task."""

    tasks: tuple[RunTask, ...]
    population: str

    # what an executor may read of a task: the first member's (a worker that dies twice
    # records a failure through them; :func:`expand` then records it for every member)
    @property
    def run_id(self) -> str:
        return self.population

    @property
    def spec(self):
        return self.tasks[0].spec

    @property
    def run_dir(self) -> Path:
        return Path(self.tasks[0].run_dir)

    @property
    def sweep(self) -> dict:
        return self.tasks[0].sweep

    @property
    def threads(self) -> int | None:
        return self.tasks[0].threads


def _auto_size(res) -> int | None:
    from torch import device

    return AUTO_PACK.get((device(res.device).type, res.backbone))


def _split(items: list, n: int) -> list[list]:
    """``items`` in ``n`` consecutive parts of (nearly) equal size."""
    base, extra = divmod(len(items), n)
    parts, start = [], 0
    for i in range(n):
        size = base + (1 if i < extra else 0)
        parts.append(items[start:start + size])
        start += size
    return parts


def plan_units(pending: list, pack: str | int, workers: int = 1) -> tuple[list[list], list[str]]:
    """Group grid items into populations: returns the units (lists of items; one item:
    a single run) and lines for the bench output. A group of compatible runs is split
    into populations of at most K (nearly equal in size), and further where one would
    hold more than a worker's share of the grid, so no worker idles while one trains
    everything."""
    from gan_zoo.population import pack_key, refusal
    from gan_zoo.resolve import resolve

    if pack == "off" or not pending:
        return [[it] for it in pending], []
    groups: dict[str, list] = {}
    sizes: dict[str, int] = {}
    singles: list = []
    why_single: Counter = Counter()
    refused: dict[str, str | None] = {}
    for it in pending:
        if getattr(it, "rung", None) is not None:
            singles.append(it)
            why_single["a pruned search's trials train singly (each may stop at its own rung)"] += 1
            continue
        try:
            res = resolve(it.spec)
            key = pack_key(res)
        except GanZooError as exc:
            singles.append(it)
            why_single[str(exc)] += 1
            continue
        if key not in refused:
            refused[key] = refusal(res)
        if refused[key]:
            singles.append(it)
            why_single[refused[key]] += 1
            continue
        k = pack if isinstance(pack, int) else _auto_size(res)
        if not k or k < 2:
            singles.append(it)
            why_single[f"auto: no measured gain for {res.backbone} on {res.device} "
                       "(benchmarks/bench_population.py)"] += 1
            continue
        groups.setdefault(key, []).append(it)
        sizes[key] = k
    units: list[list] = []
    for key, items in groups.items():
        units += _split(items, math.ceil(len(items) / sizes[key]))
    # Larger populations gain more (benchmarks/RESULTS.md section 9), so a group is split
    # below K only where one population would hold more than a worker's share of the
    # grid's runs, so no worker idles while another trains everything.
    share = math.ceil((sum(map(len, units)) + len(singles)) / max(1, workers))
    while units:
        big = max(units, key=len)
        if len(big) <= share or len(big) < 4:
            break
        units.remove(big)
        units += _split(big, 2)
    units += [[it] for it in singles]
    pops = [u for u in units if len(u) > 1]
    notes = []
    if pops:
        notes.append(f"--pack {pack}: {sum(map(len, pops))} runs in {len(pops)} population(s) of "
                     f"{min(map(len, pops))}-{max(map(len, pops))}; each member matches its single run "
                     "to float rounding (--pack off trains every run alone)")
    for why, n in why_single.items():
        notes.append(f"--pack {pack}: {n} run(s) train singly: {why}")
    if isinstance(pack, int) and not pops and pending:
        raise GanZooError(f"--pack {pack}: no run of this grid can be packed ({next(iter(why_single))}); "
                          "use --pack off")
    return units, notes


def run_population_task(task: PopulationTask, run_item) -> list[dict]:
    """Train a population, then finish and score each member as a single run is
    (``run_item``: :func:`gan_zoo.bench.runner.run_item`, passed in by the runner, which
    finds the member's training ended); never raises for a run's own failure. Should the
    population itself fail, its members train singly."""
    import torch

    from gan_zoo.population import train_population

    if task.threads:
        torch.set_num_threads(task.threads)
    first = task.tasks[0]
    try:
        train_population([t.spec for t in task.tasks], [t.run_dir for t in task.tasks],
                         data_root=first.data_root, sweeps=[t.sweep for t in task.tasks],
                         population=task.population, evaluation=first.evaluation)
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # the members train (or resume) singly instead
        print(f"gan-zoo: population {task.population} could not train "
              f"({type(exc).__name__}: {' '.join(str(exc).split())[:200]}); its {len(task.tasks)} "
              "runs train singly", file=sys.stderr)
    return [run_item(t.spec, t.sweep, t.run_dir, t.data_root, t.evaluation, t.threads) for t in task.tasks]


def expand(task, result) -> list[tuple[RunTask, dict]]:
    """``(task, result)`` from an executor as one pair per run. A population task whose
    worker died twice comes back as one failure: it is recorded for every member that
    has no completed result."""
    if not isinstance(task, PopulationTask):
        return [(task, result)]
    if isinstance(result, list):
        return list(zip(task.tasks, result))
    from gan_zoo import runs
    from gan_zoo.runs import RunResult, is_complete

    reason = (result or {}).get("reason") or "the population's worker died"
    out = []
    for t in task.tasks:
        stored = runs.read_result(Path(t.run_dir))
        if stored is not None and is_complete(Path(t.run_dir), t.run_id):
            out.append((t, stored.to_dict()))
            continue
        failed = RunResult.failed(t.run_id, f"{reason} (in population {task.population})",
                                  device=t.spec.device, sweep=t.sweep)
        Path(t.run_dir).mkdir(parents=True, exist_ok=True)
        runs.write_result(Path(t.run_dir), failed)
        out.append((t, failed.to_dict()))
    return out
