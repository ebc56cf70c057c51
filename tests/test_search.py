"""gan-zoo search end to end on ring8 at a tiny budget: trials as run folders, a SIGKILL
and a rerun giving the same trials with no duplicate, the trial list reproducible and
extendable, the best-of-k estimator against hand-computed cases, and every bad input."""

from __future__ import annotations

import itertools
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from gan_zoo.cli import cli
from gan_zoo.errors import GanZooError
from gan_zoo.search.bestk import bestk_band, expected_best, expected_best_curve

#: a tiny budget: 30 generator steps, one in-training score point
TINY = ["--dataset", "ring8", "--steps", "30", "--curve-points", "1", "--workers", "1", "--quiet"]
THREE = ["--losses", "ns,hinge,wgan", "--trials", "4"]


def search(*args):
    return CliRunner().invoke(cli, ["search", *args])


def trials_of(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "trials.csv", keep_default_na=False)


def snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*")} if folder.exists() else {}


# -- the estimator ---------------------------------------------------------------------------


def test_expected_best_hand_computed():
    # FID-like (lower is better), scores 3, 1, 2. k = 1: the mean, 2. k = 2: the three
    # pairs {3,1} {3,2} {1,2} have minima 1, 2, 1, so 4/3. k = 3: the minimum, 1.
    s = [3.0, 1.0, 2.0]
    assert expected_best(s, 1) == pytest.approx(2.0)
    assert expected_best(s, 2) == pytest.approx(4 / 3)
    assert expected_best(s, 3) == pytest.approx(1.0)
    # modes-like (higher is better): pair maxima 3, 3, 2 -> 8/3
    assert expected_best(s, 2, lower_is_better=False) == pytest.approx(8 / 3)
    # ties: 5, 5, 9 -> pairs {5,5} {5,9} {5,9} have minima 5, 5, 5
    assert expected_best([5.0, 5.0, 9.0], 2) == pytest.approx(5.0)
    with pytest.raises(ValueError):
        expected_best(s, 4)


def test_expected_best_equals_enumeration():
    rng = np.random.default_rng(3)
    s = rng.normal(size=7).round(2)
    for k in range(1, 8):
        brute = np.mean([min(c) for c in itertools.combinations(s, k)])
        assert expected_best(s, k) == pytest.approx(brute)
        brute_max = np.mean([max(c) for c in itertools.combinations(s, k)])
        assert expected_best(s, k, lower_is_better=False) == pytest.approx(brute_max)
    curve = expected_best_curve(s)
    assert np.all(np.diff(curve) <= 1e-12)  # more trials never hurt in expectation
    lo, hi = bestk_band(s)
    assert np.all(lo <= curve + 1e-9) and np.all(curve - 1e-9 <= hi)
    # a failed trial (NaN) is a trial spent with the worst score
    assert expected_best([np.nan, 1.0], 1) == np.inf
    assert expected_best([np.nan, 1.0], 2) == 1.0


# -- the command ---------------------------------------------------------------------------


def _wait_for_results(out: Path, n: int, proc: subprocess.Popen, limit: float = 120.0) -> None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit and proc.poll() is None:
        if len(list((out / "runs").glob("*/result.json"))) >= n:
            return
        time.sleep(0.2)


@pytest.mark.slow
def test_search_killed_and_resumed_same_trials(tmp_path):
    out = tmp_path / "s"
    cmd = [sys.executable, "-m", "gan_zoo.cli", "search", *TINY, *THREE, "--out", str(out)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_results(out, 3, proc)
        assert proc.poll() is None, "the search ended before it could be killed"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    assert (out / "study.db").is_file()
    killed = trials_of(out)  # written as trials are asked and told: killed mid-search
    assert len(killed) == 12 and (killed.state == "running").any()
    r = search(*TINY, *THREE, "--out", str(out))
    assert r.exit_code == 0, r.output
    t = trials_of(out)
    assert len(t) == 12 and set(t.loss) == {"ns", "hinge", "wgan"}
    assert (t.state == "complete").all()
    for _, sub in t.groupby("loss"):
        assert sorted(sub.trial) == [0, 1, 2, 3]
        assert sub.paper_default.astype(str).tolist().count("True") == 1
        assert sub[sub.trial == 0].paper_default.astype(str).item() == "True"
    assert t.run_id.is_unique
    folders = sorted(p.name for p in (out / "runs").iterdir())
    assert folders == sorted(t.run_id)  # no trial lost, none trained twice
    runs = pd.read_csv(out / "runs.csv")
    assert len(runs) == 12 and (runs.status == "ok").all()
    # trial 0 is the paper default: the very run gan-zoo bench trains (no setting overridden)
    spec0 = json.loads((out / "runs" / t[(t.loss == "ns") & (t.trial == 0)].run_id.item() / "spec.json").read_text())
    assert spec0["lr_g"] is None and spec0["beta1"] is None
    # trial t draws the same learning rate for every objective (common random numbers)
    lrs = t[t.trial > 0].assign(lr=[json.loads(s)["lr"] for s in t[t.trial > 0].settings])
    assert lrs.groupby("trial").lr.nunique().eq(1).all()
    scores = pd.read_csv(out / "scores.csv")
    assert set(scores.score_source) == {"curve"} and scores.metric.eq("modes").all()
    bestk = pd.read_csv(out / "bestk.csv")
    assert sorted(set(bestk.k)) == [1, 2, 3] and (bestk.n_trials == 3).all()
    report = (out / "report.md").read_text()
    assert "Expected best score after k random trials" in report and "bestk_ring8.png" in report
    assert not (out / "curves.csv").exists()  # the runs' log.csv hold the training logs
    # the report is rebuilt from the folder alone, byte for byte
    before = {n: (out / n).read_bytes() for n in ("scores.csv", "bestk.csv", "trials.csv", "report.md", "runs.csv")}
    r = CliRunner().invoke(cli, ["report", str(out)])
    assert r.exit_code == 0, r.output
    assert {n: (out / n).read_bytes() for n in before} == before

    # an uninterrupted search draws the same trials; with --reseed the best of each is re-run
    fresh = tmp_path / "fresh"
    r = search(*TINY, "--losses", "ns,hinge", "--trials", "2", "--reseed", "3", "--out", str(fresh))
    assert r.exit_code == 0, r.output
    f = trials_of(fresh)
    ft, killed = f[f.kind == "trial"], t[(t.trial < 2) & t.loss.isin(["ns", "hinge"])]
    assert ft.sort_values(["loss", "trial"]).settings.tolist() == killed.sort_values(["loss", "trial"]).settings.tolist()
    assert ft.sort_values(["loss", "trial"]).run_id.tolist() == killed.sort_values(["loss", "trial"]).run_id.tolist()
    rs = f[f.kind == "reseed"]
    assert len(rs) == 6 and sorted(set(rs.seed)) == [1, 2, 3]
    stats = pd.read_csv(fresh / "reseed_stats.csv")
    assert set(stats.measure) == {"score (best in-training point)", "final protocol evaluation"}
    assert (stats.a == "hinge").all() and (stats.b == "ns").all()
    assert "re-run with fresh seeds" in (fresh / "report.md").read_text()
    # --trials 3 after 2 adds one trial per study (the folder remembers --reseed 3)
    r = search(*TINY, "--losses", "ns,hinge", "--trials", "3", "--out", str(fresh))
    assert r.exit_code == 0, r.output
    f = trials_of(fresh)
    assert sorted(f[f.kind == "trial"].trial) == [0, 0, 1, 1, 2, 2]
    assert len(f[f.kind == "reseed"]) == 6  # the reseeds of each study's (possibly new) best
    r = search(*TINY, "--losses", "ns,hinge", "--trials", "3", "--out", str(fresh))
    assert r.exit_code == 0 and "0 runs trained now" in r.output, r.output

    # bad input against an existing folder: one line, exit 2, nothing written
    snap = snapshot(out)
    for args, words in ((["--dataset", "grid25"], "another datasets"),
                        (["--phase", "narrow"], "another space"),
                        (["--seed", "1"], "another seed"),
                        (["--steps", "40"], "another steps")):
        r = search(*TINY, *THREE, "--out", str(out), *args)
        assert r.exit_code == 2, (args, r.output)
        assert words in r.output and r.output.count("\n") == 1, r.output
        assert snapshot(out) == snap


def test_space_shown_by_losses():
    r = CliRunner().invoke(cli, ["losses", "wgan"])
    assert r.exit_code == 0
    assert "search space (wide): lr log-uniform [1e-05, 0.01]; n_critic in {1, 5}; clip log-uniform [0.001, 1]" in r.output
    assert "beta1" not in r.output.split("search space (wide)")[1].split("\n")[0]  # RMSprop: no betas
    r = CliRunner().invoke(cli, ["losses", "ns"])
    assert "search space (narrow): lr log-uniform [0.0001, 0.001]; beta1 = 0.5; n_critic = 1" in r.output
    r = CliRunner().invoke(cli, ["losses", "wgan-gp"])
    assert "n_critic in {1, 5}; gp.weight log-uniform [0.1, 100]" in r.output  # its lambda, as Lucic et al.


def test_wgan_gp_is_searched_over_its_own_penalty_weight():
    from gan_zoo.regularizers import GradientPenalty
    from gan_zoo.resolve import resolve
    from gan_zoo.search.space import apply_settings, default_space, paper_settings, space_for
    from gan_zoo.spec import RunSpec

    space = default_space("wide")
    assert "gp.weight" in space_for(space, "wgan-gp", "none")
    assert "gp.weight" not in space_for(space, "ns", "none")
    assert "gp.weight" in space_for(space, "ns", "gp")
    assert paper_settings(space_for(space, "wgan-gp", "none"), "wgan-gp", "none")["gp.weight"] == 10.0
    base = RunSpec(dataset="ring8", loss="wgan-gp", device="cpu")
    res = resolve(apply_settings(base, {"gp.weight": 0.3}))
    hooks = [h for h in res.hooks if isinstance(h, GradientPenalty)]
    assert res.penalty_weight == 0.3 and len(hooks) == 1 and hooks[0].p["weight"] == 0.3
    assert resolve(base).penalty_weight == 10.0
    with pytest.raises(GanZooError, match="gp.weight"):
        resolve(base.replace(reg_params={"gp.weight": -1.0}))
    with pytest.raises(GanZooError, match="NAME.PARAM"):  # ns has no penalty to weigh
        resolve(RunSpec(dataset="ring8", loss="ns", device="cpu", reg_params={"gp.weight": 3.0}))
    from gan_zoo.bench.grid import BUDGETS, expand_grid, parse_sweeps

    (item,) = expand_grid(dataset="ring8", losses=["wgan-gp"], regularizers=["none"], seeds=1,
                          sweeps=parse_sweeps(['reg_params={"gp.weight": 1.0}']), budget=BUDGETS["smoke"],
                          device="cpu")
    assert not item.skip_reason and resolve(item.spec).penalty_weight == 1.0  # bench's grid takes it too


def test_bench_refuses_a_negative_wgan_gp_penalty_weight_in_one_line(tmp_path):
    out = tmp_path / "never"
    r = CliRunner().invoke(cli, ["bench", "--dataset", "ring8", "--losses", "wgan-gp", "--budget", "smoke",
                                 "--set", 'reg_params={"gp.weight": -1}', "--out", str(out)])
    assert r.exit_code == 2 and "gp.weight" in r.output and r.output.count("\n") == 1, r.output
    assert not out.exists()


@pytest.mark.parametrize("space, words", [
    ({"lr": {"log-uniform": [1e-3, 1e-4]}}, "empty or inverted"),
    ({"lr": {"uniform": [0.1, 0.1]}}, "empty or inverted"),
    ({"beta1": {"uniform": [0.2, 1.5]}}, "beta1"),
    ({"learning_rate": {"log-uniform": [1e-4, 1e-3]}}, "not a run setting"),
    ({"gp.wieght": 3}, "not a run setting"),
    ({"n_critic": {"choice": []}}, "empty"),
    ({"lr": {"log-uniform": [0, 1e-3]}}, "low > 0"),
    ({}, "non-empty"),
])
def test_bad_space(tmp_path, space, words):
    f = tmp_path / "space.json"
    f.write_text(json.dumps(space))
    out = tmp_path / "never"
    r = search(*TINY, "--losses", "ns", "--space", str(f), "--out", str(out))
    assert r.exit_code == 2 and words in r.output and r.output.count("\n") == 1, r.output
    assert not out.exists()


@pytest.mark.parametrize("args, words", [
    (["--losses", "nope"], "nope"),
    (["--trials", "0"], "--trials must be a positive integer"),
    (["--reseed", "-1"], "--reseed"),
    (["--storage", "sqlite:////nonexistent-dir/x/study.db"], "--storage"),
    (["--storage", "nosuchdb://u@h/db"], "--storage"),
    (["--dataset", "ring9"], "ring9"),
    (["--phase", "narrow", "--space", "x.json"], "--space replaces"),
    (["--pack", "0"], "--pack 0"),
])
def test_bad_input(tmp_path, args, words):
    out = tmp_path / "never"
    r = search(*TINY, "--out", str(out), *args)
    assert r.exit_code == 2 and words in r.output and r.output.count("\n") == 1, r.output
    assert not out.exists()


def test_trials_train_as_populations_with_pack(tmp_path):
    # the narrow phase fixes n_critic and beta1, so the trials differ in lr alone and
    # train together as a population; each is still its own run folder and row
    out = tmp_path / "packed"
    r = search(*TINY, "--losses", "ns", "--trials", "3", "--phase", "narrow", "--pack", "3",
               "--out", str(out))
    assert r.exit_code == 0, r.output
    runs = pd.read_csv(out / "runs.csv", keep_default_na=False)
    assert len(runs) == 3 and (runs["status"] == "ok").all()
    packed = runs[runs["population"] != ""]
    assert len(packed) >= 2 and packed["population"].nunique() == 1
    assert len(set(trials_of(out)["run_id"])) == 3


def test_a_trial_still_training_has_no_score_yet(tmp_path):
    """A copy of a search folder made mid-search rebuilds the same tables: a run folder
    without result.json (its curve so far, its checkpoint) is not scored."""
    import pandas as pd

    from gan_zoo.search.report import score_table
    from gan_zoo.search.study import TRIALS_COLUMNS

    run = tmp_path / "runs" / "ring8-ns-none-s0-abc"
    run.mkdir(parents=True)
    (run / "score_curve.csv").write_text("step,wall_s,modes,hq_frac\n1000,1.0,3,0.5\n")
    row = dict(zip(TRIALS_COLUMNS, ["ring8", "ns", "none", "trial", 1, 0, run.name, "running", False, "{}"]))
    pd.DataFrame([row]).to_csv(tmp_path / "trials.csv", index=False)
    scores = score_table(tmp_path, pd.DataFrame(columns=["run_id", "status", "wall_s"]))
    assert scores["score_source"].tolist() == ["none"] and scores["score"].isna().all()


def test_settings_figure_of_a_search_still_running(tmp_path):
    """An objective with no scored trial yet gets a marked empty row (a log axis of
    nothing once failed the whole report), wgan-gp's and wgan's own knobs a third column, and
    wgan (RMSprop) a marked beta1 cell."""
    from gan_zoo.search.report import plot_settings

    rows = []
    for loss, scored in (("ns", False), ("wgan-gp", True), ("wgan", True)):
        for t, lr in enumerate((1e-4, 1e-3, 3e-3)):
            settings = {"lr": lr, "n_critic": 1, **({"clip": 0.01 * 2 ** t} if loss == "wgan" else {"beta1": 0.5}),
                        **({"gp.weight": 10.0 ** t} if loss == "wgan-gp" else {})}
            rows.append({"dataset": "ring8", "loss": loss, "regularizers": "none", "kind": "trial", "trial": t,
                         "paper_default": t == 0, "settings": json.dumps(settings),
                         "score": float(t) if scored else math.nan, "score_hq": 0.5 if scored else math.nan})
    paths = plot_settings(pd.DataFrame(rows), tmp_path)
    assert [p.name for p in paths] == ["settings_ring8.png"] and paths[0].stat().st_size > 0


def test_summary_of_unequal_trial_counts_keeps_k_in_order_and_equal_bests_read_as_zero():
    """A pruned search leaves objectives with different numbers of finished trials: the
    table's k columns stay in increasing order, and equal expected bests have spread 0."""
    from gan_zoo.search.report import _bestk_summary, _reading, bestk_table

    rows = []
    for loss, n in (("ns", 2), ("hinge", 4)):
        for t in range(n + 1):  # trial 0 is the paper default, not a random trial
            rows.append({"dataset": "ring8", "loss": loss, "regularizers": "none", "kind": "trial",
                         "trial": t, "paper_default": t == 0, "score": 1.0, "status": "ok"})
    scores = pd.DataFrame(rows)
    bestk = bestk_table(scores)
    table = _bestk_summary(bestk, scores, "ring8")
    ks = [c for c in table.columns if c.startswith("k=")]
    assert ks == ["k=1", "k=2", "k=4"]
    first = _reading(scores, bestk, pd.DataFrame(), "ring8", "ns")[0]
    assert "ranges over 0 across" in first and "after 2 trials over 0 (" in first and "e-" not in first
    assert first.endswith("Order at k = 2: hinge = ns (1).")  # a tie is not an order


def test_ranked_order_joins_ties_and_keeps_the_order():
    from gan_zoo.search.report import _ranked

    value = {"wgan-gp": 8.0, "ralsgan": 4.0, "lsgan": 2.0, "rahinge": 2.0, "minimax": 0.0}
    assert _ranked(["wgan-gp", "ralsgan", "lsgan", "rahinge", "minimax"], value) == \
        "wgan-gp (8), ralsgan (4), lsgan = rahinge (2), minimax (0)"


def test_recorded_command_writes_an_absolute_out_inside_the_working_folder_relative(tmp_path, monkeypatch):
    from gan_zoo.options import recorded_command

    monkeypatch.chdir(tmp_path)
    rel = "search --dataset ring8 --trials 4 --out results/s"
    assert recorded_command(rel.split()) == rel
    assert recorded_command(["search", "--out", str(tmp_path / "results" / "s")]) == "search --out results/s"
    assert recorded_command(["search", f"--out={tmp_path / 'results' / 's'}"]) == "search --out=results/s"
    outside = str(tmp_path.parent / "elsewhere")
    assert recorded_command(["search", "--out", outside]) == f"search --out {outside}"


def test_worker_seconds_count_a_population_once():
    from gan_zoo.bench import columns as C
    from gan_zoo.search.report import worker_seconds

    runs = pd.DataFrame({C.WALL_S: [60.0, 61.0, 59.0, 30.0, 20.0], C.POPULATION: ["p1", "p1", "p1", "", ""]})
    assert worker_seconds(runs) == (61.0 + 30.0 + 20.0, 3)
    assert worker_seconds(runs.assign(**{C.POPULATION: ""})) == (230.0, 0)


def test_settings_figure_drops_a_setting_every_searched_trial_shares():
    """The narrow space fixes beta1 at 0.5: no beta1 column (the title names it), even where
    a paper default has another beta1; the wide space's beta1 keeps its column."""
    from gan_zoo.search.report import _settings_columns

    def trials(beta1s, default_beta1=0.0):
        return pd.DataFrame({"paper_default": [True] + [False] * len(beta1s),
                             "lr": [1e-4] + [2e-4 * (t + 1) for t in range(len(beta1s))],
                             "beta1": [default_beta1, *beta1s]})

    assert _settings_columns(trials([0.5, 0.5, 0.5])) == (["lr"], {"beta1": 0.5})
    assert _settings_columns(trials([0.5, 0.1, 0.9])) == (["lr", "beta1"], {})
    wgan = trials([math.nan, math.nan]).assign(beta1=math.nan)  # RMSprop: no beta1 at all
    assert _settings_columns(wgan) == (["lr"], {})
    assert _settings_columns(trials([0.5])) == (["lr", "beta1"], {})  # one draw shows no fixed value


def test_bestk_table_is_the_same_file_on_every_cpu():
    """The exact estimator is a correctly rounded sum (no BLAS kernel in it), within one ulp
    of the exact rational value; the bootstrap band carries twelve significant digits."""
    from fractions import Fraction
    from math import comb

    from gan_zoo.search.report import bestk_table

    s = [3.0, 1.0, 7.0, 2.0, 5.0, 4.0, 6.0, 0.5, 9.0, 8.0, 2.5, 1.5, 6.5, 3.5, 7.5, 4.5, 8.5, 5.5, 0.25]
    n = len(s)
    for k in range(1, n + 1):
        exact = sum(Fraction(v) * comb(n - i, k - 1) for i, v in enumerate(sorted(s), 1)) / comb(n, k)
        assert abs(expected_best(s, k) - float(exact)) <= math.ulp(float(exact))
    scores = pd.DataFrame({"dataset": "ring8", "loss": "ns", "regularizers": "none", "kind": "trial",
                           "trial": range(n + 1), "paper_default": [True] + [False] * n,
                           "score": [1.0, *s], "status": "ok"})
    table = bestk_table(scores)
    assert len(table) == n and table["band_low"].notna().all()
    for col in ("band_low", "band_high"):
        assert all(float(f"{v:.12g}") == v for v in table[col])
    assert any(float(f"{v:.12g}") != v for v in table["expected_best"])  # the estimate keeps its bits
