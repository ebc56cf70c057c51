"""Regularizers as their sources define them: bounded BCE targets, SN without batch norm,
a deterministic penalised critic, and the effective choices recorded with the run."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from gan_zoo.errors import GanZooError
from gan_zoo.losses import get_loss, list_losses
from gan_zoo.resolve import build_networks, resolve
from gan_zoo.spec import RunSpec
from gan_zoo.regularizers import StepContext

LABEL_TRICKS = ["noisy-labels", "one-sided-smoothing", "soft-labels", "soft-labels+noisy-labels"]
SIGMOID = [n for n in list_losses() if get_loss(n).sigmoid_targets]


def _targets(res, n=512):
    ctx = StepContext(0, 10, torch.Generator().manual_seed(0))
    rt, ft = torch.ones(n), torch.zeros(n)
    for reg in res.hooks:
        rt, ft = reg.targets(rt, ft, ctx)
    return rt, ft


def test_sigmoid_family_is_the_bce_objectives():
    assert set(SIGMOID) == {"minimax", "ns", "rsgan", "rasgan"}
    assert not get_loss("lsgan").sigmoid_targets and not get_loss("ralsgan").sigmoid_targets


@pytest.mark.parametrize("loss", SIGMOID)
@pytest.mark.parametrize("trick", LABEL_TRICKS)
def test_bce_loss_under_every_label_trick_is_bounded_below(loss, trick):
    res = resolve(RunSpec(loss=loss, regularizers=trick))
    rt, ft = _targets(res)
    assert float(rt.min()) >= 0.0 and float(rt.max()) <= 1.0
    assert float(ft.min()) >= 0.0 and float(ft.max()) <= 1.0
    obj, fake = res.objective, torch.zeros(len(rt))
    losses = [float(obj.d_loss(torch.full_like(rt, c), fake, rt, ft)) for c in (20.0, 50.0, 100.0, 1000.0)]
    # BCE with targets in [0, 1] is >= 0 and stops falling as the real logit grows
    assert all(v >= -1e-6 and v == v for v in losses)
    assert losses[3] >= losses[1] - 1e-6 and losses[2] >= losses[1] - 1e-6


def test_soft_label_ranges_per_family_and_recorded():
    ns = resolve(RunSpec(loss="ns", regularizers="soft-labels"))
    ls = resolve(RunSpec(loss="lsgan", regularizers="soft-labels"))
    assert ns.record()["regularizers"]["soft-labels"]["real_high"] == 1.0
    assert ls.record()["regularizers"]["soft-labels"]["real_high"] == 1.2
    assert resolve(RunSpec(loss="ralsgan", regularizers="soft-labels")).regularizers[0].p["real_high"] == 1.2
    rt, _ = _targets(ls, 4096)
    assert float(rt.max()) > 1.0  # least squares keeps U(0.7, 1.2)


def test_bce_targets_above_one_are_refused_with_one_line():
    with pytest.raises(GanZooError, match=r"unbounded below.*within \[0, 1\]") as e:
        resolve(RunSpec(loss="ns", regularizers="soft-labels", reg_params={"soft-labels.real_high": 1.2}))
    assert "\n" not in str(e.value)
    resolve(RunSpec(loss="lsgan", regularizers="soft-labels", reg_params={"soft-labels.real_high": 1.3}))


def test_spectral_norm_discriminator_has_no_batch_norm():
    res = resolve(RunSpec(loss="ns", regularizers="spectral-norm"))
    assert res.d_norm == "none"
    _, d = build_networks(res, (1, 28, 28), 10)
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in d.modules())
    assert resolve(RunSpec(loss="ns", regularizers="spectral-norm", d_norm="layer")).d_norm == "layer"


def test_spectral_norm_with_explicit_batch_norm_is_an_error():
    with pytest.raises(GanZooError, match="d_norm=batch cannot be used with spectral-norm") as e:
        resolve(RunSpec(loss="ns", regularizers="spectral-norm", d_norm="batch"))
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("loss,regs", [("wgan-gp", "none"), ("rsgan", "gp"), ("rasgan", "gp+noisy-labels")])
def test_penalised_critic_is_deterministic_in_train_mode(loss, regs):
    res = resolve(RunSpec(loss=loss, regularizers=regs))
    assert res.d_dropout == 0.0 and res.d_norm in ("layer", "none")
    torch.manual_seed(0)
    _, d = build_networks(res, (1, 28, 28), 10)
    d.train()
    x = torch.randn(8, 1, 28, 28)
    assert torch.equal(d(x), d(x))
    assert not any(isinstance(m, (nn.Dropout, nn.modules.batchnorm._BatchNorm)) and getattr(m, "p", 1) > 0
                   for m in d.modules())


def test_unpenalised_dcgan28_keeps_its_dropout():
    res = resolve(RunSpec(loss="ns"))
    assert res.d_dropout == 0.2 and res.d_norm == "batch"


@pytest.fixture(scope="module")
def mnist(mnist_root):
    from gan_zoo.data import get_dataset

    return get_dataset("mnist", root=mnist_root)


def test_spectral_norm_run_records_d_norm_none(tmp_path, mnist):
    from gan_zoo.train import train_run

    spec = RunSpec(loss="ns", regularizers="spectral-norm+soft-labels", steps=2, batch_size=8,
                   width=8, log_every=1, device="cpu")
    train_run(spec, tmp_path / "run", data=mnist, artifacts=False, progress=False)
    resolved = json.loads((tmp_path / "run" / "result.json").read_text())["resolved"]
    assert resolved["d_norm"] == "none" and resolved["d_dropout"] == 0.2
    assert resolved["regularizers"]["soft-labels"] == {"real_low": 0.7, "real_high": 1.0,
                                                        "fake_low": 0.0, "fake_high": 0.3}
