"""The benchmark harness featurises a dataset's real images once per grid, not per run.

A grid of three MNIST runs is trained and scored in this process with an empty
feature cache; the feature computations are counted by wrapping the functions that do
them: torch-fidelity's ``get_featuresdict_from_dataset`` (which gan-zoo feeds its
``UInt8Images`` sets, each labelled with a role: generated / real) and
``gan_zoo.metrics.fidelity.extract_features`` (the MiFID training-split features).
The 60,000 training-split features are replaced by random ones of the right shape (the
count is what is tested; computing them takes half a minute on a 2-core CPU).
"""

from __future__ import annotations

import collections

import pytest
import torch

from gan_zoo.bench.grid import BUDGETS, expand_grid
from gan_zoo.bench.runner import EvalOptions, run_grid


@pytest.fixture
def counted(monkeypatch):
    import torch_fidelity.utils as tfu

    from gan_zoo.metrics import fidelity

    counts = collections.Counter()
    featurize = tfu.get_featuresdict_from_dataset
    extract = fidelity.extract_features

    def counting_featurize(input, *args, **kwargs):
        counts[getattr(input, "role", "other")] += 1
        return featurize(input, *args, **kwargs)

    def counting_extract(images_u8, extractor, layer, **kwargs):
        if len(images_u8) != 60000:
            counts["extract-other"] += 1
            return extract(images_u8, extractor, layer, **kwargs)
        counts["train"] += 1
        dim = extract(images_u8[:2], extractor, layer, **kwargs).shape[1]
        return torch.randn(len(images_u8), dim, generator=torch.Generator().manual_seed(0))

    monkeypatch.setattr(tfu, "get_featuresdict_from_dataset", counting_featurize)
    monkeypatch.setattr(fidelity, "extract_features", counting_extract)
    return counts


def test_real_statistics_computed_once_per_grid(tmp_path, mnist_root, counted):
    items = expand_grid(dataset="mnist", losses=["ns", "lsgan", "hinge"], regularizers=["none"],
                        seeds=1, sweeps={"batch_size": [8]}, budget=BUDGETS["smoke"], steps=2,
                        device="cpu")
    evaluation = EvalOptions(samples=50, cache_dir=str(tmp_path / "cache"))
    results = run_grid(items, tmp_path / "out", data_root=str(mnist_root), evaluation=evaluation,
                       workers=1)
    assert [r["status"] for r in results] == ["ok"] * 3, [r.get("reason") for r in results]
    # every run's samples are featurised; the real test images and the training split once,
    # by the runner before the first run (a handful of test images stand in as samples)
    assert counted["generated"] == 3
    assert counted["warm-up"] == 1
    assert counted["real"] == 1
    assert counted["train"] == 1
    assert counted["other"] == 0 and counted["extract-other"] == 0


def test_warm_up_leaves_nothing_for_a_run_to_compute(tmp_path, mnist_root, counted):
    from gan_zoo.data import get_dataset
    from gan_zoo.metrics import evaluate, warm_real_features

    cache = str(tmp_path / "cache")
    assert warm_real_features("mnist", 50, data_root=str(mnist_root), cache_dir=cache)
    assert (counted["real"], counted["train"]) == (1, 1)
    # a fresh process would start with an empty memo: only the disk cache may serve it
    from gan_zoo.metrics import cache as feature_cache

    feature_cache.forget_train_features()
    generated = get_dataset("mnist", root=str(mnist_root), train=True, limit=50).x
    out = evaluate(generated, dataset="mnist", n=50, data_root=str(mnist_root), cache_dir=cache)
    assert out["fid"] is not None and out["mifid"] is not None
    assert (counted["real"], counted["train"], counted["generated"]) == (1, 1, 1)
    assert not warm_real_features("ring8", 50, cache_dir=cache)


def test_runner_warms_before_dispatch(tmp_path, monkeypatch):
    from gan_zoo import metrics
    from gan_zoo.bench import runner

    calls = []
    monkeypatch.setattr(metrics, "warm_real_features",
                        lambda dataset, n, **kw: calls.append((dataset, n)) or True)

    def fake_run_item(spec, sweep, run_dir, *rest, **options):
        assert calls, "a run started before the real-data features were prepared"
        return {"status": "ok"}

    monkeypatch.setattr(runner, "run_item", fake_run_item)
    items = expand_grid(dataset="mnist", losses=["ns", "hinge"], regularizers=["none"], seeds=1,
                        sweeps={}, budget=BUDGETS["smoke"], steps=2, device="cpu")
    run_grid(items, tmp_path / "out", data_root=None, evaluation=EvalOptions(samples=77), workers=1)
    assert calls == [("mnist", 77)]
