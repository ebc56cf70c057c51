"""Plots say what the text says: bars at the median with an interval of the median,
heatmaps naming their statistic, sample figures showing each objective's best and worst
seed with readable captions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from gan_zoo.bench import columns as C
from gan_zoo.bench import plots
from gan_zoo.bench.tables import summarize
from gan_zoo.metrics import keys


def _runs(fids: dict[str, list[float]], run_dirs: dict | None = None) -> pd.DataFrame:
    rows = []
    for loss, values in fids.items():
        for s, fid in enumerate(values):
            rows.append({C.RUN_ID: f"mnist-{loss}-none-s{s}", C.DATASET: "mnist", C.LOSS: loss,
                         C.REGULARIZERS: "none", C.PARAMS: "{}", C.SEED: s, C.STATUS: C.OK,
                         C.REASON: "", keys.FID: fid, keys.EVAL_SAMPLES: 5000,
                         C.RUN_DIR: (run_dirs or {}).get((loss, s), "")})
    df = pd.DataFrame(rows)
    for col in C.RUNS_COLUMNS:
        if col not in df.columns:
            df[col] = np.nan
    return df


@pytest.fixture
def captured(monkeypatch):
    figs = []

    def capture(fig, path, dpi=None):
        figs.append(fig)
        return path

    monkeypatch.setattr(plots, "savefig_atomic", capture)
    return figs


# wgan-gp: bimodal (two good seeds, four bad): its mean (~700) sits where no seed lies
BIMODAL = {"ns": [200, 204, 206, 190, 210, 198], "wgan-gp": [135, 170, 950, 1000, 1010, 990]}


def test_bars_sit_at_the_median_with_an_interval_of_the_median(tmp_path, captured):
    runs = _runs(BIMODAL)
    plots.plot_metric_by_objective(runs, summarize(runs), tmp_path)
    ax = captured[0].axes[0]
    widths = sorted(round(p.get_width(), 6) for p in ax.patches if p.get_width() > 0)
    assert widths == sorted([float(np.median(BIMODAL["ns"])), float(np.median(BIMODAL["wgan-gp"]))])
    assert float(np.mean(BIMODAL["wgan-gp"])) not in widths
    assert "median" in ax.get_title() and "CI of the median" in ax.get_title()


def test_heatmaps_name_their_statistic(tmp_path, captured):
    runs = _runs(BIMODAL)
    plots.plot_heatmaps(summarize(runs), tmp_path, runs)
    fig = captured[0]
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert f"{np.median(BIMODAL['wgan-gp']):.3g}" in texts  # the cells are medians
    title = fig.axes[0].get_title()
    labels = [ax.get_ylabel() for ax in fig.axes]
    assert "median" in title and any("median over seeds" in lab for lab in labels)


def _grid(path, shade):
    Image.new("L", (64, 64), shade).save(path)


def test_sample_figure_shows_best_and_worst_seed_with_readable_captions(tmp_path, captured):
    dirs = {}
    for loss, values in BIMODAL.items():
        for s in range(len(values)):
            d = tmp_path / f"{loss}-s{s}"
            d.mkdir()
            _grid(d / C.SAMPLES_PNG, 40 * s)
            dirs[(loss, s)] = str(d)
    runs = _runs(BIMODAL, dirs)
    plots.plot_sample_grids(runs, tmp_path, summarize(runs))
    titles = [ax.get_title() for ax in captured[0].axes if ax.get_title()]
    assert any(t.startswith("ns: best seed 3") and "FID 190" in t for t in titles)
    assert any(t.startswith("ns: worst seed 4") and "FID 210" in t for t in titles)
    assert any(t.startswith("wgan-gp: best seed 0") for t in titles)
    assert any(t.startswith("wgan-gp: worst seed 4") for t in titles)
    sizes = [ax.title.get_fontsize() for ax in captured[0].axes if ax.get_title()]
    assert min(sizes) >= 10


def test_a_seed_whose_grid_was_not_kept_is_said_so_not_replaced(tmp_path, captured):
    d = tmp_path / "ns-s0"
    d.mkdir()
    _grid(d / C.SAMPLES_PNG, 0)
    runs = _runs({"ns": [200, 180, 220]}, {("ns", 0): str(d)})
    plots.plot_sample_grids(runs, tmp_path, summarize(runs))
    fig = captured[0]
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    (title,) = titles  # one panel: the kept seed, not an empty one per missing seed
    flat = " ".join(title.split())
    assert title.startswith("ns: kept seed 0\nFID 200\n")
    assert "rank 2 of 3; best (seed 1, 180) and worst (seed 2, 220): grids not kept" in flat
    assert max(len(line) for line in title.splitlines()) <= 40  # fits the panel


# -- one evaluation protocol: curves marked as another FID scale; one trend rule --------------


def _curve_runs(tmp_path, fid_final=10_000, curve_n=1_000):
    import json

    runs = _runs({"ns": [200, 204, 206]})
    for i in range(len(runs)):
        d = tmp_path / f"run{i}"
        d.mkdir()
        (d / C.SPEC_JSON).write_text(json.dumps({"curve_samples": curve_n}))
        runs.loc[i, C.RUN_DIR] = str(d)
    runs[keys.EVAL_SAMPLES] = fid_final
    return runs


def _fid_curves(runs, fn):
    rows = []
    for run_id in runs[C.RUN_ID]:
        for step in range(100, 1001, 100):
            rows.append({C.RUN_ID: run_id, C.STEP: step, C.METRIC: keys.FID, C.VALUE: fn(step)})
    return pd.DataFrame(rows)


def test_curve_readings_and_plots_say_the_curve_is_another_fid_scale(tmp_path, captured):
    from gan_zoo.bench.reading import curve_lines

    runs = _curve_runs(tmp_path)
    curves = _fid_curves(runs, lambda s: 3000 / (1 + s / 100))
    line = curve_lines(runs, curves)[0]
    assert "in-training FID of 1,000 samples, another scale than the final FID of 10,000" in line
    plots.plot_score_curves(runs, curves, tmp_path)
    plots.plot_curves(runs, curves, tmp_path)
    suptitles = [f._suptitle.get_text() for f in captured]
    assert all("another scale than the final FID of 10,000" in t for t in suptitles)


def test_one_trend_rule_a_curve_that_fell_17_percent_over_its_last_third_is_still_falling():
    from gan_zoo.bench.reading import CURVE_RULE, curve_trend

    # stacked-mnist-20ep's ns: the mean in-training FID over its last four points
    steps = np.array([1875, 3750, 5625, 7500, 9375, 11250, 13125, 15000, 16875, 18750], float)
    values = np.array([2825, 1543, 1067, 853, 644, 563, 515, 505, 457, 432], float)
    trend, change = curve_trend(steps, values)
    assert trend == "improving" and -0.25 < change < -0.12
    flat = np.r_[values[:6], [500, 505, 498, 502]]
    assert curve_trend(steps, flat)[0] == "flat"
    assert "5%" in CURVE_RULE and "twice the scatter" in CURVE_RULE


def test_reports_do_not_show_precision_or_density_and_say_why(tmp_path):
    from gan_zoo.bench.report import write_report
    from gan_zoo.bench.tables import compute_stats

    runs = _runs(BIMODAL)
    runs[keys.PRECISION], runs[keys.DENSITY] = 0.9, 1.1
    runs[keys.RECALL], runs[keys.COVERAGE] = 0.5, 0.6
    summary = summarize(runs)
    text = write_report(tmp_path, runs, summary, compute_stats(runs, "baseline", "ns"),
                        baseline="ns").read_text()
    header = next(line for line in text.splitlines() if line.startswith(("| tests say", "| rank")))
    assert "| recall |" in header and "| coverage |" in header
    assert "| precision |" not in header and "| density |" not in header
    assert "precision and density are in runs.csv and summary.csv but not shown" in text
    assert {keys.PRECISION, keys.DENSITY} <= set(runs.columns)  # the columns stay


def test_reading_names_a_split_objective_not_separated_from_the_baseline():
    from gan_zoo.bench.reading import verdict_lines
    from gan_zoo.bench.tables import compute_stats

    runs = _runs({**BIMODAL, "lsgan": [280, 290, 300, 310, 320, 330]})
    text = "\n".join(verdict_lines("mnist", summarize(runs), compute_stats(runs, "baseline", "ns"),
                                   "baseline", "ns", runs))
    assert ("wgan-gp is not separated from ns, but its seeds split: 2 of 6 beat every ns seed "
            "(FID 135, 170) and 4 are worse than every one") in text
    assert "lsgan is not separated" not in text
