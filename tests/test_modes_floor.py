"""Mixture mode counts with a noise floor (gan_zoo.metrics.modes): the published rule
(one high-quality sample covers a mode) is kept as ``modes_published``; the headline
``modes`` is one that a uniform spray or a line tracer cannot pass."""

import math

import pytest
import torch

from gan_zoo.data import dataset_info, get_dataset
from gan_zoo.errors import GanZooError
from gan_zoo.metrics import keys, modes

N = 2500
DATASETS = [("ring8", 8), ("grid25", 25)]


def _info(name):
    info = dataset_info(name)
    return info.mixture_centers(), info.sigma


def _score(name, x):
    centres, sigma = _info(name)
    return modes.mixture_modes(x, centres, sigma)


@pytest.mark.parametrize("name, k", DATASETS)
@pytest.mark.parametrize("seed", [0, 1])
def test_uniform_spray_passes_the_published_rule_but_not_the_headline(name, k, seed):
    centres, sigma = _info(name)
    res = _score(name, modes.uniform_spray(centres, sigma, N, seed=seed))
    assert res[keys.MODES] == 0
    # the published rule's noise floor: a spray "covers" most modes
    assert res[keys.MODES_PUBLISHED] >= (5 if k == 8 else 20)
    assert res[keys.HQ_FRAC] < 0.04


@pytest.mark.parametrize("name, k", DATASETS)
@pytest.mark.parametrize("seed", [0, 1])
def test_border_tracer_passes_the_published_rule_but_not_the_headline(name, k, seed):
    centres, sigma = _info(name)
    x = modes.border_tracer(centres, sigma, N, seed=seed)
    res = _score(name, x)
    assert res[keys.MODES] == 0
    assert res[keys.MODES_PUBLISHED] == (8 if k == 8 else 16)  # every mode on its line
    assert res[keys.HQ_FRAC] < 0.2


def _some_modes(name, which, n, seed=0, junk=0.0):
    """True Gaussian samples of the modes ``which`` only, plus a share of uniform junk."""
    centres, sigma = _info(name)
    g = torch.Generator().manual_seed(seed)
    n_junk = int(junk * n)
    pick = torch.as_tensor(which)[torch.randint(0, len(which), (n - n_junk,), generator=g)]
    x = centres[pick] + sigma * torch.randn(n - n_junk, 2, generator=g)
    if n_junk:
        x = torch.cat([x, modes.uniform_spray(centres, sigma, n_junk, seed=seed + 1)])
    return x


@pytest.mark.parametrize("name, k", DATASETS)
def test_a_three_mode_generator_counts_three(name, k):
    res = _score(name, _some_modes(name, [0, 3, 5], N))
    assert res[keys.MODES] == 3 and res[keys.MODES_PUBLISHED] == 3
    # with a fifth of its samples sprayed uniformly, the headline still says 3 while the
    # published rule picks up modes from the spray
    noisy = _score(name, _some_modes(name, [0, 3, 5], N, junk=0.2))
    assert noisy[keys.MODES] == 3
    assert noisy[keys.MODES_PUBLISHED] > 3


@pytest.mark.parametrize("name, k", DATASETS)
def test_the_true_mixture_covers_every_mode_by_both_rules(name, k):
    ds = get_dataset(name, train=False, limit=N)
    res = _score(name, ds.x)
    assert res[keys.MODES] == k and res[keys.MODES_PUBLISHED] == k and res[keys.MODES_TOTAL] == k


def test_noise_floor_of_the_published_rule():
    ring = modes.dataset_noise_floor("ring8")
    grid = modes.dataset_noise_floor("grid25")
    assert set(ring) == set(modes.JUNK_GENERATORS)
    # ring8: HQ disc of radius 0.06 in the 4.12 x 4.12 box, 2,500 draws per mode
    assert ring["uniform spray"][keys.MODES_PUBLISHED] == pytest.approx(6.49, abs=0.02)
    assert ring["border tracer"][keys.MODES_PUBLISHED] == pytest.approx(8.0, abs=1e-3)
    assert grid["uniform spray"][keys.MODES_PUBLISHED] == pytest.approx(23.08, abs=0.03)
    assert grid["border tracer"][keys.MODES_PUBLISHED] == pytest.approx(16.0, abs=1e-3)
    assert grid["border tracer"][keys.HQ_FRAC] == pytest.approx(0.15, abs=0.002)
    for floor in (ring, grid):  # the headline rule: at most 1% per mode by construction
        for gen in floor.values():
            assert gen[keys.MODES] < 0.2
    # the floor of the published rule grows with the sample count
    more = modes.dataset_noise_floor("ring8", n=10_000)
    assert more["uniform spray"][keys.MODES_PUBLISHED] > ring["uniform spray"][keys.MODES_PUBLISHED]


def test_thresholds_scale_with_the_sample_count_and_reject_bad_levels():
    centres, sigma = _info("grid25")
    small = modes.mode_thresholds(centres, sigma, 500)
    big = modes.mode_thresholds(centres, sigma, 2500)
    assert (small < big).all() and (small >= 1).all() and len(big) == 25
    with pytest.raises(GanZooError):
        modes.mode_thresholds(centres, sigma, 2500, level=1.5)
    with pytest.raises(GanZooError):
        modes.dataset_noise_floor("mnist")


def _old_run(root, name, dataset, modes_old, samples=None):
    """A run folder scored before the noise-floor rule (no modes_published)."""
    import json

    import numpy as np

    d = root / "runs" / name
    d.mkdir(parents=True)
    (d / "result.json").write_text(json.dumps({"run_id": name, "status": "ok", "steps": 10}))
    (d / "spec.json").write_text(json.dumps({"dataset": dataset, "loss": "ns", "seed": 0,
                                             "regularizers": "none", "batch_size": 64}))
    (d / "metrics.json").write_text(json.dumps({keys.MODES: modes_old, keys.HQ_FRAC: 0.5,
                                                keys.MODE_KL: 0.1, keys.MODES_TOTAL: 25,
                                                keys.EVAL_SAMPLES: N, keys.EVAL_PROTOCOL: "protocol"}))
    if samples is not None:
        np.savez_compressed(d / "samples.npz", x=np.asarray(samples, dtype=np.float32))
    return d


def test_tables_rescore_old_mixture_runs_from_their_samples(tmp_path):
    from gan_zoo.bench.tables import collect_runs

    centres, sigma = _info("grid25")
    _old_run(tmp_path, "grid25-ns-none-s0-a", "grid25", 23, modes.uniform_spray(centres, sigma, N))
    _old_run(tmp_path, "grid25-ns-none-s1-b", "grid25", 19)  # no samples kept
    runs, _ = collect_runs([tmp_path])
    spray = runs[runs["run_id"] == "grid25-ns-none-s0-a"].iloc[0]
    assert spray[keys.MODES] == 0 and spray[keys.MODES_PUBLISHED] >= 20
    assert spray[keys.HQ_FRAC] == 0.5  # the scored draw's own figures stay
    assert "rescored on samples.npz" in spray[keys.EVAL_PROTOCOL]
    bare = runs[runs["run_id"] == "grid25-ns-none-s1-b"].iloc[0]
    assert math.isnan(bare[keys.MODES])  # not measured
    assert bare[keys.MODES_PUBLISHED] == 19  # grid25's old rule was the published one


def test_the_report_shows_the_noise_floor_under_a_mixture_table(tmp_path):
    from gan_zoo.bench.report import rebuild

    centres, sigma = _info("grid25")
    for s in range(2):
        _old_run(tmp_path, f"grid25-ns-none-s{s}-x{s}", "grid25", 3, _some_modes("grid25", [0, 1, 2], N, seed=s))
    text = (rebuild(tmp_path)["report"]).read_text()
    assert "| noise floor: uniform spray |" in text and "| noise floor: line tracer |" in text
    assert "23.1" in text and "16.0" in text


def test_reading_tests_the_quality_share_when_the_headline_has_one_seed():
    import numpy as np
    import pandas as pd

    from gan_zoo.bench import columns as C
    from gan_zoo.bench.reading import verdict_lines
    from gan_zoo.bench.tables import compute_stats, summarize

    rows = []
    for i, loss in enumerate(["ns", "ralsgan", "wgan"]):
        for s in range(6):
            rows.append({C.RUN_ID: f"grid25-{loss}-s{s}", C.DATASET: "grid25", C.LOSS: loss,
                         C.REGULARIZERS: "none", C.PARAMS: "{}", C.SEED: s, C.STATUS: C.OK,
                         keys.MODES: 4.0 if s == 0 else np.nan, keys.MODES_PUBLISHED: 18.0,
                         keys.HQ_FRAC: [0.1, 0.4, 0.02][i] + 0.001 * s})
    runs = pd.DataFrame(rows)
    for col in C.RUNS_COLUMNS:
        if col not in runs:
            runs[col] = np.nan
    text = "\n".join(verdict_lines("grid25", summarize(runs), compute_stats(runs, "baseline", "ns"),
                                   "baseline", "ns"))
    assert "Single-seed snapshot" in text  # the headline: seed 0 only
    assert "Mann-Whitney on high-quality share" in text and "Better than ns: ralsgan" in text


def test_mixture_mode_curves_draw_the_noise_floor(tmp_path, monkeypatch):
    import numpy as np
    import pandas as pd

    from gan_zoo.bench import columns as C
    from gan_zoo.bench import plots

    figs = []
    monkeypatch.setattr(plots, "savefig_atomic", lambda fig, path, dpi=None: figs.append(fig) or path)
    runs = pd.DataFrame([{C.RUN_ID: "r0", C.DATASET: "grid25", C.LOSS: "ns", C.REGULARIZERS: "none",
                          C.PARAMS: "{}", C.SEED: 0, C.STATUS: C.OK, C.RUN_DIR: ""}])
    for col in C.RUNS_COLUMNS:
        if col not in runs:
            runs[col] = np.nan
    curves = pd.DataFrame([{C.RUN_ID: "r0", C.STEP: s, C.METRIC: keys.MODES_PUBLISHED, C.VALUE: 18.0}
                           for s in (100, 200, 300)])
    plots.plot_score_curves(runs, curves, tmp_path)
    texts = [t.get_text() for ax in figs[0].axes for t in ax.texts]
    assert "noise floor: uniform spray 23.1" in texts and "noise floor: line tracer 16.0" in texts
