"""A run's effective settings (spec values, else objective, dataset and backbone
defaults) and the networks built from them.

Training and opening a trained run (:func:`gan_zoo.runs.load_run`) both start here,
so neither reaches into the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from gan_zoo.backbones import backbone_defaults, build_backbone
from gan_zoo.data import dataset_info
from gan_zoo.errors import GanZooError
from gan_zoo.losses import Objective, get_loss
from gan_zoo.regularizers import (IMPLIED_GP_WEIGHT, Regularizer, implied_params, implied_regularizers,
                                  parse_regularizers)
from gan_zoo.settings import TrainSettings
from gan_zoo.spec import RunSpec

__all__ = ["Resolved", "resolve", "resolve_device", "build_networks"]


@dataclass
class Resolved:
    """The effective settings of a run: spec values, else objective and backbone defaults."""

    spec: RunSpec
    objective: Objective
    regularizers: list[Regularizer]  # the named ones, in hook order
    settings: TrainSettings
    backbone: str
    d_norm: str
    d_dropout: float
    width: int
    g_dropout: float
    device: str
    #: samples per D example (``pac``): D judges packs of ``pack`` samples, and every
    #: step draws ``pack * batch_size`` reals and fakes
    pack: int = 1

    # the training settings, each by name (the same as ``res.settings.<name>``)
    @property
    def optimizer(self) -> str:
        return self.settings.optimizer

    @property
    def lr_g(self) -> float:
        return self.settings.lr_g

    @property
    def lr_d(self) -> float:
        return self.settings.lr_d

    @property
    def beta1(self) -> float | None:
        return self.settings.beta1

    @property
    def beta2(self) -> float | None:
        return self.settings.beta2

    @property
    def n_critic(self) -> int:
        return self.settings.n_critic

    @property
    def clip(self) -> float | None:
        return self.settings.clip

    @property
    def penalty_weight(self) -> float:
        """The built-in penalty's weight (wgan-gp): the run's ``gp.weight`` when set,
        else the objective's lambda; 0 for objectives without one."""
        if not self.objective.penalty_weight:
            return 0.0
        return float(self.spec.reg_params.get(IMPLIED_GP_WEIGHT, self.objective.penalty_weight))

    @property
    def hooks(self) -> list[Regularizer]:
        """Every regularizer the loop calls: implied ones (the objective's penalty,
        weight clipping) first, then the named ones."""
        return implied_regularizers(self.objective, self.settings.clip, self.penalty_weight) + self.regularizers

    def record(self) -> dict[str, Any]:
        """The JSON-able effective values recorded with the run."""
        return {
            **self.settings.record(), "backbone": self.backbone, "d_norm": self.d_norm,
            "d_dropout": self.d_dropout, "width": self.width, "g_dropout": self.g_dropout, "nz": self.spec.nz,
            **({"pack": self.pack} if self.pack != 1 else {}),
            "batch_size": self.spec.batch_size, "penalty_weight": self.penalty_weight,
            "regularizers": {r.name: dict(r.p) for r in self.regularizers},
            "device": self.device,
            "match": self.spec.match, "wall_budget_s": self.spec.wall_budget_s,
            **({"preset": self.spec.preset} if self.spec.preset else {}),
            **({"updates": self.spec.updates} if self.spec.updates else {}),
        }


def resolve_device(device: str = "auto") -> str:
    """``auto`` -> ``cuda`` when a GPU is present, else ``cpu``."""
    if device in (None, "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise GanZooError(f"device {device!r} asked for but no CUDA GPU is available; use --device cpu or auto")
    if device != "cpu" and not device.startswith("cuda"):
        raise GanZooError(f"unknown device {device!r}; valid: auto, cpu, cuda, cuda:N")
    return device


def resolve(spec: RunSpec) -> Resolved:
    """Check that a spec's fields go together and fill in every default. Raises
    GanZooError / NotApplicableError. (Each field alone was checked when the spec was
    made: :meth:`gan_zoo.spec.RunSpec.__post_init__`.)"""
    objective = get_loss(spec.loss)
    info = dataset_info(spec.dataset)
    regs = parse_regularizers(spec.regularizers, spec.reg_params, implied_params(objective))
    for reg in regs:
        reg.check(objective)
    if spec.conditional and info.num_classes == 0:
        raise GanZooError(f"dataset {spec.dataset!r} has no labels; a conditional run needs a labelled dataset")
    settings = TrainSettings.from_defaults(objective.defaults).overridden(spec)
    if spec.updates == "simultaneous" and settings.n_critic != 1:
        raise GanZooError(f"updates=simultaneous takes one critic step per step; {spec.loss} has "
                          f"n_critic={settings.n_critic}: set n_critic=1 or use alternating updates")
    backbone = spec.backbone or info.default_backbone

    # per-sample input gradients are wrong under batch norm (the penalty of one sample
    # would depend on the others), so those runs get layer norm unless told otherwise;
    # a penalised critic is deterministic (Gulrajani et al. 2017): no dropout either.
    # Spectral norm's D has no batch norm (Miyato et al. 2018): none unless told.
    input_grads = objective.penalty_weight > 0 or any(r.input_gradients for r in regs)
    deterministic = objective.penalty_weight > 0 or any(r.deterministic_critic for r in regs)
    no_bn = [r.name for r in regs if r.no_batch_norm]
    d_norm = spec.d_norm or ("layer" if input_grads else "none" if no_bn else "batch")
    if input_grads and d_norm == "batch":
        raise GanZooError("d_norm=batch cannot be used with a gradient penalty; valid here: layer, none")
    if no_bn and d_norm == "batch":
        raise GanZooError(f"d_norm=batch cannot be used with {no_bn[0]} (batch norm undoes its "
                          "Lipschitz bound); valid here: none, layer")

    build_kwargs = {"g_dropout": 0.0, "pack": 1}
    for reg in regs:
        reg.configure_backbone(build_kwargs)
    width = spec.width or backbone_defaults(backbone)["width"]
    if spec.d_dropout is not None and spec.d_dropout > 0 and deterministic:
        raise GanZooError(f"d_dropout={spec.d_dropout} cannot be used with a gradient penalty "
                          "(a penalised critic is deterministic); valid here: 0")
    d_dropout = (float(spec.d_dropout) if spec.d_dropout is not None
                 else 0.0 if deterministic else float(backbone_defaults(backbone)["d_dropout"]))
    return Resolved(spec=spec, objective=objective, regularizers=regs, settings=settings,
                    backbone=backbone, d_norm=d_norm, d_dropout=d_dropout, width=width,
                    g_dropout=build_kwargs["g_dropout"], device=resolve_device(spec.device),
                    pack=build_kwargs["pack"])


def build_networks(res: Resolved, shape: tuple, num_classes: int) -> tuple[nn.Module, nn.Module]:
    """G and D for a resolved run, with the regularizers' network changes applied."""
    g, d = build_backbone(
        res.backbone, shape=shape, nz=res.spec.nz, width=res.width, d_norm=res.d_norm,
        num_classes=num_classes if res.spec.conditional else 0, g_dropout=res.g_dropout,
        d_dropout=res.d_dropout, pack=res.pack,
    )
    for reg in res.regularizers:
        reg.wrap_networks(g, d)
    return g.to(res.device), d.to(res.device)
