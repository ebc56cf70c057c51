"""The tunable training settings, typed once, and the one ``KEY=VALUE`` parser.

:class:`TrainSettings` lists the settings an objective gives defaults for and a spec
may override (``--set n_critic=3``). Resolving a run (spec value, else the objective's
default), recording it (``result.json["resolved"]``) and checking an objective's
``defaults`` all iterate its fields, so a new setting is one field here plus the
same-named :class:`~gan_zoo.spec.RunSpec` field.

:func:`parse_value` turns a ``--set`` string into a value of a field's real type
(``int | None`` -> an int, or None for ``none``); :func:`parse_pairs` splits
``KEY=VALUE`` (or ``KEY=V1,V2`` for sweeps) options. ``gan-zoo train`` and the grid
of ``gan-zoo bench`` both use them.
"""

from __future__ import annotations

import json
import types
import typing
from dataclasses import dataclass, fields
from typing import Any

from gan_zoo.errors import GanZooError

__all__ = ["TrainSettings", "parse_value", "parse_pairs"]

OPTIMIZERS = ("adam", "rmsprop")


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
        if self.optimizer not in OPTIMIZERS:
            raise GanZooError(f"unknown optimizer {self.optimizer!r}; valid: {', '.join(OPTIMIZERS)}")
        if not isinstance(self.n_critic, int) or isinstance(self.n_critic, bool) or self.n_critic < 1:
            raise GanZooError(f"n_critic must be a positive integer, got {self.n_critic!r}")

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
            values[name] = getattr(self, name) if value is None else value
        return TrainSettings(**values)

    def record(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.names()}


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
            return float(text)
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
        if many:
            # a JSON object (reg_params) keeps its commas
            out[key] = [value] if value.startswith("{") else value.split(",")
        else:
            out[key] = value
    return out
