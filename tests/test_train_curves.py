"""Readable curves: log rows are window means, in-training score points (FID) land in the
run folder and curves.csv without changing the training, and a wall budget stops a run."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from gan_zoo.bench import columns as C
from gan_zoo.bench.tables import collect_runs
from gan_zoo.spec import RunSpec
from gan_zoo.train import Trainer, train_run
from gan_zoo.trainlog import LogWindow

FIGURES = ["d_loss", "g_loss", "d_real", "d_fake", "g_grad_norm", "d_grad_norm"]


def test_log_window_means_and_restarts():
    w = LogWindow(torch.sigmoid)
    for v in (0.0, 1.0, 2.0):
        t = torch.tensor(v)
        w.add({"d_loss": t, "g_loss": 2 * t, "real_logits": torch.zeros(4), "fake_logits": torch.zeros(4),
               "g_grad": t, "d_grad": None})
    m = w.means()
    assert m["d_loss"] == 1.0 and m["g_loss"] == 2.0 and m["d_real"] == 0.5 and m["g_grad_norm"] == 1.0
    assert math.isnan(m["d_grad_norm"])  # never measured
    assert w.sums == {}


def test_log_rows_are_means_over_the_window(tmp_path):
    """Rows logged every 5 steps equal the mean of the same run's rows logged every step."""
    base = dict(dataset="ring8", loss="ns", steps=10, batch_size=32, device="cpu", checkpoint_every=1000)
    train_run(RunSpec(**base, log_every=1), tmp_path / "every", progress=False, artifacts=False)
    train_run(RunSpec(**base, log_every=5), tmp_path / "window", progress=False, artifacts=False)
    every = pd.read_csv(tmp_path / "every" / "log.csv")
    window = pd.read_csv(tmp_path / "window" / "log.csv")
    assert list(window.step) == [5, 10]
    for i, step in enumerate(window.step):
        expect = every[(every.step > step - 5) & (every.step <= step)][FIGURES].mean()
        np.testing.assert_allclose(window.loc[i, FIGURES].to_numpy(float), expect.to_numpy(float), rtol=1e-5)


@pytest.fixture(scope="module")
def mnist(mnist_root):
    from gan_zoo.data import get_dataset

    return get_dataset("mnist", root=mnist_root)


def test_fid_curve_points_in_run_folder_and_curves_csv(tmp_path, mnist):
    spec = RunSpec(loss="ns", steps=4, batch_size=8, width=8, log_every=2, curve_points=2,
                   curve_samples=200, device="cpu", regularizers="g-dropout")
    on = train_run(spec, tmp_path / "runs" / spec.run_id(), data=mnist, progress=False, artifacts=False)
    off = train_run(spec.replace(curve_points=0), tmp_path / "off", data=mnist, progress=False,
                    artifacts=False)
    # the points draw on random streams of their own: the trained networks are the same
    for a, b in zip(on.generator.state_dict().values(), off.generator.state_dict().values()):
        assert torch.equal(a, b)
    points = pd.read_csv(tmp_path / "runs" / spec.run_id() / "score_curve.csv")
    assert list(points.step) == [2, 4] and np.isfinite(points.fid).all() and (points.fid > 0).all()
    # training seconds exclude the points: the last point sits at the run's training time
    assert points.wall_s.iloc[-1] == pytest.approx(on.wall_s, abs=0.5)
    _, curves = collect_runs([tmp_path])
    fid = curves[curves[C.METRIC] == "fid"]
    assert list(fid[C.STEP]) == [2, 4]
    assert (curves[C.METRIC] == C.CURVE_WALL_S).sum() == 2


def test_wall_budget_stops_the_run(tmp_path):
    spec = RunSpec(dataset="ring8", loss="ns", steps=10**6, wall_budget_s=0.5, log_every=10**5,
                   device="cpu", curve_points=2)
    result = train_run(spec, tmp_path / "run", progress=False, artifacts=False)
    assert result.status == "ok" and 0 < result.g_steps < 10**6
    assert result.wall_s >= 0.5
    log = pd.read_csv(tmp_path / "run" / "log.csv")
    assert list(log.step) == [result.g_steps]  # the last row is written where the run stopped
    points = pd.read_csv(tmp_path / "run" / "score_curve.csv")
    assert len(points) == 2 and points.step.iloc[-1] == result.g_steps
    assert set(points.columns) >= {"modes", "hq_frac"}


def test_trainer_without_points_has_no_curve_file(tmp_path):
    t = Trainer(RunSpec(dataset="ring8", steps=3, device="cpu"), run_dir=tmp_path)
    t.run()
    assert not (tmp_path / "score_curve.csv").exists()
