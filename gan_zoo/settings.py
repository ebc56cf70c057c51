"""The tunable training settings, typed once, and the one ``KEY=VALUE`` parser.

:class:`TrainSettings` lists the settings an objective gives defaults for and a spec
may override (``--set n_critic=3``). Resolving a run (spec value, else the objective's
default), recording it (``result.json["resolved"]``) and checking an objective's
``defaults`` all iterate its fields, so a new setting is one field here plus the
same-named :class:`~gan_zoo.spec.RunSpec` field.

:func:`parse_value` turns a ``--set`` string into a value of a field's real type
(``int | None`` -> an int, or None for ``none``); :func:`parse_pairs` splits
``KEY=VALUE`` (or ``KEY=V1,V2`` for sweeps, split outside brackets and quotes)
options. ``gan-zoo train`` and the grid of ``gan-zoo bench`` both use them.

:func:`check_value` is the one place a value is checked (learning rates, betas, seeds,
sizes, ``clip``, ``reg_params``); ``TrainSettings`` and ``RunSpec`` run it on every
field when built, so a bad value is one line before anything is written or trained.
"""

from __future__ import annotations

import json
import math
import types
import typing
from dataclasses import dataclass, fields
from typing import Any

from gan_zoo.errors import GanZooError

__all__ = ["TrainSettings", "OPTIMIZERS", "PRECISIONS", "MATCH_MODES", "D_NORMS", "check_value", "parse_value", "parse_pairs", "split_outside_brackets"]

OPTIMIZERS = ("adam", "rmsprop")
#: A run's numeric precisions (what each means: :mod:`gan_zoo.precision`); kept here, with
#: the other checked values, so the command line offers them without importing torch.
PRECISIONS = ("fp32", "tf32", "bf16")
#: How a grid matches compute across objectives (``gan-zoo bench --match``; see
#: :mod:`gan_zoo.bench.grid`).
MATCH_MODES = ("g-steps", "d-steps", "wall")
#: D's normalisation layers (:mod:`gan_zoo.backbones`)
D_NORMS = ("batch", "layer", "none")


@dataclass(frozen=True)
class TrainSettings:
    """How the two players are optimised; an objective's ``defaults`` hold one of each."""

    optimizer: str = "adam"  # adam | rmsprop
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    beta1: float | None = 0.5  # Adam's betas; None with rmsprop
    beta2: float | None = 0.999
    n_critic: int = 1  # D updates per G update
    clip: float | None = None  # clip D's weights to [-clip, clip] after each D update

    def __post_init__(self) -> None:
        for name in self.names():
            check_value(name, getattr(self, name))

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    @classmethod
    def from_defaults(cls, defaults: dict, owner: str = "objective") -> "TrainSettings":
        """Check a defaults dict names exactly these settings; unknown or missing keys fail."""
        unknown = sorted(set(defaults) - set(cls.names()))
        missing = sorted(set(cls.names()) - set(defaults))
        if unknown or missing:
            raise GanZooError(f"{owner} defaults: unknown {unknown or 'none'}, missing {missing or 'none'}; "
                              f"valid: {', '.join(cls.names())}")
        return cls(**defaults)

    def overridden(self, source: Any) -> "TrainSettings":
        """These defaults with every setting ``source`` (a spec) gives (not None) in place."""
        values = {}
        for name in self.names():
            value = getattr(source, name)
            if value == OFF:  # clip=none: switched off, whatever the objective's default
                values[name] = None
            else:
                values[name] = getattr(self, name) if value is None else value
        return TrainSettings(**values)

    def record(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.names()}


# ---------------------------------------------------------------------------
# checking values: one place for the spec's fields and the training settings

#: A spec value that switches a setting off where ``None`` would take the objective's
#: default: ``--set clip=none`` stores ``"none"``, so WGAN runs without clipping.
OFF = "none"
#: fields whose ``none`` is a value of its own, not "unset, the default": ``clip=none``
#: switches clipping off; ``d_norm=none`` is D without a normalization layer (unset
#: ``d_norm`` is the backbone's default, batch norm)
SWITCHABLE = ("clip", "d_norm")
#: the largest seed torch.manual_seed takes
MAX_SEED = 2**63 - 1

#: name -> (test, what is allowed); None always passes (unset: the default applies)
_POSITIVE_INT = (lambda v: _is_int(v) and v >= 1, "a positive integer")
_RULES: dict[str, tuple[Any, str]] = {
    "lr_g": (lambda v: _is_real(v) and v > 0, "a finite number > 0"),
    "lr_d": (lambda v: _is_real(v) and v > 0, "a finite number > 0"),
    "beta1": (lambda v: _is_real(v) and 0 <= v < 1, "a number in [0, 1)"),
    "beta2": (lambda v: _is_real(v) and 0 <= v < 1, "a number in [0, 1)"),
    "clip": (lambda v: v == OFF or (_is_real(v) and v > 0), "a finite number > 0, or none (no clipping)"),
    "seed": (lambda v: _is_int(v) and 0 <= v <= MAX_SEED, f"an integer in 0..{MAX_SEED} (2**63-1)"),
    "n_critic": _POSITIVE_INT, "steps": _POSITIVE_INT, "batch_size": _POSITIVE_INT,
    "nz": _POSITIVE_INT, "width": _POSITIVE_INT, "log_every": _POSITIVE_INT,
    "checkpoint_every": _POSITIVE_INT,
    "reg_params": (lambda v: isinstance(v, dict) and all(isinstance(k, str) and _is_real(x)
                                                         for k, x in v.items()),
                   'a JSON object of numbers, e.g. {"soft-labels.real_low": 0.8}'),
    "conditional": (lambda v: isinstance(v, bool), "true or false"),
    "preset": (lambda v: isinstance(v, str) and v in _preset_names(), "a preset name (gan-zoo presets)"),
    "updates": (lambda v: v in ("alternating", "simultaneous"), "alternating or simultaneous"),
    "precision": (lambda v: v in PRECISIONS, f"one of {', '.join(PRECISIONS)}"),
    "match": (lambda v: v in MATCH_MODES, f"one of {', '.join(MATCH_MODES)}"),
    "d_norm": (lambda v: v in D_NORMS, f"one of {', '.join(D_NORMS)}"),
    "d_dropout": (lambda v: _is_real(v) and 0 <= v < 1, "a number in [0, 1)"),
    "wall_budget_s": (lambda v: _is_real(v) and v > 0, "a positive number of seconds"),
    "curve_points": (lambda v: _is_int(v) and v >= 0, "an integer >= 0"),
    "curve_samples": (lambda v: _is_int(v) and v >= 10, "an integer >= 10"),
}


def _preset_names() -> list[str]:
    from gan_zoo.presets import list_presets

    return list_presets()


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_real(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def check_value(name: str, value: Any) -> None:
    """Refuse a value of setting or spec field ``name`` outside what it allows: one line
    naming the field, the value and the allowed range. ``None`` (unset) always passes."""
    if name == "optimizer" and value is not None and value not in OPTIMIZERS:
        raise GanZooError(f"unknown optimizer {value!r}; valid: {', '.join(OPTIMIZERS)}")
    rule = _RULES.get(name)
    if value is None or rule is None:
        return
    test, allowed = rule
    if not test(value):
        raise GanZooError(f"{name}={value!r} is not allowed; {name} must be {allowed}")


# ---------------------------------------------------------------------------
# KEY=VALUE

_TRUE, _FALSE, _NONE = ("1", "true", "yes", "on"), ("0", "false", "no", "off"), ("none", "null", "")


def _kinds(hint: Any) -> tuple[list[type], bool]:
    """``int | None`` -> ([int], True); ``str`` -> ([str], False)."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = typing.get_args(hint)
        return [a for a in args if a is not type(None)], type(None) in args
    return [typing.get_origin(hint) or hint], False


def parse_value(key: str, text: str, hint: Any) -> Any:
    """Parse ``text`` to the type ``hint`` of field ``key`` (bool, int, float, str, dict)."""
    kinds, optional = _kinds(hint)
    text = str(text).strip()
    if key in SWITCHABLE and text.lower() in ("none", "off"):
        return OFF
    if optional and text.lower() in _NONE:
        return None
    kind = kinds[0]
    try:
        if kind is bool:
            if text.lower() in _TRUE:
                return True
            if text.lower() in _FALSE:
                return False
            raise ValueError(text)
        if kind is int:
            return int(text)
        if kind is float:
            return float(text)  # nan / inf are parsed here and refused by check_value
        if kind is dict:
            value = json.loads(text)
            if not isinstance(value, dict):
                raise ValueError(text)
            return value
    except ValueError:
        expected = {bool: "true or false", int: "an integer", float: "a number",
                    dict: "a JSON object"}[kind]
        raise GanZooError(f"--set {key}={text!r}: expected {expected}{' or none' if optional else ''}") from None
    return text


def parse_pairs(pairs, *, many: bool = False) -> dict[str, str | list[str]]:
    """``("nz=200",)`` -> ``{"nz": "200"}``; with ``many``, ``("nz=100,200",)`` ->
    ``{"nz": ["100", "200"]}``. Values stay text; :func:`parse_value` types them."""
    out: dict[str, str | list[str]] = {}
    for pair in pairs:
        key, sep, value = str(pair).partition("=")
        key = key.strip()
        if not sep or not key:
            raise GanZooError(f"--set expects KEY={'V1[,V2...]' if many else 'VALUE'}, got {pair!r}")
        value = value.strip()
        if many:  # a JSON object (reg_params) keeps its commas
            out[key] = split_outside_brackets(value)
        else:
            out[key] = value
    return out


def split_outside_brackets(text: str) -> list[str]:
    """Split a sweep ``V1,V2`` at the commas outside brackets and quotes:
    ``'{"a.x": 1, "a.y": 2},{"a.x": 3}'`` -> two JSON objects."""
    parts, depth, quote, start = [], 0, "", 0
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1  # skip the escaped character
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "{[(":
            depth += 1
        elif ch in "}])":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return [p.strip() for p in parts]
