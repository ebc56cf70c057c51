"""The loss math: every DESIGN.md formula written out literally and compared.

References are written twice from one literal text: in NumPy float64 for ordinary
logits, and in mpmath at 50 digits for logits of magnitude 50, where the literal
``log(1 - sigma(x))`` cannot be evaluated in float64 at all.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from gan_zoo.errors import NotApplicableError
from gan_zoo.losses import Objective, get_loss, gradient_penalty, list_losses, register_loss
from gan_zoo.registry import UnknownNameError

REAL = [-5.0, 1.4, 12.5, 2.7]
FAKE = [10.0, 4.4, -5.5, 3.6]
ALL = ["hinge", "lsgan", "minimax", "ns", "rahinge", "ralsgan", "rasgan", "rsgan", "wgan", "wgan-gp"]


# ---------------------------------------------------------------------------
# literal formulas of DESIGN.md over a tiny math namespace (numpy or mpmath)

class NumpyMath:
    @staticmethod
    def sigma(x):
        return 1.0 / (1.0 + np.exp(-x))

    log = staticmethod(np.log)
    mean = staticmethod(np.mean)

    @staticmethod
    def relu(x):
        return np.maximum(0.0, x)


class MpMath:
    @staticmethod
    def sigma(x):
        return np.array([1 / (1 + mpmath.exp(-v)) for v in x], dtype=object)

    @staticmethod
    def log(x):
        return np.array([mpmath.log(v) for v in x], dtype=object)

    @staticmethod
    def mean(x):
        return sum(x) / len(x)

    @staticmethod
    def relu(x):
        return np.array([max(mpmath.mpf(0), v) for v in x], dtype=object)


def reference(name, r, f, M):
    """(d_loss, g_loss) of DESIGN.md's table, literally."""
    s, log, E, relu = M.sigma, M.log, M.mean, M.relu
    if name in ("minimax", "ns"):
        d = -E(log(s(r))) - E(log(1 - s(f)))
        g = E(log(1 - s(f))) if name == "minimax" else -E(log(s(f)))
    elif name == "lsgan":
        d = E((r - 1) ** 2) + E(f ** 2)
        g = E((f - 1) ** 2)
    elif name == "hinge":
        d = E(relu(1 - r)) + E(relu(1 + f))
        g = -E(f)
    elif name in ("wgan", "wgan-gp"):
        d = E(f) - E(r)  # wgan-gp's lambda * GP is added by the loop; tested separately
        g = -E(f)
    elif name == "rsgan":
        d = -E(log(s(r - f)))
        g = -E(log(s(f - r)))
    elif name == "rasgan":
        d = -E(log(s(r - E(f)))) - E(log(1 - s(f - E(r))))
        g = -E(log(s(f - E(r)))) - E(log(1 - s(r - E(f))))
    elif name == "ralsgan":
        d = E((r - E(f) - 1) ** 2) + E((f - E(r) + 1) ** 2)
        g = E((f - E(r) - 1) ** 2) + E((r - E(f) + 1) ** 2)
    elif name == "rahinge":
        d = E(relu(1 - (r - E(f)))) + E(relu(1 + (f - E(r))))
        g = E(relu(1 - (f - E(r)))) + E(relu(1 + (r - E(f))))
    else:
        raise KeyError(name)
    return d, g


def torch_losses(name, r, f, dtype=torch.float64):
    obj = get_loss(name)
    rt = torch.tensor(r, dtype=dtype)
    ft = torch.tensor(f, dtype=dtype)
    return obj.d_loss(rt, ft).item(), obj.g_loss(rt, ft).item()


def test_all_ten_objectives_registered():
    assert list_losses() == ALL


@pytest.mark.parametrize("name", ALL)
def test_lopsided_vectors_match_formula(name):
    r, f = np.array(REAL), np.array(FAKE)
    d_ref, g_ref = reference(name, r, f, NumpyMath)
    for dtype in (torch.float64, torch.float32):
        d, g = torch_losses(name, REAL, FAKE, dtype)
        assert d == pytest.approx(d_ref, rel=1e-5, abs=1e-5)
        assert g == pytest.approx(g_ref, rel=1e-5, abs=1e-5)


def test_lopsided_hand_values():
    """A few values computed by hand, so the reference itself is checked."""
    # wgan: E f - E r = 3.125 - 2.9
    assert torch_losses("wgan", REAL, FAKE)[0] == pytest.approx(0.225, abs=1e-12)
    # hinge D: mean(relu(1 - r)) = (6 + 0 + 0 + 0) / 4; mean(relu(1 + f)) = (11 + 5.4 + 0 + 4.6) / 4
    assert torch_losses("hinge", REAL, FAKE)[0] == pytest.approx(1.5 + 5.25, abs=1e-12)
    # lsgan G: mean((f - 1)^2) = (81 + 11.56 + 42.25 + 6.76) / 4
    assert torch_losses("lsgan", REAL, FAKE)[1] == pytest.approx(141.57 / 4, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_random_logits_match_formula(data):
    n = data.draw(st.integers(1, 12))
    # |r - f| <= 20 keeps the literal float64 log(1 - sigma(x)) accurate to ~1e-7;
    # larger logits are checked against 50-digit mpmath below.
    elems = st.floats(-10, 10, allow_nan=False, allow_infinity=False)
    r = data.draw(arrays(np.float64, n, elements=elems))
    f = data.draw(arrays(np.float64, n, elements=elems))
    for name in ALL:
        d_ref, g_ref = reference(name, r, f, NumpyMath)
        d, g = torch_losses(name, r.tolist(), f.tolist())
        assert d == pytest.approx(d_ref, rel=1e-5, abs=1e-5), name
        assert g == pytest.approx(g_ref, rel=1e-5, abs=1e-5), name


LARGE_R = [50.0, -50.0, 30.0, -49.0]
LARGE_F = [-50.0, 45.0, 50.0, -30.0]


def _mp_reference_and_grad(name, r, f, which):
    """Value and gradient of the literal formula at 50 digits (central differences)."""
    mpmath.mp.dps = 50
    rr = np.array([mpmath.mpf(v) for v in r], dtype=object)
    ff = np.array([mpmath.mpf(v) for v in f], dtype=object)
    idx = 0 if which == "d" else 1
    value = reference(name, rr, ff, MpMath)[idx]
    h = mpmath.mpf("1e-20")
    grads = []
    for vec in ("r", "f"):
        g = []
        for i in range(len(r)):
            up_r, dn_r, up_f, dn_f = rr.copy(), rr.copy(), ff.copy(), ff.copy()
            if vec == "r":
                up_r[i] += h
                dn_r[i] -= h
            else:
                up_f[i] += h
                dn_f[i] -= h
            hi = reference(name, up_r, up_f, MpMath)[idx]
            lo = reference(name, dn_r, dn_f, MpMath)[idx]
            g.append(float((hi - lo) / (2 * h)))
        grads.append(g)
    return float(value), grads


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("which", ["d", "g"])
def test_large_logits_values_and_gradients(name, which):
    obj = get_loss(name)
    for dtype in (torch.float32, torch.float64):
        r = torch.tensor(LARGE_R, dtype=dtype, requires_grad=True)
        f = torch.tensor(LARGE_F, dtype=dtype, requires_grad=True)
        out = (obj.d_loss if which == "d" else obj.g_loss)(r, f)
        # a G loss may ignore the real logits: an unused input has gradient zero
        grads = torch.autograd.grad(out, (r, f), allow_unused=True)
        grads = [torch.zeros_like(x) if g is None else g for g, x in zip(grads, (r, f))]
        assert torch.isfinite(out)
        ref, (gr, gf) = _mp_reference_and_grad(name, LARGE_R, LARGE_F, which)
        assert out.item() == pytest.approx(ref, rel=1e-5, abs=1e-5)
        assert all(torch.all(torch.isfinite(g)) for g in grads)
        np.testing.assert_allclose(grads[0].double().numpy(), gr, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(grads[1].double().numpy(), gf, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------
# the contract, over whatever is registered

@pytest.mark.parametrize("name", list_losses())
def test_contract(name):
    obj = get_loss(name)
    gen = torch.Generator().manual_seed(1)
    r = torch.randn(32, generator=gen).requires_grad_(True)
    f = (torch.randn(32, generator=gen) + 0.5).requires_grad_(True)
    d = obj.d_loss(r, f)
    g = obj.g_loss(r, f)
    for out in (d, g):
        assert out.dim() == 0 and torch.isfinite(out)
    gr, gf = torch.autograd.grad(d, (r, f))
    assert gr.abs().sum() > 0 and gf.abs().sum() > 0
    (gg,) = torch.autograd.grad(g, (f,))
    assert gg.abs().sum() > 0
    lr, lf = torch.tensor(REAL), torch.tensor(FAKE)
    assert obj.d_loss(lr, lf).item() != pytest.approx(obj.d_loss(lf, lr).item(), rel=1e-6)
    assert obj.d_formula and obj.g_formula and obj.paper


# ---------------------------------------------------------------------------
# properties

def test_minimax_saturates_and_ns_does_not():
    """Goodfellow et al. 2014 (and seed 004): when D rejects fakes confidently, the
    saturating G loss has a vanishing gradient; the non-saturating one does not."""
    n = 8
    r = torch.zeros(n)
    prev_mm = None
    for c in (-5.0, -10.0, -20.0, -40.0):
        f = torch.full((n,), c, requires_grad=True)
        (g_mm,) = torch.autograd.grad(get_loss("minimax").g_loss(r, f), f)
        (g_ns,) = torch.autograd.grad(get_loss("ns").g_loss(r, f), f)
        per_sample_mm = (g_mm * n).abs().max().item()
        per_sample_ns = (g_ns * n).abs().min().item()
        assert per_sample_ns == pytest.approx(1.0, abs=1e-2)  # -(1 - sigma(c)) -> -1
        assert per_sample_mm == pytest.approx(math.exp(c), rel=1e-2)  # sigma(c) -> 0
        if prev_mm is not None:
            assert per_sample_mm < prev_mm
        prev_mm = per_sample_mm
    assert prev_mm < 1e-15


def test_hinge_d_loss_zero_once_margins_hold():
    hinge = get_loss("hinge")
    assert hinge.d_loss(torch.tensor([1.0, 3.0, 7.5]), torch.tensor([-1.0, -2.0, -9.0])).item() == 0.0
    # one sample inside either margin makes it positive
    assert hinge.d_loss(torch.tensor([0.9, 3.0]), torch.tensor([-1.0, -2.0])).item() > 0
    assert hinge.d_loss(torch.tensor([1.0, 3.0]), torch.tensor([-0.9, -2.0])).item() > 0


@pytest.mark.parametrize("name", ["rsgan", "rasgan", "ralsgan", "rahinge"])
@pytest.mark.parametrize("shift", [-7.0, 0.3, 25.0])
def test_relativistic_shift_invariance(name, shift):
    obj = get_loss(name)
    r = torch.tensor(REAL, dtype=torch.float64)
    f = torch.tensor(FAKE, dtype=torch.float64)
    assert obj.d_loss(r + shift, f + shift).item() == pytest.approx(obj.d_loss(r, f).item(), rel=1e-9)
    assert obj.g_loss(r + shift, f + shift).item() == pytest.approx(obj.g_loss(r, f).item(), rel=1e-9)


def test_non_relativistic_losses_are_not_shift_invariant():
    """The invariance test above can fail: it does for an absolute objective."""
    obj = get_loss("ns")
    r, f = torch.tensor(REAL), torch.tensor(FAKE)
    assert obj.d_loss(r + 3, f + 3).item() != pytest.approx(obj.d_loss(r, f).item(), rel=1e-3)


@pytest.mark.parametrize("name", ["wgan", "wgan-gp"])
def test_wgan_d_loss_antisymmetric(name):
    obj = get_loss(name)
    r, f = torch.tensor(REAL, dtype=torch.float64), torch.tensor(FAKE, dtype=torch.float64)
    assert obj.d_loss(f, r).item() == pytest.approx(-obj.d_loss(r, f).item(), rel=1e-12)
    assert obj.d_loss(r, f).item() != 0


# ---------------------------------------------------------------------------
# label targets

@pytest.mark.parametrize("name", [n for n in ALL if get_loss(n).has_targets])
def test_targets_default_to_one_and_zero(name):
    obj = get_loss(name)
    r, f = torch.tensor(REAL), torch.tensor(FAKE)
    base = obj.d_loss(r, f).item()
    assert obj.d_loss(r, f, real_target=1.0, fake_target=0.0).item() == pytest.approx(base, rel=1e-6)
    assert obj.d_loss(r, f, real_target=torch.ones(4), fake_target=torch.zeros(4)).item() == \
        pytest.approx(base, rel=1e-6)
    assert obj.d_loss(r, f, real_target=0.9).item() != pytest.approx(base, rel=1e-6)


def test_one_sided_smoothing_matches_bce_formula():
    """ns with real target 0.9: -E[0.9 log s(r) + 0.1 log(1 - s(r))] - E log(1 - s(f))."""
    r, f = np.array(REAL), np.array(FAKE)
    s = NumpyMath.sigma
    ref = -np.mean(0.9 * np.log(s(r)) + 0.1 * np.log(1 - s(r))) - np.mean(np.log(1 - s(f)))
    got = get_loss("ns").d_loss(torch.tensor(REAL, dtype=torch.float64),
                                torch.tensor(FAKE, dtype=torch.float64), real_target=0.9)
    assert got.item() == pytest.approx(ref, rel=1e-9)


def test_lsgan_targets_replace_one_and_zero():
    r, f = np.array(REAL), np.array(FAKE)
    ref = np.mean((r - 0.8) ** 2) + np.mean((f - 0.2) ** 2)
    got = get_loss("lsgan").d_loss(torch.tensor(REAL, dtype=torch.float64),
                                   torch.tensor(FAKE, dtype=torch.float64), 0.8, 0.2)
    assert got.item() == pytest.approx(ref, rel=1e-9)


@pytest.mark.parametrize("name", ["hinge", "wgan", "wgan-gp", "rahinge"])
def test_target_free_objectives_refuse_targets(name):
    obj = get_loss(name)
    with pytest.raises(NotApplicableError, match="no label targets"):
        obj.d_loss(torch.tensor(REAL), torch.tensor(FAKE), real_target=0.9)


# ---------------------------------------------------------------------------
# gradient penalty

@pytest.mark.parametrize("a", [[3.0, 4.0], [0.1, -0.2], [0.6, 0.8], [-2.0, 0.0], [1.0, 1.0]])
def test_gradient_penalty_linear_critic_points(a):
    a_t = torch.tensor(a, dtype=torch.float64)
    gen = torch.Generator().manual_seed(0)
    real = torch.randn(16, 2, generator=gen, dtype=torch.float64)
    fake = torch.randn(16, 2, generator=gen, dtype=torch.float64) + 3
    gp = gradient_penalty(lambda x: x @ a_t, real, fake, weight=10.0, generator=gen)
    expected = 10.0 * (math.hypot(*a) - 1.0) ** 2
    assert gp.item() == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_gradient_penalty_zero_for_unit_norm_images():
    gen = torch.Generator().manual_seed(3)
    a = torch.randn(1, 3, 8, 8, generator=gen, dtype=torch.float64)
    a = a / a.norm()
    real = torch.randn(5, 3, 8, 8, generator=gen, dtype=torch.float64)
    fake = torch.randn(5, 3, 8, 8, generator=gen, dtype=torch.float64)
    gp = gradient_penalty(lambda x: (x * a).flatten(1).sum(1), real, fake, weight=7.0)
    assert gp.item() == pytest.approx(0.0, abs=1e-20)
    gp2 = gradient_penalty(lambda x: (x * 2 * a).flatten(1).sum(1), real, fake, weight=7.0)
    assert gp2.item() == pytest.approx(7.0, rel=1e-12)


def test_gradient_penalty_is_differentiable_for_the_critic():
    """create_graph=True: the penalty has a gradient w.r.t. the critic's weights."""
    lin = torch.nn.Linear(2, 1)
    real, fake = torch.randn(8, 2), torch.randn(8, 2)
    gp = gradient_penalty(lambda x: lin(x).squeeze(1), real, fake)
    gp.backward()
    w = lin.weight.detach().squeeze(0)
    # d/dw 10 (||w|| - 1)^2 = 20 (||w|| - 1) w / ||w||
    expected = 20 * (w.norm() - 1) * w / w.norm()
    torch.testing.assert_close(lin.weight.grad.squeeze(0), expected, rtol=1e-5, atol=1e-6)


def test_gradient_penalty_interpolates_per_sample():
    """x_hat lies on the segment between each real and its fake, eps ~ U[0, 1] per sample."""
    seen = []

    def critic(x):
        seen.append(x.detach().clone())
        return x.sum(1)

    real = torch.zeros(64, 2)
    fake = torch.ones(64, 2)
    gradient_penalty(critic, real, fake, generator=torch.Generator().manual_seed(0))
    x_hat = seen[0]
    assert torch.allclose(x_hat[:, 0], x_hat[:, 1])  # one eps per sample
    assert 0 <= x_hat.min() and x_hat.max() <= 1 and x_hat[:, 0].std() > 0.1


# ---------------------------------------------------------------------------
# registry

def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError) as info:
        get_loss("nope")
    message = str(info.value)
    assert "nope" in message and all(n in message for n in ALL)
    assert isinstance(info.value, UnknownNameError)


def test_duplicate_registration_raises():
    with pytest.raises(ValueError, match="already registered"):
        register_loss("ns")(Objective())


def test_list_losses_pattern():
    assert list_losses("ra*") == ["rahinge", "ralsgan", "rasgan"]
    assert list_losses("wgan*") == ["wgan", "wgan-gp"]
    assert list_losses("zzz*") == []


def test_defaults_from_the_papers():
    assert get_loss("wgan-gp").defaults == {"optimizer": "adam", "lr_g": 1e-4, "lr_d": 1e-4,
                                            "beta1": 0.0, "beta2": 0.9, "n_critic": 5, "clip": None}
    assert get_loss("wgan").defaults["optimizer"] == "rmsprop"
    assert get_loss("wgan").defaults["clip"] == 0.01 and get_loss("wgan").defaults["lr_d"] == 5e-5
    for name in ("minimax", "ns", "lsgan", "hinge", "rsgan", "rasgan", "ralsgan", "rahinge"):
        d = get_loss(name).defaults
        assert (d["optimizer"], d["lr_d"], d["beta1"], d["beta2"], d["n_critic"]) == ("adam", 2e-4, 0.5, 0.999, 1)
    assert get_loss("wgan-gp").penalty_weight == 10.0 and get_loss("wgan").penalty_weight == 0.0
