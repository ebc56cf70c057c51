"""Bootstrap intervals, Holm correction, Mann-Whitney tests against a baseline or between
all pairs, effect sizes, the smallest achievable p and tiers, against answers worked out
by hand."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gan_zoo.bench import columns as C
from gan_zoo.bench.stats import (bootstrap_ci, can_reject, holm, min_achievable_p, n_comparisons,
                                 outlook, pairwise_tests, reference_setting, seeds_needed,
                                 setting_tests, tiers)


# -- bootstrap_ci -----------------------------------------------------------------------------


def test_bootstrap_of_a_constant_is_the_constant():
    assert bootstrap_ci([3.3] * 7) == (3.3, 3.3)


def test_bootstrap_of_one_value_or_none_is_nan():
    for values in ([5.0], [], [math.nan, 2.0], [math.nan]):
        lo, hi = bootstrap_ci(values)
        assert math.isnan(lo) and math.isnan(hi)


def test_bootstrap_is_the_percentile_interval_of_resampled_means():
    x = np.array([10.0, 11.0, 12.5, 14.0, 17.0])
    # The exact bootstrap distribution of the mean: all 5^5 resamples, equally likely.
    means = np.array([np.mean(r) for r in itertools.product(x, repeat=5)])
    expected = (np.quantile(means, 0.05), np.quantile(means, 0.95))
    lo, hi = bootstrap_ci(x, level=0.90, n_resamples=20000, seed=7)
    assert lo == pytest.approx(expected[0], abs=0.15) and hi == pytest.approx(expected[1], abs=0.15)


def test_bootstrap_is_reproducible_and_nested_by_level():
    x = [10.0, 11.5, 12.0, 13.0, 19.0]
    assert bootstrap_ci(x) == bootstrap_ci(x)
    lo95, hi95 = bootstrap_ci(x, level=0.95)
    lo50, hi50 = bootstrap_ci(x, level=0.50)
    assert min(x) <= lo95 < lo50 < np.mean(x) < hi50 < hi95 <= max(x)


def test_bootstrap_ignores_nan_and_checks_level():
    assert bootstrap_ci([1.0, math.nan, 3.0]) == bootstrap_ci([1.0, 3.0])
    with pytest.raises(ValueError):
        bootstrap_ci([1.0, 2.0], level=1.5)


# -- holm -------------------------------------------------------------------------------------


@pytest.mark.parametrize("p, expected", [
    # sorted: 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 = 0.04 -> running max 0.06
    ([0.01, 0.04, 0.03], [0.03, 0.06, 0.06]),
    # sorted: 0.001*4, 0.015*3, 0.2*2, 0.9*1
    ([0.001, 0.2, 0.015, 0.9], [0.004, 0.4, 0.045, 0.9]),
    # capped at 1: 0.5*2 = 1.0, 0.6*1 -> max 1.0
    ([0.6, 0.5], [1.0, 1.0]),
    # ties keep equal adjusted values: 0.02*2 = 0.04, 0.02*1 -> max 0.04
    ([0.02, 0.02], [0.04, 0.04]),
    ([0.2], [0.2]),
])
def test_holm_known_answers(p, expected):
    assert holm(p) == pytest.approx(expected)


def test_holm_skips_nan_and_handles_empty():
    out = holm([0.01, math.nan, 0.04])
    assert out[0] == pytest.approx(0.02) and math.isnan(out[1]) and out[2] == pytest.approx(0.04)
    assert holm([]).size == 0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=1, max_size=12))
def test_holm_properties(p):
    adj = holm(p)
    p = np.asarray(p)
    assert np.all(adj >= p - 1e-15) and np.all(adj <= 1.0)
    assert np.all(adj <= np.minimum(1.0, p * len(p)) + 1e-12)  # never worse than Bonferroni
    order = np.argsort(p, kind="stable")
    assert np.all(np.diff(adj[order]) >= -1e-15)  # same order as the raw p-values


# -- pairwise_tests ---------------------------------------------------------------------------


def _rows(loss, values, regularizers="none", params="{}", dataset="mnist", metric="fid",
          status="ok"):
    return [{C.DATASET: dataset, C.LOSS: loss, C.REGULARIZERS: regularizers, C.PARAMS: params,
             C.SEED: s, C.STATUS: status, metric: v} for s, v in enumerate(values)]


def test_two_separated_groups_of_five_give_exact_p():
    df = pd.DataFrame(_rows("ns", [5, 6, 7, 8, 9]) + _rows("wgan", [20, 21, 22, 23, 24]))
    out = pairwise_tests(df, "fid", comparisons="all")
    assert list(out.columns) == C.STATS_COLUMNS
    assert len(out) == 1
    r = out.iloc[0]
    # Fully separated 5 vs 5: only 2 of the C(10, 5) = 252 orderings are as extreme.
    assert (r[C.A], r[C.B], r[C.N_A], r[C.N_B]) == ("ns", "wgan", 5, 5)
    assert r[C.P] == pytest.approx(2 / 252)
    assert r[C.U] == 0.0  # every ns value below every wgan value
    assert (r[C.MEDIAN_A], r[C.MEDIAN_B]) == (7.0, 22.0)
    assert r[C.P_HOLM] == pytest.approx(2 / 252)  # one test: no correction
    assert bool(r[C.SIGNIFICANT]) and r[C.BETTER] == "ns"


def test_holm_within_a_setting_and_settings_kept_apart():
    a, b, c = [1, 2, 3, 4, 5], [11, 12, 13, 14, 15], [1.5, 2.5, 3.5, 4.5, 5.5]
    df = pd.DataFrame(_rows("ns", a) + _rows("wgan", b) + _rows("lsgan", c)
                      + _rows("ns", a, regularizers="gp") + _rows("wgan", b, regularizers="gp"))
    out = pairwise_tests(df, "fid", comparisons="all")
    none = out[out[C.REGULARIZERS] == "none"].set_index([C.A, C.B])
    gp = out[out[C.REGULARIZERS] == "gp"]
    assert len(none) == 3 and len(gp) == 1  # no ns(none) vs wgan(gp) comparisons
    # lsgan interleaves with ns: lsgan is above ns in 15 of the 25 pairs, so U(lsgan) = 15
    assert none.loc[("lsgan", "ns"), C.U] == 15.0
    p_sep = 2 / 252
    p_mix = none.loc[("lsgan", "ns"), C.P]
    assert none.loc[("lsgan", "wgan"), C.P] == pytest.approx(p_sep)
    assert none[C.P_HOLM].to_numpy() == pytest.approx(holm(none[C.P]))
    # sorted p: p_sep * 3, p_sep * 2 (raised to the running max), p_mix * 1
    assert none.loc[("lsgan", "wgan"), C.P_HOLM] == pytest.approx(3 * p_sep)
    assert none.loc[("ns", "wgan"), C.P_HOLM] == pytest.approx(3 * p_sep)
    assert none.loc[("lsgan", "ns"), C.P_HOLM] == pytest.approx(p_mix)
    assert gp.iloc[0][C.P_HOLM] == pytest.approx(p_sep)  # its own family of one


def test_higher_is_better_metrics_pick_the_larger_median():
    df = pd.DataFrame(_rows("ns", [8, 8, 7], metric="modes")
                      + _rows("minimax", [2, 3, 1], metric="modes"))
    r = pairwise_tests(df, "modes", comparisons="all").iloc[0]
    assert r[C.BETTER] == "ns"


def test_identical_values_give_p_one_and_few_seeds_are_left_out():
    df = pd.DataFrame(_rows("ns", [8, 8, 8], metric="modes") + _rows("rsgan", [8, 8, 8], metric="modes")
                      + _rows("hinge", [1, 2], metric="modes"))
    out = pairwise_tests(df, "modes", comparisons="all")
    assert len(out) == 1  # hinge has only 2 seeds
    r = out.iloc[0]
    assert r[C.P] == 1.0 and r[C.U] == 4.5 and not r[C.SIGNIFICANT] and r[C.BETTER] == ""


def test_only_ok_runs_with_values_count():
    rows = (_rows("ns", [5, 6, 7]) + _rows("wgan", [20, 21, 22])
            + _rows("wgan", [1.0], status="diverged") + _rows("ns", [math.nan]))
    out = pairwise_tests(pd.DataFrame(rows), "fid", comparisons="all")
    assert (out.iloc[0][C.N_A], out.iloc[0][C.N_B]) == (3, 3)
    assert out.iloc[0][C.P] == pytest.approx(2 / math.comb(6, 3))


def test_empty_inputs_give_empty_tables():
    assert pairwise_tests(pd.DataFrame(), "fid").empty
    assert list(pairwise_tests(pd.DataFrame(_rows("ns", [1, 2, 3])), "fid").columns) == C.STATS_COLUMNS
    assert pairwise_tests(pd.DataFrame(_rows("ns", [1, 2, 3])), "fid").empty


# -- what the seeds allow ---------------------------------------------------------------------


def _exact_two_sided_p(xa, xb) -> float:
    """The permutation p of U written out: every split of the pooled values into |a| and
    |b|, two-sided by distance of U from its mean, ties counted half."""
    pooled = list(xa) + list(xb)
    n_a, n_b = len(xa), len(xb)

    def u(a, b):
        return sum((x > y) + 0.5 * (x == y) for x in a for y in b)

    centre = n_a * n_b / 2
    seen = abs(u(xa, xb) - centre)
    splits = list(itertools.combinations(range(n_a + n_b), n_a))
    extreme = 0
    for idx in splits:
        a = [pooled[i] for i in idx]
        b = [pooled[i] for i in range(n_a + n_b) if i not in idx]
        extreme += abs(u(a, b) - centre) >= seen - 1e-12
    return extreme / len(splits)


@pytest.mark.parametrize("n_a, n_b, expected", [
    (3, 3, 0.1), (6, 6, 2 / 924), (5, 5, 2 / 252), (3, 6, 2 / 84), (1, 1, 1.0), (0, 4, 1.0),
])
def test_min_achievable_p(n_a, n_b, expected):
    assert min_achievable_p(n_a, n_b) == pytest.approx(expected)
    assert round(min_achievable_p(6, 6), 6) == 0.002165


def test_min_p_is_what_fully_separated_seeds_give():
    for n in (3, 4, 6):
        df = pd.DataFrame(_rows("ns", range(n)) + _rows("wgan", range(100, 100 + n)))
        r = pairwise_tests(df, "fid", baseline="ns").iloc[0]
        assert r[C.P] == pytest.approx(min_achievable_p(n, n)) == pytest.approx(r[C.MIN_P])
        assert r[C.TEST] == "exact"


def test_exact_p_with_ties_matches_the_enumeration():
    xa, xb = [1.0, 1.0, 2.0, 4.0], [2.0, 3.0, 3.0, 5.0]
    df = pd.DataFrame(_rows("lsgan", xa) + _rows("ns", xb))
    r = pairwise_tests(df, "fid").iloc[0]
    assert r[C.P] == pytest.approx(_exact_two_sided_p(xa, xb))
    assert r[C.U] == sum((x > y) + 0.5 * (x == y) for x in xa for y in xb)


@pytest.mark.parametrize("k, alpha, expected", [(9, 0.05, 6), (45, 0.05, 7), (1, 0.05, 4), (9, 0.01, 7)])
def test_seeds_needed(k, alpha, expected):
    assert seeds_needed(k, alpha) == expected
    n = expected
    assert min_achievable_p(n, n) * k <= alpha < min_achievable_p(n - 1, n - 1) * k


def test_holm_first_step_with_six_seeds_and_nine_comparisons():
    assert 9 * 2 / 924 == pytest.approx(0.019480519)
    assert 9 * min_achievable_p(6, 6) < 0.05 < 9 * min_achievable_p(5, 5)
    assert n_comparisons(10, "baseline") == 9 and n_comparisons(10, "all") == 45


def test_outlook_says_when_nothing_can_be_significant():
    assert outlook(3, 9) == ("with 3 seeds no comparison can be significant at 0.05 "
                             "(smallest p 0.10, 9 comparisons); 6 seeds can")
    assert outlook(6, 9) is None
    assert outlook(6, 45) == ("with 6 seeds no comparison can be significant at 0.05 "
                              "(smallest p 0.0022, 45 comparisons); 7 seeds can")
    assert outlook(1, 1).startswith("with 1 seed no comparison")
    assert outlook(3, 0) is None


# -- ten objectives, one clearly ahead ------------------------------------------------------------

TEN = ["hinge", "lsgan", "minimax", "ns", "rahinge", "ralsgan", "rasgan", "rsgan", "wgan", "wgan-gp"]


def ten_objectives(seeds: int, leader: str = "wgan") -> pd.DataFrame:
    """FIDs of the nine others interleave around 100; the leader sits near 40."""
    rows = []
    for i, loss in enumerate(TEN):
        values = ([40.0 + s for s in range(seeds)] if loss == leader
                  else [100.0 + 3 * s + 0.1 * i for s in range(seeds)])
        rows += _rows(loss, values)
    return pd.DataFrame(rows)


def test_six_seeds_the_clear_leader_beats_the_baseline_after_correction():
    out = pairwise_tests(ten_objectives(6), "fid", baseline="ns")
    assert len(out) == 9 and set(out[C.B]) == {"ns"} and (out[C.N_TESTS] == 9).all()
    assert (out[C.COMPARISON] == "baseline").all()
    lead = out.set_index(C.A).loc["wgan"]
    assert lead[C.P] == pytest.approx(2 / 924)
    assert lead[C.P_HOLM] == pytest.approx(9 * 2 / 924) and bool(lead[C.SIGNIFICANT])
    assert lead[C.BETTER] == "wgan" and lead[C.PROB_BETTER] == 1.0
    assert lead[C.DIFF] == pytest.approx(42.5 - 107.5 - 0.1 * 3)  # median wgan - median ns
    assert lead[C.DIFF_LOW] <= lead[C.DIFF] <= lead[C.DIFF_HIGH] < 0
    assert out[C.SIGNIFICANT].sum() == 1
    assert can_reject(out)
    assert tiers(out, dict(zip(out[C.A], out[C.MEDIAN_A])) | {"ns": lead[C.MEDIAN_B]}, "fid")[0] == ["wgan"]


def test_all_pairs_need_more_seeds_than_the_baseline_family():
    six = pairwise_tests(ten_objectives(6), "fid", comparisons="all")
    assert len(six) == 45 and not can_reject(six) and not six[C.SIGNIFICANT].any()
    seven = pairwise_tests(ten_objectives(7), "fid", comparisons="all")
    assert can_reject(seven)
    assert set(seven[seven[C.SIGNIFICANT]][[C.A, C.B]].apply(frozenset, axis=1)) == {
        frozenset(("wgan", o)) for o in TEN if o != "wgan"}
    med = dict(zip(seven[C.A], seven[C.MEDIAN_A])) | dict(zip(seven[C.B], seven[C.MEDIAN_B]))
    groups = tiers(seven, med, "fid")
    assert groups[0] == ["wgan"] and sorted(groups[1]) == sorted(o for o in TEN if o != "wgan")


def test_three_seeds_cannot_reject():
    out = pairwise_tests(ten_objectives(3), "fid")
    assert not can_reject(out) and not out[C.SIGNIFICANT].any()
    assert out[C.MIN_P].tolist() == pytest.approx([0.1] * 9)


def test_missing_baseline_gives_no_baseline_tests():
    df = ten_objectives(6)
    assert pairwise_tests(df[df[C.LOSS] != "ns"], "fid").empty
    with pytest.raises(Exception, match="valid: baseline, all"):
        pairwise_tests(df, "fid", comparisons="some")


def test_probability_of_beating_follows_the_metric_direction():
    # modes: higher is better; a = [3, 5, 7] beats b = [4, 4, 4] in 2 of 3 pairs each
    df = pd.DataFrame(_rows("lsgan", [3, 5, 7], metric="modes") + _rows("ns", [4, 4, 4], metric="modes"))
    r = pairwise_tests(df, "modes").iloc[0]
    assert r[C.PROB_BETTER] == pytest.approx(6 / 9)
    assert r[C.PROB_BETTER_LOW] <= r[C.PROB_BETTER] <= r[C.PROB_BETTER_HIGH]
    df = pd.DataFrame(_rows("lsgan", [3, 5, 7]) + _rows("ns", [4, 4, 4]))  # FID: lower is better
    assert pairwise_tests(df, "fid").iloc[0][C.PROB_BETTER] == pytest.approx(3 / 9)


def test_omnibus_is_kruskal_wallis_of_the_family():
    from scipy.stats import kruskal

    df = ten_objectives(4)
    out = pairwise_tests(df, "fid")
    groups = [g["fid"].to_numpy() for _, g in df.groupby(C.LOSS)]
    assert out[C.OMNIBUS_P].tolist() == pytest.approx([kruskal(*groups).pvalue] * 9)


def test_baseline_tiers_better_same_worse():
    df = pd.DataFrame(_rows("ns", [50, 51, 52, 53, 54, 55]) + _rows("wgan", [10, 11, 12, 13, 14, 15])
                      + _rows("lsgan", [90, 91, 92, 93, 94, 95]) + _rows("hinge", [49, 52, 50, 56, 51, 54]))
    out = pairwise_tests(df, "fid")
    med = df.groupby(C.LOSS)["fid"].median().to_dict()
    assert tiers(out, med, "fid") == [["wgan"], ["hinge", "ns"], ["lsgan"]]


# -- settings of one objective ------------------------------------------------------------------


def test_reference_setting_prefers_no_regularizer_then_defaults_then_smallest_values():
    assert reference_setting([("sn", "{}"), ("none", "{}"), ("gp", "{}")]) == ("none", "{}")
    assert reference_setting([("none", '{"nz": 200}'), ("none", '{"nz": 64}')]) == ("none", '{"nz": 64}')
    assert reference_setting([("sn", '{"nz": 100}'), ("none", '{"nz": 200}')]) == ("none", '{"nz": 200}')
    assert reference_setting([("sn", "{}"), ("gp", "{}")]) == ("gp", "{}")


def test_setting_tests_compare_each_regularizer_with_none_within_each_objective():
    rows = []
    for loss, shift in (("ns", 0.0), ("hinge", 50.0)):
        for regs, fid in (("none", 30.0), ("sn", 20.0), ("gp", 30.5)):
            for s in range(6):
                rows.append({C.DATASET: "mnist", C.LOSS: loss, C.REGULARIZERS: regs, C.PARAMS: "{}",
                             C.SEED: s, C.STATUS: C.OK, "fid": fid + shift + s})
    runs = pd.DataFrame(rows)
    out = setting_tests(runs, "fid")
    assert list(out.columns) == C.STATS_COLUMNS and len(out) == 4  # 2 objectives x 2 settings
    assert set(out[C.COMPARISON]) == {C.SETTING} and set(out[C.B]) == {"none"}
    assert (out[C.N_TESTS] == 2).all() and (out[C.REGULARIZERS] == "").all()
    sn = out[(out[C.LOSS] == "ns") & (out[C.A] == "sn")].iloc[0]
    assert sn[C.MEDIAN_A] == 22.5 and sn[C.MEDIAN_B] == 32.5 and sn[C.BETTER] == "sn"
    # sn's six seeds 20..25 against none's 30..35: all below, exact p 2/924, Holm x2
    assert sn[C.P] == pytest.approx(2 / 924) and sn[C.P_HOLM] == pytest.approx(4 / 924)
    assert sn[C.SIGNIFICANT] and sn[C.PROB_BETTER] == 1.0
    gp = out[(out[C.LOSS] == "ns") & (out[C.A] == "gp")].iloc[0]
    assert not gp[C.SIGNIFICANT]
    # an objective in one setting only, or with too few seeds, has no such tests
    assert setting_tests(runs[runs[C.REGULARIZERS] == "none"], "fid").empty
    assert setting_tests(runs[runs[C.SEED] < 2], "fid").empty


def test_stratified_test_finds_a_setting_that_moves_every_objective_the_same_way():
    from gan_zoo.bench.stats import stratified_setting_tests

    rows = []
    for i, loss in enumerate(["hinge", "lsgan", "ns", "minimax", "rasgan"]):
        for s in range(3):
            for regs, shift in (("none", 0.0), ("instance-noise", -5.0), ("gp", 0.0)):
                # seeds interleave within an objective except for the shift; gp: no effect
                fid = 100 + 20 * i + 3 * s + shift + (0.5 * ((s + i) % 2) if regs == "gp" else 0.0)
                rows.append({C.DATASET: "mnist", C.LOSS: loss, C.REGULARIZERS: regs, C.PARAMS: "{}",
                             C.SEED: s, C.STATUS: C.OK, "fid": fid})
    out = stratified_setting_tests(pd.DataFrame(rows), "fid").set_index("setting")
    noise = out.loc["instance-noise"]
    assert noise["strata"] == 5 and noise["lower"] == 5 and noise["higher"] == 0
    assert noise["p_lower"] < 0.01 and noise["p_higher"] > 0.99  # no single 3-vs-3 test gets below 0.1
    assert out.loc["gp", "p"] > 0.2
