"""``gan-zoo search --prune`` (successive halving at the score points, issue 27 item 7):
the hook, the training loop's stop, and a pruned search end to end."""

import csv
import json

import optuna
import pytest
from click.testing import CliRunner

from gan_zoo.cli import cli
from gan_zoo.runs import PRUNED, is_complete, read_result
from gan_zoo.search.prune import RungHook
from gan_zoo.search.study import open_storage, quiet_optuna
from gan_zoo.spec import RunSpec
from gan_zoo.train import train_run

TINY = ["--dataset", "ring8", "--steps", "40", "--curve-points", "4", "--workers", "1", "--quiet"]


def _study(tmp_path, direction="minimize"):
    quiet_optuna()
    url = f"sqlite:///{tmp_path / 'study.db'}"
    study = optuna.create_study(storage=open_storage(url), study_name="s", direction=direction)
    return url, study


def _hook(url, trial, **kw):
    return RungHook(storage=url, study="s", trial_id=trial._trial_id, metric="fid", lower_is_better=True,
                    min_resource=10, **kw)


def test_hook_stops_a_trial_in_the_worse_half(tmp_path):
    url, study = _study(tmp_path)
    a, b, c = study.ask(), study.ask(), study.ask()
    assert _hook(url, a)(10, {"fid": 5.0}) is False  # the first at a rung goes on
    assert _hook(url, b)(10, {"fid": 9.0}) is True  # worse than a: the worse half of two
    assert _hook(url, c)(10, {"fid": 3.0}) is False  # better than both
    # between rungs nothing is decided; the value reported is the best so far
    assert _hook(url, c)(15, {"fid": 40.0}) is False
    assert study._storage.get_trial(c._trial_id).intermediate_values == {10: 3.0, 15: 3.0}
    # a point that could not be scored decides nothing
    assert _hook(url, a)(20, {"fid": float("nan")}) is False


def test_hook_maximises_modes(tmp_path):
    url, study = _study(tmp_path, "maximize")
    a, b = study.ask(), study.ask()
    hook = lambda t: RungHook(url, "s", t._trial_id, "modes", False, 10)  # noqa: E731
    assert hook(a)(10, {"modes": 6.0}) is False
    assert hook(b)(10, {"modes": 2.0}) is True


def test_hook_without_its_study_trains_on(tmp_path, capsys):
    url, study = _study(tmp_path)
    t = study.ask()
    gone = RungHook(url, "another-study", t._trial_id, "fid", True, 10)
    assert gone(10, {"fid": 1.0}) is False
    assert "could not reach the study" in capsys.readouterr().err


def test_training_stops_at_the_point_the_hook_names(tmp_path):
    spec = RunSpec(dataset="ring8", loss="ns", steps=40, batch_size=32, curve_points=4, checkpoint_every=1000)
    seen = []

    def stop_at_20(step, row):
        seen.append((step, sorted(row)))
        return step >= 20

    run_dir = tmp_path / "run"
    result = train_run(spec, run_dir, on_point=stop_at_20, artifacts=False)
    assert result.status == PRUNED and result.steps == 20
    assert [s for s, _ in seen] == [10, 20] and "modes" in seen[0][1]
    with open(run_dir / "score_curve.csv") as fh:
        assert [int(r["step"]) for r in csv.DictReader(fh)] == [10, 20]
    assert is_complete(run_dir, spec.run_id())
    # the same command again trains nothing more
    again = train_run(spec, run_dir, on_point=lambda *_: False, artifacts=False)
    assert again.status == PRUNED and again.steps == 20


def test_a_hook_at_the_last_point_does_not_prune(tmp_path):
    spec = RunSpec(dataset="ring8", loss="ns", steps=20, batch_size=32, curve_points=2)
    result = train_run(spec, tmp_path / "run", on_point=lambda *_: True, artifacts=False)
    assert result.status == PRUNED and result.steps == 10  # stopped at the first point
    spec2 = spec.replace(seed=1)
    result2 = train_run(spec2, tmp_path / "run2", on_point=lambda step, _: step == 20, artifacts=False)
    assert result2.status == "ok" and result2.steps == 20


def search(*args):
    return CliRunner().invoke(cli, ["search", *args])


def test_pruned_search_end_to_end(tmp_path):
    out = tmp_path / "pruned"
    r = search(*TINY, "--losses", "ns", "--trials", "5", "--prune", "--out", str(out))
    assert r.exit_code == 0, r.output
    with open(out / "trials.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 5 and {row["state"] for row in rows} <= {"complete", "pruned"}
    storage = optuna.load_study(study_name="ring8/ns/none", storage=f"sqlite:///{out / 'study.db'}")
    for row, t in zip(rows, storage.get_trials()):
        result = read_result(out / "runs" / row["run_id"])
        # the hook ran in the worker and reached the storage at every point before the end
        assert sorted(t.intermediate_values) == [s for s in (10, 20, 30) if s <= result.steps]
        if row["state"] == "pruned":
            assert result.status == PRUNED and result.steps < 40 and t.intermediate_values
            assert not (out / "runs" / row["run_id"] / "metrics.json").exists()
        else:
            assert result.status == "ok" and result.steps == 40
    assert json.loads((out / "search.json").read_text())["prune"]["reduction_factor"] == 2
    report = (out / "report.md").read_text()
    assert "### Successive halving" in report and "unpruned h (est.)" in report
    # the same command again: nothing trains, nothing is asked twice
    r = search(*TINY, "--losses", "ns", "--trials", "5", "--prune", "--out", str(out))
    assert r.exit_code == 0 and "0 runs trained now" in r.output, r.output
    assert len(optuna.load_study(study_name="ring8/ns/none", storage=f"sqlite:///{out / 'study.db'}").trials) == 5
    # a pruned folder stays pruned
    r = search(*TINY, "--losses", "ns", "--trials", "5", "--out", str(out))
    assert r.exit_code == 2 and "another prune" in r.output


@pytest.mark.parametrize("args, words", [(["--curve-points", "1"], "--prune stops trials at their score points"),
                                          (["--curve-points", "0"], "needs at least 2")])
def test_prune_needs_points(tmp_path, args, words):
    r = search("--dataset", "ring8", "--steps", "40", "--losses", "ns", "--trials", "2", "--prune", *args,
               "--out", str(tmp_path / "x"))
    assert r.exit_code == 2 and words in r.output and "Traceback" not in r.output
    assert not (tmp_path / "x").exists()


def test_a_pruned_run_is_told_pruned(tmp_path):
    from gan_zoo.search.study import _Study, _tell, _Trial

    url, study = _study(tmp_path)
    asked = study.ask()
    spec = RunSpec(dataset="ring8", loss="ns", steps=40, batch_size=32, curve_points=4)
    hook = RungHook(url, "s", asked._trial_id, "modes", False, 10)
    train_run(spec, tmp_path / "runs" / spec.run_id(), artifacts=False,
              on_point=lambda step, row: hook(step, row) or step >= 20)
    trial = _Trial(_Study(item=None, study=study, space={}, paper={}), asked.number, asked._trial_id, {}, spec, False)
    _tell(trial, tmp_path)
    told = study.trials[0]
    assert told.state == optuna.trial.TrialState.PRUNED and told.user_attrs["status"] == PRUNED
    assert sorted(told.intermediate_values) == [10, 20]
