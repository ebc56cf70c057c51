"""Fixed generator / discriminator pairs that every objective is trained with.

The zoo compares objectives, so the networks stay fixed per dataset:

- ``dcgan28``: a DCGAN for MNIST (28x28, width 32, D dropout 0.2).
- ``dcgan32`` / ``dcgan64``: Radford et al. 2016 DCGAN (its 64x64 layer table;
  32x32 drops one up/down block), width 64.
- ``mlp``: the fully connected GAN of Goodfellow et al. 2014 (arXiv:1406.2661) for
  images; a small ReLU/LeakyReLU pair for 2-D points.
- ``mlp-pacgan``: PacGAN's 2-D pair (Lin et al. 2018): G with four batch-normed ReLU
  layers of 400, D with three maxout layers of 200; its own init (N(0, 0.02)).

Conventions shared by every pair:

- ``G(z, labels=None) -> (B, *shape)``; image outputs end in ``tanh`` (data lives in
  [-1, 1]); the 2-D point generator is linear (the grid spans +-4).
- ``D(x, labels=None) -> (B,)`` raw logits, never a sigmoid: objectives apply their
  own stable link (``softplus`` / ``logsigmoid``) or none (WGAN, hinge).
- Conditional (``num_classes > 0``; Mirza & Osindero 2014, arXiv:1411.1784): G gets a one-hot label appended to z;
  a conv D gets ``num_classes`` one-hot planes appended to its input channels, an MLP D
  a one-hot vector appended to the flat input. Unconditional nets ignore ``labels``.
- ``g_dropout``: dropout after each hidden activation of G that stays on in eval mode
  too (ganhacks #17; pix2pix uses dropout as G's noise at test time).
- DCGAN init: conv weights ~ N(0, 0.02), norm weights ~ N(1, 0.02), biases 0.
"""

from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn as nn
import torch.nn.functional as F

from gan_zoo.errors import GanZooError
from gan_zoo.registry import Registry
from gan_zoo.settings import D_NORMS  # D's normalisations; a spec's d_norm is checked against them

BACKBONES: Registry[Callable[..., tuple[nn.Module, nn.Module]]] = Registry("backbone")
_DEFAULTS: dict[str, dict] = {}
_INITS: dict[str, Callable[[nn.Module], None]] = {}


def _backbone(name: str, *, init: Callable[[nn.Module], None] | None = None, **defaults):
    """Register a builder ``f(shape, nz, width, d_norm, num_classes, g_dropout, d_dropout,
    pack)``; ``init`` (default :func:`dcgan_init`) is applied to every module after it."""

    def wrap(builder):
        BACKBONES.register(name, builder)
        _DEFAULTS[name] = dict(defaults)
        _INITS[name] = init or dcgan_init
        return builder

    return wrap


def list_backbones(pattern: str = "*") -> list[str]:
    """Registered backbone names matching a wildcard pattern."""
    return BACKBONES.names(pattern)


def backbone_defaults(name: str) -> dict:
    """Default hyper-parameters of a backbone, e.g. ``{"width": 32, "d_dropout": 0.2}``."""
    BACKBONES.get(name)  # unknown name -> error listing the valid ones
    return dict(_DEFAULTS[name])


def build_backbone(
    name: str,
    *,
    shape: tuple,
    nz: int = 100,
    width: int | None = None,
    d_norm: str = "batch",
    num_classes: int = 0,
    g_dropout: float = 0.0,
    d_dropout: float | None = None,
    pack: int = 1,
) -> tuple[nn.Module, nn.Module]:
    """Build ``(G, D)`` for samples of ``shape``, initialized as the backbone says
    (DCGAN's init unless it names its own).

    ``width`` and ``d_dropout`` default per backbone (``backbone_defaults``). ``pack``
    (PacGAN, Lin et al. 2018): D judges ``pack`` samples at once, concatenated along
    channels (images) or features (points), so its input layer is ``pack`` times wider
    and it returns one logit per pack: ``D(x) -> (B // pack,)``.
    """
    builder = BACKBONES.get(name)
    defaults = _DEFAULTS[name]
    shape = tuple(int(s) for s in shape)
    width = defaults["width"] if width is None else int(width)
    d_dropout = defaults["d_dropout"] if d_dropout is None else float(d_dropout)
    if d_norm not in D_NORMS:
        raise GanZooError(f"unknown d_norm {d_norm!r}; valid: {', '.join(D_NORMS)}")
    for label, value in (("nz", nz), ("width", width)):
        if not isinstance(value, int) or value < 1:
            raise GanZooError(f"{label} must be a positive integer, got {value!r}")
    if not isinstance(num_classes, int) or num_classes < 0:
        raise GanZooError(f"num_classes must be an integer >= 0, got {num_classes!r}")
    for label, p in (("g_dropout", g_dropout), ("d_dropout", d_dropout)):
        if not 0.0 <= p < 1.0:
            raise GanZooError(f"{label} must be in [0, 1), got {p!r}")
    if not isinstance(pack, int) or isinstance(pack, bool) or pack < 1:
        raise GanZooError(f"pack must be a positive integer, got {pack!r}")
    g, d = builder(shape=shape, nz=nz, width=width, d_norm=d_norm, num_classes=num_classes,
                   g_dropout=float(g_dropout), d_dropout=d_dropout, pack=pack)
    g.apply(_INITS[name])
    d.apply(_INITS[name])
    d.pack = pack
    return g, d


def dcgan_init(m: nn.Module) -> None:
    """Radford et al. 2016: weights ~ N(0, 0.02); norm scales ~ N(1, 0.02), shifts 0."""
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(m.weight, 0.0, 0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d, nn.GroupNorm, nn.LayerNorm)):
        if m.weight is not None:
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


# -- building blocks ----------------------------------------------------------------


def _dropout(x: torch.Tensor, p: float) -> torch.Tensor:
    """Inverted dropout: zero each element with probability ``p``, scale the rest.

    On the CPU, ``torch.bernoulli_`` draws its mask one element at a time on one
    thread; a float32 uniform draw compared with ``p`` is the same distribution (to
    float32's 2**-24 resolution, whatever ``x``'s dtype), runs on all threads and
    costs about a third (benchmarks/RESULTS.md, section 1). Elsewhere the fused
    kernel is used.
    """
    if p == 0.0:
        return x
    if x.device.type != "cpu":
        return F.dropout(x, p, training=True)
    if p >= 1.0:
        return x * 0.0
    keep = torch.rand(x.shape, device=x.device).ge_(p).mul_(1.0 / (1.0 - p))
    return x * keep.to(x.dtype)


class Dropout(nn.Dropout):
    """``nn.Dropout`` with the cheaper CPU mask of :func:`_dropout`."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _dropout(x, self.p) if self.training else x


class AlwaysDropout(Dropout):
    """Dropout that ignores ``eval()``: G's dropout is its noise at sampling time too."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _dropout(x, self.p)


def _d_norm(kind: str, channels: int) -> nn.Module:
    """D's hidden normalization; "layer" on conv maps is GroupNorm with one group."""
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "layer":
        return nn.GroupNorm(1, channels)
    return nn.Identity()


def _g_drop(p: float) -> list[nn.Module]:
    return [AlwaysDropout(p)] if p > 0 else []


def _d_drop(p: float) -> list[nn.Module]:
    return [Dropout(p)] if p > 0 else []


def _one_hot(labels: torch.Tensor | None, num_classes: int, who: str) -> torch.Tensor:
    if labels is None:
        raise GanZooError(
            f"this {who} is conditional (num_classes={num_classes}): pass labels, "
            f"a (B,) int64 tensor of class indices"
        )
    return F.one_hot(labels.long(), num_classes).float()


class _Wrapped(nn.Module):
    """A body network plus what the loop and the sampler need to know about it."""

    def __init__(self, body: nn.Module, *, nz: int, num_classes: int, shape: tuple,
                 conv: bool):
        super().__init__()
        self.body = body
        self.nz = nz
        self.num_classes = num_classes
        self.shape = shape
        self.conv = conv


class Generator(_Wrapped):
    """Wraps a body: appends the one-hot label to z, reshapes to ``(B, *shape)``."""

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if self.num_classes:
            z = torch.cat([z, _one_hot(labels, self.num_classes, "generator")], dim=1)
        if self.conv:
            z = z.reshape(z.shape[0], -1, 1, 1)  # (B, nz [+ K], 1, 1) for ConvTranspose2d
        return self.body(z).reshape(z.shape[0], *self.shape)


class Discriminator(_Wrapped):
    """Wraps a body: appends label planes (conv) or a one-hot (MLP); returns (B,) logits,
    or ``(B // pack,)`` for a packed D (one logit per ``pack`` consecutive samples)."""

    pack: int = 1

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        b = x.shape[0]
        if not self.conv:
            x = x.reshape(b, -1)
        if self.num_classes:
            onehot = _one_hot(labels, self.num_classes, "discriminator").to(x.dtype)
            if self.conv:  # (B, K) -> (B, K, H, W): plane k is all ones for class k
                onehot = onehot[:, :, None, None].expand(-1, -1, *x.shape[-2:])
            x = torch.cat([x, onehot], dim=1)
        m = self.pack
        if m > 1:
            if b % m:
                raise GanZooError(f"a D packing {m} samples needs a batch that is a multiple "
                                  f"of {m}, got {b}")
            # consecutive samples side by side: (B, F) -> (B/m, m*F); (B, C, H, W) ->
            # (B/m, m*C, H, W), sample j of a pack in channels j*C .. (j+1)*C - 1
            x = x.reshape(b // m, m * x.shape[1], *x.shape[2:])
        return self.body(x).reshape(b // m)


def per_sample_scores(d: nn.Module, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
    """D's score of each sample ``(B,)``; a packed D judges a pack of ``pack`` copies of
    the sample (used to rank samples, e.g. D's best 50)."""
    m = getattr(d, "pack", 1)
    if m == 1:
        return d(x, labels)
    x = x.repeat_interleave(m, dim=0)
    labels = None if labels is None else labels.repeat_interleave(m, dim=0)
    return d(x, labels)


def _check_image(name: str, shape: tuple, size: int) -> int:
    if len(shape) != 3 or shape[1] != size or shape[2] != size:
        raise GanZooError(
            f"backbone {name} needs images of shape (C, {size}, {size}), got {shape}; "
            f"pick the backbone matching the data size (dcgan28, dcgan32, dcgan64) or mlp"
        )
    return shape[0]


# -- DCGAN pairs --------------------------------------------------------------------


@_backbone("dcgan28", width=32, d_dropout=0.2)
def _dcgan28(*, shape, nz, width, d_norm, num_classes, g_dropout, d_dropout, pack=1):
    """Seed 001's MNIST DCGAN: 1x1 -> 4 -> 7 -> 14 -> 28 and back; LeakyReLU(0.2) in G too."""
    c, w, k = _check_image("dcgan28", shape, 28), width, num_classes
    g = nn.Sequential(
        nn.ConvTranspose2d(nz + k, 4 * w, 4, 1, 0, bias=False),  # 4x4
        nn.BatchNorm2d(4 * w), nn.LeakyReLU(0.2), *_g_drop(g_dropout),
        nn.ConvTranspose2d(4 * w, 2 * w, 3, 2, 1, bias=False),  # 7x7
        nn.BatchNorm2d(2 * w), nn.LeakyReLU(0.2), *_g_drop(g_dropout),
        nn.ConvTranspose2d(2 * w, w, 4, 2, 1, bias=False),  # 14x14
        nn.BatchNorm2d(w), nn.LeakyReLU(0.2), *_g_drop(g_dropout),
        nn.ConvTranspose2d(w, c, 4, 2, 1, bias=False),  # 28x28
        nn.Tanh(),
    )
    d = nn.Sequential(
        nn.Conv2d((c + k) * pack, w, 4, 2, 1, bias=False),  # 14x14
        nn.LeakyReLU(0.2), *_d_drop(d_dropout),
        nn.Conv2d(w, 2 * w, 4, 2, 1, bias=False),  # 7x7
        _d_norm(d_norm, 2 * w), nn.LeakyReLU(0.2), *_d_drop(d_dropout),
        nn.Conv2d(2 * w, 4 * w, 3, 2, 1, bias=False),  # 4x4
        _d_norm(d_norm, 4 * w), nn.LeakyReLU(0.2), *_d_drop(d_dropout),
        nn.Conv2d(4 * w, 1, 4, 1, 0, bias=False),  # 1x1 logit
    )
    return _pair(g, d, nz, num_classes, shape, conv=True)


def _dcgan(*, name, size, shape, nz, width, d_norm, num_classes, g_dropout, d_dropout, pack=1):
    """Radford et al. 2016 pattern: G doubles the side from 4x4 with ConvT(4, 2, 1) + BN +
    ReLU, halving channels; D mirrors it with strided convs + norm + LeakyReLU(0.2)."""
    c, k = _check_image(name, shape, size), num_classes
    blocks = int(math.log2(size // 4))  # 64 -> 4 blocks (8w..w), 32 -> 3 (4w..w)
    top = width * 2 ** (blocks - 1)

    g_layers = [nn.ConvTranspose2d(nz + k, top, 4, 1, 0, bias=False),
                nn.BatchNorm2d(top), nn.ReLU(), *_g_drop(g_dropout)]
    ch = top
    for _ in range(blocks - 1):
        g_layers += [nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=False),
                     nn.BatchNorm2d(ch // 2), nn.ReLU(), *_g_drop(g_dropout)]
        ch //= 2
    g_layers += [nn.ConvTranspose2d(ch, c, 4, 2, 1, bias=False), nn.Tanh()]

    d_layers = [nn.Conv2d((c + k) * pack, width, 4, 2, 1, bias=False),  # no norm on D's input layer
                nn.LeakyReLU(0.2), *_d_drop(d_dropout)]
    ch = width
    for _ in range(blocks - 1):
        d_layers += [nn.Conv2d(ch, 2 * ch, 4, 2, 1, bias=False),
                     _d_norm(d_norm, 2 * ch), nn.LeakyReLU(0.2), *_d_drop(d_dropout)]
        ch *= 2
    d_layers += [nn.Conv2d(ch, 1, 4, 1, 0, bias=False)]  # 4x4 -> 1x1 logit
    return _pair(nn.Sequential(*g_layers), nn.Sequential(*d_layers), nz, num_classes,
                 shape, conv=True)


@_backbone("dcgan32", width=64, d_dropout=0.0)
def _dcgan32(**kw):
    """32x32 (CIFAR-10): G 4w 4x4 -> 2w 8 -> w 16 -> C 32; D mirrors."""
    return _dcgan(name="dcgan32", size=32, **kw)


@_backbone("dcgan64", width=64, d_dropout=0.0)
def _dcgan64(**kw):
    """64x64 (Radford et al. 2016's table): G 8w 4x4 -> 4w 8 -> 2w 16 -> w 32 -> C 64; D mirrors."""
    return _dcgan(name="dcgan64", size=64, **kw)


# -- MLP pairs ----------------------------------------------------------------------


@_backbone("mlp", width=128, d_dropout=0.0)
def _mlp(*, shape, nz, width, d_norm, num_classes, g_dropout, d_dropout, pack=1):
    """Images: the fully connected GAN of Goodfellow et al. 2014 (G nz-128-784 LeakyReLU + tanh, D 784-128-1
    LeakyReLU, default slope 0.01). Points ``(d,)``: G nz-128-128-d ReLU with a linear
    output, D d-128-128-1 LeakyReLU(0.2). ``width`` sets the hidden size; D has no
    normalization layers, so ``d_norm`` has no effect here."""
    k, h = num_classes, width
    flat = math.prod(shape)
    if len(shape) == 1:
        g = nn.Sequential(
            nn.Linear(nz + k, h), nn.ReLU(), *_g_drop(g_dropout),
            nn.Linear(h, h), nn.ReLU(), *_g_drop(g_dropout),
            nn.Linear(h, flat),
        )
        d = nn.Sequential(
            nn.Linear((flat + k) * pack, h), nn.LeakyReLU(0.2), *_d_drop(d_dropout),
            nn.Linear(h, h), nn.LeakyReLU(0.2), *_d_drop(d_dropout),
            nn.Linear(h, 1),
        )
    elif len(shape) == 3:
        g = nn.Sequential(
            nn.Linear(nz + k, h), nn.LeakyReLU(), *_g_drop(g_dropout),
            nn.Linear(h, flat), nn.Tanh(),
        )
        d = nn.Sequential(
            nn.Linear((flat + k) * pack, h), nn.LeakyReLU(), *_d_drop(d_dropout),
            nn.Linear(h, 1),
        )
    else:
        raise GanZooError(f"backbone mlp needs a shape (C, H, W) or (d,), got {shape}")
    return _pair(g, d, nz, num_classes, shape, conv=False)


class Maxout(nn.Module):
    """A linear layer to ``out * pieces`` units, then the max over each unit's ``pieces``
    (Goodfellow et al. 2013, arXiv:1302.4389): ``(B, in) -> (B, out)``."""

    def __init__(self, in_features: int, out_features: int, pieces: int):
        super().__init__()
        self.out_features, self.pieces = out_features, pieces
        self.linear = nn.Linear(in_features, out_features * pieces)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # unit j's pieces are the consecutive outputs j*pieces .. (j+1)*pieces - 1
        return self.linear(x).reshape(x.shape[0], self.out_features, self.pieces).amax(dim=2)


#: PacGAN's 2-D networks (Lin et al. 2018, arXiv:1712.04086, Appendix; the released
#: synthetic-data config, fjxmlzn/PacGAN ``synthetic_data_experiments/*/config.py`` and
#: ``pacgan_task.py``): G 4 hidden layers of 400 with batch norm and ReLU, D 3 maxout
#: layers of 200 units with 5 pieces each.
PACGAN_G_HIDDEN, PACGAN_D_HIDDEN, PACGAN_MAXOUT_PIECES = 400, 200, 5
#: their batch normalization: scale 1 and shift 0 at the start, epsilon 1e-4 (the Blocks
#: library's default) and population statistics as a 0.05 moving average.
PACGAN_BN_EPS, PACGAN_BN_MOMENTUM = 1e-4, 0.05


def pacgan_init(m: nn.Module) -> None:
    """PacGAN's init: every weight ~ N(0, 0.02), biases 0; batch-norm scale 1, shift 0."""
    if isinstance(m, nn.Linear):
        nn.init.normal_(m.weight, 0.0, 0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, nn.BatchNorm1d):
        nn.init.ones_(m.weight)
        nn.init.zeros_(m.bias)


@_backbone("mlp-pacgan", init=pacgan_init, width=PACGAN_D_HIDDEN, d_dropout=0.0)
def _mlp_pacgan(*, shape, nz, width, d_norm, num_classes, g_dropout, d_dropout, pack=1):
    """2-D points only. G nz-400-400-400-400-d: linear layers without bias, each followed
    by batch norm and ReLU, then a linear output with bias. D (d*pack)-200-200-200-1: three
    maxout layers (5 pieces), a linear logit. ``width`` sets D's hidden size (G's stays
    400); D has no normalization, so ``d_norm`` has no effect."""
    if len(shape) != 1:
        raise GanZooError(f"backbone mlp-pacgan is for 2-D points, shape (d,); got {shape}")
    k, flat, h = num_classes, shape[0], PACGAN_G_HIDDEN
    g_layers: list[nn.Module] = []
    fan_in = nz + k
    for _ in range(4):
        g_layers += [nn.Linear(fan_in, h, bias=False),
                     nn.BatchNorm1d(h, eps=PACGAN_BN_EPS, momentum=PACGAN_BN_MOMENTUM),
                     nn.ReLU(), *_g_drop(g_dropout)]
        fan_in = h
    g_layers.append(nn.Linear(h, flat))
    pieces = PACGAN_MAXOUT_PIECES
    d = nn.Sequential(
        Maxout((flat + k) * pack, width, pieces), *_d_drop(d_dropout),
        Maxout(width, width, pieces), *_d_drop(d_dropout),
        Maxout(width, width, pieces), *_d_drop(d_dropout),
        nn.Linear(width, 1),
    )
    return _pair(nn.Sequential(*g_layers), d, nz, num_classes, shape, conv=False)


def _pair(g_body, d_body, nz, num_classes, shape, *, conv):
    kw = dict(nz=nz, num_classes=num_classes, shape=tuple(shape), conv=conv)
    return Generator(g_body, **kw), Discriminator(d_body, **kw)
