"""The training loop: every objective runs, runs are deterministic, resume is exact,
divergence is caught, run folders hold what they promise."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import torch
from click.testing import CliRunner

from gan_zoo import losses as losses_mod
from gan_zoo.cli import cli
from gan_zoo.errors import GanZooError, NotApplicableError
from gan_zoo.losses import Wasserstein, list_losses, register_loss
from gan_zoo.runs import load_run
from gan_zoo.spec import RunSpec
from gan_zoo.resolve import resolve
from gan_zoo.runs import LOG_COLUMNS
from gan_zoo.train import Trainer, train_run

ALL = list_losses()


def _g_params(result):
    return [p.detach().clone() for p in result.generator.state_dict().values()]


def _same(a, b):
    return len(a) == len(b) and all(torch.equal(x, y) for x, y in zip(a, b))


@pytest.mark.parametrize("loss", ALL)
def test_every_objective_on_ring8(loss, tmp_path):
    spec = RunSpec(dataset="ring8", loss=loss, steps=30, batch_size=32, log_every=10)
    result = train_run(spec, tmp_path / loss, progress=False)
    assert result.status == "ok", result.reason
    assert result.g_steps == 30
    assert result.d_steps == 30 * resolve(spec).n_critic
    log = pd.read_csv(tmp_path / loss / "log.csv")
    assert list(log.columns) == LOG_COLUMNS
    assert list(log.step) == [10, 20, 30]
    assert np.isfinite(log[["d_loss", "g_loss", "d_real", "d_fake", "g_grad_norm", "d_grad_norm"]].to_numpy()).all()


@pytest.fixture(scope="module")
def mnist(mnist_root):
    from gan_zoo.data import get_dataset

    return get_dataset("mnist", root=mnist_root)


@pytest.mark.parametrize("loss", ALL)
def test_every_objective_on_mnist(loss, mnist):
    spec = RunSpec(dataset="mnist", loss=loss, steps=3, batch_size=16, log_every=1, n_critic=1)
    result = train_run(spec, data=mnist, progress=False)
    assert result.status == "ok", result.reason
    assert result.backbone == "dcgan28"


def test_log_reports_probabilities_for_sigmoid_objectives_and_scores_for_critics(tmp_path):
    for loss in ("ns", "wgan"):
        train_run(RunSpec(dataset="ring8", loss=loss, steps=20, log_every=5, n_critic=1), tmp_path / loss,
                  progress=False)
    log = pd.read_csv(tmp_path / "ns" / "log.csv")
    assert ((log[["d_real", "d_fake"]] > 0) & (log[["d_real", "d_fake"]] < 1)).all().all()
    log = pd.read_csv(tmp_path / "wgan" / "log.csv")
    # an untrained critic's raw scores sit near zero, and some are negative
    assert (log[["d_real", "d_fake"]] < 0).any().any()


def test_deterministic_on_cpu(mnist):
    spec = RunSpec(dataset="mnist", loss="ns", regularizers="soft-labels+instance-noise", steps=6,
                   batch_size=16, log_every=2)
    a = _g_params(train_run(spec, data=mnist, progress=False))
    b = _g_params(train_run(spec, data=mnist, progress=False))
    c = _g_params(train_run(spec.replace(seed=1), data=mnist, progress=False))
    assert _same(a, b)
    assert not _same(a, c)


@pytest.mark.parametrize("dataset,loss,regs", [
    ("mnist", "ns", "soft-labels+noisy-labels+instance-noise"),  # D dropout, label noise, input noise
    ("ring8", "wgan-gp", "none"),  # penalty draws, n_critic 5
    ("mnist", "rasgan", "g-dropout"),
])
def test_interrupted_then_resumed_equals_uninterrupted(dataset, loss, regs, tmp_path, monkeypatch, mnist_root):
    spec = RunSpec(dataset=dataset, loss=loss, regularizers=regs, steps=12, batch_size=16,
                   log_every=3, checkpoint_every=4)
    straight = train_run(spec, tmp_path / "a", data_root=mnist_root, progress=False)

    calls = {"n": 0}
    original = Trainer.step

    def dying(self, **kwargs):
        calls["n"] += 1
        if calls["n"] == 10:  # killed between checkpoints 8 and 12
            raise KeyboardInterrupt
        return original(self, **kwargs)

    monkeypatch.setattr(Trainer, "step", dying)
    with pytest.raises(KeyboardInterrupt):
        train_run(spec, tmp_path / "b", data_root=mnist_root, progress=False)
    assert not (tmp_path / "b" / "result.json").exists()
    assert torch.load(tmp_path / "b" / "checkpoints" / "last.pt", weights_only=False)["step"] == 8
    monkeypatch.setattr(Trainer, "step", original)
    resumed = train_run(spec, tmp_path / "b", data_root=mnist_root, progress=False)
    assert resumed.steps == 12 and resumed.d_steps == straight.d_steps
    assert _same(_g_params(straight), _g_params(resumed))
    assert _same([p for p in straight.discriminator.state_dict().values()],
                 [p for p in resumed.discriminator.state_dict().values()])
    log_a = pd.read_csv(tmp_path / "a" / "log.csv")
    log_b = pd.read_csv(tmp_path / "b" / "log.csv")
    pd.testing.assert_frame_equal(log_a.drop(columns="wall_s"), log_b.drop(columns="wall_s"))


def test_finished_run_is_not_trained_again(tmp_path):
    spec = RunSpec(dataset="ring8", loss="ns", steps=5, log_every=5)
    first = train_run(spec, tmp_path / "r", progress=False)
    again = train_run(spec, tmp_path / "r", progress=False)
    assert again.status == "ok" and again.wall_s == first.wall_s
    with pytest.raises(GanZooError, match="holds a different run"):
        train_run(spec.replace(seed=3), tmp_path / "r", progress=False)


class _NanAfterFive(Wasserstein):
    """A critic loss that turns to NaN at its sixth call."""

    calls = 0

    def d_loss(self, real_logits, fake_logits, real_target=None, fake_target=None):
        type(self).calls += 1
        base = super().d_loss(real_logits, fake_logits, real_target, fake_target)
        return base * math.nan if type(self).calls > 5 else base


@pytest.fixture
def nan_objective():
    _NanAfterFive.calls = 0
    register_loss("test-nan")(_NanAfterFive)
    yield "test-nan"
    losses_mod._REGISTRY.unregister("test-nan")


def test_divergence_stops_the_run_with_its_step(nan_objective, tmp_path):
    spec = RunSpec(dataset="ring8", loss=nan_objective, steps=50, n_critic=1, log_every=10)
    result = train_run(spec, tmp_path / "nan", progress=False)
    assert result.status == "diverged"
    assert result.diverged_step == 6 and result.steps == 6
    assert "step 6" in result.reason
    stored = json.loads((tmp_path / "nan" / "result.json").read_text())
    assert stored["status"] == "diverged" and stored["diverged_step"] == 6
    log = pd.read_csv(tmp_path / "nan" / "log.csv")
    assert log.step.iloc[-1] == 6 and math.isnan(log.d_loss.iloc[-1])


# ---------------------------------------------------------------------------
# resolution of defaults

def test_defaults_per_objective_and_overrides():
    r = resolve(RunSpec(loss="wgan-gp"))
    assert (r.optimizer, r.lr_d, r.beta1, r.beta2, r.n_critic, r.d_norm) == ("adam", 1e-4, 0.0, 0.9, 5, "layer")
    r = resolve(RunSpec(loss="wgan"))
    assert (r.optimizer, r.lr_d, r.n_critic, r.clip, r.d_norm) == ("rmsprop", 5e-5, 5, 0.01, "batch")
    r = resolve(RunSpec(loss="ns"))
    assert (r.optimizer, r.lr_g, r.beta1, r.n_critic, r.d_norm, r.width) == ("adam", 2e-4, 0.5, 1, "batch", 32)
    r = resolve(RunSpec(loss="ns", regularizers="gp"))
    assert r.d_norm == "layer"
    r = resolve(RunSpec(loss="wgan", n_critic=2, lr_d=1e-3, clip=0.05, width=16))
    assert (r.n_critic, r.lr_d, r.clip, r.width) == (2, 1e-3, 0.05, 16)
    assert resolve(RunSpec(dataset="ring8")).backbone == "mlp"
    with pytest.raises(GanZooError, match="d_norm=batch cannot be used"):
        resolve(RunSpec(loss="wgan-gp", d_norm="batch"))
    with pytest.raises(GanZooError, match="batch_size must be a positive integer"):
        resolve(RunSpec(batch_size=0))
    with pytest.raises(NotApplicableError, match="not applicable"):
        resolve(RunSpec(loss="rahinge", regularizers="noisy-labels"))


def test_effective_settings_recorded(tmp_path):
    spec = RunSpec(dataset="ring8", loss="wgan-gp", steps=2, log_every=1)
    train_run(spec, tmp_path / "r", progress=False)
    stored = json.loads((tmp_path / "r" / "result.json").read_text())
    assert stored["resolved"]["d_norm"] == "layer"
    assert stored["resolved"]["n_critic"] == 5 and stored["resolved"]["beta1"] == 0.0
    assert json.loads((tmp_path / "r" / "spec.json").read_text()) == spec.to_dict()


# ---------------------------------------------------------------------------
# sampling from a run folder

@pytest.fixture(scope="module")
def mnist_run(tmp_path_factory, mnist_root):
    out = tmp_path_factory.mktemp("runs") / "mnist-ns"
    train_run(RunSpec(dataset="mnist", loss="ns", steps=4, batch_size=16, log_every=2), out,
              data_root=mnist_root, progress=False)
    return out


def test_run_folder_contents(mnist_run):
    for name in ("spec.json", "result.json", "log.csv", "checkpoints/last.pt",
                 "samples.png", "best50.png", "curves.png"):
        assert (mnist_run / name).is_file(), name


def test_generate_shapes_and_range(mnist_run):
    run = load_run(mnist_run)
    x = run.generate(7)
    assert x.shape == (7, 28, 28) and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() <= 1.0
    assert np.array_equal(run.generate(5, seed=1), run.generate(5, seed=1))
    with pytest.raises(GanZooError, match="not conditional"):
        run.generate(3, labels=2)


def test_generate_points_and_colour(tmp_path, mnist_root):
    train_run(RunSpec(dataset="ring8", loss="ns", steps=2, log_every=1), tmp_path / "r", progress=False)
    assert load_run(tmp_path / "r").generate(11).shape == (11, 2)
    assert (tmp_path / "r" / "samples.npz").is_file()
    train_run(RunSpec(dataset="stacked-mnist", loss="ns", steps=2, batch_size=8, log_every=1),
              tmp_path / "s", data_root=mnist_root, progress=False)
    assert load_run(tmp_path / "s").generate(3).shape == (3, 3, 28, 28)


def test_conditional_generate_n_c(tmp_path, mnist_root):
    spec = RunSpec(dataset="mnist", loss="wgan-gp", conditional=True, steps=2, batch_size=8, log_every=1)
    train_run(spec, tmp_path / "c", data_root=mnist_root, progress=False)
    run = load_run(tmp_path / "c")
    assert run.generate(4, 3).shape == (4, 28, 28)
    # the label reaches G: the same z with another label gives another image
    assert not np.allclose(run.generate(4, 3, seed=0), run.generate(4, 5, seed=0))
    with pytest.raises(GanZooError, match="conditional"):
        run.generate(4)
    with pytest.raises(GanZooError, match="labels must be"):
        run.generate(4, 12)


def test_g_dropout_stays_on_when_sampling(tmp_path):
    train_run(RunSpec(dataset="ring8", loss="ns", regularizers="g-dropout", steps=2, log_every=1),
              tmp_path / "drop", progress=False)
    train_run(RunSpec(dataset="ring8", loss="ns", steps=2, log_every=1), tmp_path / "plain", progress=False)
    drop, plain = load_run(tmp_path / "drop"), load_run(tmp_path / "plain")
    assert not np.array_equal(drop.generate(64, seed=0), drop.generate(64, seed=0))
    assert not drop.g.training  # eval mode, yet the dropout stayed on
    assert np.array_equal(plain.generate(64, seed=0), plain.generate(64, seed=0))


# ---------------------------------------------------------------------------
# the train and sample commands

def test_cli_train_and_sample(tmp_path, mnist_root):
    out = tmp_path / "run"
    r = CliRunner().invoke(cli, ["train", "--dataset", "mnist", "--loss", "lsgan", "--steps", "3",
                                 "--set", "batch_size=8", "--set", "nz=20", "--set", "log_every=1",
                                 "--out", str(out), "--data-root", str(mnist_root)])
    assert r.exit_code == 0, r.output
    assert "ok: 3 generator steps" in r.output
    spec = json.loads((out / "spec.json").read_text())
    assert spec["nz"] == 20 and spec["batch_size"] == 8 and spec["loss"] == "lsgan"
    r = CliRunner().invoke(cli, ["sample", str(out), "--n", "16", "--best"])
    assert r.exit_code == 0, r.output
    assert (out / "sample_best.png").is_file()


@pytest.mark.parametrize("args,needle", [
    (["train", "--set", "nz_size=3"], "valid: dataset, loss"),
    (["train", "--set", "nz"], "KEY=VALUE"),
    (["train", "--loss", "hinge", "--regularizers", "one-sided-smoothing"], "not applicable"),
    (["train", "--regularizers", "dropout"], "valid: g-dropout, gp"),
    (["train", "--dataset", "mnist3"], "valid:"),
    (["train", "--steps", "0"], "steps must be a positive integer"),
])
def test_cli_train_bad_input(args, needle, tmp_path):
    r = CliRunner().invoke(cli, args + ["--out", str(tmp_path / "x")])
    assert r.exit_code == 2
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and needle in lines[0], r.output
    assert not (tmp_path / "x").exists()


def test_cli_train_offline_message(tmp_path, monkeypatch):
    from gan_zoo import datafiles

    monkeypatch.setattr(datafiles, "can_reach", lambda *a, **k: False)
    empty = tmp_path / "empty"
    empty.mkdir()
    r = CliRunner().invoke(cli, ["train", "--data-root", str(empty), "--out", str(tmp_path / "x")])
    assert r.exit_code == 2
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("gan-zoo: error:")  # no announcement before it
    assert str(empty) in lines[0] and "--data-root" in lines[0] and "Traceback" not in r.output
    assert not (tmp_path / "x").exists()
