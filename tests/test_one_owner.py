"""One owner each: the evaluation settings reach every scorer whole (the in-training one
too), a cached file of the curve's scorer runs nothing, the command line makes specs
by one rule in ``train`` and ``bench``, and executors follow one contract."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from gan_zoo.errors import GanZooError
from gan_zoo.metrics.settings import EvalSettings

REPO = Path(__file__).resolve().parents[1]


class _Payload:
    """Unpickled by a plain ``torch.load``, this creates ``path`` (a stand-in for any code)."""

    def __init__(self, path: Path):
        self.path = str(path)

    def __reduce__(self):
        return open, (self.path, "w")


def test_a_crafted_curve_cache_file_runs_nothing(tmp_path, mnist_root):
    from gan_zoo.metrics.curve import CurveScorer

    cache = tmp_path / "cache"
    ev = EvalSettings(cache_dir=str(cache))
    first = CurveScorer("mnist", 20, data_root=str(mnist_root), evaluation=ev)
    [path] = list(cache.glob("gan-zoo-curve-*.pt"))
    again = CurveScorer("mnist", 20, data_root=str(mnist_root), evaluation=ev)  # read back
    assert np.array_equal(again.real_stats["mu"], first.real_stats["mu"])
    marker = tmp_path / "ran"
    torch.save({"mu": _Payload(marker)}, path)
    with pytest.raises(GanZooError, match="refusing to read it"):
        CurveScorer("mnist", 20, data_root=str(mnist_root), evaluation=ev)
    assert not marker.exists()


def test_the_in_training_scorer_gets_the_grids_evaluation_settings(tmp_path, mnist_root, capsys):
    from gan_zoo.spec import RunSpec
    from gan_zoo.train import train_run

    spec = RunSpec(dataset="mnist", steps=2, batch_size=8, log_every=1, curve_points=1,
                   curve_samples=20, device="cpu")
    cache = tmp_path / "cache"
    train_run(spec, tmp_path / "a", data_root=str(mnist_root), progress=False, artifacts=False,
              evaluation=EvalSettings(cache_dir=str(cache)))
    assert list(cache.glob("gan-zoo-curve-mnist-*-lenet-*.pt"))  # the grid's cache folder
    assert (tmp_path / "a" / "score_curve.csv").is_file()
    # the grid's extractor and Inception weights, not the dataset's defaults
    weights = tmp_path / "no-such-inception.pth"
    train_run(spec, tmp_path / "b", data_root=str(mnist_root), progress=False, artifacts=False,
              evaluation=EvalSettings(feature_extractor="inception-v3-compat",
                                      inception_weights=str(weights), cache_dir=str(cache)))
    err = capsys.readouterr().err
    assert "no in-training scores" in err and weights.name in err


def test_eval_settings_resolve_the_defaults_once():
    from gan_zoo.bench.grid import BUDGETS

    quick = EvalSettings.resolve("mnist", budget=BUDGETS["quick"])
    assert (quick.samples, quick.samples_reason, quick.feature_extractor) == (5000, "quick budget", "lenet")
    # Stacked MNIST's mode count needs its full protocol whatever the budget
    assert EvalSettings.resolve("stacked-mnist", budget=BUDGETS["smoke"]).samples == 26_000
    asked = EvalSettings.resolve("ring8", samples=300, budget=BUDGETS["quick"])
    assert (asked.samples, asked.samples_reason, asked.feature_extractor) == (300, "--eval-samples", None)
    assert EvalSettings().samples_for("mnist") == 10_000
    with pytest.raises(GanZooError, match="unknown --feature-extractor"):
        EvalSettings(feature_extractor="vgg").check("mnist")


def test_each_evaluation_default_is_spelled_in_one_place():
    """The protocol sample count, how a budget lowers it, and a dataset's extractor are
    read from DatasetInfo in gan_zoo/metrics/settings.py only (data.py defines them)."""
    reads = re.compile(r"(\binfo\w*|dataset_info\([^)]*\))\.(eval_samples|eval_samples_reducible|feature_extractor)\b")
    # report.py prints the protocol count next to a study's count: a read, not a default
    allowed = {"gan_zoo/data.py", "gan_zoo/metrics/settings.py", "gan_zoo/bench/report.py"}
    found = []
    for path in sorted((REPO / "gan_zoo").rglob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        for i, line in enumerate(path.read_text().splitlines(), 1):
            if reads.search(line) and rel not in allowed:
                found.append(f"{rel}:{i}: {line.strip()}")
    assert found == []


def test_the_threads_rule_is_written_once():
    found = [f"{p.relative_to(REPO)}" for p in sorted((REPO / "gan_zoo").rglob("*.py"))
             if re.search(r"cpu_count\(\)[^\n]*//", p.read_text())]
    assert found == ["gan_zoo/bench/executors.py"]


# -- one rule from options to specs ----------------------------------------------------


@pytest.fixture
def fake_gpu(monkeypatch):
    """A machine that says it has one GPU (nothing runs on it in these tests)."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)


class _Stop(GanZooError):
    pass


def _train_specs(monkeypatch, tmp_path, *extra) -> str:
    import gan_zoo.data
    import gan_zoo.train
    from gan_zoo.cli import cli

    seen = []
    monkeypatch.setattr(gan_zoo.data, "get_dataset", lambda *a, **k: None)

    def fake_train_run(spec, *a, **k):
        seen.append(spec)
        raise _Stop("stopped before training")

    monkeypatch.setattr(gan_zoo.train, "train_run", fake_train_run)
    r = CliRunner().invoke(cli, ["train", "--dataset", "ring8", "--steps", "2",
                                 "--out", str(tmp_path / "t"), *extra])
    assert "stopped before training" in r.output, r.output
    return seen[0].precision


def _bench_specs(monkeypatch, tmp_path, *extra) -> set[str]:
    import gan_zoo.bench.estimate as estimate
    import gan_zoo.bench.runner as runner
    from gan_zoo.cli import cli

    seen = []
    monkeypatch.setattr(estimate, "estimate_plan", lambda *a, **k: (1.0, [], []))

    def fake_run_grid(items, out, **kw):
        seen.extend(items)
        raise _Stop("stopped before training")

    monkeypatch.setattr(runner, "run_grid", fake_run_grid)
    r = CliRunner().invoke(cli, ["bench", "--dataset", "ring8", "--losses", "ns", "--budget", "smoke",
                                 "--steps", "2", "--quiet", "--out", str(tmp_path / "-".join(["b", *extra])), *extra])
    assert "stopped before training" in r.output, r.output
    return {it.spec.precision for it in seen}


def test_set_precision_fp32_stays_fp32_on_a_gpu_in_train_and_bench(fake_gpu, monkeypatch, tmp_path):
    assert _train_specs(monkeypatch, tmp_path) == "tf32"  # the GPU default
    assert _train_specs(monkeypatch, tmp_path, "--set", "precision=fp32") == "fp32"
    assert _train_specs(monkeypatch, tmp_path, "--precision", "bf16") == "bf16"
    assert _bench_specs(monkeypatch, tmp_path) == {"tf32"}
    assert _bench_specs(monkeypatch, tmp_path, "--set", "precision=fp32") == {"fp32"}
    assert _bench_specs(monkeypatch, tmp_path, "--set", "precision=fp32,bf16") == {"fp32", "bf16"}


def test_the_commands_offer_the_librarys_own_choices():
    from gan_zoo.bench.commands import bench_command
    from gan_zoo.bench.executors import executor_names
    from gan_zoo.cli import train_command
    from gan_zoo.settings import PRECISIONS
    from gan_zoo.spec import MATCH_MODES

    def choices(cmd, name):
        return tuple(next(p for p in cmd.params if p.name == name).type.choices)

    assert choices(train_command, "precision") == choices(bench_command, "precision") == PRECISIONS
    assert choices(bench_command, "executor") == executor_names()
    assert choices(bench_command, "match") == MATCH_MODES


# -- the executor contract -------------------------------------------------------------


def _ring_items(n):
    from gan_zoo.bench.grid import GridItem
    from gan_zoo.spec import RunSpec

    return [GridItem(RunSpec(dataset="ring8", loss=loss, steps=2, device="cpu"))
            for loss in ["ns", "hinge", "lsgan"][:n]]


class _ListExecutor:
    """A third executor in a dozen lines: runs in order, and reports what it was given."""

    made: list = []

    def __init__(self, settings, run, *, prepare=lambda: None):
        self.settings, self.run, self.prepare, self.tasks = settings, run, prepare, []
        _ListExecutor.made.append(self)

    def submit(self, task):
        self.tasks.append(task)

    def results(self):
        self.prepare()
        while self.tasks:
            task = self.tasks.pop(0)
            yield task, self.run(task)

    def close(self):
        self.closed = True


def test_an_executor_is_looked_up_by_name_and_given_typed_tasks(tmp_path, monkeypatch):
    from gan_zoo.bench import executors, runner
    from gan_zoo.bench.executors import Executor, ExecutorSettings, RunTask

    monkeypatch.setattr(executors, "_REGISTERED", {})
    executors.register_executor("list", _ListExecutor)
    assert "list" in executors.executor_names()
    monkeypatch.setattr(runner, "run_item", lambda spec, sweep, run_dir, *rest, **options: {"run_id": spec.run_id()})
    monkeypatch.setattr(runner, "_warm_features", lambda *a: None)
    items = _ring_items(2)
    done = []
    results = runner.run_grid(items, tmp_path, data_root=None, evaluation=EvalSettings(samples=50),
                              executor=ExecutorSettings(name="list", workers=2),
                              on_done=lambda it, res: done.append(it.run_id))
    ex = _ListExecutor.made[-1]
    assert isinstance(ex, Executor) and ex.closed
    assert sorted(r["run_id"] for r in results) == sorted(done) == sorted(it.run_id for it in items)
    with pytest.raises(GanZooError, match="unknown executor 'nope'; valid: local, ray, list"):
        executors.get_executor("nope")
    task = RunTask(spec=items[0].spec, run_dir=tmp_path, evaluation=EvalSettings())
    with pytest.raises(Exception):
        task.threads = 3  # frozen: a task is a value


def test_the_local_executor_takes_runs_submitted_while_it_reports(tmp_path):
    from gan_zoo.bench.executors import Executor, ExecutorSettings, RunTask, get_executor

    ex = get_executor("local")(ExecutorSettings(workers=1), lambda task: {"id": task.run_id})
    assert isinstance(ex, Executor)
    a, b = (RunTask(spec=it.spec, run_dir=tmp_path, evaluation=EvalSettings()) for it in _ring_items(2))
    ex.submit(a)
    seen = []
    for task, res in ex.results():
        seen.append(res["id"])
        if task is a:
            ex.submit(b)  # e.g. a search proposing its next trial
    ex.close()
    assert seen == [a.run_id, b.run_id]


# -- a spec checks its own fields; resolve checks how they go together -------------------


def test_a_spec_is_a_value_that_checks_each_field_itself():
    import dataclasses

    from gan_zoo.resolve import Resolved, resolve
    from gan_zoo.spec import RunSpec

    spec = RunSpec(dataset="ring8")
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.steps = 5
    for bad, allowed in ((dict(match="sometimes"), "one of g-steps, d-steps, wall"),
                         (dict(curve_samples=3), "an integer >= 10"),
                         (dict(wall_budget_s=0.0), "a positive number of seconds"),
                         (dict(precision="fp8"), "one of fp32, tf32, bf16"),
                         (dict(d_norm="group"), "one of batch, layer, none")):
        with pytest.raises(GanZooError, match=allowed):
            RunSpec(**bad)
    # a combination is resolve's to refuse: the spec itself is well-formed
    both = RunSpec(dataset="ring8", loss="wgan-gp", d_norm="batch")
    with pytest.raises(GanZooError, match="d_norm=batch cannot be used with a gradient penalty"):
        resolve(both)
    assert "__getattr__" not in vars(Resolved)
    res = resolve(RunSpec(dataset="ring8", loss="wgan"))
    assert (res.n_critic, res.clip, res.optimizer) == (res.settings.n_critic, res.settings.clip, "rmsprop")


def test_no_module_cites_documents_outside_the_repository():
    """Code and help cite papers and the project's own README, not design notes or
    numbered seed documents that are not in the repository."""
    stale = re.compile(r"DESIGN\.md|\bseed 00\d\b")
    found = [f"{p.relative_to(REPO)}:{i}" for p in sorted((REPO / "gan_zoo").rglob("*.py"))
             for i, line in enumerate(p.read_text().splitlines(), 1) if stale.search(line)]
    assert found == []
    from gan_zoo.cli import cli

    r = CliRunner().invoke(cli, ["train", "--help"])
    assert r.exit_code == 0 and not stale.search(r.output)
