"""Regularizers and training tricks, each a component of its own, off unless named.

A regularizer changes the run through small hooks that the one training loop calls;
it never reaches into the loss code:

- ``check(objective)``            refuse combinations that make no sense;
- ``configure_backbone(kwargs)``  change how G and D are built (dropout in G; D packing
  ``pack`` samples at once, which also makes every step draw ``pack`` times the batch);
- ``wrap_networks(G, D)``         modify built networks (spectral norm on D);
- ``targets(real_t, fake_t, ctx)``  change D's label targets (smoothing, soft/noisy labels);
- ``d_inputs(real_x, fake_x, ctx)`` change what D sees (instance noise);
- ``d_penalty(critic, real_x, fake_x, ctx)``  add a term to D's loss (gradient penalty);
- ``after_d_step(d)``               change D after each of its updates (weight clipping).

An objective's own Lipschitz device comes in through the same hooks, as an *implied*
regularizer (:func:`implied_regularizers`): WGAN-GP is the Wasserstein objective plus
an implied ``gp``; WGAN is the Wasserstein objective plus implied weight clipping.
Implied regularizers are not recorded under the run's named regularizers.

Names combine with ``+`` (``soft-labels+instance-noise``); parameters are overridable
with ``NAME.PARAM`` keys (``{"soft-labels.real_low": 0.8}``) and recorded with the run.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from gan_zoo.errors import GanZooError, NotApplicableError
from gan_zoo.losses import Objective, gradient_penalty
from gan_zoo.registry import Registry

__all__ = [
    "Regularizer",
    "StepContext",
    "register_regularizer",
    "get_regularizer",
    "list_regularizers",
    "parse_regularizers",
    "implied_regularizers",
    "implied_params",
    "IMPLIED_GP_WEIGHT",
    "WeightClipping",
]

REGULARIZERS: Registry[type["Regularizer"]] = Registry("regularizer")


@dataclass
class StepContext:
    """What a hook may need to know about the current step."""

    step: int  # generator steps done so far
    total_steps: int
    generator: torch.Generator  # on the training device; its state is checkpointed


class Regularizer:
    """Base class: every hook is a no-op; subclasses override the ones they need."""

    name: str = ""
    source: str = ""
    summary: str = ""
    params: dict = {}
    #: parameter -> (lowest, highest, what is allowed): a value outside is one line
    limits: dict = {}
    label_trick: bool = False  # changes D's targets: needs an objective with targets
    input_gradients: bool = False  # takes per-sample input gradients: no batch norm in D
    #: D must be a deterministic function of its input (a gradient penalty is taken on
    #: the critic itself, not on a random draw of it): no dropout, no batch norm
    deterministic_critic: bool = False
    #: D must not use batch norm (spectral norm: its normalization undoes the bound)
    no_batch_norm: bool = False
    order: int = 50  # hooks of several regularizers run in ascending order

    def __init__(self, **overrides):
        unknown = sorted(set(overrides) - set(self.params))
        if unknown:
            allowed = ", ".join(f"{self.name}.{k}" for k in self.params) or "none"
            raise GanZooError(f"unknown parameter(s) {', '.join(f'{self.name}.{k}' for k in unknown)}; "
                              f"valid: {allowed}")
        self.p = {**self.params, **{k: self._convert(k, v) for k, v in overrides.items()}}
        self.overridden = frozenset(overrides)
        for key, (low, high, allowed) in self.limits.items():
            if not low <= self.p[key] <= high:
                raise GanZooError(f"{self.name}.{key}={self.p[key]!r} is not allowed; "
                                  f"{self.name}.{key} must be {allowed}")

    def _convert(self, key: str, value):
        """``value`` as the type of parameter ``key``'s default: a number, and a whole one
        for an integer parameter; anything else is one line naming the parameter."""
        kind = type(self.params[key])
        try:
            number = float(value)
            ok = not isinstance(value, bool) and (kind is not int or number == int(number))
        except (TypeError, ValueError, OverflowError):
            ok = False
        if not ok:
            what = "a whole number" if kind is int else "a number"
            raise GanZooError(f"{self.name}.{key}={value!r} is not allowed; {self.name}.{key} must be {what}")
        return kind(number)

    def check(self, objective: Objective) -> None:
        if self.label_trick and not objective.has_targets:
            raise NotApplicableError(
                f"not applicable: {self.name} changes label targets and {objective.name} has none"
            )

    def configure_backbone(self, kwargs: dict) -> None:
        pass

    def check_targets_range(self, objective: Objective, low: float, high: float) -> None:
        """A sigmoid-family (BCE) objective takes targets within [0, 1] only."""
        if objective.sigmoid_targets and (low < 0.0 or high > 1.0):
            raise GanZooError(
                f"{self.name} targets [{low:g}, {high:g}] leave [0, 1], where {objective.name}'s "
                "binary cross-entropy is unbounded below; valid for the sigmoid family: within [0, 1]"
            )

    def wrap_networks(self, g: nn.Module, d: nn.Module) -> None:
        pass

    def targets(self, real_t: Tensor, fake_t: Tensor, ctx: StepContext) -> tuple[Tensor, Tensor]:
        return real_t, fake_t

    def d_inputs(self, real_x: Tensor, fake_x: Tensor, ctx: StepContext) -> tuple[Tensor, Tensor]:
        return real_x, fake_x

    def d_penalty(self, critic, real_x: Tensor, fake_x: Tensor, ctx: StepContext) -> Tensor | None:
        return None

    def after_d_step(self, d: nn.Module) -> None:
        pass

    def __repr__(self) -> str:
        return f"<regularizer {self.name} {self.p}>"


def register_regularizer(name: str):
    """Class decorator registering a Regularizer subclass under ``name``."""

    def wrap(cls):
        cls.name = name
        REGULARIZERS.register(name, cls)
        return cls

    return wrap


def get_regularizer(name: str, **overrides) -> Regularizer:
    return REGULARIZERS.get(name)(**overrides)


def list_regularizers(pattern: str = "*") -> list[str]:
    return REGULARIZERS.names(pattern)


def parse_regularizers(text: str | None, params: dict | None = None,
                       implied: tuple[str, ...] = ()) -> list[Regularizer]:
    """``"soft-labels+instance-noise"`` -> instances in hook order; ``"none"`` -> [].

    ``params`` maps ``NAME.PARAM`` to values; a key for a regularizer not in ``text``
    is an error, so a misspelled override never goes silently unused. Keys in
    ``implied`` (:func:`implied_params`: ``gp.weight`` of an objective with a built-in
    penalty) set an implied regularizer: checked against its limits here, applied by
    :func:`implied_regularizers`.
    """
    params = dict(params or {})
    for key in implied:
        if key in params:
            name, _, param = key.partition(".")
            get_regularizer(name, **{param: params.pop(key)})  # out of its limits: one line
    names = [] if text in (None, "", "none") else [n.strip() for n in str(text).split("+")]
    if len(set(names)) != len(names):
        raise GanZooError(f"regularizer named twice in {text!r}")
    by_name: dict[str, dict] = {n: {} for n in names}
    for key, value in params.items():
        reg, _, param = str(key).partition(".")
        if reg not in by_name or not param:
            raise GanZooError(
                f"reg_params key {key!r} must be NAME.PARAM for a regularizer of this run "
                f"({', '.join(names) or 'none'})"
            )
        by_name[reg][param] = value
    regs = [get_regularizer(n, **by_name[n]) for n in names]
    return sorted(regs, key=lambda r: r.order)


# ---------------------------------------------------------------------------
# label tricks

@register_regularizer("one-sided-smoothing")
class OneSidedSmoothing(Regularizer):
    """Real target 0.9, fake target 0 (smoothing only the real side, so D is not pushed
    to reward fakes)."""

    source = "Salimans et al. 2016, Improved Techniques for Training GANs, arXiv:1606.03498"
    summary = "real target 0.9, fake target 0"
    params = {"real": 0.9}
    label_trick = True
    order = 10

    def check(self, objective):
        super().check(objective)
        self.check_targets_range(objective, self.p["real"], self.p["real"])

    def targets(self, real_t, fake_t, ctx):
        return torch.full_like(real_t, self.p["real"]), fake_t


@register_regularizer("soft-labels")
class SoftLabels(Regularizer):
    """Targets drawn every step: real ~ U(0.7, 1.2), fake ~ U(0.0, 0.3) for least-squares
    objectives; for the sigmoid (BCE) family the real range stops at 1 (U(0.7, 1.0)),
    since a BCE target above 1 has no lower bound. :meth:`check` sets the range for the
    run's objective (``real_high`` unless overridden) and refuses BCE targets outside
    [0, 1]."""

    source = "ganhacks (Chintala et al. 2016)"
    summary = ("real ~ U(0.7, 1.2) (least squares) or U(0.7, 1.0) (sigmoid family), "
               "fake ~ U(0.0, 0.3), resampled every step")
    params = {"real_low": 0.7, "real_high": 1.2, "fake_low": 0.0, "fake_high": 0.3}
    #: the real upper bound for objectives whose targets go into BCE
    sigmoid_real_high = 1.0
    label_trick = True
    order = 10

    def check(self, objective):
        super().check(objective)
        if objective.sigmoid_targets and "real_high" not in self.overridden:
            self.p["real_high"] = self.sigmoid_real_high
        p = self.p
        if p["real_low"] > p["real_high"] or p["fake_low"] > p["fake_high"]:
            raise GanZooError(f"soft-labels ranges must have low <= high, got {p}")
        self.check_targets_range(objective, min(p["real_low"], p["fake_low"]),
                                 max(p["real_high"], p["fake_high"]))

    def targets(self, real_t, fake_t, ctx):
        p, g = self.p, ctx.generator
        real = p["real_low"] + (p["real_high"] - p["real_low"]) * torch.rand(
            real_t.shape, generator=g, device=g.device).to(real_t)
        fake = p["fake_low"] + (p["fake_high"] - p["fake_low"]) * torch.rand(
            fake_t.shape, generator=g, device=g.device).to(fake_t)
        return real, fake


@register_regularizer("noisy-labels")
class NoisyLabels(Regularizer):
    """Each D target is flipped with probability p: a flipped real sample gets the fake
    target of its batch position, and the other way round."""

    source = "ganhacks (Chintala et al. 2016)"
    summary = "flip each D target with probability 0.05"
    params = {"p": 0.05}
    limits = {"p": (0.0, 1.0, "a probability in [0, 1]")}
    label_trick = True
    order = 20  # after the tricks that set targets

    def targets(self, real_t, fake_t, ctx):
        g = ctx.generator
        flip_r = (torch.rand(real_t.shape, generator=g, device=g.device) < self.p["p"]).to(real_t.device)
        flip_f = (torch.rand(fake_t.shape, generator=g, device=g.device) < self.p["p"]).to(fake_t.device)
        return torch.where(flip_r, fake_t, real_t), torch.where(flip_f, real_t, fake_t)


# ---------------------------------------------------------------------------
# inputs and networks

@register_regularizer("instance-noise")
class InstanceNoise(Regularizer):
    """Gaussian noise on D's real and fake inputs, its std decaying linearly from sigma
    to 0 over training, so the two distributions overlap early on."""

    source = "ganhacks; Arjovsky & Bottou 2017, arXiv:1701.04862; Sønderby et al. 2017"
    summary = "Gaussian noise on D's inputs, sigma 0.1 decaying linearly to 0"
    params = {"sigma": 0.1}
    limits = {"sigma": (0.0, float("inf"), "a standard deviation >= 0")}

    def sigma_at(self, ctx: StepContext) -> float:
        return self.p["sigma"] * max(0.0, 1.0 - ctx.step / max(1, ctx.total_steps))

    def d_inputs(self, real_x, fake_x, ctx):
        s = self.sigma_at(ctx)
        if s == 0.0:
            return real_x, fake_x
        g = ctx.generator
        noise_r = torch.randn(real_x.shape, generator=g, device=g.device).to(real_x)
        noise_f = torch.randn(fake_x.shape, generator=g, device=g.device).to(fake_x)
        return real_x + s * noise_r, fake_x + s * noise_f


@register_regularizer("g-dropout")
class GeneratorDropout(Regularizer):
    """Dropout with p = 0.5 after G's hidden layers, kept on when sampling too."""

    source = "ganhacks; Isola et al. 2017 (pix2pix), arXiv:1611.07004"
    summary = "dropout 0.5 in G's hidden layers, also at sampling time"
    params = {"p": 0.5}
    limits = {"p": (0.0, 0.999, "a dropout probability in [0, 1)")}

    def configure_backbone(self, kwargs):
        kwargs["g_dropout"] = self.p["p"]


@register_regularizer("spectral-norm")
class SpectralNorm(Regularizer):
    """Spectral normalization of every weight layer of D (one power iteration per step)."""

    source = "Miyato et al. 2018, Spectral Normalization for GANs, arXiv:1802.05957"
    summary = "spectral normalization on D's weight layers, no batch norm in D"
    params = {}
    no_batch_norm = True

    def wrap_networks(self, g, d):
        from torch.nn.utils.parametrizations import spectral_norm

        for module in list(d.modules()):
            if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
                spectral_norm(module)


@register_regularizer("gp")
class GradientPenalty(Regularizer):
    """The WGAN-GP penalty lambda * E (||grad C(x_hat)||_2 - 1)^2 added to any objective's
    D loss (RSGAN-GP, RaSGAN-GP of Jolicoeur-Martineau 2019, arXiv:1807.00734)."""

    source = "Gulrajani et al. 2017, arXiv:1704.00028"
    summary = "gradient penalty, lambda 10"
    params = {"weight": 10.0}
    limits = {"weight": (0.0, float("inf"), "a penalty weight >= 0")}
    input_gradients = True
    deterministic_critic = True

    def check(self, objective):
        super().check(objective)
        if objective.penalty_weight:
            raise NotApplicableError(
                f"not applicable: {objective.name} already includes the gradient penalty"
            )

    def d_penalty(self, critic, real_x, fake_x, ctx):
        return gradient_penalty(critic, real_x, fake_x, self.p["weight"], generator=ctx.generator)


@register_regularizer("pac")
class Packing(Regularizer):
    """PacGAN: D judges ``m`` samples at once, real with real and fake with fake,
    concatenated along features (points) or channels (images), through an input layer
    ``m`` times wider; the objective is applied to the packed logits unchanged.

    ``batch_size`` then counts D's examples (packs), as in PacGAN's code: each critic
    step draws ``m * batch_size`` real samples and as many fakes, and G's step
    ``m * batch_size`` fakes. ``m = 1`` is the plain D, step for step. A gradient
    penalty is taken per pack (the norm of the gradient over the pack's ``m`` samples).
    """

    source = "Lin et al. 2018, PacGAN: The power of two samples in GANs, arXiv:1712.04086"
    summary = "D sees packs of m = 2 samples (input layer m times wider); batch counts packs"
    params = {"m": 2}
    limits = {"m": (1, float("inf"), "an integer >= 1 (samples per pack)")}
    order = 5

    def configure_backbone(self, kwargs):
        kwargs["pack"] = self.p["m"]


# ---------------------------------------------------------------------------
# implied by the objective and its settings (not named by users)

class WeightClipping(Regularizer):
    """Clip every weight of D to [-c, c] after each D update (WGAN's Lipschitz device)."""

    name = "weight-clipping"
    source = "Arjovsky et al. 2017, arXiv:1701.07875"
    summary = "clip D's weights to [-c, c] after each update"
    params = {"clip": 0.01}
    limits = {"clip": (1e-12, float("inf"), "a number > 0")}

    def after_d_step(self, d):
        c = self.p["clip"]
        with torch.no_grad():
            for p in d.parameters():
                p.clamp_(-c, c)


#: the ``reg_params`` key that sets an objective's built-in gradient penalty (wgan-gp's
#: lambda), as it sets the ``gp`` regularizer's weight on other objectives
IMPLIED_GP_WEIGHT = "gp.weight"


def implied_params(objective: Objective) -> tuple[str, ...]:
    """``reg_params`` keys that set ``objective``'s implied regularizers."""
    return (IMPLIED_GP_WEIGHT,) if objective.penalty_weight else ()


def implied_regularizers(objective: Objective, clip: float | None,
                         penalty_weight: float | None = None) -> list[Regularizer]:
    """The hooks a run has without naming them: the objective's built-in gradient
    penalty (wgan-gp; at ``penalty_weight`` when given, the run's ``gp.weight``, else
    the objective's lambda) and weight clipping when the resolved ``clip`` is set (wgan).

    They run before the named regularizers' hooks (the penalty is added to D's loss
    first), which keeps the order of every random draw of the former loop branches.
    """
    hooks: list[Regularizer] = []
    if objective.penalty_weight:
        weight = objective.penalty_weight if penalty_weight is None else penalty_weight
        hooks.append(GradientPenalty(weight=weight))
    if clip:
        hooks.append(WeightClipping(clip=clip))
    return hooks
