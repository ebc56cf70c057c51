"""The objective zoo: every GAN loss as two small functions of the critic's raw logits.

Conventions (exact): ``C`` is the raw output of D (a logit, no sigmoid in
the network), ``sigma`` the logistic sigmoid, ``E`` the batch mean. Every objective has

    d_loss(real_logits, fake_logits) -> 0-dim tensor that D minimizes
    g_loss(real_logits, fake_logits) -> 0-dim tensor that G minimizes

always called real before fake. Objectives with label targets (the sigmoid and
least-squares families) take optional ``real_target`` / ``fake_target`` (floats or
per-sample tensors, in probability units: real 1, fake 0 by default) so label tricks
change targets without touching loss code. Target-free objectives (hinge, wgan,
wgan-gp, rahinge) refuse targets with :class:`NotApplicableError`.

Everything is written with stable primitives (softplus, binary_cross_entropy_with_logits)
so the formulas hold for logits of any magnitude; ``log(sigmoid(x) + eps)`` never appears.
"""

from __future__ import annotations

import warnings
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from gan_zoo.errors import NotApplicableError
from gan_zoo.registry import Registry
from gan_zoo.settings import TrainSettings

__all__ = [
    "Objective",
    "register_loss",
    "get_loss",
    "list_losses",
    "gradient_penalty",
    "ENTRY_POINT_GROUP",
]

ENTRY_POINT_GROUP = "gan_zoo.losses"

_REGISTRY: Registry["Objective"] = Registry("objective")
_entry_points_loaded = False

Target = float | Tensor | None


class Objective:
    """Base class of an objective: two loss functions of logits plus metadata.

    Subclasses set the class attributes and implement ``d_loss`` / ``g_loss``.
    The training loop reads the remaining attributes to pick defaults and to log.
    """

    name: str = ""
    d_formula: str = ""
    g_formula: str = ""
    paper: str = ""
    has_targets: bool = False
    #: targets go into binary cross-entropy (the sigmoid family): they must stay within
    #: [0, 1], where the loss is bounded below (a target above 1 pays D for ever larger
    #: logits); least-squares targets may leave that range
    sigmoid_targets: bool = False
    #: logit value midway between the objective's two targets (its decision boundary)
    boundary: float = 0.0
    #: whether mean sigma(C) is a meaningful "probability real" to log (else raw scores)
    reports_probability: bool = False
    #: weight of the gradient penalty built into the objective (WGAN-GP); the run adds
    #: it as an implied ``gp`` regularizer (0: none)
    penalty_weight: float = 0.0
    #: whether g_loss reads real_logits; if not, the loop skips D's forward pass on reals
    #: in the generator step (True is the safe default for new objectives)
    g_uses_real: bool = True
    #: training defaults from the objective's paper, one value per field of
    #: :class:`~gan_zoo.settings.TrainSettings` (checked at registration); every value
    #: is overridable
    defaults: dict = {
        "optimizer": "adam", "lr_g": 2e-4, "lr_d": 2e-4,
        "beta1": 0.5, "beta2": 0.999, "n_critic": 1, "clip": None,
    }

    def d_loss(self, real_logits: Tensor, fake_logits: Tensor, real_target: Target = None,
               fake_target: Target = None) -> Tensor:
        raise NotImplementedError

    def g_loss(self, real_logits: Tensor, fake_logits: Tensor, real_target: Target = None,
               fake_target: Target = None) -> Tensor:
        raise NotImplementedError

    # -- helpers ------------------------------------------------------------

    def refuse_targets(self, real_target: Target, fake_target: Target) -> None:
        """Raise NotApplicableError if targets are given to a target-free objective."""
        if not self.has_targets and (real_target is not None or fake_target is not None):
            raise NotApplicableError(
                f"objective {self.name!r} has no label targets; label tricks apply to: "
                f"{', '.join(n for n in list_losses() if get_loss(n).has_targets)}"
            )

    def targets(self, like: Tensor, real_target: Target, fake_target: Target) -> tuple[Tensor, Tensor]:
        """Real and fake targets as tensors shaped like ``like`` (defaults 1 and 0)."""
        self.refuse_targets(real_target, fake_target)
        rt = torch.ones_like(like) if real_target is None else torch.as_tensor(real_target, dtype=like.dtype, device=like.device)
        ft = torch.zeros_like(like) if fake_target is None else torch.as_tensor(fake_target, dtype=like.dtype, device=like.device)
        return rt.expand_as(like), ft.expand_as(like)

    def describe(self) -> str:
        lines = [
            f"{self.name}",
            f"  D minimizes: {self.d_formula}",
            f"  G minimizes: {self.g_formula}",
            f"  paper:       {self.paper}",
            f"  targets:     {'yes (real 1, fake 0 by default)' if self.has_targets else 'none'}",
        ]
        d = self.defaults
        opt = f"{d['optimizer']} lr_g={d['lr_g']:g} lr_d={d['lr_d']:g}"
        if d["optimizer"] == "adam":
            opt += f" betas=({d['beta1']:g}, {d['beta2']:g})"
        opt += f" n_critic={d['n_critic']}"
        if d.get("clip"):
            opt += f" clip={d['clip']:g}"
        if self.penalty_weight:
            opt += f" gradient penalty lambda={self.penalty_weight:g}"
        lines.append(f"  defaults:    {opt}")
        doc = (type(self).__doc__ or "").strip()
        if doc:
            lines.append("")
            lines.extend("  " + ln.strip() for ln in doc.splitlines())
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<objective {self.name!r}>"


def register_loss(name: str) -> Callable:
    """Class decorator: ``@register_loss("ns") class NonSaturating(Objective): ...``.

    Registers one instance under ``name``; also accepts an ``Objective`` instance.
    A name already in use raises ``ValueError``.
    """

    def wrap(cls_or_obj):
        obj = cls_or_obj() if isinstance(cls_or_obj, type) else cls_or_obj
        if not isinstance(obj, Objective):
            raise TypeError(f"register_loss expects an Objective subclass or instance, got {obj!r}")
        TrainSettings.from_defaults(obj.defaults, f"objective {name!r}")  # typed settings only
        obj.name = name
        _REGISTRY.register(name, obj)
        return cls_or_obj

    return wrap


def _load_entry_points() -> None:
    """Register third-party objectives published under the ``gan_zoo.losses`` group.

    An entry point names an ``Objective`` subclass or instance; its name becomes the
    objective's name. A plugin that fails to load is reported as a warning, not a crash.
    """
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in _REGISTRY:
            continue
        try:
            register_loss(ep.name)(ep.load())
        except Exception as exc:  # a broken plugin must not take the zoo down
            warnings.warn(f"gan-zoo: could not load objective plugin {ep.name!r} ({ep.value}): {exc}")


def reload_entry_points() -> None:
    """Look for plugin objectives again (e.g. after installing one in a running session)."""
    global _entry_points_loaded
    _entry_points_loaded = False
    _load_entry_points()


def get_loss(name: str) -> Objective:
    """The registered objective ``name``; unknown names raise ValueError listing valid ones."""
    _load_entry_points()
    return _REGISTRY.get(name)


def list_losses(pattern: str = "*") -> list[str]:
    """Registered objective names matching an fnmatch ``pattern``, sorted."""
    _load_entry_points()
    return _REGISTRY.names(pattern)


# ---------------------------------------------------------------------------
# stable building blocks

def _bce(logits: Tensor, target: Tensor) -> Tensor:
    """E[-t log sigma(x) - (1 - t) log(1 - sigma(x))], stable for any x."""
    return F.binary_cross_entropy_with_logits(logits, target)


def _relativistic(real: Tensor, fake: Tensor) -> tuple[Tensor, Tensor]:
    """C(xr) - E C(xf) and C(xf) - E C(xr): the relativistic average discriminator inputs."""
    return real - fake.mean(), fake - real.mean()


_WGAN_GP_DEFAULTS = {"optimizer": "adam", "lr_g": 1e-4, "lr_d": 1e-4,
                     "beta1": 0.0, "beta2": 0.9, "n_critic": 5, "clip": None}
_WGAN_DEFAULTS = {"optimizer": "rmsprop", "lr_g": 5e-5, "lr_d": 5e-5,
                  "beta1": None, "beta2": None, "n_critic": 5, "clip": 0.01}


# ---------------------------------------------------------------------------
# the sigmoid family

@register_loss("minimax")
class Minimax(Objective):
    """The original saturating game of Goodfellow et al. (2014): G minimizes
    E log(1 - sigma(C(xf))), whose gradient vanishes when D confidently rejects fakes."""

    d_formula = "-E log sigma(C(xr)) - E log(1 - sigma(C(xf)))"
    g_formula = "E log(1 - sigma(C(xf)))"
    paper = "Goodfellow et al. 2014, Generative Adversarial Nets, arXiv:1406.2661"
    g_uses_real = False
    has_targets = True
    sigmoid_targets = True
    reports_probability = True

    def d_loss(self, real_logits, fake_logits, real_target=None, fake_target=None):
        rt, _ = self.targets(real_logits, real_target, None)
        _, ft = self.targets(fake_logits, None, fake_target)
        return _bce(real_logits, rt) + _bce(fake_logits, ft)

    def g_loss(self, real_logits, fake_logits, real_target=None, fake_target=None):
        # log(1 - sigma(x)) = -softplus(x); with a soft fake target t: -BCE(x, t)
        _, ft = self.targets(fake_logits, None, fake_target)
        return -_bce(fake_logits, ft)


@register_loss("ns")
class NonSaturating(Minimax):
    """The non-saturating heuristic of Goodfellow et al. (2014): G maximizes log sigma(C(xf))
    instead, which keeps a gradient of order 1 when D rejects fakes (also the SGAN of
    Jolicoeur-Martineau 2018)."""

    g_formula = "-E log sigma(C(xf))"

    def g_loss(self, real_logits, fake_logits, real_target=None, fake_target=None):
        rt, _ = self.targets(fake_logits, real_target, None)
        return _bce(fake_logits, rt)


# ---------------------------------------------------------------------------
# least squares

@register_loss("lsgan")
class LeastSquares(Objective):
    """Least-squares GAN with targets real 1, fake 0 and G target 1 (the 0-1 coding of
    Mao et al. 2017), without the 1/2 factors."""

    d_formula = "E (C(xr) - 1)^2 + E C(xf)^2"
    g_formula = "E (C(xf) - 1)^2"
    paper = "Mao et al. 2017, Least Squares Generative Adversarial Networks, arXiv:1611.04076"
    g_uses_real = False
    has_targets = True
    boundary = 0.5

    def d_loss(self, real_logits, fake_logits, real_target=None, fake_target=None):
        rt, _ = self.targets(real_logits, real_target, None)
        _, ft = self.targets(fake_logits, None, fake_target)
        return ((real_logits - rt) ** 2).mean() + ((fake_logits - ft) ** 2).mean()

    def g_loss(self, real_logits, fake_logits, real_target=None, fake_target=None):
        rt, _ = self.targets(fake_logits, real_target, None)
        return ((fake_logits - rt) ** 2).mean()


# ---------------------------------------------------------------------------
# hinge and Wasserstein critics (no label targets)

@register_loss("hinge")
class Hinge(Objective):
    """Hinge loss for D with margins at +-1; G maximizes the critic's score on fakes."""

    d_formula = "E max(0, 1 - C(xr)) + E max(0, 1 + C(xf))"
    g_formula = "-E C(xf)"
    paper = "Lim & Ye 2017, Geometric GAN, arXiv:1705.02894; Miyato et al. 2018, arXiv:1802.05957"
    g_uses_real = False

    def d_loss(self, real_logits, fake_logits, real_target=None, fake_target=None):
        self.refuse_targets(real_target, fake_target)
        return F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean()

    def g_loss(self, real_logits, fake_logits, real_target=None, fake_target=None):
        self.refuse_targets(real_target, fake_target)
        return -fake_logits.mean()


@register_loss("wgan")
class Wasserstein(Objective):
    """Wasserstein GAN: the critic estimates E C(xr) - E C(xf); Lipschitz continuity is
    enforced by clipping D's weights to [-0.01, 0.01] after each update."""

    d_formula = "E C(xf) - E C(xr)"
    g_formula = "-E C(xf)"
    paper = "Arjovsky et al. 2017, Wasserstein GAN, arXiv:1701.07875"
    g_uses_real = False
    defaults = _WGAN_DEFAULTS

    def d_loss(self, real_logits, fake_logits, real_target=None, fake_target=None):
        self.refuse_targets(real_target, fake_target)
        return fake_logits.mean() - real_logits.mean()

    def g_loss(self, real_logits, fake_logits, real_target=None, fake_target=None):
        self.refuse_targets(real_target, fake_target)
        return -fake_logits.mean()


@register_loss("wgan-gp")
class WassersteinGP(Wasserstein):
    """WGAN with gradient penalty. ``d_loss`` of logits is the Wasserstein part; the
    training loop adds lambda * GP (``penalty_weight`` = 10) through
    :func:`gradient_penalty`, which needs the critic and the inputs, not just logits."""

    d_formula = "E C(xf) - E C(xr) + lambda * GP,  GP = E (||grad C(x_hat)||_2 - 1)^2, lambda = 10"
    paper = "Gulrajani et al. 2017, Improved Training of Wasserstein GANs, arXiv:1704.00028"
    penalty_weight = 10.0
    defaults = _WGAN_GP_DEFAULTS


# ---------------------------------------------------------------------------
# relativistic objectives (Jolicoeur-Martineau 2018, arXiv:1807.00734)

_RGAN_PAPER = "Jolicoeur-Martineau 2018, The relativistic discriminator, arXiv:1807.00734"


@register_loss("rsgan")
class RelativisticStandard(Objective):
    """Relativistic standard GAN: D estimates the probability that a real sample is more
    realistic than the fake it is paired with (sample i with sample i).

    Label targets act at half strength: D's loss averages the pair's two views,
    BCE(d, rt) and BCE(-d, ft) = BCE(d, 1 - ft), which is BCE(d, (rt + 1 - ft) / 2)
    for d = C(xr) - C(xf); one-sided smoothing's real target 0.9 thus acts as 0.95,
    and a fake target 0.1 as 0.95 too. With the default targets the loss equals the
    original code's."""

    d_formula = "-E log sigma(C(xr) - C(xf))"
    g_formula = "-E log sigma(C(xf) - C(xr))"
    paper = _RGAN_PAPER
    has_targets = True
    sigmoid_targets = True

    def d_loss(self, real_logits, fake_logits, real_target=None, fake_target=None):
        # BCE(x, 1) = BCE(-x, 0), so averaging both views is exact for the default
        # targets and lets a fake target act on the same pair.
        rt, ft = self.targets(real_logits, real_target, fake_target)
        diff = real_logits - fake_logits
        return 0.5 * (_bce(diff, rt) + _bce(-diff, ft))

    def g_loss(self, real_logits, fake_logits, real_target=None, fake_target=None):
        rt, ft = self.targets(fake_logits, real_target, fake_target)
        diff = fake_logits - real_logits
        return 0.5 * (_bce(diff, rt) + _bce(-diff, ft))


@register_loss("rasgan")
class RelativisticAverageStandard(Objective):
    """Relativistic average standard GAN: each sample is compared with the mean logit of
    the other kind, D~(xr) = sigma(C(xr) - E C(xf)), D~(xf) = sigma(C(xf) - E C(xr)).

    Scale: this loss is the sum of its two terms, twice the original relativistic-GAN
    code's (which halves the sum), so a ``gp`` penalty at weight 10 is half as strong
    relative to it as weight 10 there (use 20 to match)."""

    d_formula = "-E log sigma(C(xr) - E C(xf)) - E log(1 - sigma(C(xf) - E C(xr)))"
    g_formula = "-E log sigma(C(xf) - E C(xr)) - E log(1 - sigma(C(xr) - E C(xf)))"
    paper = _RGAN_PAPER
    has_targets = True
    sigmoid_targets = True

    def d_loss(self, real_logits, fake_logits, real_target=None, fake_target=None):
        rel_r, rel_f = _relativistic(real_logits, fake_logits)
        rt, _ = self.targets(rel_r, real_target, None)
        _, ft = self.targets(rel_f, None, fake_target)
        return _bce(rel_r, rt) + _bce(rel_f, ft)

    def g_loss(self, real_logits, fake_logits, real_target=None, fake_target=None):
        rel_r, rel_f = _relativistic(real_logits, fake_logits)
        rt, _ = self.targets(rel_f, real_target, None)
        _, ft = self.targets(rel_r, None, fake_target)
        return _bce(rel_f, rt) + _bce(rel_r, ft)


@register_loss("ralsgan")
class RelativisticAverageLeastSquares(Objective):
    """Relativistic average LSGAN with the +-1 coding of the paper. Targets given in
    probability units t (real 1, fake 0) map to 2t - 1, so the defaults are +1 and -1
    and one-sided smoothing's 0.9 becomes 0.8.

    Scale: this loss is the sum of its two terms, twice the original relativistic-GAN
    code's (which halves the sum), so a ``gp`` penalty at weight 10 is half as strong
    relative to it as weight 10 there (use 20 to match)."""

    d_formula = "E (C(xr) - E C(xf) - 1)^2 + E (C(xf) - E C(xr) + 1)^2"
    g_formula = "E (C(xf) - E C(xr) - 1)^2 + E (C(xr) - E C(xf) + 1)^2"
    paper = _RGAN_PAPER
    has_targets = True

    def d_loss(self, real_logits, fake_logits, real_target=None, fake_target=None):
        rel_r, rel_f = _relativistic(real_logits, fake_logits)
        rt, _ = self.targets(rel_r, real_target, None)
        _, ft = self.targets(rel_f, None, fake_target)
        return ((rel_r - (2 * rt - 1)) ** 2).mean() + ((rel_f - (2 * ft - 1)) ** 2).mean()

    def g_loss(self, real_logits, fake_logits, real_target=None, fake_target=None):
        rel_r, rel_f = _relativistic(real_logits, fake_logits)
        rt, _ = self.targets(rel_f, real_target, None)
        _, ft = self.targets(rel_r, None, fake_target)
        return ((rel_f - (2 * rt - 1)) ** 2).mean() + ((rel_r - (2 * ft - 1)) ** 2).mean()


@register_loss("rahinge")
class RelativisticAverageHinge(Objective):
    """Relativistic average hinge GAN: the hinge margins applied to C(xr) - E C(xf) and
    C(xf) - E C(xr); G plays the same game with the roles of real and fake exchanged.

    Scale: this loss is the sum of its two terms, twice the original relativistic-GAN
    code's (which halves the sum), so a ``gp`` penalty at weight 10 is half as strong
    relative to it as weight 10 there (use 20 to match)."""

    d_formula = "E max(0, 1 - (C(xr) - E C(xf))) + E max(0, 1 + (C(xf) - E C(xr)))"
    g_formula = "E max(0, 1 - (C(xf) - E C(xr))) + E max(0, 1 + (C(xr) - E C(xf)))"
    paper = _RGAN_PAPER

    def d_loss(self, real_logits, fake_logits, real_target=None, fake_target=None):
        self.refuse_targets(real_target, fake_target)
        rel_r, rel_f = _relativistic(real_logits, fake_logits)
        return F.relu(1.0 - rel_r).mean() + F.relu(1.0 + rel_f).mean()

    def g_loss(self, real_logits, fake_logits, real_target=None, fake_target=None):
        self.refuse_targets(real_target, fake_target)
        rel_r, rel_f = _relativistic(real_logits, fake_logits)
        return F.relu(1.0 - rel_f).mean() + F.relu(1.0 + rel_r).mean()


# ---------------------------------------------------------------------------
# gradient penalty (Gulrajani et al. 2017)

def gradient_penalty(
    critic: Callable[[Tensor], Tensor],
    real: Tensor,
    fake: Tensor,
    weight: float = 10.0,
    *,
    eps: Tensor | None = None,
    generator: torch.Generator | None = None,
) -> Tensor:
    """weight * E (||grad_x C(x_hat)||_2 - 1)^2 with x_hat = eps * xr + (1 - eps) * xf.

    ``eps ~ U[0, 1]`` per sample (drawn with ``generator`` when given, or passed in).
    Works for any input shape (images (B, C, H, W), points (B, 2)): the norm is taken
    over all non-batch dimensions. ``create_graph=True`` so the critic's update
    differentiates through the penalty. A conditional critic is passed as a closure,
    e.g. ``lambda x: D(x, labels)``.
    """
    if real.shape != fake.shape:
        raise ValueError(f"real and fake must have the same shape, got {tuple(real.shape)} and {tuple(fake.shape)}")
    batch = real.shape[0]
    bshape = (batch,) + (1,) * (real.dim() - 1)
    if eps is None:
        eps = torch.rand(bshape, generator=generator, device=generator.device if generator else real.device)
    eps = eps.to(device=real.device, dtype=real.dtype).reshape(bshape)
    x_hat = (eps * real.detach() + (1.0 - eps) * fake.detach()).requires_grad_(True)
    scores = critic(x_hat)
    (grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
    # one norm per critic output: a packing critic (PacGAN) scores groups of consecutive
    # samples, and its input is the whole group
    norms = grad.reshape(scores.shape[0], -1).norm(2, dim=1)
    return weight * ((norms - 1.0) ** 2).mean()
