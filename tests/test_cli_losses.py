"""gan-zoo losses through click's CliRunner."""

from click.testing import CliRunner

from gan_zoo.cli import cli
from gan_zoo.losses import get_loss, list_losses

TEN = ["minimax", "ns", "lsgan", "hinge", "wgan", "wgan-gp", "rsgan", "rasgan", "ralsgan", "rahinge"]


def test_listing_shows_all_ten_with_formulas():
    result = CliRunner().invoke(cli, ["losses"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for name in TEN:
        assert name in lines
        obj = get_loss(name)
        assert f"  D: {obj.d_formula}" in lines
        assert f"  G: {obj.g_formula}" in lines
    assert result.output.count("paper:") == len(list_losses())


def test_show_one_in_full():
    result = CliRunner().invoke(cli, ["losses", "ralsgan"])
    assert result.exit_code == 0
    assert "E (C(xr) - E C(xf) - 1)^2" in result.output
    assert "arXiv:1807.00734" in result.output
    assert "n_critic=1" in result.output


def test_unknown_name_exits_2_with_one_line():
    result = CliRunner().invoke(cli, ["losses", "wgan-pg"])
    assert result.exit_code == 2
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1
    assert "wgan-pg" in lines[0]
    assert all(name in lines[0] for name in TEN)
    assert "Traceback" not in result.output
