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
    # every run's samples are featurised; the real test images and the training split once
    assert counted["generated"] == 3
    assert counted["real"] == 1
    assert counted["train"] == 1
    assert counted["other"] == 0 and counted["extract-other"] == 0
