"""Mode-coverage metrics: pure functions of class predictions or 2-D points.

Protocols (README, ``gan-zoo eval``):

* MNIST: a class counts as covered only when the classifier recognises samples of it
  *confidently* (``rule="confident"``): the class histogram counts the samples whose
  largest class probability exceeds :data:`CONFIDENCE_THRESHOLD` (0.9), by that class.
  An argmax with no confidence lets grey blobs "cover" 6-10 of the 10 digits (each
  blob is some digit's argmax); confidently recognised blobs are rare, so they cover
  none, while the real test set covers all ten. KL(histogram || uniform) stays on the
  argmax histogram of all samples; the share of confident samples is reported too.
* Stacked MNIST (VEEGAN, Srivastava et al. 2017; PacGAN, Lin et al. 2018): a sample's
  mode is the classifier's digit in each of its three channels, 1000 modes, 26,000
  samples; modes covered (the published argmax rule, ``rule="argmax"``, so counts stay
  comparable with the papers; the confident count sits beside it as
  ``MODES_CONFIDENT``, a sample being confident when its joint probability > 0.9) and
  KL(mode histogram || uniform).
* ``ring8`` / ``grid25`` (same papers, 2,500 samples): a sample is *high quality* when
  it lies within 3 sigma (Euclidean) of its nearest mode centre; the mode histogram
  counts high-quality samples by nearest centre (as PacGAN's code does:
  ``MetricLogger`` in ``fjxmlzn/PacGAN/synthetic_data_experiments``); report modes
  covered, the high-quality share and the reverse KL(histogram || uniform).

Mixture modes, two rules (:func:`mixture_modes`):

* ``MODES_PUBLISHED`` (``modes_published``): the published rule of PacGAN / VEEGAN, a
  mode is covered by a single high-quality sample. Kept so our counts compare with the
  papers; it has a high *noise floor*: 2,500 points sprayed uniformly over the smallest
  box holding every high-quality disc cover about 6.5 of ring8's 8 modes and 23 of
  grid25's 25, and points spread evenly along a line through the modes (the circle of
  ring8, the border square of grid25) cover all 8 and 16 of 25 (:func:`noise_floor`).
* ``MODES`` (``modes``, the headline): a mode counts when its high-quality samples exceed
  what either of those two junk generators puts in it with 99% probability (the 0.99
  quantile of the binomial count each gives that mode, :func:`mode_thresholds`). At
  2,500 samples that is more than 36 samples on ring8 (a 312.5-sample fair share) and
  more than 35 on grid25 (100); a uniform spray or a line tracer passes a given mode
  with at most 1% probability, so each scores about 0 (expected under 0.15 modes).
  On the shipped runs' plotted samples, modes a trained generator dropped hold the few
  samples of streaks between modes (at most about 15); its clear modes hold 40 to 1,700,
  and a few thin ones (24 to 38 samples) fall below the line.

"Mode covered" for class predictions (MNIST, Stacked MNIST; applied to the histogram of
the rule, :func:`modes_covered`): mode ``k`` of ``K`` is covered when it receives at least
``max(1, min_share * N / K)`` of the ``N`` samples, i.e. at least 1% of what a perfectly
uniform generator would give it (``min_share = 0.01``), and never fewer than one. At the
protocol sizes that is PacGAN's single sample for Stacked MNIST (26 expected per mode ->
1 sample), while for MNIST classes (1,000 expected -> 10) it keeps a handful of
misclassified samples from counting as a class.

KL is in nats, ``sum_k p_k log(p_k K)`` over modes with ``p_k > 0`` (0 for a uniform
histogram, ``log K`` for a single mode).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from gan_zoo.errors import GanZooError
from gan_zoo.metrics.keys import (
    COND_ACC, CONFIDENT_FRAC, HQ_FRAC, MODE_KL, MODES, MODES_CONFIDENT, MODES_PUBLISHED, MODES_TOTAL,
)

__all__ = [
    "DEFAULT_MIN_SHARE",
    "CONFIDENCE_THRESHOLD",
    "HQ_SIGMAS",
    "MODE_RULES",
    "kl_to_uniform",
    "modes_covered",
    "class_modes",
    "mixture_modes",
    "nearest_mode",
    "conditional_accuracy",
    "FLOOR_LEVEL",
    "JUNK_GENERATORS",
    "junk_shares",
    "mode_thresholds",
    "noise_floor",
    "dataset_noise_floor",
    "uniform_spray",
    "border_tracer",
]

#: A mode is covered with at least this share of its uniform expected count (and >= 1).
DEFAULT_MIN_SHARE = 0.01
#: A sample is confident when its largest class probability exceeds this.
CONFIDENCE_THRESHOLD = 0.9
#: High-quality radius of the 2-D mixtures, in standard deviations of a mode.
HQ_SIGMAS = 3.0
#: How class predictions count as coverage (see the module docstring).
MODE_RULES = ("confident", "argmax")
#: Mixture headline rule: a junk generator passes a mode with at most 1 - this probability.
FLOOR_LEVEL = 0.99
#: The generators that set the mixtures' noise floor (see :func:`junk_shares`).
JUNK_GENERATORS = ("uniform spray", "border tracer")


def _tensor(x) -> torch.Tensor:
    return x.detach().cpu() if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x))


def kl_to_uniform(counts) -> float | None:
    """KL(p || uniform) in nats of the histogram ``counts`` ``(K,)``; None if it is empty."""
    c = _tensor(counts).double()
    total = c.sum().item()
    if total <= 0:
        return None
    p = c / total
    nz = p > 0
    return float((p[nz] * torch.log(p[nz] * len(c))).sum().clamp_min(0.0))


def modes_covered(counts, n_samples: int | None = None, min_share: float = DEFAULT_MIN_SHARE) -> int:
    """Number of modes with at least ``max(1, min_share * n_samples / K)`` samples.

    ``n_samples`` (default ``counts.sum()``) is the number of samples drawn, including
    any that no mode received (e.g. low-quality mixture samples).
    """
    c = _tensor(counts)
    n = int(c.sum().item()) if n_samples is None else int(n_samples)
    threshold = max(1.0, min_share * n / len(c))
    return int((c >= threshold).sum().item())


def class_modes(
    probs,
    *,
    num_classes: int | None = None,
    min_share: float = DEFAULT_MIN_SHARE,
    log_probs: bool = False,
    rule: str = "confident",
) -> dict:
    """Class coverage of classifier outputs ``(N, K)`` (probabilities, or log-probs).

    Returns ``MODES`` (covered of ``K`` by ``rule``), ``MODES_CONFIDENT`` (covered by
    confident samples only), ``MODES_TOTAL`` (``K``), ``MODE_KL`` (of the argmax
    histogram) and ``CONFIDENT_FRAC`` (share with max probability > 0.9).

    ``rule="confident"``: class ``c`` is covered when at least
    ``max(1, min_share * N / K)`` samples are predicted as ``c`` with probability
    > :data:`CONFIDENCE_THRESHOLD`. ``rule="argmax"``: the same count over every
    sample's argmax, confident or not (VEEGAN / PacGAN). Works for the 10 MNIST
    classes and the 1000 Stacked-MNIST modes alike.
    """
    if rule not in MODE_RULES:
        raise GanZooError(f"unknown mode rule {rule!r}; valid: {', '.join(MODE_RULES)}")
    p = _tensor(probs).double()
    if log_probs:
        p = p.exp()
    k = num_classes or p.shape[1]
    top, pred = p.max(dim=1)
    confident = top > CONFIDENCE_THRESHOLD
    counts = torch.bincount(pred, minlength=k)
    confident_counts = torch.bincount(pred[confident], minlength=k)
    n_confident = modes_covered(confident_counts, len(p), min_share)
    return {
        MODES: n_confident if rule == "confident" else modes_covered(counts, len(p), min_share),
        MODES_CONFIDENT: n_confident,
        MODES_TOTAL: k,
        MODE_KL: kl_to_uniform(counts),
        CONFIDENT_FRAC: float(confident.double().mean()),
    }


def nearest_mode(points, centers) -> tuple[torch.Tensor, torch.Tensor]:
    """Index of the nearest centre ``(N,)`` and the Euclidean distance to it ``(N,)``."""
    x = _tensor(points).double()
    c = _tensor(centers).double()
    d = torch.cdist(x, c)  # (N, K)
    dist, idx = d.min(dim=1)
    return idx, dist


def mixture_modes(
    points,
    centers,
    sigma: float,
    *,
    hq_sigmas: float = HQ_SIGMAS,
    level: float = FLOOR_LEVEL,
) -> dict:
    """Mode metrics of 2-D samples ``(N, 2)`` against mixture centres ``(K, 2)``.

    Returns ``MODES`` (the headline: modes whose high-quality count exceeds
    :func:`mode_thresholds`, which a uniform spray or a line tracer passes with at most
    ``1 - level`` probability per mode), ``MODES_PUBLISHED`` (modes with at least one
    high-quality sample: PacGAN / VEEGAN), ``MODES_TOTAL``, ``HQ_FRAC`` (share within
    ``hq_sigmas * sigma`` of the nearest centre) and ``MODE_KL`` (reverse KL of the
    high-quality histogram against uniform; None when no sample is high quality).
    """
    idx, dist = nearest_mode(points, centers)
    k = _tensor(centers).shape[0]
    hq = dist <= hq_sigmas * sigma
    counts = torch.bincount(idx[hq], minlength=k).numpy()
    n = len(idx)
    above = counts > mode_thresholds(centers, sigma, n, level=level, hq_sigmas=hq_sigmas) if n else counts > 0
    return {
        MODES: int(above.sum()),
        MODES_PUBLISHED: int((counts >= 1).sum()),
        MODES_TOTAL: k,
        HQ_FRAC: float(hq.double().mean()) if n else math.nan,
        MODE_KL: kl_to_uniform(counts),
    }


# -- the noise floor of the 2-D mixtures -------------------------------------------------------


def _centres(centers) -> np.ndarray:
    c = np.asarray(_tensor(centers).double().numpy(), dtype=float).reshape(-1, 2)
    if len(c) == 0:
        raise GanZooError("a mixture needs at least one mode centre")
    return c


def _box(c: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """The smallest axis-aligned box holding every high-quality disc."""
    return c.min(axis=0) - radius, c.max(axis=0) + radius


def _is_ring(c: np.ndarray) -> bool:
    r = np.linalg.norm(c - c.mean(axis=0), axis=1)
    return len(c) >= 3 and r.min() > 0 and (r.max() - r.min()) <= 1e-6 * r.max()


def _tracer_path(c: np.ndarray, m: int) -> np.ndarray:
    """``m`` points evenly spaced along the line the border tracer follows: the circle
    through the centres of a ring, else the border of the centres' bounding box."""
    t = (np.arange(m) + 0.5) / m
    if _is_ring(c):
        centre = c.mean(axis=0)
        radius = float(np.linalg.norm(c[0] - centre))
        return centre + radius * np.stack([np.cos(2 * np.pi * t), np.sin(2 * np.pi * t)], axis=1)
    lo, hi = c.min(axis=0), c.max(axis=0)
    w, h = hi - lo
    if w <= 0 or h <= 0:  # centres on a line: trace the segment
        return lo + t[:, None] * (hi - lo)
    s = t * 2 * (w + h)
    x = np.where(s < w, lo[0] + s, np.where(s < w + h, hi[0], np.where(s < 2 * w + h, hi[0] - (s - w - h), lo[0])))
    y = np.where(s < w, lo[1], np.where(s < w + h, lo[1] + (s - w), np.where(s < 2 * w + h, hi[1], hi[1] - (s - 2 * w - h))))
    return np.stack([x, y], axis=1)


def junk_shares(centers, sigma: float, *, hq_sigmas: float = HQ_SIGMAS) -> dict[str, np.ndarray]:
    """Per mode, the probability that one sample of each junk generator is a high-quality
    sample of that mode: ``{"uniform spray": (K,), "border tracer": (K,)}``.

    The uniform spray draws from the smallest axis-aligned box holding every
    high-quality disc (centres' bounding box widened by ``hq_sigmas * sigma``): the box
    most favourable to it. The border tracer draws uniformly along a closed line through
    the modes: the circle through a ring's centres, else the border of the centres'
    bounding box (through grid25's 16 outer modes).
    """
    c = _centres(centers)
    key = (tuple(map(float, c.ravel())), float(sigma), float(hq_sigmas))
    if key not in _SHARES:
        _SHARES[key] = _junk_shares(c, hq_sigmas * float(sigma))
    return {name: p.copy() for name, p in _SHARES[key].items()}


_SHARES: dict[tuple, dict[str, np.ndarray]] = {}


def _junk_shares(c: np.ndarray, radius: float) -> dict[str, np.ndarray]:
    lo, hi = _box(c, radius)
    # Each disc lies inside the box (it was widened by the radius), so a disc's share is
    # its area over the box's while the discs do not overlap (see _lattice_shares).
    spray = _lattice_shares(c, radius, lo, hi)
    path = _tracer_path(c, 200_000)
    return {"uniform spray": spray, "border tracer": _point_shares(path, c, radius)}


def _point_shares(pts: np.ndarray, c: np.ndarray, radius: float) -> np.ndarray:
    out = np.zeros(len(c))
    for chunk in np.array_split(pts, max(1, len(pts) // 50_000)):
        d = np.linalg.norm(chunk[:, None, :] - c[None, :, :], axis=2)
        idx = d.argmin(axis=1)
        ok = d[np.arange(len(chunk)), idx] <= radius
        out += np.bincount(idx[ok], minlength=len(c))
    return out / len(pts)


def _lattice_shares(c: np.ndarray, radius: float, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Share of the box's area in each mode's high-quality disc (exact when the discs are
    disjoint, which the check below confirms for every registered mixture)."""
    d = np.linalg.norm(c[:, None, :] - c[None, :, :], axis=2)
    np.fill_diagonal(d, np.inf)
    area = float(np.prod(hi - lo))
    if len(c) == 1 or d.min() >= 2 * radius:
        return np.full(len(c), math.pi * radius ** 2 / area)
    g = 2000  # overlapping discs: nearest-centre share on a dense lattice
    xs = lo[0] + (np.arange(g) + 0.5) / g * (hi[0] - lo[0])
    ys = lo[1] + (np.arange(g) + 0.5) / g * (hi[1] - lo[1])
    grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    return _point_shares(grid, c, radius)


def _binom_quantile(n: int, p: float, level: float) -> int:
    """The smallest q with P(Binomial(n, p) <= q) >= level."""
    from scipy.stats import binom

    return int(binom.ppf(level, int(n), min(max(float(p), 0.0), 1.0))) if n > 0 else 0


def _binom_sf(n: int, p: float, q: int) -> float:
    """P(Binomial(n, p) > q)."""
    from scipy.stats import binom

    return float(binom.sf(int(q), int(n), min(max(float(p), 0.0), 1.0))) if n > 0 else 0.0


def mode_thresholds(centers, sigma: float, n: int, *, level: float = FLOOR_LEVEL,
                    hq_sigmas: float = HQ_SIGMAS) -> np.ndarray:
    """Per mode ``(K,)``: the high-quality count a mode must *exceed* to count in the
    headline ``MODES`` when ``n`` samples are scored: the largest of the ``level``
    quantiles of the binomial counts a uniform spray and a border tracer of ``n`` samples
    give a mode (:func:`junk_shares`; the largest per-mode share of each, so a tracer
    drawn through other modes than the border's is held back as well), never below 1."""
    if not 0 < level < 1:
        raise GanZooError(f"level must be between 0 and 1, got {level}")
    shares = junk_shares(centers, sigma, hq_sigmas=hq_sigmas)
    q = max(_binom_quantile(int(n), float(p.max()), level) for p in shares.values())
    return np.full(len(next(iter(shares.values()))), max(q, 1), dtype=np.int64)


def noise_floor(centers, sigma: float, n: int, *, level: float = FLOOR_LEVEL,
                hq_sigmas: float = HQ_SIGMAS) -> dict[str, dict[str, float]]:
    """What junk generators of ``n`` samples score, in expectation (exact binomial sums):
    ``{generator: {"modes_published": E[modes with >= 1 high-quality sample],
    "modes": E[modes above mode_thresholds], "hq_frac": E[high-quality share]}}`` for the
    uniform spray and the border tracer (:data:`JUNK_GENERATORS`)."""
    shares = junk_shares(centers, sigma, hq_sigmas=hq_sigmas)
    t = mode_thresholds(centers, sigma, n, level=level, hq_sigmas=hq_sigmas)
    out = {}
    for name, p in shares.items():
        out[name] = {
            MODES_PUBLISHED: float(sum(1 - (1 - pk) ** n for pk in p)),
            MODES: float(sum(_binom_sf(int(n), float(pk), int(tk)) for pk, tk in zip(p, t))),
            HQ_FRAC: float(p.sum()),
        }
    return out


def dataset_noise_floor(dataset: str, n: int | None = None, **kw) -> dict[str, dict[str, float]]:
    """:func:`noise_floor` of a registered 2-D mixture (``ring8``, ``grid25``) at ``n``
    samples (default: its protocol count, 2,500)."""
    from gan_zoo.data import dataset_info

    info = dataset_info(dataset)
    if info.kind != "points":
        raise GanZooError(f"{dataset} is not a 2-D mixture; a noise floor exists for ring8 and grid25")
    from gan_zoo.metrics.settings import protocol_samples

    return noise_floor(info.mixture_centers(), info.sigma, n or protocol_samples(dataset), **kw)


def uniform_spray(centers, sigma: float, n: int, *, seed: int = 0, hq_sigmas: float = HQ_SIGMAS) -> torch.Tensor:
    """``n`` points uniform over the box of :func:`junk_shares` (a junk generator)."""
    c = _centres(centers)
    lo, hi = _box(c, hq_sigmas * float(sigma))
    g = torch.Generator().manual_seed(seed)
    u = torch.rand(n, 2, generator=g, dtype=torch.float64)
    return (torch.as_tensor(lo) + u * torch.as_tensor(hi - lo)).float()


def border_tracer(centers, sigma: float, n: int, *, seed: int = 0) -> torch.Tensor:
    """``n`` points uniform along the border tracer's line (a junk generator)."""
    c = _centres(centers)
    g = torch.Generator().manual_seed(seed)
    m = 400_000
    path = torch.as_tensor(_tracer_path(c, m))
    return path[torch.randint(0, m, (n,), generator=g)].float()


def conditional_accuracy(predicted, labels) -> dict:
    """``COND_ACC``: share of samples whose predicted class equals the asked label."""
    pred = _tensor(predicted).long().reshape(-1)
    lab = _tensor(labels).long().reshape(-1)
    if pred.shape != lab.shape:
        raise GanZooError(f"conditional accuracy needs one label per sample: got "
                          f"{len(lab)} labels for {len(pred)} samples")
    return {COND_ACC: float((pred == lab).double().mean())}
