"""The run specification: everything that defines one training run.

A ``RunSpec`` is a small typed dataclass. Unset fields (``None``) take the
objective's or dataset's defaults when the run starts; the resolved values are
recorded with the run. ``run_id`` hashes the full spec, so a benchmark can
recognise a finished run and skip it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field, fields
from typing import Any, get_type_hints

from gan_zoo.errors import GanZooError
from gan_zoo.settings import MATCH_MODES, check_value, parse_value

#: Spec fields that describe where a run executes, not what it computes;
#: they do not enter the run id.
ENVIRONMENT_FIELDS = ("device", "log_every", "checkpoint_every")
#: Spec fields that record how a run was observed or how its grid matched compute, not
#: what it computes: in-training score points (taken on their own random streams) and
#: the grid's match mode (a d-steps grid changes ``steps`` itself). Not in the run id.
RECORD_FIELDS = ("match", "curve_points", "curve_samples", "preset")
#: Fields added after run ids were first shipped: left out of the id while None, so
#: every earlier run keeps its id.
ID_WHEN_SET_FIELDS = ("wall_budget_s", "updates", "d_dropout")
#: How the two players update (``updates``): D's ``n_critic`` steps then G's (the default),
#: or both from one batch at the same parameters (simultaneous gradient descent).
UPDATE_MODES = ("alternating", "simultaneous")


@dataclass(frozen=True)
class RunSpec:
    """One (dataset, backbone, objective, regularizers, seed) combination: a value
    (frozen; :meth:`replace` makes another). Each field is checked on its own when the
    spec is made (:func:`gan_zoo.settings.check_value`); whether the fields go together
    (an objective with a regularizer, a norm with a penalty) is decided by
    :func:`gan_zoo.resolve.resolve` alone."""

    dataset: str = "mnist"
    loss: str = "ns"
    regularizers: str = "none"  # "+"-joined regularizer names, or "none"
    backbone: str | None = None  # None: the dataset's fixed backbone
    seed: int = 0
    steps: int = 1000  # generator updates
    batch_size: int = 64
    n_critic: int | None = None  # D updates per G update; None: objective default
    optimizer: str | None = None  # "adam" | "rmsprop"; None: objective default
    lr_g: float | None = None
    lr_d: float | None = None
    beta1: float | None = None
    beta2: float | None = None
    clip: float | str | None = None  # D's weight clipping; None: objective default; "none": off
    nz: int = 100  # latent size
    width: int | None = None  # base channel width; None: backbone default
    d_norm: str | None = None  # batch | layer | none; None: batch unless a gradient penalty
    #: dropout after D's hidden layers; None: the backbone's default (0 under a gradient
    #: penalty); set, it changes that one thing (the single-factor ablation arms)
    d_dropout: float | None = None
    conditional: bool = False
    precision: str = "fp32"  # fp32 | tf32 | bf16 (gan_zoo.precision); in the id unless fp32
    reg_params: dict = field(default_factory=dict)  # e.g. {"soft-labels.real_low": 0.8}
    device: str = "auto"
    log_every: int = 50
    checkpoint_every: int = 500
    #: stop training once this many training seconds are spent (``--match wall``);
    #: ``steps`` is then an upper bound. Not bitwise reproducible.
    wall_budget_s: float | None = None
    #: None or "alternating": D's n_critic steps, then G's; "simultaneous": both players'
    #: gradients from one batch at the same parameters, then both steps (ALI / PacGAN code)
    updates: str | None = None
    match: str = "g-steps"  # how the grid matched compute: g-steps | d-steps | wall
    curve_points: int = 0  # in-training scores (FID, or modes for 2-D mixtures); 0 = off
    curve_samples: int = 1000  # samples per in-training score (2-D mixtures: 2,500)
    #: the paper configuration (gan_zoo.presets) the spec's values started from; recorded,
    #: not in the run id (the values it set are)
    preset: str | None = None

    def __post_init__(self) -> None:
        """Every value checked here, before anything is written or trained."""
        for name in self.field_names():
            check_value(name, getattr(self, name))

    # -- construction -------------------------------------------------------

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str | None = None) -> "RunSpec":
        """A spec from its dict; ``source`` (a file) prefixes any error line."""
        where = f"{source}: " if source else ""
        if not isinstance(data, dict):
            raise GanZooError(f"{where}a run spec must be a JSON object of spec fields, got {type(data).__name__}")
        unknown = sorted(set(map(str, data)) - set(cls.field_names()))
        if unknown:
            raise GanZooError(
                f"{where}unknown spec key(s) {', '.join(unknown)}; valid: {', '.join(cls.field_names())}"
            )
        if not source:
            return cls(**data)
        try:
            return cls(**data)
        except GanZooError as err:
            raise GanZooError(f"{where}{err}") from None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> "RunSpec":
        return RunSpec.from_dict({**self.to_dict(), **changes})

    def with_overrides(self, overrides: dict[str, str]) -> "RunSpec":
        """Apply ``KEY=VALUE`` strings (from ``--set``), parsed to each field's type."""
        return self.replace(**{k: parse_field(k, v) for k, v in overrides.items()})

    # -- identity -----------------------------------------------------------

    def run_id(self) -> str:
        """A short stable hash of every field that changes what the run computes."""
        payload = {k: v for k, v in self.to_dict().items()
                   if k not in ENVIRONMENT_FIELDS and k not in RECORD_FIELDS
                   and not (k in ID_WHEN_SET_FIELDS and v is None)}
        if payload.get("precision") == "fp32":  # the CPU default: ids as before precision existed
            del payload["precision"]
        blob = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        digest = hashlib.sha256(blob.encode()).hexdigest()[:10]
        from gan_zoo.data import dataset_id, safe_name  # one safe name: never a path

        regs = safe_name(self.regularizers.replace("+", "_"))
        return f"{dataset_id(self.dataset)}-{safe_name(self.loss)}-{regs}-s{self.seed}-{digest}"


def parse_field(key: str, text: str) -> Any:
    """Parse one ``--set`` value to the type of spec field ``key``."""
    hints = get_type_hints(RunSpec)
    if key not in hints:
        raise GanZooError(
            f"unknown --set key {key!r}; valid: {', '.join(RunSpec.field_names())}"
        )
    return parse_value(key, text, hints[key])
