"""Conventions that change what a setting means are written where users read them:
RSGAN's label targets at half strength, the relativistic average losses' scale."""

import torch
from click.testing import CliRunner

from gan_zoo.cli import cli
from gan_zoo.losses import get_loss


def test_rsgan_targets_act_at_half_strength_as_documented():
    real, fake = torch.randn(64), torch.randn(64)
    rsgan = get_loss("rsgan")
    smoothed = rsgan.d_loss(real, fake, real_target=0.9)
    d = real - fake
    half = torch.nn.functional.binary_cross_entropy_with_logits(d, torch.full_like(d, 0.95))
    assert torch.allclose(smoothed, half, atol=1e-6)
    out = CliRunner().invoke(cli, ["losses", "rsgan"]).output
    assert "half strength" in out and "0.95" in out


def test_relativistic_average_losses_are_twice_the_original_scale_as_documented():
    real, fake = torch.randn(64), torch.randn(64)
    rel_r, rel_f = real - fake.mean(), fake - real.mean()
    original = 0.5 * (torch.relu(1 - rel_r).mean() + torch.relu(1 + rel_f).mean())
    assert torch.allclose(get_loss("rahinge").d_loss(real, fake), 2 * original, atol=1e-6)
    for name in ("rasgan", "ralsgan", "rahinge"):
        out = CliRunner().invoke(cli, ["losses", name]).output
        assert "twice the original relativistic-GAN" in out and "half as strong" in out
