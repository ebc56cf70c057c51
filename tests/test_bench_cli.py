"""gan-zoo bench end to end at the smoke budget: files, columns, rows, resume after
SIGKILL, skipped pairs, Ray equivalence, gan-zoo report, and every bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from gan_zoo.bench import columns as C
from gan_zoo.cli import cli
from gan_zoo.losses import list_losses
from gan_zoo.metrics import keys

TEN = list_losses()


def bench(*args):
    return CliRunner().invoke(cli, ["bench", *args])


def runs_csv(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / C.RUNS_CSV, keep_default_na=False, na_values=[""])


def test_all_objectives_on_ring8(tmp_path):
    out = tmp_path / "ring8"
    r = bench("--dataset", "ring8", "--budget", "smoke", "--out", str(out), "--workers", "1")
    assert r.exit_code == 0, r.output
    assert "grid: 10 runs" in r.output and "estimate: about" in r.output
    df = runs_csv(out)
    for column in ["run_id", "dataset", "backbone", "loss", "regularizers", "seed", "params", "steps",
                   "g_steps", "d_steps", "wall_s", "status", "reason", "fid", "is_mean", "is_std",
                   "kid_mean", "kid_std", "precision", "recall", "mifid", "modes", "mode_kl",
                   "hq_frac", "device", "gan_zoo_version"]:
        assert column in df.columns, column
    assert len(df) == 10 and sorted(df.loss) == TEN and df.run_id.is_unique
    assert (df.status == "ok").all()
    assert df.modes.between(0, 8).all() and df.hq_frac.between(0, 1).all()
    assert df.fid.isna().all()  # no FID for 2-D points
    assert (df.steps == 100).all()
    assert set(df.d_steps) == {100, 500}  # n_critic 5 for wgan and wgan-gp
    # the 2-D mixtures train on one CPU thread; the kernels' instruction set is recorded
    assert df.machine.str.fullmatch(r"torch \S+, cpu [A-Z0-9_]+, 1 thread").all(), set(df.machine)
    assert "Ran on: torch " in (out / C.REPORT_MD).read_text()
    for name in (C.CURVES_CSV, C.SUMMARY_CSV, C.REPORT_MD, C.BENCH_JSON):
        assert (out / name).is_file(), name
    assert not (out / C.STATS_CSV).exists()  # one seed: no tests
    curves = pd.read_csv(out / C.CURVES_CSV)
    assert list(curves.columns) == ["run_id", "step", "metric", "value"]
    assert set(curves.run_id) == set(df.run_id)
    assert any(p.name.startswith("mixture-") for p in (out / "plots").iterdir())
    summary = pd.read_csv(out / C.SUMMARY_CSV)
    assert len(summary) == 10 and summary["rank"].min() == 1


def test_objective_families_on_mnist(tmp_path, mnist_root):
    """One objective of each family (log-loss, least squares, penalised critic, relativistic)
    end to end on MNIST; every objective goes end to end on ring8 above."""
    out = tmp_path / "mnist"
    r = bench("--dataset", "mnist", "--budget", "smoke", "--steps", "4", "--eval-samples", "500",
              "--losses", "ns,lsgan,wgan-gp,ralsgan",
              "--out", str(out), "--workers", "1", "--data-root", str(mnist_root))
    assert r.exit_code == 0, r.output
    df = runs_csv(out)
    assert len(df) == 4 and (df.status == "ok").all() and (df.backbone == "dcgan28").all()
    for col in (keys.FID, keys.IS_MEAN, keys.KID_MEAN, keys.PRECISION, keys.RECALL, keys.MIFID, keys.MODES):
        assert df[col].notna().all(), col
    assert (df.eval_samples == 500).all() and (df.feature_extractor == "lenet").all()
    assert any(p.name.startswith("samples-") for p in (out / "plots").iterdir())


def test_skipped_pairs_listed_with_reason(tmp_path):
    out = tmp_path / "skip"
    r = bench("--dataset", "ring8", "--budget", "smoke", "--steps", "5", "--losses", "ns,hinge",
              "--regularizers", "none,one-sided-smoothing", "--out", str(out), "--workers", "1")
    assert r.exit_code == 0, r.output
    df = runs_csv(out)
    assert len(df) == 4
    skipped = df[df.status == "skipped"]
    assert list(skipped.loss) == ["hinge"] and list(skipped.regularizers) == ["one-sided-smoothing"]
    assert "not applicable" in skipped.reason.iloc[0] and "hinge has none" in skipped.reason.iloc[0]
    assert "hinge has none" in (out / C.REPORT_MD).read_text()


def test_sweep_and_seeds_with_statistics(tmp_path):
    out = tmp_path / "sweep"
    r = bench("--dataset", "ring8", "--budget", "smoke", "--steps", "5", "--losses", "ns,lsgan",
              "--seeds", "3", "--set", "nz=2,8", "--out", str(out), "--workers", "1")
    assert r.exit_code == 0, r.output
    df = runs_csv(out)
    assert len(df) == 2 * 3 * 2
    assert sorted(set(df.params)) == ['{"nz": 2}', '{"nz": 8}']
    stats = pd.read_csv(out / C.STATS_CSV)
    assert len(stats) >= 2 and {"p", "p_holm"} <= set(stats.columns)
    summary = pd.read_csv(out / C.SUMMARY_CSV)
    assert len(summary) == 4


def test_second_run_skips_finished_runs(tmp_path):
    out = tmp_path / "again"
    args = ("--dataset", "ring8", "--budget", "smoke", "--steps", "5", "--losses", "ns,wgan",
            "--out", str(out), "--workers", "1")
    assert bench(*args).exit_code == 0
    stamps = {p: p.stat().st_mtime_ns for p in (out / "runs").glob("*/result.json")}
    r = bench(*args)
    assert r.exit_code == 0 and "2 already complete" in r.output
    assert {p: p.stat().st_mtime_ns for p in (out / "runs").glob("*/result.json")} == stamps
    r = bench(*args, "--no-resume")
    assert r.exit_code == 0
    assert len(list(out.glob("runs.old-*/*/result.json"))) == 2  # moved aside, not lost
    assert len(runs_csv(out)) == 2


def _children(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (Linux /proc)."""
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            kids.append(int(stat.parent.name))
    return kids


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie, dead but not yet reaped, does not count)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def test_resume_after_sigkill(tmp_path):
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "gan_zoo.cli", "bench", "--dataset", "ring8", "--budget", "smoke",
           "--steps", "600", "--losses", "ns,lsgan,hinge,rsgan,rasgan,ralsgan", "--out", str(out),
           "--workers", "2"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.time() + 300
    try:
        while time.time() < deadline:
            done = [p for p in (out / "runs").glob("*/result.json")] if (out / "runs").is_dir() else []
            if len(done) >= 2:
                break
            if proc.poll() is not None:
                pytest.fail("bench ended before it could be killed")
            time.sleep(0.2)
        else:
            pytest.fail("no run finished in time")
    finally:
        workers = _children(proc.pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    # the workers die with the driver (PR_SET_PDEATHSIG), a moment after it: count the
    # finished runs only once none of them can still write one
    deadline = time.time() + 30
    while any(_alive(pid) for pid in workers) and time.time() < deadline:
        time.sleep(0.05)
    # complete as the grid counts them (an ok run with its metrics.json): a worker killed
    # with its driver between result.json and metrics.json leaves its run to be scored again
    from gan_zoo.runs import is_complete

    finished_before = sum(is_complete(d, d.name) for d in (out / "runs").iterdir() if d.is_dir())
    assert finished_before < 6
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    assert f"{finished_before} already complete" in r.stderr
    df = runs_csv(out)
    assert len(df) == 6 and df.run_id.is_unique and (df.status == "ok").all()
    assert len(list((out / "runs").iterdir())) == 6


def test_ray_executor_yields_the_same_rows(tmp_path):
    if not os.environ.get("CI"):  # CI installs the test extra, Ray included: no skipping there
        pytest.importorskip("ray")
    args = ("--dataset", "ring8", "--budget", "smoke", "--steps", "30", "--losses", "ns,wgan-gp",
            "--seeds", "1")
    local, ray_out = tmp_path / "local", tmp_path / "ray"
    assert bench(*args, "--out", str(local), "--workers", "1").exit_code == 0
    r = bench(*args, "--out", str(ray_out), "--executor", "ray", "--workers", "1")
    assert r.exit_code == 0, r.output
    cols = ["run_id", "loss", "status", "steps", "d_steps", "modes", "hq_frac", "mode_kl"]
    a = runs_csv(local)[cols].sort_values("run_id").reset_index(drop=True)
    b = runs_csv(ray_out)[cols].sort_values("run_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


def test_report_command_rebuilds(tmp_path):
    out = tmp_path / "rep"
    assert bench("--dataset", "ring8", "--budget", "smoke", "--steps", "5", "--losses", "ns",
                 "--out", str(out), "--workers", "1").exit_code == 0
    (out / C.RUNS_CSV).unlink()
    (out / C.REPORT_MD).unlink()
    r = CliRunner().invoke(cli, ["report", str(out)])
    assert r.exit_code == 0, r.output
    assert (out / C.RUNS_CSV).is_file() and (out / C.REPORT_MD).is_file()


# ---------------------------------------------------------------------------
# bad input: one line, exit 2, nothing written or lost

@pytest.fixture
def existing(tmp_path):
    out = tmp_path / "existing"
    assert bench("--dataset", "ring8", "--budget", "smoke", "--steps", "3", "--losses", "ns",
                 "--out", str(out), "--workers", "1").exit_code == 0
    return out


def _snapshot(folder: Path) -> dict:
    return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("args,needle", [
    (["--losses", "ns,wgan-pg"], "valid: hinge, lsgan"),
    (["--regularizers", "soft-label"], "valid: g-dropout, gp"),
    (["--dataset", "ring9"], "valid:"),
    (["--budget", "huge"], "valid: smoke, quick, standard"),
    (["--set", "nzz=1,2"], "valid: dataset, loss"),
    (["--set", "loss=ns"], "set by the grid itself"),
    (["--seeds", "0"], "--seeds must be an integer in 1..1000"),
    (["--seeds", "100000000000000000000"], "--seeds must be an integer in 1..1000"),
    (["--workers", "0"], "--workers must be a positive integer"),
    (["--steps", "-3"], "--steps must be a positive integer"),
    (["--eval-samples", "0"], "--eval-samples must be a positive integer"),
    (["--device", "tpu"], "valid: auto, cpu, cuda"),
    (["--feature-extractor", "vgg"], "valid:"),
])
def test_bad_input_one_line_exit_2(args, needle, existing):
    before = _snapshot(existing)
    base = ["--dataset", "mnist", "--budget", "smoke", "--out", str(existing)]
    r = bench(*base, *args)
    assert r.exit_code == 2, r.output
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("gan-zoo: error:") and needle in lines[0], r.output
    assert _snapshot(existing) == before


def test_unwritable_out(tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    r = bench("--dataset", "ring8", "--budget", "smoke", "--out", str(blocker / "out"))
    assert r.exit_code == 2
    assert "not writable" in r.output and len(r.output.strip().splitlines()) == 1


def test_incompatible_results_folder(existing):
    meta = json.loads((existing / C.BENCH_JSON).read_text())
    meta["format"] = 99
    (existing / C.BENCH_JSON).write_text(json.dumps(meta))
    before = _snapshot(existing)
    r = bench("--dataset", "ring8", "--budget", "smoke", "--steps", "3", "--losses", "ns", "--out", str(existing))
    assert r.exit_code == 2 and "format 99" in r.output and "reads format 1" in r.output
    assert _snapshot(existing) == before
    r = CliRunner().invoke(cli, ["report", str(existing)])
    assert r.exit_code == 2 and "format 99" in r.output


def test_missing_data_offline(tmp_path, monkeypatch):
    from gan_zoo import datafiles

    monkeypatch.setattr(datafiles, "can_reach", lambda *a, **k: False)
    empty = tmp_path / "nodata"
    empty.mkdir()
    out = tmp_path / "out"
    r = bench("--dataset", "mnist", "--budget", "smoke", "--data-root", str(empty), "--out", str(out))
    assert r.exit_code == 2
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and str(empty) in lines[0] and "Traceback" not in r.output
    assert not out.exists()
