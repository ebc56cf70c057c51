"""Uncertainty and significance across seeds.

GAN results vary a lot from seed to seed (Lucic et al. 2018), so a table of means is
not enough to call one objective better than another. We report a percentile bootstrap
interval per configuration and two-sided Mann-Whitney U tests between objectives,
Holm-corrected within each family of comparisons. Both are rank/resampling based: no
normality assumption about FID across seeds.
"""

from __future__ import annotations

import itertools
import math
from typing import Iterable

import numpy as np
import pandas as pd
from scipy.stats import mannwhitneyu

from gan_zoo.bench import columns as C

__all__ = ["bootstrap_ci", "holm", "pairwise_tests"]


def bootstrap_ci(values: Iterable[float], level: float = 0.95, n_resamples: int = 2000,
                 seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean; NaNs are dropped.

    Fewer than two values give ``(nan, nan)``: one seed says nothing about spread, and
    an interval ``[v, v]`` would read as certainty. Identical values give ``(v, v)``
    exactly. The fixed ``seed`` makes tables reproducible byte for byte.
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    x = np.asarray([v for v in values if v is not None], dtype=float)
    x = x[~np.isnan(x)]
    if x.size < 2:
        return (math.nan, math.nan)
    if np.all(x == x[0]):
        return (float(x[0]), float(x[0]))
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, size=(n_resamples, x.size))].mean(axis=1)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return (float(low), float(high))


def holm(pvalues: Iterable[float]) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values, in the input order.

    Sorted ascending, p_(i) is multiplied by (m - i + 1), a running maximum keeps the
    adjusted values monotone, and they are capped at 1. NaNs stay NaN and do not count
    towards m. Rejecting where adjusted p < alpha controls the family-wise error rate.
    """
    p = np.asarray(list(pvalues), dtype=float)
    out = np.full(p.shape, np.nan)
    idx = np.flatnonzero(~np.isnan(p))
    m = idx.size
    if m == 0:
        return out
    order = idx[np.argsort(p[idx], kind="stable")]
    scaled = p[order] * (m - np.arange(m))
    out[order] = np.minimum(1.0, np.maximum.accumulate(scaled))
    return out


def _better(metric: str, median_a: float, median_b: float, a: str, b: str) -> str:
    """Which side has the better median, by the metric's direction ("" when tied/unknown)."""
    if median_a == median_b or np.isnan(median_a) or np.isnan(median_b):
        return ""
    if metric in C.LOWER_IS_BETTER:
        return a if median_a < median_b else b
    if metric in C.HIGHER_IS_BETTER:
        return a if median_a > median_b else b
    return ""


def _u_test(xa: np.ndarray, xb: np.ndarray) -> tuple[float, float]:
    """Two-sided Mann-Whitney U of ``xa`` (U of the first sample) and its p-value.

    scipy picks the exact null distribution for small samples without ties and the
    normal approximation otherwise. If every value is the same there is no evidence
    of a difference: U = n_a n_b / 2, p = 1 (scipy would return NaN).
    """
    if np.all(np.concatenate([xa, xb]) == xa[0]):
        return (xa.size * xb.size / 2.0, 1.0)
    res = mannwhitneyu(xa, xb, alternative="two-sided")
    return (float(res.statistic), float(res.pvalue))


def pairwise_tests(runs_df: pd.DataFrame, metric: str = "fid",
                   min_seeds: int = C.MIN_SEEDS_FOR_TEST, alpha: float = C.ALPHA) -> pd.DataFrame:
    """Mann-Whitney U between every pair of objectives, across seeds, on ok runs.

    Pairs are compared within one (dataset, regularizers, params) setting, and each such
    setting is one Holm family: the question answered is "in this setting, which
    objectives differ?". Objectives with fewer than ``min_seeds`` values of ``metric``
    are left out. Columns: ``columns.STATS_COLUMNS``; ``better`` names the objective with
    the better median (empty when tied).
    """
    empty = pd.DataFrame(columns=C.STATS_COLUMNS)
    if runs_df is None or runs_df.empty or metric not in runs_df.columns:
        return empty
    ok = runs_df[(runs_df[C.STATUS] == C.OK) & runs_df[metric].notna()]
    rows = []
    for (dataset, regs, params), setting in ok.groupby(
            [C.DATASET, C.REGULARIZERS, C.PARAMS], sort=True):
        samples = {loss: g[metric].to_numpy(dtype=float)
                   for loss, g in setting.groupby(C.LOSS, sort=True)}
        samples = {k: v for k, v in samples.items() if v.size >= min_seeds}
        family = []
        for a, b in itertools.combinations(sorted(samples), 2):
            xa, xb = samples[a], samples[b]
            u, p = _u_test(xa, xb)
            med_a, med_b = float(np.median(xa)), float(np.median(xb))
            family.append({
                C.DATASET: dataset, C.REGULARIZERS: regs, C.PARAMS: params, C.METRIC: metric,
                C.A: a, C.B: b, C.N_A: xa.size, C.N_B: xb.size,
                C.MEDIAN_A: med_a, C.MEDIAN_B: med_b, C.U: u, C.P: p,
                C.BETTER: _better(metric, med_a, med_b, a, b),
            })
        for row, adj in zip(family, holm([r[C.P] for r in family])):
            row[C.P_HOLM] = float(adj)
            row[C.SIGNIFICANT] = bool(adj < alpha)
        rows.extend(family)
    if not rows:
        return empty
    return pd.DataFrame(rows)[C.STATS_COLUMNS]
