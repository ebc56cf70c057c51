"""Mode-coverage metrics: pure functions of class predictions or 2-D points.

Protocols (DESIGN.md, "Protocols"):

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

"Mode covered" (one threshold for all of the above, applied to the histogram of the
rule): mode ``k`` of ``K`` is covered when it receives at least ``max(1, min_share * N / K)`` of the ``N`` samples (high-quality ones
for the mixtures), i.e. at least 1% of what a perfectly uniform generator would give it
(``min_share = 0.01``), and never fewer than one. PacGAN's code counts a mode once it
gets a single high-quality sample; at the protocol sizes our rule is exactly that for
Stacked MNIST (26 expected per mode -> 1 sample) and ``grid25`` (100 expected -> 1),
while for ``ring8`` (312.5 expected -> 4 samples) and MNIST classes (1,000 expected ->
10) it keeps a handful of stray or misclassified samples from counting as a mode.

KL is in nats, ``sum_k p_k log(p_k K)`` over modes with ``p_k > 0`` (0 for a uniform
histogram, ``log K`` for a single mode).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from gan_zoo.errors import GanZooError
from gan_zoo.metrics.keys import (
    COND_ACC, CONFIDENT_FRAC, HQ_FRAC, MODE_KL, MODES, MODES_CONFIDENT, MODES_TOTAL,
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
]

#: A mode is covered with at least this share of its uniform expected count (and >= 1).
DEFAULT_MIN_SHARE = 0.01
#: A sample is confident when its largest class probability exceeds this.
CONFIDENCE_THRESHOLD = 0.9
#: High-quality radius of the 2-D mixtures, in standard deviations of a mode.
HQ_SIGMAS = 3.0
#: How class predictions count as coverage (see the module docstring).
MODE_RULES = ("confident", "argmax")


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
    min_share: float = DEFAULT_MIN_SHARE,
) -> dict:
    """Mode metrics of 2-D samples ``(N, 2)`` against mixture centres ``(K, 2)``.

    Returns ``MODES``, ``MODES_TOTAL``, ``HQ_FRAC`` (share within ``hq_sigmas * sigma``
    of the nearest centre) and ``MODE_KL`` (reverse KL of the high-quality histogram
    against uniform; None when no sample is high quality).
    """
    idx, dist = nearest_mode(points, centers)
    k = _tensor(centers).shape[0]
    hq = dist <= hq_sigmas * sigma
    counts = torch.bincount(idx[hq], minlength=k)
    n = len(idx)
    return {
        MODES: modes_covered(counts, n, min_share),
        MODES_TOTAL: k,
        HQ_FRAC: float(hq.double().mean()) if n else math.nan,
        MODE_KL: kl_to_uniform(counts),
    }


def conditional_accuracy(predicted, labels) -> dict:
    """``COND_ACC``: share of samples whose predicted class equals the asked label."""
    pred = _tensor(predicted).long().reshape(-1)
    lab = _tensor(labels).long().reshape(-1)
    if pred.shape != lab.shape:
        raise GanZooError(f"conditional accuracy needs one label per sample: got "
                          f"{len(lab)} labels for {len(pred)} samples")
    return {COND_ACC: float((pred == lab).double().mean())}
