"""Population training (gan_zoo.population): members train as their single runs do.

float32 comparisons allow rounding: batched products and grouped convolutions sum in
another order, and Adam turns a rounding difference in a near-zero gradient into up to
2 * lr on that weight (its first update is lr * g / (|g| + eps), at most lr either way).
Through batch norm in dcgan28 such differences grow step by step (measured: after three
float32 steps up to 2e-3 in a weight and 2e-3 in a loss, seed-dependent), so float32 is
checked on the first step, where that bound is exact, and float64 comparisons show the
computation itself is the single run's, to 1e-9, over several steps: for every objective,
every packable regularizer, and the dcgan28 members (batch norm, dropout, grouped
convolutions, conditional).
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from gan_zoo.checkpoints import read_checkpoint
from gan_zoo.data import get_dataset
from gan_zoo.losses import list_losses
from gan_zoo.population import (POPULATION, PackRefused, Population, check_packable, refusal,
                                train_population)
from gan_zoo.regularizers import list_regularizers
from gan_zoo.resolve import resolve
from gan_zoo.runs import CHECKPOINT, DIVERGED, LOG_CSV, OK, RESULT_JSON, SPEC_JSON, load_run, read_result
from gan_zoo.spec import RunSpec
from gan_zoo.train import Trainer, train_run

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def ring8():
    return get_dataset("ring8", train=True, seed=0, limit=2000)


@pytest.fixture(scope="module")
def mnist():
    try:
        return get_dataset("mnist", train=True, limit=256)
    except Exception as exc:  # no MNIST files here
        pytest.skip(f"MNIST not available: {exc}")


def _single(spec, data, steps):
    trainer = Trainer(spec, data)
    outs = [trainer.step(log=True) for _ in range(steps)]
    return trainer, outs


def _compare(specs, data, steps, *, loss_tol, weight_tol):
    pop = Population(specs, data)
    outs = [pop.step(log=True) for _ in range(steps)]
    for k, spec in enumerate(specs):
        trainer, single = _single(spec, data, steps)  # each alone: the global stream is its own
        for t in range(steps):
            for key in ("d_loss", "g_loss"):
                torch.testing.assert_close(outs[t][key][k], single[t][key], rtol=loss_tol, atol=loss_tol)
            torch.testing.assert_close(outs[t]["real_logits"][k], single[t]["real_logits"],
                                       rtol=loss_tol, atol=loss_tol)
        for net, stacked in ((trainer.g, pop.G), (trainer.d, pop.D)):
            mine = stacked.member_state(k)
            for name, value in net.state_dict().items():
                torch.testing.assert_close(mine[name], value, rtol=weight_tol, atol=weight_tol,
                                           msg=lambda m: f"member {k} {name}: {m}")
    return pop


def test_population_of_one_equals_the_single_run(ring8):
    spec = RunSpec(dataset="ring8", loss="ns", seed=3, device="cpu", batch_size=32)
    _compare([spec], ring8, 5, loss_tol=1e-5, weight_tol=1e-5)


def _four_dcgan28_members():
    # dcgan28: batch norm in G and D, dropout in D (each member's masks from its own
    # stream), grouped convolutions; each member its own seed, learning rates and betas
    return [RunSpec(dataset="mnist", loss="ns", seed=s, device="cpu", batch_size=8,
                    lr_d=2e-4 * (1 + s), lr_g=1e-4 * (1 + s), beta1=0.5 - 0.1 * s, beta2=0.99 + 0.002 * s)
            for s in range(4)]


def _compare_first_step_fp32(specs, data):
    """One float32 step from the same initial weights: one critic update, then the
    generator's. What precedes any update (the critic loss, the real logits) to 1e-5; the
    generator loss, which follows the critic's update and so carries its rounding, to
    1e-2 (measured up to 3e-4 over 120 seeds: a wrong member, latent or network is off by
    far more); each parameter within Adam's first-step bound, 2 * lr of its network (the
    first update is lr * g / (|g| + eps), at most lr either way), and nine elements in ten
    of each parameter within 1e-5 (the rest: near-zero gradients, after batch norm's
    cancellation, whose sign rounding flips; measured up to 1.4% of a tensor's elements
    beyond 1e-5 over 120 seeds). The buffers (batch norm's running statistics; the
    critic's are updated again in the generator's step, after the critic's update) to 1e-2
    (measured up to 9e-5)."""
    pop = Population(specs, data)
    for k, spec in enumerate(specs):
        fresh = Trainer(spec, data)
        torch.testing.assert_close(pop.G.member_state(k), fresh.g.state_dict(), rtol=0, atol=0)
        torch.testing.assert_close(pop.D.member_state(k), fresh.d.state_dict(), rtol=0, atol=0)
    out = pop.step(log=True)
    for k, spec in enumerate(specs):
        trainer, single = _single(spec, data, 1)
        torch.testing.assert_close(out["d_loss"][k], single[0]["d_loss"], rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(out["real_logits"][k], single[0]["real_logits"], rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(out["g_loss"][k], single[0]["g_loss"], rtol=1e-2, atol=1e-2)
        for net, stacked, opt in ((trainer.g, pop.G, trainer.opt_g), (trainer.d, pop.D, trainer.opt_d)):
            lr = opt.param_groups[0]["lr"]
            mine = stacked.member_state(k)
            params = dict(net.named_parameters())
            for name, value in net.state_dict().items():
                if not value.is_floating_point():
                    assert torch.equal(mine[name], value), f"member {k} {name}"
                    continue
                diff = (mine[name] - value).abs().flatten()
                bound = 2 * lr + 1e-6 if name in params else 1e-2
                assert diff.max().item() <= bound, f"member {k} {name}: {diff.max().item():.2e} > {bound:.2e}"
                if name in params:  # a wrong learning rate moves every element; rounding, a few
                    p90 = torch.quantile(diff.double(), 0.9).item()
                    assert p90 <= 1e-5, f"member {k} {name}: 90th percentile difference {p90:.2e} > 1e-5"


def test_members_of_four_match_their_single_runs_on_the_first_float32_step(mnist):
    _compare_first_step_fp32(_four_dcgan28_members(), mnist)


def test_members_wgan_gp_conditional_first_float32_step(mnist):
    specs = [RunSpec(dataset="mnist", loss="wgan-gp", seed=s, device="cpu", batch_size=8, conditional=True,
                     n_critic=1) for s in range(2)]  # one critic update: the first-step bound holds
    _compare_first_step_fp32(specs, mnist)


@pytest.fixture
def float64(monkeypatch):
    """The whole computation in float64, where rounding no longer hides a difference. The
    single run casts network outputs to float32 (a no-op in fp32 runs): not here."""
    monkeypatch.setattr(Trainer, "_G", lambda self, z, y: self._g_fwd(z, y))
    monkeypatch.setattr(Trainer, "_D", lambda self, x, y: self._d_fwd(x, y))
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


@pytest.fixture
def mnist64(mnist):
    return dataclasses.replace(mnist, x=mnist.x.double())  # a copy: the module's fixture stays float32


def test_dcgan28_members_of_four_are_the_single_runs_computation(mnist64, float64):
    _compare(_four_dcgan28_members(), mnist64, 3, loss_tol=1e-9, weight_tol=1e-9)


def test_dcgan28_wgan_gp_conditional_is_the_single_runs_computation(mnist64, float64):
    specs = [RunSpec(dataset="mnist", loss="wgan-gp", seed=s, device="cpu", batch_size=8, conditional=True,
                     **({"reg_params": {"gp.weight": 2.5}} if s else {}))
             for s in range(2)]  # one step is five critic updates and a generator update
    _compare(specs, mnist64, 1, loss_tol=1e-9, weight_tol=1e-9)


def _packable_regularizers():
    out = []
    for name in list_regularizers():
        spec = RunSpec(dataset="ring8", loss="lsgan", regularizers=name, device="cpu")
        try:
            res = resolve(spec)
        except Exception:
            continue
        if refusal(res) is None:
            out.append(name)
    return out


@pytest.mark.parametrize("loss", list_losses())
def test_every_objective_is_the_single_runs_computation(loss, ring8, float64):
    data = get_dataset("ring8", train=True, seed=0, limit=2000)
    data.x = data.x.double()
    specs = [RunSpec(dataset="ring8", loss=loss, seed=s, device="cpu", batch_size=16,
                     lr_d=1e-4 * (1 + s), **({"clip": 0.01 * (1 + s)} if loss == "wgan" else {}),
                     **({"reg_params": {"gp.weight": 2.5}} if loss == "wgan-gp" and s else {}))
             for s in range(2)]  # wgan-gp: member 1 at its own lambda
    _compare(specs, data, 3, loss_tol=1e-9, weight_tol=1e-9)


def test_every_packable_regularizer_is_the_single_runs_computation(ring8, float64):
    data = get_dataset("ring8", train=True, seed=0, limit=2000)
    data.x = data.x.double()
    names = _packable_regularizers()
    assert {"gp", "soft-labels", "noisy-labels", "instance-noise", "g-dropout", "one-sided-smoothing"} <= set(names)
    for name in names:
        extra = {"reg_params": {"gp.weight": 5.0}} if name == "gp" else {}
        specs = [RunSpec(dataset="ring8", loss="lsgan", regularizers=name, seed=s, device="cpu",
                         batch_size=16, **(extra if s else {})) for s in range(2)]
        _compare(specs, data, 2, loss_tol=1e-9, weight_tol=1e-9)


def test_refusals_name_their_reason():
    cases = {
        "spectral-norm": RunSpec(dataset="ring8", regularizers="spectral-norm", device="cpu"),
        "Maxout": RunSpec(dataset="ring8", backbone="mlp-pacgan", device="cpu"),
        "bf16": RunSpec(dataset="ring8", precision="bf16", device="cpu"),
        "wall-clock": RunSpec(dataset="ring8", wall_budget_s=3.0, device="cpu"),
        "simultaneous": RunSpec(dataset="ring8", updates="simultaneous", device="cpu"),
    }
    for word, spec in cases.items():
        why = refusal(spec)
        assert why and word in why, (word, why)
    assert refusal(RunSpec(dataset="mnist", device="cpu")) is None
    with pytest.raises(PackRefused, match="differ"):
        check_packable([resolve(RunSpec(dataset="ring8", device="cpu", batch_size=b)) for b in (32, 64)])
    with pytest.raises(PackRefused, match="twice"):
        check_packable([resolve(RunSpec(dataset="ring8", device="cpu"))] * 2)


def test_a_diverging_member_stops_alone(tmp_path):
    specs = [RunSpec(dataset="ring8", loss="ns", seed=s, device="cpu", steps=30, log_every=10,
                     checkpoint_every=10, batch_size=32, lr_d=1e38 if s == 1 else 2e-4) for s in range(3)]
    dirs = [tmp_path / "pop" / s.run_id() for s in specs]
    results = train_population(specs, dirs, artifacts=False)
    single = train_run(specs[1], tmp_path / "single", artifacts=False)
    assert single.status == DIVERGED
    assert [r.status for r in results] == [OK, DIVERGED, OK]
    assert results[1].diverged_step == single.diverged_step and results[1].steps == single.steps
    assert results[0].steps == results[2].steps == 30
    stored = read_result(dirs[1])
    assert stored.status == DIVERGED and stored.resolved[POPULATION]["size"] == 3
    # the diverged member's log ends at its step, as its single run's does
    assert (dirs[1] / LOG_CSV).read_text().splitlines()[-1].split(",")[0] == str(single.diverged_step)


def test_members_are_ordinary_run_folders(tmp_path, ring8):
    specs = [RunSpec(dataset="ring8", loss="hinge", seed=s, device="cpu", steps=12, log_every=4,
                     checkpoint_every=6, batch_size=32) for s in range(2)]
    dirs = [tmp_path / s.run_id() for s in specs]
    results = train_population(specs, dirs)
    for spec, run_dir, result in zip(specs, dirs, results):
        for name in (SPEC_JSON, RESULT_JSON, LOG_CSV, CHECKPOINT, "samples.png", "curves.png"):
            assert (run_dir / name).is_file(), name
        assert result.status == OK and result.resolved[POPULATION]["id"].startswith("pop-")
        run = load_run(run_dir)
        assert run.spec.run_id() == spec.run_id()
        assert run.generate(5).shape == (5, 2)
        state = read_checkpoint(run_dir / CHECKPOINT)
        assert state["step"] == 12 and state["run_id"] == spec.run_id()
        rows = (run_dir / LOG_CSV).read_text().splitlines()
        assert [r.split(",")[0] for r in rows[1:]] == ["4", "8", "12"]
    # a finished member is not trained again
    again = train_population(specs, dirs)
    assert [r.wall_s for r in again] == [r.wall_s for r in results]


def _checkpoints(dirs):
    return [read_checkpoint(d / CHECKPOINT) for d in dirs]


def _assert_same_states(a, b):
    for sa, sb in zip(a, b):
        assert sa["step"] == sb["step"]
        for net in ("g", "d"):
            for name, value in sa[net].items():
                assert torch.equal(value, sb[net][name]), (net, name)
        assert torch.equal(sa["noise_gen"], sb["noise_gen"])


_KILL_SCRIPT = """
import os, signal, sys
from gan_zoo import population as P
from gan_zoo.spec import RunSpec

writes = []
save = P.Population.save_checkpoint


def save_then_die(self, member):  # SIGKILL right after the {n}th checkpoint write
    save(self, member)
    writes.append(member)
    if len(writes) == {n}:
        os.kill(os.getpid(), signal.SIGKILL)


P.Population.save_checkpoint = save_then_die
specs = [RunSpec(dataset="ring8", loss="ns", seed=s, device="cpu", steps={steps}, log_every=10,
                 checkpoint_every=10, batch_size=32) for s in range(3)]
P.train_population(specs, [sys.argv[1] + "/" + s.run_id() for s in specs], artifacts=False)
"""


@pytest.mark.parametrize("writes", [7])  # mid-set: member 0 at step 30, the others at 20
def test_sigkill_then_resume_continues_every_member_bitwise(tmp_path, writes):
    steps = 40
    specs = [RunSpec(dataset="ring8", loss="ns", seed=s, device="cpu", steps=steps, log_every=10,
                     checkpoint_every=10, batch_size=32) for s in range(3)]
    ref_dirs = [tmp_path / "ref" / s.run_id() for s in specs]
    train_population(specs, ref_dirs, artifacts=False)
    out = tmp_path / "killed"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-c", _KILL_SCRIPT.format(steps=steps, n=writes), str(out)],
                          cwd=ROOT, env=env, timeout=300)
    assert proc.returncode == -signal.SIGKILL
    dirs = [out / s.run_id() for s in specs]
    steps_at_kill = [read_checkpoint(d / CHECKPOINT)["step"] for d in dirs]
    assert steps_at_kill == ([20, 20, 20] if writes == 6 else [30, 20, 20])
    results = train_population(specs, dirs, artifacts=False)
    assert [r.status for r in results] == [OK] * 3
    _assert_same_states(_checkpoints(dirs), _checkpoints(ref_dirs))
    for d, r in zip(dirs, ref_dirs):
        assert [row.split(",")[:7] for row in (d / LOG_CSV).read_text().splitlines()] == \
            [row.split(",")[:7] for row in (r / LOG_CSV).read_text().splitlines()]


def test_members_at_different_steps_catch_up(tmp_path):
    specs = [RunSpec(dataset="ring8", loss="lsgan", seed=s, device="cpu", steps=30, log_every=5,
                     checkpoint_every=10, batch_size=32) for s in range(2)]
    ref = [tmp_path / "ref" / s.run_id() for s in specs]
    train_population(specs, ref, artifacts=False)
    dirs = [tmp_path / "staggered" / s.run_id() for s in specs]
    for d, s in zip(dirs, specs):
        d.mkdir(parents=True)
    Population(specs, run_dirs=dirs).run(until=10)  # both at 10
    first = Population([specs[0]], run_dirs=dirs[:1], states=_checkpoints(dirs[:1]))
    first.run(until=20)  # member 0 ahead at 20, as after a kill between two writes
    results = train_population(specs, dirs, artifacts=False)
    assert [r.steps for r in results] == [30, 30]
    for a, b in zip(_checkpoints(dirs), _checkpoints(ref)):
        for net in ("g", "d"):
            for name, value in a[net].items():
                torch.testing.assert_close(value, b[net][name], rtol=1e-6, atol=1e-6)
    for d, r in zip(dirs, ref):
        assert (d / LOG_CSV).read_text().splitlines()[0] == (r / LOG_CSV).read_text().splitlines()[0]
        assert len((d / LOG_CSV).read_text().splitlines()) == len((r / LOG_CSV).read_text().splitlines())


# -- the bench packs by itself (gan_zoo.bench.packing) ------------------------------------


def _items(n, **kw):
    from gan_zoo.bench.grid import GridItem

    return [GridItem(RunSpec(device="cpu", seed=s, **kw)) for s in range(n)]


def test_plan_units_groups_compatible_runs():
    from gan_zoo.bench.packing import plan_units

    ring = _items(6, dataset="ring8", loss="ns")
    units, notes = plan_units(ring, "auto", workers=2)  # the MLP on the CPU: packed, split over 2 workers
    assert sorted(map(len, units)) == [3, 3] and "2 population(s)" in notes[0]
    units, _ = plan_units(ring, 4, workers=1)
    assert sorted(map(len, units)) == [3, 3]  # 6 runs at most 4 a population: two of 3
    units, notes = plan_units(ring, "off", workers=1)
    assert [len(u) for u in units] == [1] * 6 and notes == []
    mnist = _items(4, dataset="mnist", loss="ns")
    units, notes = plan_units(mnist, "auto", workers=1)  # the DCGAN on the CPU: no measured gain
    assert [len(u) for u in units] == [1] * 4 and "no measured gain" in notes[0]
    units, _ = plan_units(mnist, 4, workers=1)
    assert [len(u) for u in units] == [4]
    mixed = _items(2, dataset="ring8", loss="ns") + _items(2, dataset="ring8", loss="lsgan") + \
        _items(2, dataset="ring8", loss="ns", regularizers="spectral-norm")
    units, notes = plan_units(mixed, 2, workers=1)
    assert sorted(map(len, units)) == [1, 1, 2, 2]  # ns with ns, lsgan with lsgan, spectral norm alone
    assert any("spectral-norm" in n for n in notes)
    with pytest.raises(Exception, match="no run of this grid can be packed"):
        plan_units(_items(2, dataset="ring8", regularizers="spectral-norm"), 2, workers=1)


def test_plan_units_keeps_populations_large_when_the_grid_has_several_groups():
    from gan_zoo.bench.packing import plan_units

    two = _items(10, dataset="ring8", loss="ns") + _items(10, dataset="ring8", loss="lsgan")
    units, _ = plan_units(two, "auto", workers=2)  # two groups already feed two workers
    assert sorted(map(len, units)) == [10, 10]
    assert all(len({it.spec.loss for it in u}) == 1 for u in units)
    lopsided = _items(16, dataset="ring8", loss="ns") + _items(2, dataset="ring8", loss="lsgan")
    units, _ = plan_units(lopsided, "auto", workers=2)  # 16 is over a worker's share (9): halved
    assert sorted(map(len, units)) == [2, 8, 8]
    units, _ = plan_units(_items(40, dataset="ring8", loss="ns"), "auto", workers=2)
    assert sorted(map(len, units)) == [13, 13, 14]  # at most K = 16, nearly equal
    units, _ = plan_units(_items(3, dataset="ring8", loss="ns"), "auto", workers=2)
    assert sorted(map(len, units)) == [3]  # too small to halve into populations


@pytest.mark.parametrize("value", ["0", "-3", "two", "1.5"])
def test_bad_pack_is_one_line_exit_2(value, tmp_path):
    from click.testing import CliRunner

    from gan_zoo.cli import cli

    out = tmp_path / "out"
    r = CliRunner().invoke(cli, ["bench", "--dataset", "ring8", "--budget", "smoke", "--pack", value,
                                 "--out", str(out)])
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert r.exit_code == 2 and len(lines) == 1 and "--pack" in lines[0] and "K >= 1" in lines[0], r.output
    assert not out.exists()


def _grid_items(n, **kw):
    from gan_zoo.bench.grid import GridItem

    return [GridItem(RunSpec(dataset="ring8", loss="ns", seed=s, steps=6, batch_size=16, log_every=3,
                             checkpoint_every=3, device="cpu", **kw)) for s in range(n)]


def test_bench_packs_runs_into_populations(tmp_path):
    import pandas as pd

    from gan_zoo.bench import columns as C
    from gan_zoo.bench.runner import EvalOptions, run_grid
    from gan_zoo.bench.tables import collect_runs, write_tables

    def grid(out, pack):
        results = run_grid(_grid_items(3), out, data_root=None, evaluation=EvalOptions(samples=50),
                           workers=1, pack=pack)
        write_tables(out, *collect_runs([out]))
        return results, pd.read_csv(out / C.RUNS_CSV, keep_default_na=False)

    results, df = grid(tmp_path / "packed", 3)
    assert [r["status"] for r in results] == [OK] * 3
    assert list(df.columns) == [*C.RUNS_COLUMNS, C.POPULATION]
    assert df[C.POPULATION].str.startswith("pop-").all() and df[C.POPULATION].nunique() == 1
    assert all((tmp_path / "packed" / "runs" / rid / "metrics.json").is_file() for rid in df.run_id)
    _, alone = grid(tmp_path / "alone", "off")
    assert list(alone.columns) == C.RUNS_COLUMNS  # no packed run: the table as before
    assert sorted(alone.run_id) == sorted(df.run_id)
    # the same grid again finds every packed run complete
    assert run_grid(_grid_items(3), tmp_path / "packed", data_root=None,
                    evaluation=EvalOptions(samples=50), workers=1, pack=3) == []


def test_a_population_whose_worker_died_is_failed_for_every_member(tmp_path):
    from gan_zoo.bench.executors import RunTask
    from gan_zoo.bench.packing import PopulationTask, expand

    tasks = tuple(RunTask(spec=it.spec, run_dir=tmp_path / it.run_id, evaluation=None) for it in _grid_items(2))
    pairs = expand(PopulationTask(tasks, "pop-x"), {"status": "failed", "reason": "worker killed by signal 9"})
    assert [t.run_id for t, _ in pairs] == [t.run_id for t in tasks]
    for t, res in pairs:
        assert res["status"] == "failed" and "signal 9" in res["reason"] and "pop-x" in res["reason"]
        assert read_result(t.run_dir).status == "failed"
