"""The hyperparameter space a search draws from, declared once per objective.

Ranges follow Lucic et al. 2018 (Are GANs Created Equal?, arXiv:1711.10337), section 5
and appendix: a *wide* phase (learning rate log-uniform in [1e-5, 1e-2], Adam's beta1
uniform in [0, 1], critic steps per generator step in {1, 5}, a gradient-penalty weight
log-uniform in [0.1, 100] where a penalty applies, WGAN's clipping bound log-uniform in
[1e-3, 1]) and a *narrow* one (beta1 0.5, learning rate log-uniform in [1e-4, 1e-3],
one critic step, penalty weight log-uniform in [0.1, 10]). Adam's beta2 uniform in
[0.9, 0.999] (Kurach et al. 2019, arXiv:1807.04720) is optional.

A space maps a *key* to a distribution: ``{"log-uniform": [low, high]}``,
``{"uniform": [low, high]}``, ``{"choice": [v1, v2, ...]}``, or a plain value (fixed).
Keys are run settings: any :class:`~gan_zoo.spec.RunSpec` field a search may vary
(``lr_g``, ``beta1``, ``n_critic``, ``nz`` ...), ``lr`` for one learning rate shared by
both players (Lucic et al.), or ``NAME.PARAM`` for a regularizer parameter
(``gp.weight``). A key applies to a run only where the setting does something:
``beta1``/``beta2`` with Adam, ``clip`` for objectives that clip by default (wgan),
``NAME.PARAM`` when the run uses regularizer NAME; ``gp.weight`` also sets WGAN-GP's
built-in penalty weight (its lambda, 10 by default), so WGAN-GP is searched over its
penalty weight as Lucic et al. search it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gan_zoo.errors import GanZooError

__all__ = ["Param", "PHASES", "default_space", "parse_space", "load_space", "space_for",
           "space_to_json", "apply_settings", "paper_settings", "describe_space"]

PHASES = ("wide", "narrow")
KINDS = ("log-uniform", "uniform", "choice")
#: one learning rate for both players
LR = "lr"
#: spec fields a search never varies: they define the study itself or where it runs
_NOT_SEARCHABLE = ("dataset", "loss", "regularizers", "seed", "steps", "device", "match",
                   "wall_budget_s", "curve_points", "curve_samples", "log_every",
                   "checkpoint_every", "precision", "conditional", "reg_params", "backbone")
#: half-open settings: a uniform range may end at 1, the draws stay below it
_HALF_OPEN = ("beta1", "beta2")


@dataclass(frozen=True)
class Param:
    """One key of a space: ``kind`` log-uniform / uniform (``low``, ``high``), choice
    (``values``) or fixed (``values[0]``)."""

    key: str
    kind: str  # log-uniform | uniform | choice | fixed
    low: float | None = None
    high: float | None = None
    values: tuple = ()

    @property
    def sampled(self) -> bool:
        return self.kind != "fixed"

    def to_json(self) -> Any:
        if self.kind == "fixed":
            return self.values[0]
        if self.kind == "choice":
            return {"choice": list(self.values)}
        return {self.kind: [self.low, self.high]}

    def text(self) -> str:
        if self.kind == "fixed":
            return f"{self.key} = {self.values[0]:g}" if isinstance(self.values[0], float) \
                else f"{self.key} = {self.values[0]}"
        if self.kind == "choice":
            return f"{self.key} in {{{', '.join(str(v) for v in self.values)}}}"
        return f"{self.key} {self.kind} [{self.low:g}, {self.high:g}]"

    def contains(self, value) -> bool:
        if self.kind in ("fixed", "choice"):
            return value in self.values
        return isinstance(value, (int, float)) and self.low <= value <= self.high

    def distribution(self):
        """The Optuna distribution of a sampled key."""
        from optuna.distributions import CategoricalDistribution, FloatDistribution

        if self.kind == "choice":
            return CategoricalDistribution(list(self.values))
        return FloatDistribution(self.low, self.high, log=self.kind == "log-uniform")


def default_space(phase: str = "wide", beta2: bool = False) -> dict[str, Param]:
    """The declared space of ``phase`` (Lucic et al. 2018); ``beta2`` adds Adam's beta2
    uniform in [0.9, 0.999] (Kurach et al. 2019)."""
    if phase not in PHASES:
        raise GanZooError(f"unknown --phase {phase!r}; valid: {', '.join(PHASES)}")
    if phase == "wide":
        raw = {LR: {"log-uniform": [1e-5, 1e-2]}, "beta1": {"uniform": [0.0, 1.0]},
               "n_critic": {"choice": [1, 5]}, "gp.weight": {"log-uniform": [0.1, 100.0]},
               "clip": {"log-uniform": [1e-3, 1.0]}}
    else:
        raw = {LR: {"log-uniform": [1e-4, 1e-3]}, "beta1": 0.5, "n_critic": 1,
               "gp.weight": {"log-uniform": [0.1, 10.0]}, "clip": {"log-uniform": [1e-3, 1.0]}}
    if beta2:
        raw["beta2"] = {"uniform": [0.9, 0.999]}
    return parse_space(raw, "the declared space")


def _check_setting(key: str, value: Any, where: str) -> None:
    """A value the run setting ``key`` accepts (one line naming it otherwise)."""
    from gan_zoo.settings import check_value

    target = "lr_g" if key == LR else key
    if "." in key:
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            raise GanZooError(f"{where}: {key}={value!r} is not allowed; a regularizer parameter is a number")
        return
    try:
        check_value(target, value)
    except GanZooError as exc:
        raise GanZooError(f"{where}: {exc}") from None


def _check_key(key: str, where: str) -> None:
    from gan_zoo.regularizers import get_regularizer, list_regularizers
    from gan_zoo.spec import RunSpec

    if not isinstance(key, str):
        raise GanZooError(f"{where}: key {key!r} is not a run setting")
    if "." in key:
        name, _, param = key.partition(".")
        if name in list_regularizers() and param in get_regularizer(name).p:
            return
        raise GanZooError(f"{where}: {key!r} is not a run setting; a regularizer parameter is NAME.PARAM "
                          f"with one of: {', '.join(f'{n}.{p}' for n in list_regularizers() for p in get_regularizer(n).p)}")
    valid = [LR] + [f for f in RunSpec.field_names() if f not in _NOT_SEARCHABLE]
    if key not in valid:
        raise GanZooError(f"{where}: {key!r} is not a run setting a search can vary; valid: "
                          f"{', '.join(valid)}, or NAME.PARAM of a regularizer")


def _parse_param(key: str, spec: Any, where: str) -> Param:
    _check_key(key, where)
    if not isinstance(spec, dict):
        _check_setting(key, spec, where)
        return Param(key, "fixed", values=(spec,))
    if len(spec) != 1 or next(iter(spec)) not in KINDS:
        raise GanZooError(f"{where}: {key} must be a value or one of "
                          f"{{\"log-uniform\": [low, high]}}, {{\"uniform\": [low, high]}}, {{\"choice\": [values]}}")
    kind, arg = next(iter(spec.items()))
    if kind == "choice":
        if not isinstance(arg, list) or not arg:
            raise GanZooError(f"{where}: {key} choice is empty; give a list of one or more values")
        for v in arg:
            _check_setting(key, v, where)
        values = tuple(dict.fromkeys(arg))
        return Param(key, "fixed", values=values) if len(values) == 1 else Param(key, "choice", values=values)
    if (not isinstance(arg, list) or len(arg) != 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in arg)):
        raise GanZooError(f"{where}: {key} {kind} needs [low, high], two finite numbers")
    low, high = float(arg[0]), float(arg[1])
    if not low < high:
        raise GanZooError(f"{where}: {key} {kind} [{low:g}, {high:g}] is empty or inverted; low must be below high")
    if kind == "log-uniform" and low <= 0:
        raise GanZooError(f"{where}: {key} log-uniform needs low > 0, got {low:g}")
    _check_setting(key, low, where)
    if key in _HALF_OPEN and high == 1.0:
        pass  # draws of [low, 1) stay below 1
    else:
        _check_setting(key, high, where)
    if key in ("n_critic", "nz", "width", "batch_size"):
        raise GanZooError(f"{where}: {key} takes integers; give it as {{\"choice\": [...]}}")
    return Param(key, kind, low, high)


def parse_space(raw: Any, where: str = "--space") -> dict[str, Param]:
    """A space from its JSON form (a dict of key -> distribution or value)."""
    if not isinstance(raw, dict) or not raw:
        raise GanZooError(f"{where}: a search space is a non-empty JSON object of run settings, e.g. "
                          '{"lr": {"log-uniform": [1e-5, 1e-2]}, "beta1": {"uniform": [0, 1]}}')
    if LR in raw and ("lr_g" in raw or "lr_d" in raw):
        raise GanZooError(f"{where}: lr sets lr_g and lr_d together; give lr or lr_g/lr_d, not both")
    return {key: _parse_param(key, value, where) for key, value in raw.items()}


def load_space(path: str | Path) -> dict[str, Param]:
    """``--space FILE``: a JSON object (see the module docstring)."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text())
    except OSError as exc:
        raise GanZooError(f"--space {path}: cannot be read ({exc.strerror or exc})") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise GanZooError(f"--space {path}: not valid JSON ({' '.join(str(exc).split())})") from None
    return parse_space(raw, f"--space {path}")


def space_to_json(space: dict[str, Param]) -> dict:
    return {key: p.to_json() for key, p in space.items()}


def space_for(space: dict[str, Param], loss: str, regularizers: str) -> dict[str, Param]:
    """The keys of ``space`` that do something for ``loss`` with ``regularizers``: Adam's
    betas with Adam only, ``clip`` for objectives that clip by default, a regularizer's
    parameter when the run uses that regularizer (``gp.weight`` also where the objective
    has a built-in penalty: wgan-gp's lambda)."""
    from gan_zoo.losses import get_loss

    objective = get_loss(loss)
    defaults = objective.defaults
    regs = [] if regularizers in (None, "", "none") else regularizers.split("+")
    if objective.penalty_weight:  # wgan-gp: its built-in penalty is an implied gp
        regs.append("gp")
    out = {}
    for key, p in space.items():
        if key in ("beta1", "beta2") and defaults["optimizer"] != "adam" and "optimizer" not in space:
            continue
        if key == "clip" and not defaults.get("clip"):
            continue
        if "." in key and key.partition(".")[0] not in regs:
            continue
        out[key] = p
    return out


def paper_settings(space: dict[str, Param], loss: str, regularizers: str) -> dict:
    """The objective's paper defaults for the keys of ``space`` (trial 0)."""
    from gan_zoo.losses import get_loss
    from gan_zoo.regularizers import get_regularizer

    defaults = get_loss(loss).defaults
    out = {}
    for key in space:
        if key == LR:
            out[key] = defaults["lr_d"]
        elif key == "gp.weight" and get_penalty(loss):
            out[key] = get_penalty(loss)  # wgan-gp's own lambda
        elif "." in key:
            name, _, param = key.partition(".")
            out[key] = get_regularizer(name).p[param]
        elif key in defaults:
            out[key] = defaults[key]
        else:
            from gan_zoo.spec import RunSpec

            out[key] = getattr(RunSpec(), key)
    return out


def apply_settings(base, settings: dict):
    """``base`` (a RunSpec) with a trial's settings in place."""
    changes: dict[str, Any] = {}
    reg_params = dict(base.reg_params)
    for key, value in settings.items():
        if key == LR:
            changes["lr_g"] = changes["lr_d"] = value
        elif "." in key:
            reg_params[key] = value
        else:
            changes[key] = value
    if reg_params != base.reg_params:
        changes["reg_params"] = reg_params
    return base.replace(**changes)


def describe_space(loss: str, regularizers: str = "none") -> list[str]:
    """Lines for ``gan-zoo losses NAME``: the wide and narrow spaces of ``loss``."""
    lines = []
    for phase in PHASES:
        space = space_for(default_space(phase, beta2=True), loss, regularizers)
        parts = [p.text() + (" (optional: --beta2)" if key == "beta2" else "") for key, p in space.items()]
        lines.append(f"  search space ({phase}): " + "; ".join(parts))
    if get_penalty(loss):
        lines.append(f"  gp.weight is its built-in penalty weight (lambda, {get_penalty(loss):g} by default)")
    else:
        gp = space_for(default_space("wide"), loss, "gp")
        if "gp.weight" in gp:
            lines.append("  with --regularizers gp: also " + gp["gp.weight"].text() + " (narrow: [0.1, 10])")
    lines.append("  trial 0 of a search is the paper default above; lr sets lr_g = lr_d")
    return lines


def get_penalty(loss: str) -> float:
    from gan_zoo.losses import get_loss

    return float(get_loss(loss).penalty_weight or 0.0)
