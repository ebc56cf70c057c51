"""check_objective: the zoo's contract, offered to users for their own objectives."""

from __future__ import annotations

import sys
import textwrap

import pytest
import torch
import torch.nn.functional as F

from gan_zoo import losses
from gan_zoo.losses import Objective, get_loss, list_losses, register_loss
from gan_zoo.testing import ObjectiveCheckError, check_objective


@pytest.mark.parametrize("name", list_losses())
def test_every_zoo_objective_passes(name):
    assert check_objective(get_loss(name)) == []


class SwappedNS(Objective):
    """Deliberately wrong: the non-saturating D loss with real and fake exchanged."""

    d_formula = "-E log sigma(C(xf)) - E log(1 - sigma(C(xr)))"
    g_formula = "-E log sigma(C(xf))"
    paper = "none: a test of the checker"
    has_targets = True

    def d_loss(self, real_logits, fake_logits, real_target=None, fake_target=None):
        return get_loss("ns").d_loss(fake_logits, real_logits, real_target, fake_target)

    def g_loss(self, real_logits, fake_logits, real_target=None, fake_target=None):
        return get_loss("ns").g_loss(real_logits, fake_logits, real_target, fake_target)


@pytest.fixture
def registered_swapped():
    register_loss("swapped-ns")(SwappedNS)
    yield get_loss("swapped-ns")
    losses._REGISTRY.unregister("swapped-ns")


def test_swapped_objective_is_caught(registered_swapped):
    assert "swapped-ns" in list_losses()
    with pytest.raises(ObjectiveCheckError) as info:
        check_objective(registered_swapped)
    message = str(info.value)
    assert "D's loss should fall as the real logits rise" in message
    assert "D's loss should fall as the fake logits fall" in message
    assert "swapped" in message


class NaiveLog(Objective):
    """Unstable: log(sigmoid(x)) overflows to -inf at large negative logits."""

    d_formula = g_formula = paper = "naive"

    def d_loss(self, real_logits, fake_logits, real_target=None, fake_target=None):
        return -torch.log(torch.sigmoid(real_logits)).mean() - torch.log(1 - torch.sigmoid(fake_logits)).mean()

    def g_loss(self, real_logits, fake_logits, real_target=None, fake_target=None):
        return -torch.log(torch.sigmoid(fake_logits)).mean()


def test_unstable_objective_is_caught():
    problems = check_objective(NaiveLog(), strict=False)
    assert any("magnitude 50" in p for p in problems)
    # it has no targets but does not refuse them either
    assert any("accepted real_target silently" in p for p in problems)


class VectorLoss(Objective):
    """Wrong shape: returns per-sample losses instead of the batch mean."""

    d_formula = g_formula = paper = "vector"

    def d_loss(self, real_logits, fake_logits, real_target=None, fake_target=None):
        return F.softplus(-real_logits) + F.softplus(fake_logits)

    def g_loss(self, real_logits, fake_logits, real_target=None, fake_target=None):
        return torch.zeros(()) * fake_logits.sum()


def test_shape_and_missing_gradient_are_caught():
    problems = check_objective(VectorLoss(), strict=False)
    assert any("not a 0-dim tensor" in p for p in problems)
    assert any("g_loss: no gradient reaches the fake logits" in p for p in problems)


def test_entry_point_plugin_is_listed(tmp_path, monkeypatch):
    """A third-party package publishing under the gan_zoo.losses group joins the zoo."""
    pkg = tmp_path / "zoo_plugin_demo.py"
    pkg.write_text(textwrap.dedent('''
        import torch.nn.functional as F
        from gan_zoo.losses import Objective

        class SoftplusCritic(Objective):
            d_formula = "E softplus(-C(xr)) + E softplus(C(xf))"
            g_formula = "E softplus(-C(xf))"
            paper = "plugin demo"

            def d_loss(self, real_logits, fake_logits, real_target=None, fake_target=None):
                self.refuse_targets(real_target, fake_target)
                return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()

            def g_loss(self, real_logits, fake_logits, real_target=None, fake_target=None):
                self.refuse_targets(real_target, fake_target)
                return F.softplus(-fake_logits).mean()
    '''))
    dist = tmp_path / "zoo_plugin_demo-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: zoo-plugin-demo\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[gan_zoo.losses]\nsoftplus-demo = zoo_plugin_demo:SoftplusCritic\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        losses.reload_entry_points()
        assert "softplus-demo" in list_losses()
        assert check_objective(get_loss("softplus-demo")) == []

        from click.testing import CliRunner
        from gan_zoo.cli import cli

        out = CliRunner().invoke(cli, ["losses"])
        assert out.exit_code == 0 and "softplus-demo" in out.output
    finally:
        losses._REGISTRY.unregister("softplus-demo")
        sys.modules.pop("zoo_plugin_demo", None)
