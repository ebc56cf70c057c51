"""Compute counted and matched: run ids of earlier runs unchanged, --match modes in the
grid, d_examples and the match mode in runs.csv, the report's statement, the CLI's errors."""

from __future__ import annotations

import hashlib
import json

import pytest
from click.testing import CliRunner

from gan_zoo.bench import columns as C
from gan_zoo.bench.grid import BUDGETS, WALL_STEP_CAP, expand_grid, match_steps
from gan_zoo.bench.reading import budget_lines
from gan_zoo.bench.tables import collect_runs
from gan_zoo.cli import cli
from gan_zoo.errors import GanZooError
from gan_zoo.spec import ENVIRONMENT_FIELDS, RunSpec


def _old_run_id(spec: RunSpec) -> str:
    """The run id as computed before the match, curve, precision, updates and preset fields
    existed (the CPU default precision, fp32, and unset updates stay out of the id)."""
    assert spec.precision == "fp32" and spec.updates is None
    new = ("wall_budget_s", "match", "curve_points", "curve_samples", "precision", "updates", "preset", "d_dropout")
    payload = {k: v for k, v in spec.to_dict().items() if k not in ENVIRONMENT_FIELDS and k not in new}
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:10]
    return f"{spec.dataset}-{spec.loss}-{spec.regularizers.replace('+', '_')}-s{spec.seed}-{digest}"


def test_run_ids_of_earlier_specs_are_unchanged():
    for spec in (RunSpec(), RunSpec(loss="wgan-gp", steps=1000, batch_size=32, seed=2)):
        assert spec.run_id() == _old_run_id(spec)
        # how a run was observed or how its grid matched compute is not in the id ...
        assert spec.replace(match="d-steps", curve_points=10, curve_samples=500,
                            preset=None).run_id() == spec.run_id()
    # ... a wall budget changes what is computed, so it is
    assert RunSpec(wall_budget_s=60.0).run_id() != RunSpec().run_id()


def _grid(match="g-steps", **kw):
    return expand_grid(dataset="mnist", losses=["ns", "wgan", "wgan-gp"], regularizers=["none"],
                       seeds=1, sweeps={}, budget=BUDGETS["quick"], match=match, **kw)


def test_match_d_steps_gives_every_objective_the_same_discriminator_updates():
    steps = {it.spec.loss: it.spec.steps for it in _grid("d-steps")}
    assert steps == {"ns": 1000, "wgan": 200, "wgan-gp": 200}
    assert {it.spec.match for it in _grid("d-steps")} == {"d-steps"}
    assert {it.spec.steps for it in _grid()} == {1000}
    assert match_steps("d-steps", 1000, "wgan", n_critic=2) == 500  # a swept n_critic counts


def test_match_wall_needs_seconds_and_caps_steps():
    items = _grid("wall", wall_seconds=42.0)
    assert {it.spec.wall_budget_s for it in items} == {42.0}
    assert {it.spec.steps for it in items} == {WALL_STEP_CAP * 1000}
    with pytest.raises(GanZooError, match="--match wall needs"):
        _grid("wall")
    with pytest.raises(GanZooError, match="applies to --match wall only"):
        _grid("g-steps", wall_seconds=5.0)
    with pytest.raises(GanZooError, match="valid: g-steps, d-steps, wall"):
        _grid("flops")


def test_curve_points_default_per_budget_and_option():
    assert {it.spec.curve_points for it in _grid()} == {10}
    short = expand_grid(dataset="mnist", losses=["ns"], regularizers=["none"], seeds=1, sweeps={},
                        budget=BUDGETS["quick"], steps=20)
    assert short[0].spec.curve_points == 0  # tiny grids: points would cost more than training
    smoke = expand_grid(dataset="mnist", losses=["ns"], regularizers=["none"], seeds=1, sweeps={},
                        budget=BUDGETS["smoke"], steps=20, curve_points=3)
    assert smoke[0].spec.curve_points == 3


def _run_folder(root, loss, steps, d_steps, match, batch=32, wall_budget=None):
    spec = RunSpec(loss=loss, steps=steps, batch_size=batch, match=match, wall_budget_s=wall_budget)
    d = root / C.RUNS_DIR / spec.run_id()
    d.mkdir(parents=True)
    (d / C.SPEC_JSON).write_text(json.dumps(spec.to_dict()))
    (d / C.RESULT_JSON).write_text(json.dumps({
        "run_id": spec.run_id(), "status": "ok", "steps": steps, "g_steps": steps, "d_steps": d_steps,
        "wall_s": 10.0, "device": "cpu", "backbone": "dcgan28",
        "resolved": {"batch_size": batch, "match": match, "wall_budget_s": wall_budget}}))


def test_runs_csv_carries_compute_and_match_and_the_report_states_it(tmp_path):
    _run_folder(tmp_path, "ns", 1000, 1000, "d-steps")
    _run_folder(tmp_path, "wgan", 200, 1000, "d-steps")
    runs, _ = collect_runs([tmp_path])
    for col in (C.G_STEPS, C.D_STEPS, C.D_EXAMPLES, C.WALL_S, C.MATCH):
        assert col in runs.columns
    by = runs.set_index(C.LOSS)
    assert by.loc["wgan", C.D_EXAMPLES] == 1000 * 32 and by.loc["wgan", C.G_STEPS] == 200
    assert set(runs[C.MATCH]) == {"d-steps"}
    text = " ".join(budget_lines(runs, "ns"))
    assert "1,000 discriminator steps per run" in text and "--match d-steps" in text

    wall = tmp_path / "wall"
    _run_folder(wall, "ns", 900, 900, "wall", wall_budget=60.0)
    text = " ".join(budget_lines(collect_runs([wall])[0], "ns"))
    assert "--match wall, 60 s per run" in text and "not bitwise reproducible" in text
    g = tmp_path / "g"
    _run_folder(g, "ns", 900, 900, "g-steps")
    assert "budgets count generator steps (--match g-steps)" in " ".join(budget_lines(collect_runs([g])[0], "ns"))


@pytest.mark.parametrize("args,needle", [
    (["--match", "wall", "--wall-seconds", "0"], "--wall-seconds takes a positive number"),
    (["--wall-seconds", "5"], "with --match wall only"),
    (["--curve-points", "-1"], "--curve-points must be an integer >= 0"),
])
def test_bad_match_options_one_line_exit_2(args, needle, tmp_path):
    r = CliRunner().invoke(cli, ["bench", "--dataset", "mnist", "--budget", "smoke", "--losses", "ns",
                                 "--out", str(tmp_path / "out"), *args])
    assert r.exit_code == 2, r.output
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("gan-zoo: error:") and needle in lines[0], r.output
    assert not (tmp_path / "out").exists()
