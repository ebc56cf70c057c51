"""Expected best score after k trials (the curves of Lucic et al. 2018, figure 4).

For n trial scores and a budget of k <= n trials drawn without replacement, the best of
the k is the i-th best of all n exactly when trial i is drawn and the k - 1 others come
from the n - i worse ones, so

    E[best of k] = sum_i s_(i) * C(n - i, k - 1) / C(n, k),

with s_(1) the best score (lowest FID; most modes). The 95% band resamples the n trials
with replacement (a percentile bootstrap over the trial list) and applies the same
formula to each resample. A trial without a score (failed, or diverged before its first
score point) is a trial spent: callers give it the worst score (+inf FID, 0 modes); NaN
is read as the worst infinity.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["expected_best", "expected_best_curve", "bestk_band", "K_TABLE"]

#: budgets of the report's best-of-k table (and n itself)
K_TABLE = (1, 5, 10, 20, 50, 100)


def _weights(n: int, k: int) -> np.ndarray:
    """P(the i-th best of n is the best of k drawn without replacement), i = 1..n."""
    total = math.comb(n, k)
    return np.array([math.comb(n - i, k - 1) / total for i in range(1, n + 1)], dtype=float)


def expected_best(scores, k: int, lower_is_better: bool = True) -> float:
    """E[best of k of ``scores``], drawing without replacement (exact)."""
    s = np.asarray(list(scores), dtype=float)
    n = s.size
    if not 1 <= k <= n:
        raise ValueError(f"k must be in 1..{n}, got {k}")
    s = np.where(np.isnan(s), np.inf if lower_is_better else -np.inf, s)
    order = np.sort(s) if lower_is_better else -np.sort(-s)
    w = _weights(n, k)
    used = w > 0
    vals = order[used]
    if not np.all(np.isfinite(vals)):
        return math.inf if lower_is_better else -math.inf
    # a correctly rounded sum of exactly rounded products: the same bits on every CPU
    # (np.dot's BLAS kernel, chosen per CPU, may differ in the last bit)
    return math.fsum((w[used] * vals).tolist())


def expected_best_curve(scores, lower_is_better: bool = True) -> np.ndarray:
    """E[best of k] for k = 1..n."""
    s = list(scores)
    return np.array([expected_best(s, k, lower_is_better) for k in range(1, len(s) + 1)])


def bestk_band(scores, lower_is_better: bool = True, level: float = 0.95, n_resamples: int = 1000,
               seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap band of :func:`expected_best_curve` (trials resampled with
    replacement), to 12 significant digits; fewer than two scores give NaN bands."""
    s = np.asarray(list(scores), dtype=float)
    n = s.size
    if n < 2:
        return np.full(n, np.nan), np.full(n, np.nan)
    fill = np.inf if lower_is_better else -np.inf
    s = np.where(np.isnan(s), fill, s)
    rng = np.random.default_rng(seed)
    weights = np.stack([_weights(n, k) for k in range(1, n + 1)])  # (k, i)
    draws = rng.integers(0, n, size=(n_resamples, n))
    samples = np.sort(s[draws], axis=1)
    if not lower_is_better:
        samples = samples[:, ::-1]
    with np.errstate(invalid="ignore"):
        # a weight of 0 never meets an infinite score: those terms are dropped, not NaN
        curves = np.einsum("ki,ri->rk", weights, np.where(np.isfinite(samples), samples, 0.0))
        hit = np.einsum("ki,ri->rk", weights, (~np.isfinite(samples)).astype(float)) > 0
    curves = np.where(hit, np.inf if lower_is_better else -np.inf, curves)
    alpha = (1 - level) / 2
    lo = np.quantile(curves, alpha, axis=0)
    hi = np.quantile(curves, 1 - alpha, axis=0)
    return _digits(lo), _digits(hi)


def _digits(values: np.ndarray, sig: int = 12) -> np.ndarray:
    """``values`` to ``sig`` significant digits: the band's sums run in numpy kernels chosen
    per CPU, whose last bits may differ; twelve digits give every machine the same band."""
    return np.array([float(f"{v:.{sig}g}") if math.isfinite(v) else v for v in values], dtype=float)
