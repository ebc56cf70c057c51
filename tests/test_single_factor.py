"""Single-factor arms of the tricks ablation (issue 25, item 5): D's dropout has its own
run-spec switch, so batch norm off, layer norm and dropout off can each be changed alone."""

import pytest
from click.testing import CliRunner

from gan_zoo.backbones import Dropout
from gan_zoo.cli import cli
from gan_zoo.errors import GanZooError
from gan_zoo.resolve import build_networks, resolve
from gan_zoo.spec import RunSpec


def _d_layers(spec: RunSpec):
    res = resolve(spec)
    _, d = build_networks(res, shape=(1, 28, 28), num_classes=10)
    return res, [type(m).__name__ for m in d.modules()], [m for m in d.modules() if isinstance(m, Dropout)]


def test_dropout_off_alone_keeps_batch_norm():
    base, base_names, base_drops = _d_layers(RunSpec(dataset="mnist", loss="ns"))
    off, off_names, off_drops = _d_layers(RunSpec(dataset="mnist", loss="ns", d_dropout=0.0))
    assert base.d_dropout == 0.2 and len(base_drops) == 3
    assert off.d_dropout == 0.0 and off_drops == []
    # the one change: every other layer is the same, batch norm included
    assert [n for n in base_names if n != "Dropout"] == off_names
    assert "BatchNorm2d" in off_names and off.d_norm == "batch"


@pytest.mark.parametrize("d_norm, layer", [("none", None), ("layer", "GroupNorm")])
def test_norm_alone_keeps_dropout(d_norm, layer):
    res, names, drops = _d_layers(RunSpec(dataset="mnist", loss="ns", d_norm=d_norm))
    assert res.d_dropout == 0.2 and len(drops) == 3
    assert "BatchNorm2d" not in names
    if layer:
        assert layer in names


def test_set_dropout_is_a_new_run_id_unset_is_the_old_one():
    base = RunSpec(dataset="mnist", loss="ns", batch_size=32)
    assert "d_dropout" not in base.run_id() and base.run_id() != base.replace(d_dropout=0.2).run_id()
    assert base.replace(d_dropout=None).run_id() == base.run_id()


def test_dropout_under_a_penalty_is_refused_zero_is_allowed():
    with pytest.raises(GanZooError, match="d_dropout=0.2 cannot be used with a gradient penalty"):
        resolve(RunSpec(dataset="mnist", loss="wgan-gp", d_dropout=0.2))
    with pytest.raises(GanZooError, match="cannot be used with a gradient penalty"):
        resolve(RunSpec(dataset="mnist", loss="ns", regularizers="gp", d_dropout=0.5))
    assert resolve(RunSpec(dataset="mnist", loss="wgan-gp", d_dropout=0.0)).d_dropout == 0.0


@pytest.mark.parametrize("value", ["1", "-0.1", "nan", "half"])
def test_bad_dropout_is_one_line(value):
    out = CliRunner().invoke(cli, ["train", "--dataset", "ring8", "--steps", "1", "--set", f"d_dropout={value}"])
    assert out.exit_code == 2, out.output
    assert "d_dropout" in out.output and "Traceback" not in out.output


def test_set_d_norm_none_means_no_normalization_not_the_default():
    """``--set d_norm=none`` is D without batch norm; only an unset d_norm is the default."""
    from gan_zoo.bench.grid import parse_sweeps
    from gan_zoo.spec import parse_field

    assert parse_sweeps(["d_norm=batch,none,layer"]) == {"d_norm": ["batch", "none", "layer"]}
    assert parse_field("d_norm", "none") == "none" and parse_field("d_norm", "off") == "none"
    spec = RunSpec(dataset="mnist", loss="ns", d_norm=parse_field("d_norm", "none"))
    res, names, _ = _d_layers(spec)
    assert res.d_norm == "none" and "BatchNorm2d" not in names
    assert spec.run_id() != RunSpec(dataset="mnist", loss="ns").run_id()
