"""From command-line options to run specs: the one rule that ``gan-zoo train`` and the
grid of ``gan-zoo bench`` (:func:`gan_zoo.bench.grid.expand_grid`) share, so that the
commands cannot disagree about what an option means.

A spec is the command's own fields with the ``--set`` values in place; its precision is
``--precision`` when given, else a ``--set precision=`` value, else the device's default
(:func:`gan_zoo.precision.default_precision`: fp32 on the CPU, tf32 on a GPU). An
explicit ``--set precision=fp32`` stays fp32 on a GPU.
"""

from __future__ import annotations

from typing import Any, Iterable

from gan_zoo.settings import parse_pairs
from gan_zoo.spec import RunSpec, parse_field

__all__ = ["parse_sets", "spec_from_options"]


def parse_sets(pairs: Iterable[str]) -> dict[str, Any]:
    """``("nz=200", "clip=none")`` -> ``{"nz": 200, "clip": "none"}``: each ``--set``
    value typed as its spec field (an unknown key is one line listing the valid ones)."""
    return {key: parse_field(key, value) for key, value in parse_pairs(pairs).items()}


def spec_from_options(fields: dict[str, Any], *, set_keys: Iterable[str] = (),
                      precision: str | None = None) -> RunSpec:
    """The spec of ``fields`` (every value the command line gave, ``--set`` values
    included; ``set_keys`` names those that came from ``--set``), at ``precision``
    (``--precision``), else at the ``--set`` precision, else at the device's default.
    A precision the device cannot run is one line."""
    from gan_zoo.precision import check_precision, default_precision
    from gan_zoo.resolve import resolve_device

    spec = RunSpec.from_dict(dict(fields))
    device = resolve_device(spec.device)
    if precision is not None or "precision" not in set(set_keys):
        spec = spec.replace(precision=precision or default_precision(device))
    check_precision(spec.precision, device)
    return spec
