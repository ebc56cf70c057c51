"""Each regularizer changes exactly what it claims, and nothing else."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gan_zoo.backbones import build_backbone
from gan_zoo.errors import GanZooError, NotApplicableError
from gan_zoo.losses import get_loss, gradient_penalty
from gan_zoo.regularizers import StepContext, get_regularizer, list_regularizers, parse_regularizers

SEVEN = ["g-dropout", "gp", "instance-noise", "noisy-labels", "one-sided-smoothing", "pac", "soft-labels",
         "spectral-norm"]
LABEL_TRICKS = ["noisy-labels", "one-sided-smoothing", "soft-labels"]


def ctx(step=0, total=100, seed=0):
    return StepContext(step, total, torch.Generator().manual_seed(seed))


def targets_and_inputs(reg, n=4096, step=0, total=100):
    real_t, fake_t = torch.ones(n), torch.zeros(n)
    xr, xf = torch.randn(n, 2), torch.randn(n, 2) + 5
    c = ctx(step, total)
    new_rt, new_ft = reg.targets(real_t.clone(), fake_t.clone(), c)
    new_xr, new_xf = reg.d_inputs(xr.clone(), xf.clone(), c)
    return (real_t, fake_t, xr, xf), (new_rt, new_ft, new_xr, new_xf)


def test_all_seven_registered():
    assert list_regularizers() == SEVEN


@pytest.mark.parametrize("name", SEVEN)
def test_hooks_touch_only_what_they_claim(name):
    reg = get_regularizer(name)
    (rt, ft, xr, xf), (nrt, nft, nxr, nxf) = targets_and_inputs(reg)
    changes_targets = name in LABEL_TRICKS
    changes_inputs = name == "instance-noise"
    assert (not torch.equal(rt, nrt) or not torch.equal(ft, nft)) == changes_targets
    assert (not torch.equal(xr, nxr) or not torch.equal(xf, nxf)) == changes_inputs
    kwargs = {"g_dropout": 0.0}
    reg.configure_backbone(kwargs)
    assert (kwargs["g_dropout"] != 0.0) == (name == "g-dropout")
    penalty = reg.d_penalty(lambda x: x.sum(1), xr, xf, ctx())
    assert (penalty is not None) == (name == "gp")


def test_one_sided_smoothing():
    _, (rt, ft, _, _) = targets_and_inputs(get_regularizer("one-sided-smoothing"))
    assert torch.all(rt == 0.9) and torch.all(ft == 0.0)
    _, (rt, _, _, _) = targets_and_inputs(get_regularizer("one-sided-smoothing", real=0.8))
    assert torch.all(rt == 0.8)


def test_soft_labels_ranges_and_resampling():
    reg = get_regularizer("soft-labels")
    _, (rt, ft, _, _) = targets_and_inputs(reg)
    assert 0.7 <= rt.min() and rt.max() <= 1.2 and 0.0 <= ft.min() and ft.max() <= 0.3
    assert rt.mean().item() == pytest.approx(0.95, abs=0.02) and ft.std() > 0.05
    c = ctx()
    first = reg.targets(torch.ones(8), torch.zeros(8), c)[0]
    second = reg.targets(torch.ones(8), torch.zeros(8), c)[0]
    assert not torch.equal(first, second)  # resampled every step


def test_noisy_labels_flip_rate_and_swap():
    reg = get_regularizer("noisy-labels")
    n = 20000
    rt, ft = reg.targets(torch.ones(n), torch.zeros(n), ctx())
    assert set(rt.unique().tolist()) <= {0.0, 1.0} and set(ft.unique().tolist()) <= {0.0, 1.0}
    assert (rt == 0).float().mean().item() == pytest.approx(0.05, abs=0.006)
    assert (ft == 1).float().mean().item() == pytest.approx(0.05, abs=0.006)
    rt, _ = get_regularizer("noisy-labels", p=0.0).targets(torch.ones(n), torch.zeros(n), ctx())
    assert torch.all(rt == 1)


def test_instance_noise_std_decays_linearly_to_zero():
    reg = get_regularizer("instance-noise")
    for step, expected in ((0, 0.1), (50, 0.05), (100, 0.0)):
        (_, _, xr, xf), (_, _, nxr, nxf) = targets_and_inputs(reg, n=20000, step=step, total=100)
        noise = torch.cat([nxr - xr, nxf - xf])
        assert noise.std().item() == pytest.approx(expected, abs=0.003)
        assert noise.mean().abs().item() < 0.003


def test_g_dropout_builds_always_on_dropout_in_g_only():
    reg = get_regularizer("g-dropout")
    kwargs = {"g_dropout": 0.0}
    reg.configure_backbone(kwargs)
    g, d = build_backbone("dcgan28", shape=(1, 28, 28), **kwargs)
    g.eval()
    z = torch.randn(4, 100)
    assert not torch.equal(g(z), g(z))
    assert not any("AlwaysDropout" in type(m).__name__ for m in d.modules())


def test_spectral_norm_on_d_weight_layers_only():
    g, d = build_backbone("dcgan28", shape=(1, 28, 28), d_norm="none")
    get_regularizer("spectral-norm").wrap_networks(g, d)
    layers = [m for m in d.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert layers and all(hasattr(m, "parametrizations") for m in layers)
    assert not any(hasattr(m, "parametrizations") for m in g.modules())
    d.train()
    x = torch.randn(8, 1, 28, 28)
    for _ in range(30):  # power iterations converge in training mode
        d(x)
    w = layers[-1].weight.detach().flatten(1)
    assert torch.linalg.matrix_norm(w, ord=2).item() == pytest.approx(1.0, abs=0.05)


def test_gp_regularizer_is_the_gradient_penalty():
    reg = get_regularizer("gp", weight=3.0)
    a = torch.tensor([3.0, 4.0])
    xr, xf = torch.randn(6, 2), torch.randn(6, 2)
    got = reg.d_penalty(lambda x: x @ a, xr, xf, ctx())
    assert got.item() == pytest.approx(3.0 * 16.0, rel=1e-6)
    assert got.item() == pytest.approx(gradient_penalty(lambda x: x @ a, xr, xf, 3.0).item(), rel=1e-6)


@pytest.mark.parametrize("trick", LABEL_TRICKS)
@pytest.mark.parametrize("loss", ["hinge", "wgan", "wgan-gp", "rahinge"])
def test_label_tricks_not_applicable_without_targets(trick, loss):
    with pytest.raises(NotApplicableError, match=f"not applicable: {trick}.*{loss} has none"):
        get_regularizer(trick).check(get_loss(loss))


@pytest.mark.parametrize("loss", ["minimax", "ns", "lsgan", "rsgan", "rasgan", "ralsgan"])
def test_label_tricks_apply_to_objectives_with_targets(loss):
    for trick in LABEL_TRICKS:
        get_regularizer(trick).check(get_loss(loss))


def test_gp_not_twice():
    with pytest.raises(NotApplicableError, match="already includes"):
        get_regularizer("gp").check(get_loss("wgan-gp"))


def test_parse_combinations_order_and_params():
    regs = parse_regularizers("noisy-labels+soft-labels+instance-noise", {"soft-labels.real_low": 0.8})
    assert [r.name for r in regs] == ["soft-labels", "noisy-labels", "instance-noise"]
    assert regs[0].p["real_low"] == 0.8 and regs[0].p["real_high"] == 1.2
    assert parse_regularizers("none") == [] and parse_regularizers(None) == []
    with pytest.raises(GanZooError, match="valid: g-dropout, gp"):
        parse_regularizers("soft-label")
    with pytest.raises(GanZooError, match="unknown parameter.*soft-labels.low.*valid: soft-labels.real_low"):
        parse_regularizers("soft-labels", {"soft-labels.low": 0.1})
    with pytest.raises(GanZooError, match="NAME.PARAM for a regularizer of this run"):
        parse_regularizers("soft-labels", {"gp.weight": 1})
    with pytest.raises(GanZooError, match="named twice"):
        parse_regularizers("gp+gp")
