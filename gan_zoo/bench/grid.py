"""The benchmark grid: objectives x regularizers x seeds x ``--set`` sweeps -> run specs.

Budgets say how long each run trains and how many samples score it. ``standard``
follows Lucic et al. 2018 (Are GANs Created Equal?, arXiv:1711.10337): 20 epochs at
batch 64 and 10,000 evaluation samples. Budgets count generator steps.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

from gan_zoo.data import dataset_info
from gan_zoo.errors import GanZooError, NotApplicableError
from gan_zoo.losses import get_loss, list_losses
from gan_zoo.regularizers import list_regularizers, parse_regularizers
from gan_zoo.settings import parse_pairs
from gan_zoo.spec import RunSpec, parse_field

__all__ = ["Budget", "BUDGETS", "GridItem", "budget_for", "expand_grid", "parse_losses",
           "parse_regularizer_list", "parse_sweeps"]

#: keys the grid itself sets; --set cannot sweep them
GRID_KEYS = ("dataset", "loss", "regularizers", "seed", "device")


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
        info = dataset_info(dataset)
        if info.eval_samples_reducible:
            return min(self.eval_samples, info.eval_samples)
        return info.eval_samples

    def samples_reason(self) -> str:
        """Recorded in each run's ``eval_protocol`` when :meth:`samples` is not the protocol's."""
        return f"{self.name} budget"


BUDGETS = {
    # a seconds-long check that the whole pipeline runs
    "smoke": Budget("smoke", image_steps=20, epochs=None, point_steps=100, batch_size=32,
                    eval_samples=1000),
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
    """One run of the grid: its spec, the swept values, and why it is skipped (if it is)."""

    spec: RunSpec
    sweep: dict = field(default_factory=dict)
    skip_reason: str = ""

    @property
    def run_id(self) -> str:
        return self.spec.run_id()


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
            raise GanZooError(f"--set {key} is set by the grid itself; use --{key if key != 'seed' else 'seeds'}")
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
) -> list[GridItem]:
    """Every combination as a GridItem; inapplicable pairs carry their skip reason."""
    if not isinstance(seeds, int) or seeds < 1:
        raise GanZooError(f"--seeds must be a positive integer, got {seeds}")
    if steps is not None and steps < 1:
        raise GanZooError(f"--steps must be a positive integer, got {steps}")
    dataset_info(dataset)  # unknown dataset -> one line listing the valid ones
    keys = list(sweeps)
    items = []
    for values in itertools.product(*(sweeps[k] for k in keys)):
        sweep = dict(zip(keys, values))
        batch = sweep.get("batch_size", budget.batch_size)
        base = {"steps": steps or budget.steps(dataset, batch), "batch_size": batch}
        for loss, regs, seed in itertools.product(losses, regularizers, range(seeds)):
            spec = RunSpec.from_dict({**base, **sweep, "dataset": dataset, "loss": loss,
                                      "regularizers": regs, "seed": seed, "device": device})
            item = GridItem(spec, sweep)
            try:
                objective = get_loss(loss)
                for reg in parse_regularizers(regs, spec.reg_params):
                    reg.check(objective)
            except NotApplicableError as exc:
                item.skip_reason = str(exc)
            items.append(item)
    return items
