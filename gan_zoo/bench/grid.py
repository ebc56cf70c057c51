"""The benchmark grid: objectives x regularizers x seeds x ``--set`` sweeps -> run specs.

Budgets say how long each run trains and how many samples score it. ``standard``
follows Lucic et al. 2018 (Are GANs Created Equal?, arXiv:1711.10337): 20 epochs at
batch 64 and 10,000 evaluation samples. Budgets count generator steps; a grid can
match compute otherwise (:data:`MATCH_MODES`, ``gan-zoo bench --match``):

- ``g-steps`` (default; Lucic et al. 2018, Kurach et al. 2019): every run makes the
  budget's generator steps, so objectives with n_critic > 1 get more D updates and time;
- ``d-steps``: every run makes the budget's steps in D updates: an objective with
  n_critic = 5 gets a fifth of the generator steps;
- ``wall``: every run trains for the same seconds (``wall_budget_s``), with up to
  :data:`WALL_STEP_CAP` times the budget's generator steps; not bitwise reproducible.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

from gan_zoo.data import dataset_info
from gan_zoo.errors import GanZooError, NotApplicableError
from gan_zoo.losses import get_loss, list_losses
from gan_zoo.regularizers import implied_params, list_regularizers, parse_regularizers
from gan_zoo.settings import parse_pairs
from gan_zoo.runspecs import spec_from_options
from gan_zoo.spec import MATCH_MODES, RunSpec, parse_field

__all__ = ["MATCH_MODES", "MAX_SEEDS", "WALL_STEP_CAP", "match_steps", "Budget", "BUDGETS", "GridItem", "budget_for", "expand_grid", "parse_losses",
           "parse_regularizer_list", "parse_sweeps"]

#: keys the grid itself sets; --set cannot sweep them
GRID_KEYS = ("dataset", "loss", "regularizers", "seed", "device", "match", "wall_budget_s",
             "curve_points", "steps")
#: the option that sets each of GRID_KEYS
GRID_KEY_OPTIONS = {"dataset": "--dataset", "loss": "--losses", "regularizers": "--regularizers",
                    "seed": "--seeds", "device": "--device", "match": "--match",
                    "wall_budget_s": "--wall-seconds", "curve_points": "--curve-points",
                    "steps": "--steps (or --budget)"}
#: seeds per combination a grid accepts (a study needs 3-10; more is a typo)
MAX_SEEDS = 1000

#: under --match wall, a run stops at its seconds or at this many times the budget's
#: generator steps, whichever comes first
WALL_STEP_CAP = 4
#: below this many generator steps a grid takes no in-training points unless asked
#: (--curve-points): in a seconds-long test grid they would cost more than the training
CURVE_MIN_STEPS = 200


@dataclass(frozen=True)
class Budget:
    """Generator steps for image data and for 2-D mixtures, and the evaluation samples
    the budget allows where the dataset lets a budget lower its protocol count."""

    name: str
    image_steps: int | None  # None: epochs * epoch size / batch size
    epochs: float | None
    point_steps: int
    batch_size: int
    eval_samples: int  # at most this many, where the dataset allows fewer than its protocol
    curve_points: int = 10  # in-training score points per run (0: none)

    def steps(self, dataset: str, batch_size: int) -> int:
        info = dataset_info(dataset)
        if info.kind == "points":
            return self.point_steps
        if self.image_steps is not None:
            return self.image_steps
        return int(math.ceil(self.epochs * info.epoch_size / batch_size))

    def samples(self, dataset: str) -> int:
        """The dataset's protocol count (``DatasetInfo.eval_samples``), lowered to this
        budget's ``eval_samples`` only where the dataset allows it (MNIST, not Stacked
        MNIST or the mixtures); :meth:`samples_reason` says why when lowered."""
        from gan_zoo.metrics.settings import budget_samples

        return budget_samples(dataset, self.eval_samples)

    def samples_reason(self) -> str:
        """Recorded in each run's ``eval_protocol`` when :meth:`samples` is not the protocol's."""
        return f"{self.name} budget"


BUDGETS = {
    # a seconds-long check that the whole pipeline runs
    # no in-training points: at 20 steps they would cost more than the training
    "smoke": Budget("smoke", image_steps=20, epochs=None, point_steps=100, batch_size=32,
                    eval_samples=1000, curve_points=0),
    # what a 2-core CPU finishes for all ten objectives on MNIST in under 15 minutes;
    # batch 32: on the CPU twice the updates of batch 64 in the same time, and after
    # 1,000 of them the generators draw digits, where 500 at batch 64 drew blobs
    "quick": Budget("quick", image_steps=1000, epochs=None, point_steps=10000, batch_size=32,
                    eval_samples=5000),
    # Lucic et al. 2018: 20 epochs, batch 64, 10,000 samples
    "standard": Budget("standard", image_steps=None, epochs=20, point_steps=30000, batch_size=64,
                       eval_samples=10000),
}


def budget_for(name: str | None, device: str) -> Budget:
    """``None``: standard on a GPU, quick without one."""
    if name is None:
        name = "standard" if device.startswith("cuda") else "quick"
    if name not in BUDGETS:
        raise GanZooError(f"unknown budget {name!r}; valid: {', '.join(BUDGETS)}")
    return BUDGETS[name]


@dataclass
class GridItem:
    """One run of the grid: its spec, the swept values, why it is skipped (if it is), and
    a search trial's ``rung`` hook (``on_point`` of :meth:`gan_zoo.train.Trainer.run`:
    successive halving may stop it at a score point; None for every bench run)."""

    spec: RunSpec
    sweep: dict = field(default_factory=dict)
    skip_reason: str = ""
    rung: Any = None

    @property
    def run_id(self) -> str:
        return self.spec.run_id()


def match_steps(match: str, steps: int, loss: str, n_critic: int | None) -> int:
    """Generator steps of one run of a grid whose budget is ``steps`` under ``match``:
    ``steps`` (g-steps), ``steps / n_critic`` rounded, at least 1 (d-steps), or the cap
    ``WALL_STEP_CAP * steps`` (wall: the run stops at its seconds first)."""
    if match not in MATCH_MODES:
        raise GanZooError(f"unknown --match {match!r}; valid: {', '.join(MATCH_MODES)}")
    if match == "d-steps":
        k = n_critic or get_loss(loss).defaults["n_critic"]
        return max(1, round(steps / k))
    if match == "wall":
        return WALL_STEP_CAP * steps
    return steps


def _split(text: str) -> list[str]:
    return [t for t in (p.strip() for p in str(text).replace(" ", ",").split(",")) if t]


def parse_losses(text: str) -> list[str]:
    """``all``, or names separated by commas (fnmatch wildcards allowed: ``ra*``)."""
    names: list[str] = []
    for token in _split(text):
        if token == "all":
            found = list_losses()
        elif any(ch in token for ch in "*?["):
            found = list_losses(token)
            if not found:
                raise GanZooError(f"--losses pattern {token!r} matches no objective; valid: "
                                  f"all, {', '.join(list_losses())}")
        else:
            get_loss(token)  # unknown -> one line listing the valid names
            found = [token]
        names.extend(n for n in found if n not in names)
    if not names:
        raise GanZooError(f"--losses is empty; valid: all, {', '.join(list_losses())}")
    return names


def parse_regularizer_list(text: str) -> list[str]:
    """``none``, ``all`` (none plus each regularizer alone), or comma-separated entries,
    each a name or a ``+`` combination."""
    entries: list[str] = []
    for token in _split(text or "none"):
        if token == "all":
            found = ["none", *list_regularizers()]
        else:
            parse_regularizers(token)  # unknown name -> one line listing the valid ones
            found = [token]
        entries.extend(e for e in found if e not in entries)
    return entries


def parse_sweeps(pairs: tuple[str, ...] | list[str]) -> dict[str, list]:
    """``("nz=100,200", "width=32")`` -> ``{"nz": [100, 200], "width": [32]}``."""
    sweeps: dict[str, list] = {}
    for key, values in parse_pairs(pairs, many=True).items():
        if key in GRID_KEYS:
            raise GanZooError(f"--set {key} is set by the grid itself; use {GRID_KEY_OPTIONS[key]}")
        sweeps[key] = [parse_field(key, v) for v in values]
    return sweeps


def expand_grid(
    *,
    dataset: str,
    losses: list[str],
    regularizers: list[str],
    seeds: int,
    sweeps: dict[str, list],
    budget: Budget,
    steps: int | None = None,
    device: str = "auto",
    match: str = "g-steps",
    wall_seconds: float | None = None,
    curve_points: int | None = None,
    preset: str | None = None,
    precision: str | None = None,
) -> list[GridItem]:
    """Every combination as a GridItem; inapplicable pairs carry their skip reason.

    ``match`` (see the module docstring) sets each run's generator steps from the
    budget's; ``wall`` needs ``wall_seconds``. ``curve_points`` (default the budget's)
    in-training score points per run. ``preset`` (gan_zoo.presets) gives every spec its
    values first, its steps and batch in place of the budget's. Each spec is made as
    ``gan-zoo train`` makes its one (:func:`gan_zoo.runspecs.spec_from_options`): at
    ``precision``, else at a swept ``precision``, else at the device's default."""
    if not isinstance(seeds, int) or not 1 <= seeds <= MAX_SEEDS:
        raise GanZooError(f"--seeds must be an integer in 1..{MAX_SEEDS}, got {seeds}")
    if steps is not None and steps < 1:
        raise GanZooError(f"--steps must be a positive integer, got {steps}")
    dataset_info(dataset)  # unknown dataset -> one line listing the valid ones
    match_steps(match, 1, "ns", 1)  # unknown mode -> one line
    if match == "wall" and not (wall_seconds and wall_seconds > 0):
        raise GanZooError("--match wall needs the training seconds per run (--wall-seconds, or "
                          "the calibration run of gan-zoo bench)")
    if match != "wall" and wall_seconds is not None:
        raise GanZooError("--wall-seconds applies to --match wall only")
    if curve_points is not None and (not isinstance(curve_points, int) or curve_points < 0):
        raise GanZooError(f"--curve-points must be an integer >= 0, got {curve_points}")
    preset_values: dict = {}
    if preset is not None:
        from gan_zoo.presets import get_preset

        chosen = get_preset(preset)
        chosen.check_dataset(dataset)
        preset_values = {**chosen.values, "preset": preset}
    keys = list(sweeps)
    items = []
    for values in itertools.product(*(sweeps[k] for k in keys)):
        sweep = dict(zip(keys, values))
        batch = sweep.get("batch_size", preset_values.get("batch_size", budget.batch_size))
        budget_steps = steps or preset_values.get("steps") or budget.steps(dataset, batch)
        points = curve_points if curve_points is not None else (
            budget.curve_points if budget_steps >= CURVE_MIN_STEPS else 0)
        base = {**preset_values, "batch_size": batch, "match": match,
                "wall_budget_s": wall_seconds, "curve_points": points}
        for loss, regs, seed in itertools.product(losses, regularizers, range(seeds)):
            run_steps = match_steps(match, budget_steps, loss, sweep.get("n_critic"))
            spec = spec_from_options({**base, **sweep, "steps": run_steps, "dataset": dataset,
                                      "loss": loss, "regularizers": regs, "seed": seed,
                                      "device": device}, set_keys=sweep, precision=precision)
            item = GridItem(spec, sweep)
            try:
                objective = get_loss(loss)
                for reg in parse_regularizers(regs, spec.reg_params, implied_params(objective)):
                    reg.check(objective)
            except NotApplicableError as exc:
                item.skip_reason = str(exc)
            items.append(item)
    return items
