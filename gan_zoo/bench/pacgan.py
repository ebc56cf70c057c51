"""PacGAN's Table 1 beside ours: the published 2-D results, our runs of the ``pacgan``
preset, the noise floor of their mode rule and a verdict per cell.

Published values: Lin et al. 2018, "PacGAN: The power of two samples in generative
adversarial networks" (NeurIPS; arXiv:1712.04086), Table 1, mean +- standard error over
10 trials; the GAN row is the non-saturating objective (``ns``) with their networks,
PacGAN-m the same with ``pac`` at ``m``. Their mode count is the published rule (a mode
is covered by one high-quality sample: ``modes_published``); their high-quality share
and reverse KL are ``hq_frac`` and ``mode_kl``.

A cell's verdict:

* ``not run`` when no seed finished;
* ``not comparable: N of their 400,000 steps`` when our runs trained fewer steps;
* ``reproduced`` when their mean lies within our 95% interval of the mean (t, n - 1
  degrees of freedom) or our mean within their +- one standard error;
* ``not reproduced: ours higher/lower by D`` otherwise.
"""

from __future__ import annotations

import json
import math

import pandas as pd

from gan_zoo.bench import columns as C
from gan_zoo.bench.reading import fmt_number
from gan_zoo.metrics import keys

__all__ = ["PACGAN_TABLE1", "PACGAN_STEPS", "PACGAN_DATASETS", "pacgan_model", "pacgan_table"]

#: their training length (400 epochs of 100,000 examples at batch 100)
PACGAN_STEPS = 400_000
#: our dataset for each of their two mixtures
PACGAN_DATASETS = {"2D-ring": "ring8-pacgan", "2D-grid": "grid25"}
_MODES, _HQ, _KL = keys.MODES_PUBLISHED, keys.HQ_FRAC, keys.MODE_KL

#: (their dataset, model) -> metric -> (mean, standard error); Table 1 of the paper
PACGAN_TABLE1: dict[tuple[str, str], dict[str, tuple[float, float]]] = {
    ("2D-ring", "GAN"): {_MODES: (6.3, 0.5), _HQ: (0.982, 0.002), _KL: (0.45, 0.09)},
    ("2D-ring", "PacGAN2"): {_MODES: (7.9, 0.1), _HQ: (0.956, 0.020), _KL: (0.07, 0.03)},
    ("2D-ring", "PacGAN3"): {_MODES: (7.8, 0.1), _HQ: (0.977, 0.003), _KL: (0.10, 0.02)},
    ("2D-ring", "PacGAN4"): {_MODES: (7.8, 0.1), _HQ: (0.959, 0.014), _KL: (0.07, 0.02)},
    ("2D-grid", "GAN"): {_MODES: (17.3, 0.8), _HQ: (0.948, 0.007), _KL: (0.70, 0.07)},
    ("2D-grid", "PacGAN2"): {_MODES: (23.8, 0.7), _HQ: (0.913, 0.008), _KL: (0.13, 0.04)},
    ("2D-grid", "PacGAN3"): {_MODES: (24.6, 0.4), _HQ: (0.942, 0.004), _KL: (0.06, 0.02)},
    ("2D-grid", "PacGAN4"): {_MODES: (24.8, 0.2), _HQ: (0.936, 0.006), _KL: (0.04, 0.01)},
}
_METRIC_NAMES = {_MODES: "modes (one high-quality sample)", _HQ: "high quality", _KL: "reverse KL"}


def pacgan_model(regularizers: str, params: str | dict | None) -> str | None:
    """``GAN`` for no regularizer, ``PacGAN<m>`` for ``pac`` alone; None otherwise."""
    regs = str(regularizers or "none")
    if regs == "none":
        return "GAN"
    if regs != "pac":
        return None
    if isinstance(params, str):
        try:
            params = json.loads(params or "{}")
        except ValueError:
            params = {}
    m = (params or {}).get("reg_params", {}).get("pac.m", 2)
    return f"PacGAN{int(m)}"


def _fmt(metric: str, mean: float, se: float | None) -> str:
    scale = 100 if metric == _HQ else 1
    unit = "%" if metric == _HQ else ""
    text = fmt_number(mean * scale)
    return f"{text}{unit}" if se is None else f"{text} +- {fmt_number(se * scale)}{unit}"


def _verdict(metric: str, theirs: tuple[float, float], vals: pd.Series, steps: int) -> str:
    if vals.empty:
        return "not run"
    if steps < PACGAN_STEPS:
        return f"not comparable: {steps:,} of their {PACGAN_STEPS:,} steps"
    mean, (t_mean, t_se) = float(vals.mean()), theirs
    if len(vals) >= 2:
        from scipy.stats import t as student_t

        half = float(student_t.ppf(0.975, len(vals) - 1)) * float(vals.std(ddof=1)) / math.sqrt(len(vals))
        if abs(t_mean - mean) <= half:
            return "reproduced"
    if abs(mean - t_mean) <= t_se:
        return "reproduced"
    scale = 100 if metric == _HQ else 1
    side = "higher" if mean > t_mean else "lower"
    return f"not reproduced: ours {side} by {fmt_number(abs(mean - t_mean) * scale)}"


def pacgan_table(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per (their dataset, model, metric) with a run of ours: theirs, ours (mean
    +- standard error over the ok seeds of ``ns`` on the ``mlp-pacgan`` backbone), seeds,
    steps, the noise floor of their mode rule (what 2,500 uniformly sprayed points and
    a line tracer score) and the verdict. Empty when ``runs`` has no such run."""
    from gan_zoo.metrics.modes import dataset_noise_floor

    if runs.empty or C.BACKBONE not in runs:
        return pd.DataFrame()
    ours = runs[(runs[C.BACKBONE] == "mlp-pacgan") & (runs[C.LOSS] == "ns")
                & (runs[C.STATUS] == "ok")]
    rows = []
    for (their_ds, model), published in PACGAN_TABLE1.items():
        dataset = PACGAN_DATASETS[their_ds]
        sel = ours[ours[C.DATASET] == dataset]
        if sel.empty:  # no run of the preset on this dataset (e.g. a grid25 study of other networks)
            continue
        sel = sel[[pacgan_model(r, p) == model for r, p in zip(sel[C.REGULARIZERS], sel[C.PARAMS])]]
        steps = int(pd.to_numeric(sel[C.STEPS], errors="coerce").min()) if not sel.empty else 0
        floor = dataset_noise_floor(dataset)
        for metric, theirs in published.items():
            vals = pd.to_numeric(sel.get(metric, pd.Series(dtype=float)), errors="coerce").dropna()
            se = float(vals.std(ddof=1)) / math.sqrt(len(vals)) if len(vals) >= 2 else None
            noise = ""
            if metric in (_MODES, _HQ):
                noise = " / ".join(_fmt(metric, floor[g][metric], None) for g in floor)
            rows.append({
                "dataset": f"{their_ds} ({dataset})", "model": model,
                "figure": _METRIC_NAMES[metric],
                "theirs (10 trials)": _fmt(metric, *theirs),
                "ours": "" if vals.empty else _fmt(metric, float(vals.mean()), se),
                "seeds": len(vals), "steps": steps or "",
                "noise floor (spray / tracer)": noise,
                "verdict": _verdict(metric, theirs, vals, steps),
            })
    return pd.DataFrame(rows)
