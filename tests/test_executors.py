"""Executors: each local worker on its own GPU, Ray tasks that let runs share a GPU,
several runs per GPU, and a worker that dies costs only its own run."""

from __future__ import annotations

import json
import queue
import sys
import types

import pytest
import torch

from gan_zoo.bench import local_executor, runner
from gan_zoo.bench.grid import GridItem
from gan_zoo.bench.runner import EvalOptions, default_workers, ray_resources, run_grid
from gan_zoo.spec import RunSpec


@pytest.fixture
def four_gpus(monkeypatch):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 4)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)


def test_each_local_worker_gets_its_own_gpu(four_gpus, monkeypatch):
    slots = local_executor.gpu_slots("cuda", 8)
    assert slots == ["0", "1", "2", "3", "0", "1", "2", "3"]  # two runs per GPU, spread evenly
    q = queue.Queue()
    for s in slots[:4]:
        q.put(s)
    seen = []
    for _ in range(4):  # what four starting workers do in their initializer
        local_executor.take_gpu(q)
        seen.append(local_executor.os.environ["CUDA_VISIBLE_DEVICES"])
    assert sorted(seen) == ["0", "1", "2", "3"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "5,7,9,11")
    assert local_executor.gpu_slots("cuda", 4) == ["5", "7", "9", "11"]  # physical ids kept
    assert local_executor.gpu_slots("cpu", 4) is None
    assert local_executor.gpu_slots("cuda:2", 4) is None  # one named device: every run there


def test_runs_per_gpu_sets_the_local_workers(four_gpus):
    assert default_workers("cuda", 2) == 8
    assert default_workers("cuda") == 4 * runner.DEFAULT_RUNS_PER_GPU > 4


class _Ref:
    def __init__(self, *args):
        self.args = args


class _FakeRay(types.ModuleType):
    """Enough of Ray to see what each task asks for; no cluster."""

    def __init__(self):
        super().__init__("ray")
        self.options = []

    def is_initialized(self):
        return True

    def remote(self, **opts):
        self.options.append(opts)

        def wrap(fn):
            return types.SimpleNamespace(remote=_Ref)

        return wrap

    def wait(self, refs, num_returns=1):
        return refs[:num_returns], refs[num_returns:]

    def get(self, ref):
        task = ref.args[0]
        return {"run_id": task.run_id, "status": "ok", "threads": task.threads}


def _items(n, **kw):
    losses = ["ns", "hinge", "lsgan", "wgan"][:n]
    return [GridItem(RunSpec(dataset="ring8", loss=loss, steps=4, batch_size=16, log_every=2,
                             checkpoint_every=2, device="cpu", **kw)) for loss in losses]


def test_ray_tasks_on_a_gpu_ask_for_one_cpu_and_a_gpu_share(tmp_path, monkeypatch):
    fake = _FakeRay()
    monkeypatch.setitem(sys.modules, "ray", fake)
    monkeypatch.setattr(runner.os, "cpu_count", lambda: 16)
    results = run_grid(_items(2), tmp_path, data_root=None, evaluation=EvalOptions(samples=50),
                       workers=1, executor="ray", gpus_per_run=0.25)
    assert fake.options == [{"num_cpus": 1, "num_gpus": 0.25, "max_retries": 0}]
    assert {r["threads"] for r in results} == {1}  # each run's torch threads match its CPUs
    assert ray_resources(0.0, 4) == {"num_gpus": 0.0, "num_cpus": 4}


def test_a_killed_worker_costs_only_its_own_run(tmp_path, monkeypatch, capfd):
    items = _items(3)
    victim = items[1]
    monkeypatch.setenv("_GAN_ZOO_TEST_KILL_RUN", victim.run_id)
    results = run_grid(items, tmp_path, data_root=None, evaluation=EvalOptions(samples=50), workers=2)
    by_id = {r["run_id"]: r for r in results}
    assert set(by_id) == {it.run_id for it in items}
    assert by_id[victim.run_id]["status"] == "failed"
    assert "worker killed by signal 9" in by_id[victim.run_id]["reason"]
    for it in items:
        if it is not victim:
            assert by_id[it.run_id]["status"] == "ok", by_id[it.run_id]
    stored = json.loads((tmp_path / "runs" / victim.run_id / "result.json").read_text())
    assert stored["status"] == "failed"
    assert "Traceback" not in capfd.readouterr().err


def _probe(_):
    """A worker's view: its environment variable and whether torch came preloaded."""
    import os

    return {"probe": os.environ.get("_GAN_ZOO_TEST_PROBE"), "threads": torch.get_num_threads()}


def test_workers_see_the_drivers_environment_of_now(monkeypatch):
    """Workers fork from a server started once per driver: each still takes the driver's
    environment as it is when its pool starts, not as it was when the server started."""
    monkeypatch.setenv("_GAN_ZOO_TEST_PROBE", "first")
    first = local_executor.run_local(_probe, ["a"], [("a",)], workers=1, threads=1)
    monkeypatch.setenv("_GAN_ZOO_TEST_PROBE", "second")
    second = local_executor.run_local(_probe, ["b", "c"], [("b",), ("c",)], workers=2, threads=1)
    assert first == [{"probe": "first", "threads": 1}]
    assert second == [{"probe": "second", "threads": 1}] * 2
