"""The grid time estimate: the longest-first schedule it simulates, and its calibration."""

from __future__ import annotations

import pytest

from gan_zoo.bench import estimate
from gan_zoo.bench.grid import BUDGETS, expand_grid


def _items(losses):
    return expand_grid(dataset="mnist", losses=losses, regularizers=["none"], seeds=1, sweeps={},
                       budget=BUDGETS["smoke"], steps=100, device="cpu")


@pytest.mark.parametrize("workers", [1, 2])
def test_estimate_schedules_longest_first(tmp_path, monkeypatch, workers):
    monkeypatch.setattr(estimate, "step_seconds", lambda spec, root, threads, **kw: 0.01)
    items = _items(["ns", "lsgan", "wgan-gp"])
    eval_s = estimate.EVAL_SECONDS_PER_10K * 1000 / 10_000
    costs = sorted((estimate.relative_cost(it.spec) * 0.01 for it in items), reverse=True)
    assert costs[0] == pytest.approx(100 * (0.4 + 5 * 1.05) * 0.01)  # wgan-gp: 5 penalized critics
    got = estimate.estimate_seconds(items, tmp_path, workers=workers, data_root=None, eval_samples=1000)
    if workers == 1:
        expected = sum(costs) + 3 * eval_s
    else:  # wgan-gp alone on one worker, the two plain runs on the other
        slow = estimate.SHARED_CORES_SLOWDOWN
        expected = max(costs[0] * slow + eval_s, (costs[1] + costs[2]) * slow + 2 * eval_s)
    assert got == pytest.approx(expected + estimate.FIXED_SECONDS)


def test_step_calibration_cancels_the_per_run_cost(monkeypatch):
    import gan_zoo.train as train

    clock = {"t": 0.0}
    monkeypatch.setattr(estimate.time, "perf_counter", lambda: clock["t"])

    def fake_run(spec, **kwargs):  # 2 s of set-up per run, 0.05 s per step
        clock["t"] += 2.0 + 0.05 * spec.steps

    monkeypatch.setattr(train, "train_run", fake_run)
    spec = _items(["ns"])[0].spec
    assert estimate.step_seconds(spec, None, threads=1) == pytest.approx(0.05)


def test_calibration_probe_trains_without_curve_points(monkeypatch):
    """The probe's two lengths must differ only in training steps: in-training score
    points (a fixed count per run) would otherwise be counted as step time."""
    from gan_zoo.bench import estimate
    from gan_zoo.spec import RunSpec

    seen = []
    monkeypatch.setattr("gan_zoo.train.train_run", lambda spec, **kw: seen.append(spec))
    estimate.step_seconds(RunSpec(loss="ns", curve_points=10), None, threads=1)
    assert seen and all(s.curve_points == 0 for s in seen)
    assert estimate.curve_seconds(RunSpec(curve_points=10, curve_samples=1000)) > 0
    assert estimate.curve_seconds(RunSpec(curve_points=0)) == 0


def _ring_items(seeds):
    return expand_grid(dataset="ring8", losses=["ns"], regularizers=["none"], seeds=seeds, sweeps={},
                       budget=BUDGETS["smoke"], steps=100, device="cpu")


def test_packed_runs_are_one_task_at_their_measured_factor(tmp_path, monkeypatch):
    """With --pack, the runs the runner will train as one population cost the measured
    population factor times one member's run (plus every member's scoring), not K runs."""
    monkeypatch.setattr(estimate, "step_seconds", lambda spec, root, threads, **kw: 0.01)
    asked = []

    def factor(specs, root, threads, **kw):
        asked.append(len(specs))
        return 1.5

    monkeypatch.setattr(estimate, "population_factor", factor)
    items = _ring_items(4)
    eval_s = estimate.EVAL_SECONDS_PER_10K * 1000 / 10_000
    one = estimate.relative_cost(items[0].spec) * 0.01
    scoring = eval_s + estimate.curve_seconds(items[0].spec)
    packed = estimate.estimate_seconds(items, tmp_path, workers=1, data_root=None, eval_samples=1000, pack=4)
    assert asked == [4]
    assert packed == pytest.approx(1.5 * one + 4 * scoring + estimate.FIXED_SECONDS)
    secs, units, costs = estimate.estimate_plan(items, tmp_path, workers=1, data_root=None, eval_samples=1000,
                                                pack=4)  # the tasks the progress ETA schedules
    assert secs == pytest.approx(packed) and [len(u) for u in units] == [4]
    assert costs == [pytest.approx(1.5 * one + 4 * scoring)]
    single = estimate.estimate_seconds(items, tmp_path, workers=1, data_root=None, eval_samples=1000, pack="off")
    assert asked == [4, 4]  # pack=off: no population, no further calibration
    assert single == pytest.approx(4 * (one + scoring) + estimate.FIXED_SECONDS)


def test_population_factor_times_a_real_population_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    specs = [it.spec for it in _ring_items(3)]
    factor = estimate.population_factor(specs, None, threads=1)
    assert 0 < factor < 100
    assert list(tmp_path.iterdir()) == []


def test_a_resumed_run_costs_the_steps_after_its_checkpoint(tmp_path, monkeypatch):
    from gan_zoo.bench import columns as C
    from gan_zoo.runs import CHECKPOINT, LOG_CSV

    monkeypatch.setattr(estimate, "step_seconds", lambda spec, root, threads, **kw: 0.01)
    (it,) = _ring_items(1)
    spec = it.spec.replace(steps=2000, checkpoint_every=500)
    it = type(it)(spec)
    run = tmp_path / C.RUNS_DIR / it.run_id
    fresh = estimate.estimate_plan([it], tmp_path, workers=1, data_root=None, eval_samples=1000)[2][0]
    (run / "checkpoints").mkdir(parents=True)
    (run / LOG_CSV).write_text("step,d_loss\n50,0.1\n1200,0.2\n1234,0.3\n")
    assert estimate.steps_done(run, spec) == 0  # a log without a checkpoint resumes from nothing
    (run / CHECKPOINT).write_bytes(b"")
    assert estimate.steps_done(run, spec) == 1000  # back to the checkpoint at 1000
    resumed = estimate.estimate_plan([it], tmp_path, workers=1, data_root=None, eval_samples=1000)[2][0]
    scoring = estimate.EVAL_SECONDS_PER_10K * 1000 / 10_000 + estimate.curve_seconds(spec)
    assert resumed - scoring == pytest.approx((fresh - scoring) / 2)
    (run / LOG_CSV).write_text("step,d_loss\n2000,0.3\n")
    assert estimate.steps_done(run, spec) == 2000  # trained to the end, not yet scored
