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
    assert titles == ["ns: kept seed 0\nFID 200\n(rank 2 of 3; best (seed 1) and worst (seed 2) grids not kept)"]
