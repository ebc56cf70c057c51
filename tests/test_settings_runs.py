"""Training settings typed once, the one KEY=VALUE parser, the run folder's result
record and completeness rule, and the trainer's hooks (implied penalty and clipping)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from gan_zoo import runs
from gan_zoo.errors import GanZooError
from gan_zoo.losses import Objective, register_loss
from gan_zoo.regularizers import GradientPenalty, WeightClipping
from gan_zoo.resolve import resolve
from gan_zoo.runs import RunResult, is_complete, read_result, write_result
from gan_zoo.settings import TrainSettings, parse_pairs, parse_value
from gan_zoo.spec import RunSpec, parse_field
from gan_zoo.train import Trainer

ADDED_RECORD_KEYS = {"d_dropout", "match", "wall_budget_s"}
SHIPPED = Path(__file__).resolve().parents[1] / "results" / "mnist-quick" / "runs"


# -- KEY=VALUE --------------------------------------------------------------------------

def test_values_parse_by_their_real_type():
    assert parse_field("n_critic", "3") == 3 and parse_field("n_critic", "none") is None
    assert parse_field("lr_g", "1e-4") == 1e-4 and parse_field("clip", "null") is None
    assert parse_field("conditional", "yes") is True and parse_field("conditional", "off") is False
    assert parse_field("reg_params", '{"gp.weight": 5}') == {"gp.weight": 5}
    assert parse_field("d_norm", "layer") == "layer"
    # a str field is text whatever the text looks like; a non-optional int refuses none
    assert parse_value("name", "5", str) == "5"
    assert parse_value("count", "7", int | None) == 7
    with pytest.raises(GanZooError, match="expected an integer$"):
        parse_value("count", "none", int)
    with pytest.raises(GanZooError, match="expected a number or none"):
        parse_field("lr_d", "fast")
    with pytest.raises(GanZooError, match="unknown --set key 'lr'"):
        parse_field("lr", "1")


def test_one_pair_parser_for_train_and_bench():
    assert parse_pairs(["nz=200", " width = 64 "]) == {"nz": "200", "width": "64"}
    assert parse_pairs(["nz=100,200"], many=True) == {"nz": ["100", "200"]}
    assert parse_pairs(['reg_params={"a.b": 1, "a.c": 2}'], many=True) == {"reg_params": ['{"a.b": 1, "a.c": 2}']}
    with pytest.raises(GanZooError, match="expects KEY=VALUE"):
        parse_pairs(["nz"])
    with pytest.raises(GanZooError, match=r"expects KEY=V1\[,V2...\]"):
        parse_pairs(["=3"], many=True)


# -- training settings ------------------------------------------------------------------

def test_settings_fields_are_spec_fields_and_drive_resolving():
    for name in TrainSettings.names():
        assert name in RunSpec.field_names()
        assert getattr(RunSpec(), name) is None  # None: the objective's default
    res = resolve(RunSpec(loss="wgan", n_critic=2, lr_d=1e-3))
    assert res.settings == TrainSettings("rmsprop", 5e-5, 1e-3, None, None, 2, 0.01)


def test_objective_defaults_are_checked_against_the_settings():
    class Bad(Objective):
        defaults = {**Objective.defaults, "momentum": 0.9}

    with pytest.raises(GanZooError, match="unknown \\['momentum'\\]"):
        register_loss("bad-defaults-probe")(Bad)
    with pytest.raises(GanZooError, match="unknown optimizer 'sgd'"):
        resolve(RunSpec(optimizer="sgd"))


@pytest.mark.skipif(not SHIPPED.is_dir(), reason="no shipped results")
def test_recorded_settings_match_the_shipped_results():
    """result.json["resolved"] keeps its keys and values for every shipped run."""
    folders = sorted(p for p in SHIPPED.iterdir() if (p / runs.RESULT_JSON).is_file())
    assert folders
    for folder in folders:
        stored = json.loads((folder / runs.RESULT_JSON).read_text())
        if stored["status"] == runs.SKIPPED:
            continue
        spec = RunSpec.from_dict(json.loads((folder / runs.SPEC_JSON).read_text()))
        assert spec.run_id() == stored["run_id"]  # run ids unchanged
        expected = {k: v for k, v in stored["resolved"].items() if k != "accel"}
        record = resolve(spec.replace(device="cpu")).record()
        # d_dropout is recorded since the penalised critic became deterministic; older
        # results predate the key (their wgan-gp critic still had the backbone's dropout)
        for key in ADDED_RECORD_KEYS - set(expected):
            record.pop(key)
        assert record == expected, folder.name


# -- implied hooks -------------------------------------------------------------------------

def test_wgan_and_wgan_gp_are_the_objective_plus_implied_hooks():
    hooks = resolve(RunSpec(loss="wgan")).hooks
    assert [type(h) for h in hooks] == [WeightClipping] and hooks[0].p["clip"] == 0.01
    gp = resolve(RunSpec(loss="wgan-gp", regularizers="instance-noise"))
    assert [type(h).__name__ for h in gp.hooks] == ["GradientPenalty", "InstanceNoise"]
    assert gp.hooks[0].p["weight"] == 10.0
    assert list(gp.record()["regularizers"]) == ["instance-noise"]  # implied ones unrecorded
    assert resolve(RunSpec(loss="ns")).hooks == []
    assert isinstance(resolve(RunSpec(loss="ns", clip=0.05)).hooks[0], WeightClipping)


def test_weight_clipping_hook_clips_after_each_critic_step():
    trainer = Trainer(RunSpec(dataset="ring8", loss="wgan", steps=2, batch_size=16, lr_d=0.5))
    trainer.step()
    assert max(p.abs().max().item() for p in trainer.d.parameters()) <= 0.01 + 1e-9


def test_the_loop_has_no_per_objective_branch():
    import inspect

    source = inspect.getsource(Trainer.step)
    for name in ("penalty_weight", "clip", "gradient_penalty", "obj.name", "loss =="):
        assert name not in source


def test_g_step_reals_reused_by_default_fresh_on_request():
    spec = RunSpec(dataset="ring8", loss="rsgan", steps=3, batch_size=16)
    reuse, fresh, again = Trainer(spec), Trainer(spec, g_reals="fresh"), Trainer(spec)
    for t in (reuse, fresh, again):
        t.run(3)
    same = lambda a, b: all(torch.equal(x, y) for x, y in zip(a.g.state_dict().values(), b.g.state_dict().values()))  # noqa: E731
    assert same(reuse, again) and not same(reuse, fresh)
    # an objective whose G loss ignores reals draws nothing more
    plain = [Trainer(RunSpec(dataset="ring8", loss="ns", steps=2), g_reals=m) for m in ("reuse", "fresh")]
    for t in plain:
        t.run()
    assert same(*plain)
    with pytest.raises(GanZooError, match="unknown g_reals"):
        Trainer(spec, g_reals="sometimes")


def test_run_logs_every_log_every_and_at_the_end_of_each_call():
    t = Trainer(RunSpec(dataset="ring8", loss="ns", steps=100, batch_size=8))
    assert t.run(5, log_every=2).status == runs.OK
    assert [r["step"] for r in t.log] == [2, 4, 5]
    t.run(1)
    assert t.steps_done == 6 and t.log[-1]["step"] == 6 and not math.isnan(t.log[-1]["g_grad_norm"])


# -- the run folder ------------------------------------------------------------------------

def test_one_result_shape_and_one_completeness_rule(tmp_path):
    skipped = RunResult.skipped("a-1", "not applicable: x", {"nz": 50})
    failed = RunResult.failed("a-1", "ValueError: y", device="auto")
    ok = RunResult.ok("a-1", steps=3, d_steps=15, wall_s=1.23456, device="cpu", backbone="mlp", resolved={})
    diverged = RunResult.diverged("a-1", reason="nan", steps=2, d_steps=2, wall_s=0.5, device="cpu",
                                  backbone="mlp", resolved={})
    assert set(skipped.to_dict()) == set(ok.to_dict()) == set(failed.to_dict())
    assert "run_dir" not in ok.to_dict() and ok.wall_s == 1.235 and diverged.diverged_step == 2
    for result, complete in ((skipped, True), (failed, False), (diverged, True), (ok, False)):
        write_result(tmp_path, result)
        assert read_result(tmp_path) == result
        assert is_complete(tmp_path, "a-1") is complete, result.status
        assert not is_complete(tmp_path, "b-2")
    (tmp_path / runs.METRICS_JSON).write_text("{}")
    assert is_complete(tmp_path, "a-1")  # ok and scored
    (tmp_path / runs.RESULT_JSON).write_text("{not json")
    assert read_result(tmp_path) is None and not is_complete(tmp_path, "a-1")


def test_train_run_writes_the_sweep_in_its_one_result_write(tmp_path):
    from gan_zoo.train import train_run

    train_run(RunSpec(dataset="ring8", loss="ns", steps=2, log_every=1, nz=8), tmp_path / "r",
              progress=False, artifacts=False, sweep={"nz": 8})
    stored = json.loads((tmp_path / "r" / runs.RESULT_JSON).read_text())
    assert stored["sweep"] == {"nz": 8} and stored["status"] == "ok" and "run_dir" not in stored
