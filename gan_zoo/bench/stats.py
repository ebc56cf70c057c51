"""Uncertainty and significance across seeds: intervals, planned comparisons, effect sizes.

GAN results vary a lot from seed to seed (Lucic et al. 2018), so a table of means is not
enough to call one objective better than another, and a test has to be able to reject
with the handful of seeds a user can afford. Choices, and the libraries behind them:

- Test: two-sided Mann-Whitney U across seeds (``scipy.stats.mannwhitneyu``), exact
  (the full permutation distribution, ties included, via ``scipy.stats.PermutationMethod``)
  while the number of orderings is small, the normal approximation beyond. Rank based:
  no normality assumption about FID across seeds, and one collapsed seed cannot dominate.
  Its smallest possible p is ``2 / C(n_a + n_b, n_a)``: 0.1 with 3 seeds a side, 0.0022
  with 6 (:func:`min_achievable_p`).
- Family: planned comparisons of every objective against one baseline (default ``ns``),
  k - 1 tests for k objectives, instead of all k (k - 1) / 2 pairs. With 10 objectives the
  first Holm step multiplies the smallest p by 9, not 45, so 6 seeds can reject
  (0.0022 x 9 = 0.019) where all pairs need 7 (:func:`seeds_needed`). All pairs remain an
  option. Holm's step-down correction (``statsmodels.stats.multitest.multipletests``)
  controls the family-wise error rate; each (dataset, setting, metric) is one family.
- Effect sizes (Agarwal et al. 2021): the difference of medians and the probability that
  a seed of A beats a seed of B (``U / (n_a n_b)``, ties half), each with a percentile
  bootstrap interval (``scipy.stats.bootstrap``, the two samples resampled independently).
- Omnibus: Kruskal-Wallis across the objectives of a family (``scipy.stats.kruskal``);
  the objectives' seeds are independent samples, not blocks, so not Friedman.
- Settings: the same test, effect sizes and Holm correction between the settings of one
  objective (regularizers, swept ``--set`` values), each against the reference setting
  (:func:`reference_setting`); each (dataset, objective, metric) is one family. This is
  what "does spectral norm help ns?" or "does nz 200 change D(x)?" asks.

rliable (Agarwal et al. 2021) was considered: its interval estimates aggregate normalized
scores over many tasks with a stratified bootstrap, which a single-dataset grid does not
have, and it pulls in ``arch`` and ``absl-py``; its probability of improvement is the U
statistic above. scikit-posthocs' all-pairs post-hoc tests add nothing the planned
comparisons and Holm do not already give. Neither is a dependency.
"""

from __future__ import annotations

import itertools
import json
import math
from typing import Iterable

import numpy as np
import pandas as pd
from scipy.stats import PermutationMethod, bootstrap, kruskal, mannwhitneyu
from statsmodels.stats.multitest import multipletests

from gan_zoo.bench import columns as C
from gan_zoo.errors import GanZooError

__all__ = ["bootstrap_ci", "holm", "min_achievable_p", "seeds_needed", "n_comparisons", "outlook",
           "fmt_p", "u_test", "pairwise_tests", "reference_setting", "setting_tests", "can_reject", "tiers",
           "COMPARISONS"]

#: ``--comparisons`` values.
COMPARISONS = ("baseline", "all")
#: Orderings up to which the exact permutation distribution is enumerated (C(16, 8) = 12,870).
EXACT_LIMIT = 20_000
N_RESAMPLES = 2000


def bootstrap_ci(values: Iterable[float], level: float = 0.95, n_resamples: int = N_RESAMPLES,
                 seed: int = 0, statistic=np.mean) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean (``scipy.stats.bootstrap``); NaNs dropped.
    ``statistic=np.median`` gives the interval of the median (what the plots show).

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
    res = bootstrap((x,), statistic, n_resamples=n_resamples, confidence_level=level,
                    method="percentile", rng=np.random.default_rng(seed))
    return (float(res.confidence_interval.low), float(res.confidence_interval.high))


def holm(pvalues: Iterable[float]) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values in the input order (statsmodels ``multipletests``).

    NaNs stay NaN and do not count towards the family size.
    """
    p = np.asarray(list(pvalues), dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        out[ok] = multipletests(p[ok], method="holm")[1]
    return out


def min_achievable_p(n_a: int, n_b: int) -> float:
    """Smallest two-sided Mann-Whitney p with ``n_a`` and ``n_b`` seeds: 2 / C(n_a + n_b, n_a).

    Reached when the two samples do not overlap at all (and there are no ties); 3 vs 3
    gives 0.1, 6 vs 6 gives 2/924 = 0.00216. With an empty side no test exists: 1.
    """
    if n_a < 1 or n_b < 1:
        return 1.0
    return min(1.0, 2.0 / math.comb(n_a + n_b, n_a))


def seeds_needed(k_comparisons: int, alpha: float = C.ALPHA, limit: int = 1000) -> int:
    """Fewest seeds per objective with which one of ``k_comparisons`` Holm-corrected tests
    can reject at ``alpha``: Holm's first step needs min p x k <= alpha."""
    k = max(1, int(k_comparisons))
    for n in range(1, limit + 1):
        if min_achievable_p(n, n) * k <= alpha:
            return n
    raise ValueError(f"no seed count up to {limit} reaches alpha {alpha} with {k} comparisons")


def n_comparisons(n_objectives: int, comparisons: str = "baseline") -> int:
    """Tests in one family: k - 1 against a baseline, k (k - 1) / 2 for all pairs."""
    k = max(0, int(n_objectives))
    return max(0, k - 1) if comparisons == "baseline" else k * (k - 1) // 2


def outlook(n_seeds: int, k_comparisons: int, alpha: float = C.ALPHA) -> str | None:
    """One line when ``n_seeds`` per side cannot make any of ``k_comparisons`` tests
    significant at ``alpha`` (None when they can, or when nothing is compared)."""
    if k_comparisons < 1:
        return None
    p = min_achievable_p(n_seeds, n_seeds)
    if p * k_comparisons <= alpha:
        return None
    word = "seed" if n_seeds == 1 else "seeds"
    tests = "comparison" if k_comparisons == 1 else "comparisons"
    return (f"with {n_seeds} {word} no comparison can be significant at {alpha:g} (smallest p "
            f"{fmt_p(p)}, {k_comparisons} {tests}); {seeds_needed(k_comparisons, alpha)} seeds can")


def fmt_p(p: float) -> str:
    """A p-value for prose: two decimals from 0.1 up (0.10), two significant digits below."""
    if p is None or math.isnan(p):
        return ""
    return f"{p:.2f}" if p >= 0.1 else f"{p:.2g}"


# -- one comparison --------------------------------------------------------------------------


def u_test(xa: np.ndarray, xb: np.ndarray) -> tuple[float, float, str]:
    """Two-sided Mann-Whitney U of ``xa`` (pairs with a > b, ties half), its p and the method.

    Exact permutation distribution while it has at most ``EXACT_LIMIT`` orderings (ties
    handled by enumeration), normal approximation with tie correction beyond. If every
    value is the same there is no evidence of a difference: U = n_a n_b / 2, p = 1.
    """
    if np.all(np.concatenate([xa, xb]) == xa[0]):
        return (xa.size * xb.size / 2.0, 1.0, "exact")
    if math.comb(xa.size + xb.size, xa.size) <= EXACT_LIMIT:
        res = mannwhitneyu(xa, xb, alternative="two-sided",
                           method=PermutationMethod(n_resamples=EXACT_LIMIT))
        return (float(res.statistic), float(min(1.0, res.pvalue)), "exact")
    res = mannwhitneyu(xa, xb, alternative="two-sided", method="asymptotic")
    return (float(res.statistic), float(res.pvalue), "asymptotic")


def _median_diff(a, b, axis=-1):
    return np.median(a, axis=axis) - np.median(b, axis=axis)


def _beats(lower_is_better: bool):
    """Statistic: share of (a, b) seed pairs where a is better, ties counted half."""
    def stat(a, b, axis=-1):
        a, b = np.moveaxis(a, axis, -1), np.moveaxis(b, axis, -1)
        diff = a[..., :, None] - b[..., None, :]
        wins = (diff < 0) if lower_is_better else (diff > 0)
        return (wins + 0.5 * (diff == 0)).mean(axis=(-2, -1))
    return stat


def _interval(stat, xa, xb, level: float, seed: int) -> tuple[float, float]:
    if xa.size < 2 or xb.size < 2:
        return (math.nan, math.nan)
    res = bootstrap((xa, xb), stat, n_resamples=N_RESAMPLES, confidence_level=level,
                    method="percentile", vectorized=True, rng=np.random.default_rng(seed))
    return (float(res.confidence_interval.low), float(res.confidence_interval.high))


def _better(metric: str, median_a: float, median_b: float, a: str, b: str) -> str:
    """Which side has the better median, by the metric's direction ("" when tied/unknown)."""
    if median_a == median_b or np.isnan(median_a) or np.isnan(median_b):
        return ""
    if metric in C.LOWER_IS_BETTER:
        return a if median_a < median_b else b
    if metric in C.HIGHER_IS_BETTER:
        return a if median_a > median_b else b
    return ""


def _compare(a: str, b: str, xa: np.ndarray, xb: np.ndarray, metric: str, level: float,
             seed: int) -> dict:
    u, p, method = u_test(xa, xb)
    med_a, med_b = float(np.median(xa)), float(np.median(xb))
    lower = metric not in C.HIGHER_IS_BETTER
    # U counts pairs with a > b: the share where a is better, by the metric's direction
    share_above = u / (xa.size * xb.size)
    d_lo, d_hi = _interval(_median_diff, xa, xb, level, seed)
    w_lo, w_hi = _interval(_beats(lower), xa, xb, level, seed)
    if metric not in C.LOWER_IS_BETTER and metric not in C.HIGHER_IS_BETTER:
        share_above = w_lo = w_hi = math.nan  # no direction (D's outputs): no "better"
    return {
        C.A: a, C.B: b, C.N_A: xa.size, C.N_B: xb.size, C.MEDIAN_A: med_a, C.MEDIAN_B: med_b,
        C.DIFF: med_a - med_b, C.DIFF_LOW: d_lo, C.DIFF_HIGH: d_hi,
        C.PROB_BETTER: 1.0 - share_above if lower else share_above,
        C.PROB_BETTER_LOW: w_lo, C.PROB_BETTER_HIGH: w_hi,
        C.U: u, C.P: p, C.MIN_P: min_achievable_p(xa.size, xb.size), C.TEST: method,
        C.BETTER: _better(metric, med_a, med_b, a, b),
    }


# -- families of comparisons -------------------------------------------------------------------


def _pairs(names: list[str], comparisons: str, baseline: str | None) -> list[tuple[str, str]]:
    if comparisons == "all":
        return list(itertools.combinations(sorted(names), 2))
    if baseline not in names:
        return []
    return [(n, baseline) for n in sorted(names) if n != baseline]


def pairwise_tests(runs_df: pd.DataFrame, metric: str = "fid", *, comparisons: str = "baseline",
                   baseline: str | None = "ns", min_seeds: int = C.MIN_SEEDS_FOR_TEST,
                   alpha: float = C.ALPHA, level: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """Mann-Whitney U tests between objectives across seeds, on ok runs, with effect sizes.

    ``comparisons="baseline"``: every objective against ``baseline`` (a = the objective,
    b = the baseline); ``"all"``: every pair. Each (dataset, regularizers, params) setting
    is one Holm family. Objectives with fewer than ``min_seeds`` values of ``metric`` are
    left out (and a setting without the baseline has no baseline comparisons). Columns:
    ``columns.STATS_COLUMNS``; ``prob_a_better`` is the probability that a seed of a beats
    a seed of b in the metric's direction.
    """
    if comparisons not in COMPARISONS:
        raise GanZooError(f"unknown comparisons {comparisons!r}; valid: {', '.join(COMPARISONS)}")
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
        pairs = _pairs(list(samples), comparisons, baseline)
        if not pairs:
            continue
        omnibus = math.nan
        groups = list(samples.values())
        if len(groups) >= 2 and not np.all(np.concatenate(groups) == groups[0][0]):
            omnibus = float(kruskal(*groups).pvalue)
        family = [_compare(a, b, samples[a], samples[b], metric, level, seed) for a, b in pairs]
        reject, adjusted = multipletests([r[C.P] for r in family], alpha=alpha, method="holm")[:2]
        for row, rej, adj in zip(family, reject, adjusted):
            row.update({C.DATASET: dataset, C.LOSS: "", C.REGULARIZERS: regs, C.PARAMS: params,
                        C.METRIC: metric, C.COMPARISON: comparisons, C.N_TESTS: len(family),
                        C.P_HOLM: float(adj), C.SIGNIFICANT: bool(rej), C.OMNIBUS_P: omnibus})
        rows.extend(family)
    if not rows:
        return empty
    return pd.DataFrame(rows)[C.STATS_COLUMNS]


def _params_key(params: str) -> tuple:
    """Order swept values naturally (nz 64 before 200), numbers before text."""
    try:
        sweep = json.loads(params) if params else {}
    except (TypeError, json.JSONDecodeError):
        return ((1, str(params)),)
    if not isinstance(sweep, dict):
        return ((1, str(params)),)
    return tuple((k, (0, float(v), "") if isinstance(v, (int, float)) and not isinstance(v, bool)
                  else (1, 0.0, str(v))) for k, v in sorted(sweep.items()))


def reference_setting(settings: Iterable[tuple[str, str]]) -> tuple[str, str]:
    """The setting the others of one objective are compared with: no regularizer when
    there is such a setting, and among those the default parameters ("{}"), else the
    smallest swept values (``nz=100`` before ``nz=200``)."""
    settings = sorted(set(settings))
    if not settings:
        raise GanZooError("no setting to choose a reference from")
    plain = [s for s in settings if s[0] == "none"] or settings
    return min(plain, key=lambda s: (s[1] != "{}", _params_key(s[1]), s))


def setting_tests(runs_df: pd.DataFrame, metric: str = "fid", *,
                  min_seeds: int = C.MIN_SEEDS_FOR_TEST, alpha: float = C.ALPHA,
                  level: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """Mann-Whitney U tests between the settings of each objective, on ok runs.

    Within each (dataset, objective), every setting (regularizers and swept values) with
    at least ``min_seeds`` values of ``metric`` is compared with the reference setting
    (:func:`reference_setting`), Holm-corrected within the objective. Rows as
    :func:`pairwise_tests` with ``comparison`` "setting": a and b are setting labels
    (b the reference), the objective is in ``loss``, regularizers and params are empty.
    """
    empty = pd.DataFrame(columns=C.STATS_COLUMNS)
    if runs_df is None or runs_df.empty or metric not in runs_df.columns:
        return empty
    ok = runs_df[(runs_df[C.STATUS] == C.OK) & runs_df[metric].notna()]
    rows = []
    for (dataset, loss), sub in ok.groupby([C.DATASET, C.LOSS], sort=True):
        samples = {key: g[metric].to_numpy(dtype=float)
                   for key, g in sub.groupby([C.REGULARIZERS, C.PARAMS], sort=True)}
        samples = {k: v for k, v in samples.items() if v.size >= min_seeds}
        if len(samples) < 2:
            continue
        ref = reference_setting(samples)
        others = [k for k in sorted(samples, key=lambda s: (s[0], _params_key(s[1]))) if k != ref]
        groups = list(samples.values())
        omnibus = math.nan
        if not np.all(np.concatenate(groups) == groups[0][0]):
            omnibus = float(kruskal(*groups).pvalue)
        family = [_compare(C.setting_label(*k), C.setting_label(*ref), samples[k], samples[ref],
                           metric, level, seed) for k in others]
        reject, adjusted = multipletests([r[C.P] for r in family], alpha=alpha, method="holm")[:2]
        for row, rej, adj in zip(family, reject, adjusted):
            row.update({C.DATASET: dataset, C.LOSS: loss, C.REGULARIZERS: "", C.PARAMS: "",
                        C.METRIC: metric, C.COMPARISON: C.SETTING, C.N_TESTS: len(family),
                        C.P_HOLM: float(adj), C.SIGNIFICANT: bool(rej), C.OMNIBUS_P: omnibus})
        rows.extend(family)
    if not rows:
        return empty
    return pd.DataFrame(rows)[C.STATS_COLUMNS]


def can_reject(family: pd.DataFrame, alpha: float = C.ALPHA) -> bool:
    """Whether any test of one family could reach significance with its seed counts."""
    if family is None or family.empty:
        return False
    return bool((family[C.MIN_P] * family[C.N_TESTS]).min() <= alpha)


def tiers(family: pd.DataFrame, medians: dict[str, float], metric: str) -> list[list[str]]:
    """Objectives of one family in groups the tests cannot separate, best group first.

    All pairs: the objective with the best median and every one not significantly
    different from it form tier 1; the same again on the rest, and so on. Against a
    baseline: significantly better than it, not separable from it (the baseline
    included), significantly worse; empty groups are dropped. Objectives without a
    test (too few seeds) are not placed.
    """
    if family is None or family.empty:
        return []
    sign = -1.0 if metric in C.HIGHER_IS_BETTER else 1.0
    order = lambda names: sorted(names, key=lambda n: (sign * medians.get(n, math.inf), n))  # noqa: E731
    sig = {frozenset((a, b)) for a, b, s in zip(family[C.A], family[C.B], family[C.SIGNIFICANT]) if s}
    if family[C.COMPARISON].iloc[0] == "baseline":
        base = family[C.B].iloc[0]
        better, worse = [], []
        for a, winner, s in zip(family[C.A], family[C.BETTER], family[C.SIGNIFICANT]):
            if s:
                (better if winner == a else worse).append(a)
        same = [n for n in [*family[C.A], base] if n not in better and n not in worse]
        return [order(g) for g in (better, same, worse) if g]
    left, out = order(set(family[C.A]) | set(family[C.B])), []
    while left:
        top = left[0]
        tier = [n for n in left if n == top or frozenset((top, n)) not in sig]
        out.append(tier)
        left = [n for n in left if n not in tier]
    return out


def stratified_setting_tests(runs_df: pd.DataFrame, metric: str = "fid", *,
                             min_seeds: int = C.MIN_SEEDS_FOR_TEST) -> pd.DataFrame:
    """Does a setting move every objective the same way? Per dataset and setting, one
    test across objectives: the van Elteren stratified rank-sum test (van Elteren 1960),
    strata = objectives that ran both the setting and the reference setting
    (:func:`reference_setting`) with ``min_seeds`` seeds each. Per stratum the
    Mann-Whitney U of setting vs reference; Z = sum w_i (U_i - n_a n_b / 2) /
    sqrt(sum w_i^2 Var U_i) with w_i = 1 / (n_a + n_b + 1) and the tie-corrected
    variance; normal approximation. Returns one row per (dataset, setting): ``dataset``,
    ``setting`` (regularizers), ``params``, ``reference`` (label), ``strata``, ``lower``
    (objectives whose median fell), ``higher``, ``z``, ``p_lower`` and ``p_higher``
    (one-sided: the setting lowers / raises the metric), ``p`` (two-sided), ``p_holm``
    (two-sided, Holm over the settings of the dataset). Each objective's own test is in
    :func:`setting_tests`; this one pools them, so a small shift shared by every
    objective can reach significance where no single objective's test does."""
    from scipy.stats import norm, rankdata

    cols = ["dataset", "setting", "params", "reference", "strata", "lower", "higher", "z",
            "p_lower", "p_higher", "p", "p_holm"]
    if runs_df is None or runs_df.empty or metric not in runs_df.columns:
        return pd.DataFrame(columns=cols)
    ok = runs_df[(runs_df[C.STATUS] == C.OK) & runs_df[metric].notna()]
    rows = []
    for dataset, sub in ok.groupby(C.DATASET, sort=True):
        settings = set(zip(sub[C.REGULARIZERS], sub[C.PARAMS]))
        if len(settings) < 2:
            continue
        ref = reference_setting(settings)
        found = []
        for setting in sorted(settings - {ref}):
            num = den = 0.0
            lower = higher = strata = 0
            for loss, g in sub.groupby(C.LOSS, sort=True):
                xa = g[(g[C.REGULARIZERS] == setting[0]) & (g[C.PARAMS] == setting[1])][metric].to_numpy(float)
                xb = g[(g[C.REGULARIZERS] == ref[0]) & (g[C.PARAMS] == ref[1])][metric].to_numpy(float)
                if len(xa) < min_seeds or len(xb) < min_seeds:
                    continue
                na, nb = len(xa), len(xb)
                ranks = rankdata(np.r_[xa, xb])
                u = ranks[:na].sum() - na * (na + 1) / 2  # U of the setting: large when it is higher
                n = na + nb
                _, counts = np.unique(np.r_[xa, xb], return_counts=True)
                var = na * nb / 12 * ((n + 1) - (counts ** 3 - counts).sum() / (n * (n - 1)))
                w = 1.0 / (n + 1)
                num += w * (u - na * nb / 2)
                den += w * w * var
                strata += 1
                lower += int(np.median(xa) < np.median(xb))
                higher += int(np.median(xa) > np.median(xb))
            if strata == 0 or den <= 0:
                continue
            z = num / math.sqrt(den)
            found.append({"dataset": dataset, "setting": setting[0], "params": setting[1],
                          "reference": C.setting_label(*ref), "strata": strata, "lower": lower,
                          "higher": higher, "z": z, "p_lower": float(norm.cdf(z)),
                          "p_higher": float(norm.sf(z)), "p": float(min(1.0, 2 * norm.sf(abs(z))))})
        if found:
            adjusted = holm([r["p"] for r in found])
            for r, ph in zip(found, adjusted):
                r["p_holm"] = float(ph)
            rows += found
    return pd.DataFrame(rows, columns=cols)
