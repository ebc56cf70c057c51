"""Seeing a grid run: the pre-run note when the seeds cannot reach significance, one
line per finished run with its headline score (on stderr without a terminal, above a bar
on one), the ETA from measured run times, and --quiet."""

from __future__ import annotations

import io
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from gan_zoo.bench import columns as C
from gan_zoo.bench import progress
from gan_zoo.bench.progress import GridProgress
from gan_zoo.cli import cli


def item(loss="ns", seed=0, regs="none", skip=""):
    spec = SimpleNamespace(loss=loss, seed=seed, regularizers=regs)
    return SimpleNamespace(spec=spec, sweep={}, skip_reason=skip, run_id=f"ring8-{loss}-{regs}-s{seed}")


def write_metrics(out: Path, it, **metrics) -> None:
    d = out / C.RUNS_DIR / it.run_id
    d.mkdir(parents=True, exist_ok=True)
    (d / C.METRICS_JSON).write_text(json.dumps(metrics))


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_lines_go_to_stderr_without_a_terminal(tmp_path, capsys):
    a, b = item("ns"), item("wgan", seed=1)
    write_metrics(tmp_path, a, fid=466.22)
    write_metrics(tmp_path, b, modes=7, modes_total=8, hq_frac=0.91)
    p = GridProgress(3, 1, tmp_path, todo=[a, b], stream=io.StringIO())
    p(a, {"status": "ok", "wall_s": 61.2})
    p(b, {"status": "ok", "wall_s": 200.0})
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("[2/3] ns none seed 0: ok, FID 466.2, 61 s (ETA ")
    assert err[1] == "[3/3] wgan none seed 1: ok, modes 7/8, HQ 91%, 3 min"
    assert p.bar is None


def test_a_terminal_gets_a_bar_and_the_same_lines(tmp_path, capsys):
    a = item("ns")
    write_metrics(tmp_path, a, fid=12.0)
    term = Terminal()
    p = GridProgress(2, 0, tmp_path, todo=[a, item("lsgan")], stream=term, estimate=120.0)
    assert p.bar is not None and "ETA 2 min" in term.getvalue()
    p(a, {"status": "ok", "wall_s": 5.0})
    p(item("lsgan"), {"status": "failed", "reason": "RuntimeError: boom"})
    p.close()
    shown = term.getvalue()
    assert "[1/2] ns none seed 0: ok, FID 12.0, 5 s" in shown
    assert "[2/2] lsgan none seed 0: failed, RuntimeError: boom" in shown
    assert "2/2 runs" in shown and capsys.readouterr().err == ""


def test_eta_scales_elapsed_time_by_the_cost_left(tmp_path, monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: clock[0])
    cheap, costly = item("ns"), item("wgan")
    cost = {"ns": 1.0, "wgan": 3.0}
    p = GridProgress(3, 0, tmp_path, todo=[cheap, costly, item("hinge")], quiet=True,
                     cost=lambda it: cost.get(it.spec.loss, 1.0), estimate=500.0)
    assert p.eta() == 500.0  # nothing measured yet: the calibrated estimate
    clock[0] = 130.0
    p(costly, {"status": "ok"})
    assert p.eta() == pytest.approx(30.0 * 2 / 3)  # 3 units took 30 s; 2 are left
    p(item("sk", skip="not applicable"), {"status": "skipped"})  # costs nothing
    assert p.eta() == pytest.approx(20.0)


def test_two_workers_ending_in_pairs_keep_a_steady_eta(tmp_path, monkeypatch):
    """Four equal runs on two workers end in pairs at 10, 10.5, 20, 20.5 s: 10 s of work
    is left after the first pair's first run, not three runs' worth (the old 30 s)."""
    clock = [0.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: clock[0])
    runs = [item("ns", seed=s) for s in range(4)]
    p = GridProgress(4, 0, tmp_path, todo=runs, workers=2, quiet=True, estimate=25.0)
    assert p.finishes == [1.0, 1.0, 2.0, 2.0] and p.makespan == 2.0
    etas = []
    for t, it in zip((10.0, 10.5, 20.0, 20.5), runs):
        clock[0] = t
        p(it, {"status": "ok"})
        etas.append(p.eta())
    assert etas[:2] == [pytest.approx(10.0), pytest.approx(10.5)]
    assert etas[2:] == [0.0, 0.0]


def test_a_populations_members_finish_together_in_the_eta(tmp_path, monkeypatch):
    """Two populations of three (30 s and 10 s of estimate) and a single run (5 s) on one
    worker: when the first population's three members end at once, a quarter of the
    work (15 of 45 s) is left, not four runs' worth of a single-run schedule."""
    clock = [0.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: clock[0])
    runs = [item("ns", seed=s) for s in range(7)]
    units = [runs[0:3], runs[3:6], runs[6:]]
    p = GridProgress(7, 0, tmp_path, todo=runs, quiet=True, estimate=45.0, tasks=(units, [30.0, 10.0, 5.0]))
    assert p.finishes == [30.0] * 3 + [40.0] * 3 + [45.0] and p.makespan == 45.0
    clock[0] = 60.0  # the first population took twice its estimate
    for it in units[0]:
        p(it, {"status": "ok"})
    assert p.eta() == pytest.approx(60.0 / 30.0 * 15.0)
    from gan_zoo.bench.estimate import schedule

    assert schedule([1.0, 3.0], 2, sizes=[2, 3]) == ([1.0, 1.0, 3.0, 3.0, 3.0], 3.0)


def test_the_eta_follows_the_runners_longest_first_schedule():
    from gan_zoo.bench.estimate import schedule

    # one worker: the costly run first, then the rest in turn
    assert schedule([1.0, 3.0, 1.0], 1) == ([3.0, 4.0, 5.0], 5.0)
    # two workers: 3 on one; 2 then 1 on the other
    assert schedule([1.0, 3.0, 2.0], 2) == ([2.0, 3.0, 3.0], 3.0)
    assert schedule([], 2) == ([], 0.0)


def test_a_resumed_grid_counts_only_the_runs_still_to_do(tmp_path, monkeypatch):
    from gan_zoo.bench.commands import _progress
    from gan_zoo.bench.estimate import relative_cost
    from gan_zoo.bench.grid import BUDGETS, expand_grid
    from gan_zoo.runs import RunResult, write_result

    items = expand_grid(dataset="ring8", losses=["wgan-gp", "ns"], regularizers=["none"], seeds=2,
                        sweeps={}, budget=BUDGETS["smoke"])
    done = [it for it in items if it.spec.loss == "wgan-gp"]  # the costly half finished earlier
    for it in done:
        write_metrics(tmp_path, it, modes=8)
        write_result(tmp_path / C.RUNS_DIR / it.run_id,
                     RunResult.ok(it.run_id, steps=1, d_steps=5, wall_s=1.0, device="cpu",
                                  backbone="mlp", resolved={}))
    clock = [0.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: clock[0])
    p = _progress(items, items, tmp_path, len(done), None, True)
    left = [it for it in items if it.spec.loss == "ns"]
    assert relative_cost(done[0].spec) > relative_cost(left[0].spec)
    assert p.makespan == pytest.approx(sum(relative_cost(it.spec) for it in left))
    clock[0] = 60.0
    p(left[0], {"status": "ok"})
    assert p.eta() == pytest.approx(60.0)  # one of two equal runs took 60 s


def test_quiet_shows_nothing(tmp_path, capsys):
    a = item("ns")
    p = GridProgress(1, 0, tmp_path, todo=[a], quiet=True, stream=Terminal())
    p(a, {"status": "ok"})
    p.close()
    assert p.bar is None and capsys.readouterr().err == ""


@pytest.fixture
def fake_grid(monkeypatch):
    """bench without training: every run 'finishes' at once with a modes score."""
    import gan_zoo.bench.estimate as estimate
    import gan_zoo.bench.report as report
    import gan_zoo.bench.runner as runner

    from gan_zoo.runs import RunResult, write_result

    def run_grid(items, out, on_done=None, **kw):
        for it in items:
            write_metrics(out, it, modes=8, modes_total=8, hq_frac=0.9)
            result = RunResult.ok(it.run_id, steps=it.spec.steps, d_steps=it.spec.steps, wall_s=2.0,
                                  device="cpu", backbone="mlp", resolved={})
            write_result(out / C.RUNS_DIR / it.run_id, result)
            on_done(it, result.to_dict())

    monkeypatch.setattr(runner, "run_grid", run_grid)
    monkeypatch.setattr(estimate, "estimate_plan", lambda *a, **k: (60.0, [], []))
    monkeypatch.setattr(report, "rebuild", lambda *a, **k: {"runs": "runs.csv", "report": "report.md"})


def test_bench_says_before_it_starts_that_three_seeds_cannot_decide(tmp_path, fake_grid):
    r = CliRunner().invoke(cli, ["bench", "--dataset", "ring8", "--budget", "smoke", "--seeds", "3",
                                 "--out", str(tmp_path / "g"), "--workers", "1"])
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    note = ("note: with 3 seeds no comparison can be significant at 0.05 (smallest p 0.10, "
            "9 comparisons); 6 seeds can (each objective against ns, Holm-corrected)")
    assert note in lines
    first_run = next(i for i, ln in enumerate(lines) if ln.startswith("[1/30] "))
    assert lines.index(note) < first_run
    assert "[30/30] wgan-gp none seed 2: ok, modes 8/8, HQ 90%, 2 s" in lines


def test_bench_quiet_and_six_seeds(tmp_path, fake_grid):
    r = CliRunner().invoke(cli, ["bench", "--dataset", "ring8", "--budget", "smoke", "--seeds", "6",
                                 "--losses", "all", "--out", str(tmp_path / "g"), "--quiet"])
    assert r.exit_code == 0, r.output
    assert "note:" not in r.output  # 6 seeds can reach significance against the baseline
    assert "[1/" not in r.output and "grid: 60 runs" in r.output
    r = CliRunner().invoke(cli, ["bench", "--dataset", "ring8", "--budget", "smoke", "--seeds", "6",
                                 "--comparisons", "all", "--out", str(tmp_path / "h"), "--quiet"])
    assert "(smallest p 0.0022, 45 comparisons); 7 seeds can (all pairs" in r.output


def test_bench_baseline_must_be_in_the_grid(tmp_path):
    r = CliRunner().invoke(cli, ["bench", "--dataset", "ring8", "--budget", "smoke", "--losses",
                                 "wgan,hinge", "--out", str(tmp_path / "g")])
    assert r.exit_code == 2
    assert "--baseline ns is not among the grid's objectives (wgan, hinge)" in r.output
    assert not (tmp_path / "g").exists()


def test_a_real_run_prints_its_line_and_quiet_does_not(tmp_path):
    args = ["bench", "--dataset", "ring8", "--budget", "smoke", "--steps", "3", "--losses", "ns",
            "--workers", "1"]
    r = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "a")])
    assert r.exit_code == 0, r.output
    assert any(ln.startswith("[1/1] ns none seed 0: ok, modes ") for ln in r.output.splitlines())
    q = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "b"), "--quiet"])
    assert q.exit_code == 0 and "[1/1]" not in q.output
