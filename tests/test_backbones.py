"""Backbones: shapes, raw logits, conditioning, dropout, norms, init, layer tables."""

import inspect

import pytest
import torch
import torch.nn as nn

from gan_zoo import backbones
from gan_zoo.backbones import (
    AlwaysDropout,
    Dropout,
    backbone_defaults,
    build_backbone,
    list_backbones,
)
from gan_zoo.errors import GanZooError

# Every registered backbone with every sample shape it serves (datasets in data.py).
CASES = [
    ("dcgan28", (1, 28, 28)),  # mnist, fashion-mnist
    ("dcgan28", (3, 28, 28)),  # stacked-mnist
    ("dcgan32", (3, 32, 32)),  # cifar10
    ("dcgan32", (1, 32, 32)),  # mnist resized
    ("dcgan64", (3, 64, 64)),  # folder
    ("mlp", (1, 28, 28)),  # seed 000's vanilla GAN
    ("mlp", (2,)),  # ring8, grid25
    ("mlp-pacgan", (2,)),  # the pacgan preset's ring and grid
]
IDS = [f"{n}-{'x'.join(map(str, s))}" for n, s in CASES]
B = 3


def _labels(k, b=B):
    return torch.arange(b) % k if k else None


def test_cases_cover_the_registry():
    assert {name for name, _ in CASES} == set(list_backbones())


@pytest.mark.parametrize("d_norm", ["batch", "layer", "none"])
@pytest.mark.parametrize("k", [0, 10])
@pytest.mark.parametrize("name,shape", CASES, ids=IDS)
def test_shapes_and_attributes(name, shape, k, d_norm):
    torch.manual_seed(0)
    g, d = build_backbone(name, shape=shape, nz=16, num_classes=k, d_norm=d_norm,
                          width=8 if not name.startswith("mlp") else None)
    for net in (g, d):
        assert (net.nz, net.num_classes, tuple(net.shape)) == (16, k, shape)
    z, y = torch.randn(B, 16), _labels(k)
    x = g(z, y)
    assert x.shape == (B, *shape) and x.dtype == torch.float32
    if len(shape) == 3:
        assert x.abs().max() <= 1.0  # tanh output for images
    logits = d(x, y)
    assert logits.shape == (B,)
    logits.sum().backward()  # the gradient reaches G through D
    assert all(p.grad is not None for p in g.parameters())


@pytest.mark.parametrize("name,shape", CASES, ids=IDS)
def test_d_returns_raw_logits(name, shape):
    torch.manual_seed(0)
    g, d = build_backbone(name, shape=shape, width=8)
    assert not any(isinstance(m, nn.Sigmoid) for m in d.modules())
    # a sigmoid would bound outputs to [0, 1] whatever the weights; logits are unbounded
    last = [m for m in d.modules() if isinstance(m, (nn.Conv2d, nn.Linear))][-1]
    with torch.no_grad():
        last.weight.mul_(1e5)
    d.eval()
    out = d(torch.randn(8, *shape))
    assert out.abs().max() > 1.0 and ((out < 0) | (out > 1)).any()


def test_point_generator_is_linear_not_tanh():
    g, _ = build_backbone("mlp", shape=(2,))
    assert not any(isinstance(m, nn.Tanh) for m in g.modules())
    with torch.no_grad():
        g.eval()
        x = g(100 * torch.randn(256, 100))
    assert x.abs().max() > 4.0  # the grid's outer modes at +-4 are reachable


@pytest.mark.parametrize("name,shape", CASES, ids=IDS)
def test_g_dropout_stays_on_in_eval(name, shape):
    z = torch.randn(4, 100)
    g, _ = build_backbone(name, shape=shape, width=8, g_dropout=0.5)
    g.eval()
    assert not torch.equal(g(z), g(z))
    assert any(isinstance(m, AlwaysDropout) for m in g.modules())
    g0, _ = build_backbone(name, shape=shape, width=8)
    g0.eval()
    assert torch.equal(g0(z), g0(z))
    assert not any(isinstance(m, (AlwaysDropout, nn.Dropout)) for m in g0.modules())


def test_always_dropout_module():
    drop = AlwaysDropout(0.5).eval()
    out = drop(torch.ones(10_000))
    assert 0.4 < (out == 0).float().mean() < 0.6
    assert set(out.unique().tolist()) == {0.0, 2.0}  # survivors scaled by 1 / (1 - p)


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_dropout_mask_distribution_and_gradient(p):
    n = 1_000_000
    x = torch.ones(n, requires_grad=True)
    out = Dropout(p).train()(x)
    dropped = (out == 0).double().mean().item()
    assert abs(dropped - p) < 5 * (p * (1 - p) / n) ** 0.5  # binomial, 5 standard errors
    assert set(out.detach().unique().tolist()) == {0.0, 1.0 / (1.0 - p)}
    out.sum().backward()
    assert torch.equal(x.grad, out.detach())  # d out / d x is the scaled mask itself


def test_dropout_modes_and_seeding():
    x = torch.randn(4, 8, 5, 5)
    assert torch.equal(Dropout(0.2).eval()(x), x)
    assert torch.equal(Dropout(0.0).train()(x), x)
    assert torch.equal(Dropout(1.0).train()(x), torch.zeros_like(x))
    torch.manual_seed(3)
    a = Dropout(0.2).train()(x)
    torch.manual_seed(3)
    b = Dropout(0.2).train()(x)
    assert torch.equal(a, b) and not torch.equal(a, Dropout(0.2).train()(x))
    assert isinstance(Dropout(0.2), nn.Dropout)


def test_d_dropout_defaults():
    assert backbone_defaults("dcgan28") == {"width": 32, "d_dropout": 0.2}
    assert backbone_defaults("dcgan64")["width"] == 64
    assert backbone_defaults("dcgan32")["width"] == 64
    assert backbone_defaults("mlp")["width"] == 128
    _, d = build_backbone("dcgan28", shape=(1, 28, 28))
    ps = [m.p for m in d.modules() if isinstance(m, nn.Dropout)]
    assert ps == [0.2, 0.2, 0.2]  # seed 001: after each of D's three activations
    _, d = build_backbone("dcgan28", shape=(1, 28, 28), d_dropout=0.0)
    assert not any(isinstance(m, nn.Dropout) for m in d.modules())
    _, d = build_backbone("dcgan64", shape=(3, 64, 64), width=8)
    assert not any(isinstance(m, nn.Dropout) for m in d.modules())


@pytest.mark.parametrize("name,shape", [c for c in CASES if not c[0].startswith("mlp")],
                         ids=[i for i, c in zip(IDS, CASES) if not c[0].startswith("mlp")])
def test_d_norm_choice(name, shape):
    hidden = {28: 2, 32: 2, 64: 3}[shape[1]]  # normalized hidden conv layers of D
    _, d = build_backbone(name, shape=shape, width=8, d_norm="batch")
    assert sum(isinstance(m, nn.BatchNorm2d) for m in d.modules()) == hidden
    _, d = build_backbone(name, shape=shape, width=8, d_norm="layer")
    groups = [m for m in d.modules() if isinstance(m, nn.GroupNorm)]
    assert len(groups) == hidden and all(m.num_groups == 1 for m in groups)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in d.modules())
    g, d = build_backbone(name, shape=shape, width=8, d_norm="none")
    assert not any(isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)) for m in d.modules())
    assert any(isinstance(m, nn.BatchNorm2d) for m in g.modules())  # G keeps its BN


def test_invalid_d_norm_lists_allowed_values():
    with pytest.raises(GanZooError) as info:
        build_backbone("dcgan28", shape=(1, 28, 28), d_norm="instance")
    for allowed in ("batch", "layer", "none"):
        assert allowed in str(info.value)


@pytest.mark.parametrize("name,shape", CASES, ids=IDS)
def test_conditioning_changes_outputs(name, shape):
    torch.manual_seed(0)
    g, d = build_backbone(name, shape=shape, width=8, num_classes=10)
    g.eval(), d.eval()
    z, x = torch.randn(B, 100), torch.randn(B, *shape)
    a, b = torch.zeros(B, dtype=torch.long), torch.full((B,), 7)
    assert not torch.allclose(g(z, a), g(z, b))
    assert not torch.allclose(d(x, a), d(x, b))
    with pytest.raises(GanZooError, match="labels"):
        d(x)
    with pytest.raises(GanZooError, match="labels"):
        g(z)


def test_label_planes_and_one_hot_inputs():
    # conv D: C image channels + K one-hot planes; G: nz + K inputs
    g, d = build_backbone("dcgan28", shape=(1, 28, 28), num_classes=10)
    assert d.body[0].in_channels == 11 and g.body[0].in_channels == 110
    g, d = build_backbone("mlp", shape=(1, 28, 28), num_classes=10)
    assert d.body[0].in_features == 784 + 10 and g.body[0].in_features == 110
    # a plane is all ones for its class: a D that reads only plane 3 sees 1 for class 3
    _, d = build_backbone("dcgan28", shape=(1, 28, 28), num_classes=10, d_dropout=0.0,
                          d_norm="none")
    captured = {}
    d.body[0].register_forward_pre_hook(lambda m, inp: captured.update(x=inp[0]))
    d(torch.zeros(2, 1, 28, 28), torch.tensor([3, 5]))
    planes = captured["x"][:, 1:]
    assert planes.shape == (2, 10, 28, 28)
    assert planes[0, 3].eq(1).all() and planes[0].sum() == 28 * 28
    assert planes[1, 5].eq(1).all() and planes[1].sum() == 28 * 28


def test_unconditional_nets_ignore_labels():
    torch.manual_seed(0)
    g, d = build_backbone("mlp", shape=(2,))
    z = torch.randn(4, 100)
    assert torch.equal(g(z), g(z, torch.tensor([0, 1, 2, 3])))


def test_dcgan_init():
    torch.manual_seed(0)
    g, d = build_backbone("dcgan64", shape=(3, 64, 64))
    convs = [m for m in d.modules() if isinstance(m, nn.Conv2d)]
    big = max(convs, key=lambda m: m.weight.numel())  # 2M weights: tight estimate
    assert big.weight.mean().abs() < 1e-3
    assert big.weight.std().item() == pytest.approx(0.02, rel=0.02)
    bns = [m for m in g.modules() if isinstance(m, nn.BatchNorm2d)]
    scales = torch.cat([m.weight.detach() for m in bns])
    assert scales.mean().item() == pytest.approx(1.0, abs=0.01)
    assert scales.std().item() == pytest.approx(0.02, rel=0.2)
    assert all(m.bias.abs().max() == 0 for m in bns)


def _params(net):
    return sum(p.numel() for p in net.parameters())


def test_layer_tables_match_the_seeds():
    # seed 001 (MNIST DCGAN, width 32): G 204800+256+73728+128+32768+64+512,
    # D 512+32768+128+73728+256+2048
    g, d = build_backbone("dcgan28", shape=(1, 28, 28))
    assert (_params(g), _params(d)) == (312_256, 109_440)
    # seed 000's 64x64 table (summary param counts, rows summed)
    g, d = build_backbone("dcgan64", shape=(3, 64, 64))
    assert _params(g) == 819_200 + 1_024 + 2_097_152 + 512 + 524_288 + 256 + 131_072 + 128 + 3_072
    assert _params(d) == 3_072 + 131_072 + 256 + 524_288 + 512 + 2_097_152 + 1_024 + 8_192
    # seed 000's vanilla GAN: Linear(100, 128), Linear(128, 784) / Linear(784, 128), Linear(128, 1)
    g, d = build_backbone("mlp", shape=(1, 28, 28))
    assert (_params(g), _params(d)) == (100 * 128 + 128 + 128 * 784 + 784, 784 * 128 + 128 + 129)
    # width overrides the hidden size
    g, d = build_backbone("mlp", shape=(2,), width=64)
    assert _params(g) == 100 * 64 + 64 + 64 * 64 + 64 + 64 * 2 + 2


def test_dcgan32_spatial_sizes():
    g, d = build_backbone("dcgan32", shape=(3, 32, 32), width=8)
    sizes = []
    for m in g.body:
        if isinstance(m, nn.ConvTranspose2d):
            m.register_forward_hook(lambda m, i, o: sizes.append((o.shape[1], o.shape[-1])))
    g(torch.randn(2, 100))
    assert sizes == [(32, 4), (16, 8), (8, 16), (3, 32)]


@pytest.mark.parametrize("name,shape", [("dcgan28", (1, 32, 32)), ("dcgan32", (3, 28, 28)),
                                        ("dcgan64", (2,)), ("mlp", (1, 2))])
def test_wrong_shape_is_a_user_error(name, shape):
    with pytest.raises(GanZooError, match=name):
        build_backbone(name, shape=shape)


def test_unknown_backbone_lists_names():
    with pytest.raises(ValueError) as info:
        build_backbone("resnet", shape=(1, 28, 28))
    assert all(n in str(info.value) for n in list_backbones())
    with pytest.raises(ValueError):
        backbone_defaults("resnet")


def test_list_backbones():
    assert list_backbones() == ["dcgan28", "dcgan32", "dcgan64", "mlp", "mlp-pacgan"]
    assert list_backbones("dcgan*") == ["dcgan28", "dcgan32", "dcgan64"]


def test_device_agnostic_source():
    assert ".cuda(" not in inspect.getsource(backbones)


def test_dropout_rate_does_not_depend_on_the_input_dtype():
    # a bfloat16 uniform draw drops about 0.202 instead of 0.2 (its values are coarse
    # near p): the mask is drawn in float32; 4e6 elements tell the two apart
    n = 4_000_000
    out = Dropout(0.2).train()(torch.ones(n, dtype=torch.bfloat16))
    assert out.dtype == torch.bfloat16
    assert abs((out == 0).double().mean().item() - 0.2) < 5 * (0.16 / n) ** 0.5
