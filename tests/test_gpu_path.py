"""Precision: recorded with each run and in runs.csv, part of the run id only when it is
not the CPU default, TF32 set explicitly; labels follow the run's device."""

from __future__ import annotations

import json
import pathlib

import pytest
import torch
from click.testing import CliRunner

from gan_zoo import precision as prec
from gan_zoo.bench import columns as C
from gan_zoo.bench.tables import collect_runs
from gan_zoo.cli import cli
from gan_zoo.runs import SPEC_JSON
from gan_zoo.spec import RunSpec

REPO = pathlib.Path(__file__).resolve().parents[1]
TRAIN = ["train", "--dataset", "ring8", "--steps", "2", "--set", "batch_size=8", "--set", "log_every=1",
         "--device", "cpu"]


def test_shipped_cpu_results_keep_their_run_ids():
    folders = sorted((REPO / "results" / "mnist-quick" / "runs").iterdir())
    assert folders
    for folder in folders:
        spec = RunSpec.from_dict(json.loads((folder / SPEC_JSON).read_text()))
        assert spec.precision == "fp32"
        assert spec.run_id() == folder.name
    spec = RunSpec.from_dict(json.loads((folders[0] / SPEC_JSON).read_text()))
    assert spec.replace(precision="bf16").run_id() != spec.run_id()
    assert spec.replace(precision="tf32").run_id() != spec.replace(precision="bf16").run_id()


def test_precision_recorded_in_result_and_runs_csv(tmp_path):
    out = tmp_path / "runs" / "r"
    r = CliRunner().invoke(cli, [*TRAIN, "--precision", "bf16", "--out", str(out)])
    assert r.exit_code == 0, r.output
    result = json.loads((out / "result.json").read_text())
    assert result["precision"] == "bf16" and result["resolved"]["accel"]["amp_bf16"] is True
    assert json.loads((out / SPEC_JSON).read_text())["precision"] == "bf16"
    runs_df, _ = collect_runs([tmp_path])
    assert list(runs_df[C.TRAIN_PRECISION]) == ["bf16"]


def test_tf32_on_the_cpu_is_one_line_and_writes_nothing(tmp_path):
    r = CliRunner().invoke(cli, [*TRAIN, "--precision", "tf32", "--out", str(tmp_path / "x")])
    assert r.exit_code == 2
    assert r.output.strip().splitlines() == [r.output.strip()] and "tf32 needs a CUDA GPU" in r.output
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("precision,tf32", [("fp32", False), ("tf32", True), ("bf16", False)])
def test_tf32_flags_set_explicitly_per_precision(precision, tf32):
    saved = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32,
             torch.get_float32_matmul_precision())
    try:
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = not tf32
        prec.set_backend_flags(precision, "cuda")
        assert torch.backends.cuda.matmul.allow_tf32 is tf32
        assert torch.backends.cudnn.allow_tf32 is tf32
        assert prec.accel_for(precision, "cuda").amp_bf16 is (precision == "bf16")
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved[:2]
        torch.set_float32_matmul_precision(saved[2])


def test_defaults_per_device():
    assert prec.default_precision("cpu") == "fp32"
    assert prec.default_precision("cuda:1") == prec.GPU_DEFAULT != "fp32"


def test_score_moves_labels_to_the_run_device(tmp_path):
    from gan_zoo.runs import Run

    seen = {}

    class D(torch.nn.Module):
        def forward(self, x, y):
            seen["y"] = y
            return x.sum(1)

    run = Run(tmp_path, RunSpec(), {}, torch.nn.Identity(), D(), "points", "meta")
    run.score(torch.zeros(3, 2), [1, 2, 3])
    assert seen["y"].device.type == "meta" and seen["y"].dtype == torch.long


def test_device_side_finiteness_check_records_the_exact_step():
    """The GPU way (no host sync per step), exercised on the CPU: the first bad step is
    recorded exactly although the host looks only at the log step."""
    import math

    from gan_zoo import losses as losses_mod
    from gan_zoo.losses import Wasserstein, register_loss
    from gan_zoo.train import Trainer

    class NanAfterFive(Wasserstein):
        calls = 0

        def d_loss(self, real_logits, fake_logits, real_target=None, fake_target=None):
            type(self).calls += 1
            base = super().d_loss(real_logits, fake_logits, real_target, fake_target)
            return base * math.nan if type(self).calls > 5 else base

    register_loss("test-nan-dev")(NanAfterFive)
    try:
        t = Trainer(RunSpec(dataset="ring8", loss="test-nan-dev", steps=50, n_critic=1, log_every=10,
                            batch_size=8))
        t.sync_every_step = False
        outcome = t.run()
        assert outcome.status == "diverged" and outcome.step == 6 and "step 6" in outcome.reason
        assert t.steps_done == 10  # noticed at the log step
        assert t.result(outcome).diverged_step == 6
    finally:
        losses_mod._REGISTRY.unregister("test-nan-dev")
