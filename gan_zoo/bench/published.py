"""Published figures a report sets beside its own, with the source and how the setups
differ. They are there to be read against, never to tune to: a report prints what its
runs give next to them, agreement or not.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from gan_zoo.bench import columns as C
from gan_zoo.bench.reading import fmt_number
from gan_zoo.metrics import keys

__all__ = ["Anchor", "ANCHORS", "anchors_for", "noise_floor_text", "noise_floor_note", "with_noise_floor",
           "published_table"]

_PACGAN = "Lin et al. 2018 (PacGAN), Table 1, GAN row"
_PACGAN_SETUP = ("2,500 samples, as here; mean of 10 trials; their released configs: G "
                 "2-400-400-400-400-2 with batch norm from a 2-d Gaussian latent, D "
                 "2-200-200-200-1 maxout (5 pieces), Adam 1e-4 (beta1 0.8), batch 100, 400 "
                 "epochs of 100,000 points (400,000 steps) (here: the `mlp` backbone, G "
                 "nz-128-128-2 ReLU with nz 100, D 2-128-128-1 LeakyReLU, Adam 2e-4 (beta1 "
                 "0.5), batch 64, the budget's generator steps)")
_STACKED_SETUP = ("26,000 samples, as here; their DCGAN on 28x28x3 (or 64x64) inputs, their "
                  "training length and mode classifier (here: the `dcgan28` backbone and the "
                  "project's MNIST classifier)")
_LUCIC = "Lucic et al. 2018, lowest FID over a hyperparameter search"
_LUCIC_SETUP = ("Inception-v3 features (here: the project's MNIST classifier, another scale: "
                "compare the order, not the values); 20 epochs, the lowest over many settings")


@dataclass(frozen=True)
class Anchor:
    """One published figure: where it comes from, which of our objectives correspond to
    the model it measures, and whether the values are on our scale."""

    dataset: str
    metric: str
    value: float
    objectives: tuple[str, ...]
    source: str
    setup: str
    same_scale: bool = True
    needs: str = ""  # a metric of ours that must be above 0 in some seed for the figure to mean the same


ANCHORS: tuple[Anchor, ...] = (
    Anchor("ring8", keys.MODES_PUBLISHED, 6.3, ("minimax", "ns"), _PACGAN, _PACGAN_SETUP),
    Anchor("ring8", keys.HQ_FRAC, 0.982, ("minimax", "ns"), _PACGAN, _PACGAN_SETUP),
    Anchor("grid25", keys.MODES_PUBLISHED, 17.3, ("minimax", "ns"), _PACGAN, _PACGAN_SETUP),
    Anchor("grid25", keys.HQ_FRAC, 0.948, ("minimax", "ns"), _PACGAN, _PACGAN_SETUP),
    Anchor("stacked-mnist", keys.MODES, 99, ("ns",), "Srivastava et al. 2017 (VEEGAN), DCGAN row",
           _STACKED_SETUP, needs=keys.CONFIDENT_FRAC),
    Anchor("stacked-mnist", keys.MODE_KL, 3.40, ("ns",), "Srivastava et al. 2017 (VEEGAN), DCGAN row",
           _STACKED_SETUP, needs=keys.CONFIDENT_FRAC),
    Anchor("stacked-mnist", keys.MODES, 78.9, ("ns",), "Lin et al. 2018 (PacGAN), DCGAN row",
           _STACKED_SETUP, needs=keys.CONFIDENT_FRAC),
    Anchor("stacked-mnist", keys.MODE_KL, 4.50, ("ns",), "Lin et al. 2018 (PacGAN), DCGAN row",
           _STACKED_SETUP, needs=keys.CONFIDENT_FRAC),
    Anchor("mnist", keys.FID, 9.8, ("minimax",), _LUCIC, _LUCIC_SETUP, same_scale=False),
    Anchor("mnist", keys.FID, 6.8, ("ns",), _LUCIC, _LUCIC_SETUP, same_scale=False),
    Anchor("mnist", keys.FID, 7.8, ("lsgan",), _LUCIC, _LUCIC_SETUP, same_scale=False),
    Anchor("mnist", keys.FID, 6.7, ("wgan",), _LUCIC, _LUCIC_SETUP, same_scale=False),
    Anchor("mnist", keys.FID, 20.3, ("wgan-gp",), _LUCIC, _LUCIC_SETUP, same_scale=False),
)


def anchors_for(dataset: str) -> list[Anchor]:
    return [a for a in ANCHORS if a.dataset == dataset]


def _kept(runs: pd.DataFrame, dataset: str, loss: str) -> pd.DataFrame:
    """The ok, unregularised seeds of ``loss`` on ``dataset``."""
    return runs[(runs[C.DATASET] == dataset) & (runs[C.LOSS] == loss) & (runs[C.STATUS] == "ok")
                & (runs[C.REGULARIZERS].fillna("none") == "none")]


def _scale(runs: pd.DataFrame, a: Anchor, loss: str) -> str:
    """Whether our value of ``loss`` can be read on the published figure's scale."""
    if not a.same_scale:
        return "no: compare the order"
    if a.needs and a.needs in runs:
        vals = pd.to_numeric(_kept(runs, a.dataset, loss)[a.needs], errors="coerce").dropna()
        if not vals.empty and (vals <= 0).all():
            return (f"no: {C.METRIC_LABELS.get(a.needs, a.needs)} 0 in every seed, so our figure "
                    "counts the classifier's guesses on unrecognisable samples")
    return "yes"


def _ours(runs: pd.DataFrame, dataset: str, loss: str, metric: str) -> str:
    """Median [min-max] over the ok, unregularised seeds of ``loss`` on ``dataset``."""
    if runs.empty or metric not in runs:
        return "not run"
    vals = pd.to_numeric(_kept(runs, dataset, loss)[metric], errors="coerce").dropna()
    if vals.empty:
        return "not run"
    if len(vals) == 1:
        return f"{fmt_number(vals.iloc[0])} (1 seed)"
    return (f"{fmt_number(vals.median())} [{fmt_number(vals.min())}-{fmt_number(vals.max())}] "
            f"({len(vals)} seeds)")


#: Stacked MNIST's published rule (a triple is covered by one sample's per-channel
#: argmax) on 26,000 junk images, measured with the project's classifier by
#: results/noise-floor/stacked_floor.py (output beside it): grey blobs pass it often.
STACKED_FLOOR = {
    keys.MODES: "grey blobs 183, uniform noise 5 (26,000 images)",
    keys.MODE_KL: "grey blobs 3.03, uniform noise 6.91",
}


def noise_floor_text(dataset: str, metric: str, n: int | None = None) -> str:
    """What junk generators score on ``metric`` by the published rule of a 2-D mixture
    (:func:`gan_zoo.metrics.modes.dataset_noise_floor`), e.g. "uniform spray 6.5, line
    tracer 8", or of Stacked MNIST (:data:`STACKED_FLOOR`); empty where there is none."""
    from gan_zoo.data import is_points
    from gan_zoo.errors import GanZooError

    if dataset == "stacked-mnist" and metric in STACKED_FLOOR:
        return STACKED_FLOOR[metric]
    try:
        if metric not in (keys.MODES_PUBLISHED, keys.HQ_FRAC, keys.MODES) or not is_points(dataset):
            return ""
    except GanZooError:
        return ""
    from gan_zoo.metrics.modes import dataset_noise_floor

    floor = dataset_noise_floor(dataset, n)
    names = {"uniform spray": "uniform spray", "border tracer": "line tracer"}
    if metric == keys.HQ_FRAC:
        return ", ".join(f"{names[g]} {100 * v[metric]:.1f}%" for g, v in floor.items())
    return ", ".join(f"{names[g]} {v[metric]:.1f}" for g, v in floor.items())


def with_noise_floor(table: pd.DataFrame, dataset: str, runs: pd.DataFrame | None = None) -> pd.DataFrame:
    """A 2-D mixture's report table with two rows added below it: what a uniform spray
    and a line tracer of the study's sample count score (expected values, exact binomial
    sums) on the modes columns and the high-quality share; other tables unchanged."""
    from gan_zoo.data import is_points
    from gan_zoo.errors import GanZooError
    from gan_zoo.metrics.modes import dataset_noise_floor

    try:
        if table.empty or not is_points(dataset):
            return table
    except GanZooError:
        return table
    n = None
    if runs is not None and keys.EVAL_SAMPLES in runs:
        counts = pd.to_numeric(runs[runs[C.DATASET] == dataset][keys.EVAL_SAMPLES], errors="coerce").dropna()
        n = int(counts.median()) if not counts.empty else None
    floor = dataset_noise_floor(dataset, n)
    label = {"uniform spray": "uniform spray", "border tracer": "line tracer"}
    rows = []
    for gen, values in floor.items():
        row = {c: "" for c in table.columns}
        name = next((c for c in ("objective",) if c in row), None)
        if name:
            row[name] = f"noise floor: {label[gen]}"
        for metric, digits in ((keys.MODES, ".2f"), (keys.MODES_PUBLISHED, ".1f"), (keys.HQ_FRAC, ".4f")):
            col = C.METRIC_LABELS.get(metric, metric)
            if col in row:
                row[col] = format(values[metric], digits)
        rows.append(row)
    return pd.concat([table.astype(object), pd.DataFrame(rows, columns=table.columns)], ignore_index=True)


def noise_floor_note(dataset: str) -> str:
    """One paragraph for a 2-D mixture's report section: what the two mode counts mean
    and what the floor rows are; empty for other datasets."""
    from gan_zoo.data import is_points
    from gan_zoo.errors import GanZooError

    try:
        if not is_points(dataset):
            return ""
    except GanZooError:
        return ""
    return ("Modes covered (the headline): a mode counts when its high-quality samples exceed "
            "what a uniform spray or a line tracer through the modes puts there with 99% "
            "probability. Modes covered (published rule): PacGAN's and VEEGAN's one high-quality "
            "sample, kept to compare with the papers; junk points pass it too, so a count near "
            "the floor rows below the table (what 2,500 uniformly sprayed points, and 2,500 "
            "points spread along a line through the modes, score in expectation) says nothing "
            "about coverage. Runs scored before the headline rule existed get it from their stored "
            "samples.npz (another draw of 2,500 points from the final generator; eval_protocol "
            "in runs.csv says so), and where a run kept no samples it is empty (not measured); "
            "their published count is the one they were scored with where their old rule was the "
            "published one (grid25), else it comes from samples.npz too (ring8, whose old rule "
            "needed 4 samples).")


def published_table(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per published figure for a dataset in ``runs`` and objective of ours that
    corresponds to it: source, figure, objective, published value, ours, the noise floor
    of the figure's rule (2-D mixtures: what a uniform spray and a line tracer of 2,500
    points score by it), whether the two are on one scale, and how the setups differ."""
    rows = []
    datasets = set(runs[C.DATASET].dropna()) if not runs.empty else set()
    for a in ANCHORS:
        if a.dataset not in datasets:
            continue
        for loss in a.objectives:
            rows.append({"dataset": a.dataset, "source": a.source,
                         "figure": C.METRIC_LABELS.get(a.metric, a.metric), "objective": loss,
                         "published": fmt_number(a.value), "ours": _ours(runs, a.dataset, loss, a.metric),
                         "noise floor (junk samples)": noise_floor_text(a.dataset, a.metric),
                         "same scale": _scale(runs, a, loss),
                         "setup": a.setup})
    return pd.DataFrame(rows)
