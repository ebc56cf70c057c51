"""Checkpoints read back safely: a crafted file runs nothing and is refused with one line,
a corrupt or empty one is set aside and the run restarts, a checkpoint moved to another
device resumes, and one writer per run folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest
import torch
from click.testing import CliRunner

from gan_zoo.cli import cli
from gan_zoo.lock import LOCK_FILE, folder_lock
from gan_zoo.metrics import EvalOptions
from gan_zoo.runs import CHECKPOINT, METRICS_JSON, RESULT_JSON, RunResult, write_result
from gan_zoo.spec import RunSpec
from gan_zoo.train import Trainer, train_run

TRAIN = ["train", "--dataset", "ring8", "--steps", "4", "--set", "batch_size=16",
         "--set", "log_every=2", "--set", "checkpoint_every=2"]


def _snapshot(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _one_error_line(r, code=2):
    lines = [ln for ln in r.output.strip().splitlines() if ln.strip()]
    assert r.exit_code == code, r.output
    assert len(lines) == 1 and lines[0].startswith("gan-zoo: error: "), r.output
    assert "Traceback" not in r.output
    return lines[0]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A finished tiny run folder written by `gan-zoo train` (so it holds the lock file)."""
    out = tmp_path_factory.mktemp("ckpt") / "run"
    r = CliRunner().invoke(cli, [*TRAIN, "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert (out / LOCK_FILE).is_file() and (out / LOCK_FILE).read_bytes() == b""
    return out


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _craft(run_dir, marker):
    torch.save({"g": _Evil(marker), "d": {}}, run_dir / CHECKPOINT)


@pytest.mark.parametrize("command", ["eval", "sample", "train"])
def test_crafted_checkpoint_is_refused_and_runs_nothing(trained, tmp_path, command):
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    marker = tmp_path / "marker"
    _craft(run, marker)
    if command == "train":
        (run / RESULT_JSON).unlink()  # unfinished: train would resume from the checkpoint
        args = [*TRAIN, "--out", str(run)]
    else:
        args = [command, str(run)]
    before = _snapshot(run)
    r = CliRunner().invoke(cli, args)
    line = _one_error_line(r)
    assert str(run / CHECKPOINT) in line and "refused" in line
    assert not marker.exists()
    assert _snapshot(run) == before


@pytest.mark.parametrize("command", ["eval", "sample"])
@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 truncated"])
def test_eval_and_sample_on_a_corrupt_checkpoint_one_line(trained, tmp_path, command, content):
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    (run / CHECKPOINT).write_bytes(content)
    before = _snapshot(run)
    line = _one_error_line(CliRunner().invoke(cli, [command, str(run)]))
    assert str(run / CHECKPOINT) in line and "interrupted" not in line
    assert _snapshot(run) == before


def test_empty_checkpoint_of_unfinished_run_is_set_aside_and_run_restarts(trained, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    (run / RESULT_JSON).unlink()
    (run / CHECKPOINT).write_bytes(b"")
    r = CliRunner().invoke(cli, [*TRAIN, "--out", str(run)])
    assert r.exit_code == 0, r.output
    assert "set aside" in r.output and "from scratch" in r.output
    aside = list((run / "checkpoints").glob("last.pt.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == b""  # kept, never deleted
    assert json.loads((run / RESULT_JSON).read_text())["status"] == "ok"
    # restarted from scratch: the same numbers as the untouched run
    assert (run / "log.csv").read_text().splitlines()[1:] and \
        [ln.split(",")[:3] for ln in (run / "log.csv").read_text().splitlines()] == \
        [ln.split(",")[:3] for ln in (trained / "log.csv").read_text().splitlines()]


def test_bench_run_with_corrupt_checkpoint_recovers(tmp_path):
    from gan_zoo.bench.runner import run_item

    spec = RunSpec(dataset="ring8", steps=4, batch_size=16, log_every=2, checkpoint_every=2, device="cpu")
    run = tmp_path / spec.run_id()
    run.mkdir()
    (run / "checkpoints").mkdir()
    (run / CHECKPOINT).write_bytes(b"garbage")
    write_result(run, RunResult.failed(spec.run_id(), "an earlier failure", device="cpu"))
    res = run_item(spec.to_dict(), {}, str(run), None, EvalOptions(samples=200))
    assert res["status"] == "ok", res
    assert list((run / "checkpoints").glob("last.pt.corrupt-*"))


def test_checkpoint_from_another_device_resumes_bitwise(tmp_path, monkeypatch):
    """Loaded to the CPU with weights_only; RNG states that are not plain CPU bytes (as
    map_location=<device> made them) are restored as CPU bytes."""
    spec = RunSpec(dataset="ring8", steps=4, batch_size=16, log_every=2, checkpoint_every=100, device="cpu")
    whole = train_run(spec, tmp_path / "whole", progress=False, artifacts=False)
    run = tmp_path / "resumed"
    t = Trainer(spec, run_dir=run)
    t.run(steps=2)
    state = torch.load(run / CHECKPOINT, weights_only=True)
    for key in ("data_gen", "noise_gen", "reg_gen", "torch_rng"):
        state[key] = state[key].to(torch.int64)  # not a CPU byte tensor any more
    torch.save(state, run / CHECKPOINT)
    (run / "spec.json").write_text(json.dumps(spec.to_dict()))
    seen = []
    real_load = torch.load

    def spy(*a, **kw):
        seen.append((kw.get("map_location"), kw.get("weights_only")))
        return real_load(*a, **kw)

    monkeypatch.setattr(torch, "load", spy)
    resumed = train_run(spec, run, progress=False, artifacts=False)
    assert seen == [("cpu", True)]
    assert resumed.steps == 4
    for a, b in zip(whole.generator.state_dict().values(), resumed.generator.state_dict().values()):
        assert torch.equal(a, b)


def test_cpu_run_saves_no_cuda_state(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # a GPU machine, a CPU run

    def boom(*a, **k):
        raise AssertionError("CUDA touched by a CPU run")

    monkeypatch.setattr(torch.cuda, "get_rng_state_all", boom)
    monkeypatch.setattr(torch.cuda, "get_rng_state", boom)
    t = Trainer(RunSpec(dataset="ring8", steps=2, batch_size=8, device="cpu"))
    assert "cuda_rng" not in t.state()


HOLD = textwrap.dedent("""
    import sys, time
    from gan_zoo.lock import folder_lock
    with folder_lock(sys.argv[1]):
        print("held", flush=True)
        time.sleep(120)
""")


def test_train_into_a_folder_another_command_writes_is_refused(trained, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.getcwd(), *sys.path])}
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(run)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout.readline().strip() == "held"
        before = _snapshot(run)
        line = _one_error_line(CliRunner().invoke(cli, [*TRAIN, "--out", str(run)]))
        assert f"pid {proc.pid}" in line and str(run) in line
        assert _snapshot(run) == before
    finally:
        proc.kill()
        proc.wait()
    # the dead holder's lock does not block, and a killed writer's temporary is cleared
    from gan_zoo.io import TMP_PREFIX

    stale = run / f"{TMP_PREFIX}{RESULT_JSON}.x1y2z3.json"
    stale.write_bytes(b"")
    r = CliRunner().invoke(cli, [*TRAIN, "--out", str(run)])
    assert r.exit_code == 0, r.output
    assert not stale.exists()


def test_eval_of_a_folder_another_command_writes_is_refused(trained, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    (run / METRICS_JSON).unlink(missing_ok=True)
    with folder_lock(run):  # a second open file description conflicts as another process would
        before = _snapshot(run)
        line = _one_error_line(CliRunner().invoke(cli, ["eval", str(run), "--n", "200"]))
        assert str(run) in line
        assert _snapshot(run) == before


def test_second_bench_on_the_same_out_is_refused(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / LOCK_FILE).write_text("")
    (out / "bench.json").write_text("{}")  # whatever a folder holds: left as it is
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.getcwd(), *sys.path])}
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(out)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout.readline().strip() == "held"
        before = _snapshot(out)
        r = CliRunner().invoke(cli, ["bench", "--dataset", "ring8", "--losses", "ns", "--steps", "2",
                                     "--device", "cpu", "--out", str(out)])
        line = _one_error_line(r)
        assert f"pid {proc.pid}" in line and str(out) in line
        assert _snapshot(out) == before
    finally:
        proc.kill()
        proc.wait()


# ---------------------------------------------------------------------------
# a checkpoint of the wrong structure: one line naming it, or set aside when resuming


def _mutate(state, how):
    if how == "missing-key":
        del state["opt_g"]
    elif how == "unexpected-key":
        state["evil"] = torch.zeros(1)
    elif how == "no-optimizer-state":
        state["opt_d"] = {}
    elif how == "step-not-int":
        state["step"] = "abc"
    elif how == "step-float":
        state["step"] = 1.5
    elif how == "short-rng":
        state["torch_rng"] = state["torch_rng"][:10]
    elif how == "g-missing-weight":
        state["g"].pop(next(iter(state["g"])))
    elif how == "g-not-a-dict":
        state["g"] = [1, 2]
    return state


BAD_STRUCTURES = ["missing-key", "unexpected-key", "no-optimizer-state", "step-not-int", "step-float",
                  "short-rng", "g-missing-weight", "g-not-a-dict"]


@pytest.mark.parametrize("how", BAD_STRUCTURES)
def test_unresumable_checkpoint_is_set_aside_and_the_run_recovers(trained, tmp_path, how):
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    (run / RESULT_JSON).unlink()  # unfinished: train resumes from the checkpoint
    state = torch.load(run / CHECKPOINT, weights_only=True)
    torch.save(_mutate(state, how), run / CHECKPOINT)
    r = CliRunner().invoke(cli, [*TRAIN, "--out", str(run)])
    assert r.exit_code == 0, r.output
    assert "Traceback" not in r.output
    assert "set aside" in r.output and "from scratch" in r.output and str(run / CHECKPOINT) in r.output
    assert len(list((run / "checkpoints").glob("last.pt.corrupt-*"))) == 1
    assert json.loads((run / RESULT_JSON).read_text())["status"] == "ok"
    assert [ln.split(",")[:3] for ln in (run / "log.csv").read_text().splitlines()] == \
        [ln.split(",")[:3] for ln in (trained / "log.csv").read_text().splitlines()]


@pytest.mark.parametrize("command", ["eval", "sample"])
@pytest.mark.parametrize("how", ["g-missing-weight", "g-not-a-dict", "unexpected-key"])
def test_eval_and_sample_on_a_checkpoint_of_wrong_structure_one_line(trained, tmp_path, command, how):
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    state = torch.load(run / CHECKPOINT, weights_only=True)
    torch.save(_mutate(state, how), run / CHECKPOINT)
    before = _snapshot(run)
    line = _one_error_line(CliRunner().invoke(cli, [command, str(run), "--out", str(tmp_path / "s.png")]
                                              if command == "sample" else [command, str(run)]))
    assert str(run / CHECKPOINT) in line
    assert _snapshot(run) == before


@pytest.mark.parametrize("command", ["eval", "sample"])
def test_checkpoint_of_another_run_is_refused(trained, tmp_path, command):
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    state = torch.load(run / CHECKPOINT, weights_only=True)
    other = RunSpec(dataset="grid25", steps=4, batch_size=16).run_id()
    state["run_id"] = other
    torch.save(state, run / CHECKPOINT)
    before = _snapshot(run)
    line = _one_error_line(CliRunner().invoke(cli, [command, str(run), "--out", str(tmp_path / "s.png")]
                                              if command == "sample" else [command, str(run)]))
    assert str(run / CHECKPOINT) in line and other in line
    assert _snapshot(run) == before


def test_a_fresh_trainers_checkpoint_has_the_checked_structure():
    """The structure check and Trainer.state agree: a key added to the checkpoint must be
    added to checkpoints.REQUIRED_KEYS or OPTIONAL_KEYS too."""
    from gan_zoo.checkpoints import OPTIONAL_KEYS, REQUIRED_KEYS, structure_problem

    state = Trainer(RunSpec(dataset="ring8", steps=2, batch_size=8, device="cpu")).state()
    assert REQUIRED_KEYS <= set(state) <= REQUIRED_KEYS | OPTIONAL_KEYS
    assert structure_problem(state, resumable=True) == ""
