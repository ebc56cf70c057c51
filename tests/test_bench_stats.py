"""Bootstrap intervals, Holm correction and pairwise Mann-Whitney tests, against answers
worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gan_zoo.bench import columns as C
from gan_zoo.bench.stats import bootstrap_ci, holm, pairwise_tests


# -- bootstrap_ci -----------------------------------------------------------------------------


def test_bootstrap_of_a_constant_is_the_constant():
    assert bootstrap_ci([3.3] * 7) == (3.3, 3.3)


def test_bootstrap_of_one_value_or_none_is_nan():
    for values in ([5.0], [], [math.nan, 2.0], [math.nan]):
        lo, hi = bootstrap_ci(values)
        assert math.isnan(lo) and math.isnan(hi)


def test_bootstrap_is_the_percentile_interval_of_resampled_means():
    x = np.array([10.0, 11.0, 12.0, 30.0])
    # The same computation written out: resample with the documented generator and seed.
    rng = np.random.default_rng(7)
    means = x[rng.integers(0, 4, size=(500, 4))].mean(axis=1)
    expected = (np.quantile(means, 0.05), np.quantile(means, 0.95))
    assert bootstrap_ci(x, level=0.90, n_resamples=500, seed=7) == pytest.approx(expected)


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
    out = pairwise_tests(df, "fid")
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
    out = pairwise_tests(df, "fid")
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
    r = pairwise_tests(df, "modes").iloc[0]
    assert r[C.BETTER] == "ns"


def test_identical_values_give_p_one_and_few_seeds_are_left_out():
    df = pd.DataFrame(_rows("ns", [8, 8, 8], metric="modes") + _rows("rsgan", [8, 8, 8], metric="modes")
                      + _rows("hinge", [1, 2], metric="modes"))
    out = pairwise_tests(df, "modes")
    assert len(out) == 1  # hinge has only 2 seeds
    r = out.iloc[0]
    assert r[C.P] == 1.0 and r[C.U] == 4.5 and not r[C.SIGNIFICANT] and r[C.BETTER] == ""


def test_only_ok_runs_with_values_count():
    rows = (_rows("ns", [5, 6, 7]) + _rows("wgan", [20, 21, 22])
            + _rows("wgan", [1.0], status="diverged") + _rows("ns", [math.nan]))
    out = pairwise_tests(pd.DataFrame(rows), "fid")
    assert (out.iloc[0][C.N_A], out.iloc[0][C.N_B]) == (3, 3)
    assert out.iloc[0][C.P] == pytest.approx(2 / math.comb(6, 3))


def test_empty_inputs_give_empty_tables():
    assert pairwise_tests(pd.DataFrame(), "fid").empty
    assert list(pairwise_tests(pd.DataFrame(_rows("ns", [1, 2, 3])), "fid").columns) == C.STATS_COLUMNS
    assert pairwise_tests(pd.DataFrame(_rows("ns", [1, 2, 3])), "fid").empty
