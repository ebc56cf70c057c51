"""Benchmark figures: metric by objective, objective x regularizer heatmap, training
curves, sample grids and 2-D mixture scatter plots.

Figures are built on ``matplotlib.figure.Figure`` directly, never through pyplot, so no
GUI backend is needed (Agg renders the PNGs), no global figure list grows during a long
benchmark, and importing this module changes no one's matplotlib settings. Every
function returns the written paths, or None when there is nothing to draw: a benchmark
where every run failed still gets its tables and report.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from gan_zoo.bench import columns as C
from gan_zoo.data import is_points
from gan_zoo.io import savefig_atomic
from gan_zoo.metrics import keys

__all__ = [
    "plot_metric_by_objective", "plot_heatmaps", "plot_curves", "plot_score_curves", "plot_sample_grids",
    "plot_mixture_samples", "plot_all",
]

_STYLE = "whitegrid"
_DPI = 110


# -- naming ---------------------------------------------------------------------------------


def _slug(*parts: str) -> str:
    text = "_".join(str(p) for p in parts if p not in (None, ""))
    return re.sub(r"[^A-Za-z0-9.+=-]+", "_", text).strip("_") or "all"


def _metric_label(metric: str) -> str:
    label = C.METRIC_LABELS.get(metric, metric)
    if metric in C.LOWER_IS_BETTER:
        return f"{label} (lower is better)"
    if metric in C.HIGHER_IS_BETTER:
        return f"{label} (higher is better)"
    return label


def _figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), layout="constrained", dpi=_DPI)


def _save(fig: Figure, out_dir: Path, name: str) -> Path:
    return savefig_atomic(fig, Path(out_dir) / C.PLOTS_DIR / name, dpi=_DPI)


def _has(df: pd.DataFrame | None, *cols: str) -> bool:
    return df is not None and not df.empty and all(c in df.columns for c in cols)


def _primary_metric(dataset: str, summary_sub: pd.DataFrame) -> str | None:
    """The first rank metric of ``dataset`` that has a value."""
    available = {m for m in keys.METRIC_COLUMNS
                 if summary_sub[C.stat_column(m, "mean")].notna().any()}
    by = C.rank_metrics(dataset, available)
    return by[0] if by and by[0] in available else None


# -- metric by objective ---------------------------------------------------------------------


def plot_metric_by_objective(runs_df: pd.DataFrame, summary_df: pd.DataFrame,
                             out_dir) -> list[Path] | None:
    """Per dataset: mean of its rank metric (FID, or modes for mixtures) per configuration,
    with the summary's 95% bootstrap CI as error bars where there is one (2+ seeds) and
    each seed as a dot, best first; the title says which intervals exist.

    Bars and error bars come from ``summary_df`` so the figure and the table agree exactly.
    """
    if not _has(summary_df, C.DATASET) or not _has(runs_df, C.STATUS):
        return None
    paths = []
    for dataset, sub in summary_df.groupby(C.DATASET, sort=True):
        metric = _primary_metric(dataset, sub)
        if metric is None:
            continue
        mean, lo, hi = (C.stat_column(metric, s) for s in ("mean", "ci_low", "ci_high"))
        sub = sub[sub[mean].notna()].copy()
        one_setting = sub[[C.REGULARIZERS, C.PARAMS]].drop_duplicates().shape[0] == 1
        sub["label"] = [loss if one_setting else f"{loss} | {C.setting_label(r, p)}"
                        for loss, r, p in zip(sub[C.LOSS], sub[C.REGULARIZERS], sub[C.PARAMS])]
        labels = list(sub["label"])
        runs = runs_df[(runs_df[C.DATASET] == dataset) & (runs_df[C.STATUS] == C.OK)
                       & runs_df[metric].notna()]
        runs = runs.merge(sub[[C.LOSS, C.REGULARIZERS, C.PARAMS, "label"]],
                          on=[C.LOSS, C.REGULARIZERS, C.PARAMS])

        with sns.axes_style(_STYLE):
            fig = _figure(7.5, 1.4 + 0.38 * len(labels))
            ax = fig.subplots()
        sns.barplot(data=sub, x=mean, y="label", order=labels, hue=C.LOSS, dodge=False,
                    errorbar=None, legend=False, ax=ax, palette="tab10", alpha=0.8)
        has_ci = sub[lo].notna().to_numpy()
        if has_ci.any():
            y = np.arange(len(labels))[has_ci]
            m = sub[mean].to_numpy()[has_ci]
            err = np.vstack([m - sub[lo].to_numpy()[has_ci], sub[hi].to_numpy()[has_ci] - m])
            ax.errorbar(m, y, xerr=err, fmt="none", ecolor="black", capsize=3, lw=1)
        if not runs.empty:
            # seaborn jitters with numpy's global generator: a fixed seed (the caller's
            # state restored after) makes a rebuilt report's figure byte-identical
            state = np.random.get_state()
            np.random.seed(0)
            try:
                sns.stripplot(data=runs, x=metric, y="label", order=labels, ax=ax, color="black",
                              size=3.5, jitter=0.12, alpha=0.7)
            finally:
                np.random.set_state(state)
        ax.set_xlabel(_metric_label(metric))
        ax.set_ylabel("")
        if has_ci.all():
            what = "mean, 95% bootstrap CI of the mean; dots: seeds"
        elif has_ci.any():
            what = "mean; 95% bootstrap CI where there are 2+ seeds; dots: seeds"
        elif int(sub[C.stat_column(metric, "n")].max()) <= 1:
            what = "single-seed snapshot: one run each, no interval"
        else:
            what = "mean; dots: seeds; no interval"
        ax.set_title(f"{dataset}: {C.METRIC_LABELS.get(metric, metric)} by objective ({what})",
                     fontsize=10)
        paths.append(_save(fig, out_dir, f"{metric}-by-objective-{_slug(dataset)}.png"))
    return paths or None


# -- heatmap ---------------------------------------------------------------------------------


def plot_heatmaps(summary_df: pd.DataFrame, out_dir) -> list[Path] | None:
    """Per dataset: objective x regularizer grid of the mean rank metric, one panel per
    swept parameter setting. Blank cells are combinations without an ok run (skipped,
    diverged or failed)."""
    if not _has(summary_df, C.DATASET):
        return None
    paths = []
    for dataset, sub in summary_df.groupby(C.DATASET, sort=True):
        metric = _primary_metric(dataset, sub)
        if metric is None:
            continue
        mean = C.stat_column(metric, "mean")
        params_values = sorted(sub[C.PARAMS].unique())
        losses = sorted(sub[C.LOSS].unique())
        regs = sorted(sub[C.REGULARIZERS].unique(), key=lambda r: (r != "none", r))
        n = len(params_values)
        with sns.axes_style("white"):
            fig = _figure(min(4.0 + 1.1 * len(regs), 20) * n, 1.5 + 0.45 * len(losses))
            axes = np.atleast_1d(fig.subplots(1, n, squeeze=False)[0])
        cmap = "viridis_r" if metric in C.LOWER_IS_BETTER else "viridis"
        for ax, params in zip(axes, params_values):
            part = sub[sub[C.PARAMS] == params]
            grid = part.pivot_table(index=C.LOSS, columns=C.REGULARIZERS, values=mean,
                                    aggfunc="first", dropna=False)
            grid = grid.reindex(index=losses, columns=regs).astype(float)
            if grid.isna().all().all():
                ax.set_axis_off()
                continue
            sns.heatmap(grid, annot=True, fmt=".3g", cmap=cmap, ax=ax, linewidths=0.5,
                        cbar_kws={"label": _metric_label(metric)})
            ax.set_xlabel("regularizers")
            ax.set_ylabel("objective")
            title = dataset if params == "{}" else f"{dataset}, {_params_slug(params)}"
            ax.set_title(f"{title}: mean {C.METRIC_LABELS.get(metric, metric)}", fontsize=10)
            ax.tick_params(axis="x", labelrotation=30)
        paths.append(_save(fig, out_dir, f"heatmap-{metric}-{_slug(dataset)}.png"))
    return paths or None


# -- training curves -------------------------------------------------------------------------


def plot_curves(runs_df: pd.DataFrame, curves_df: pd.DataFrame, out_dir,
                metrics: tuple[str, ...] = (keys.FID, "d_loss", "g_loss")) -> list[Path] | None:
    """Per dataset: one row of panels per objective, one column per logged metric (FID
    over training when the curves have it); a line per setting: the mean over seeds, with
    a standard-deviation band only where a setting has 2+ seeds. Diverged runs are
    included, since their curves show where training broke down."""
    if not _has(curves_df, C.RUN_ID, C.STEP, C.METRIC, C.VALUE) or not _has(runs_df, C.RUN_ID):
        return None
    curves = curves_df[curves_df[C.METRIC].isin(metrics)]
    info = runs_df[[C.RUN_ID, C.DATASET, C.LOSS, C.REGULARIZERS, C.PARAMS, C.SEED]]
    curves = curves.merge(info, on=C.RUN_ID)
    if curves.empty:
        return None
    curves = curves.assign(value=pd.to_numeric(curves[C.VALUE], errors="coerce")
                           .replace([np.inf, -np.inf], np.nan))
    curves["setting"] = [C.setting_label(r, p) for r, p in zip(curves[C.REGULARIZERS], curves[C.PARAMS])]
    paths = []
    for dataset, sub in curves.groupby(C.DATASET, sort=True):
        losses = sorted(sub[C.LOSS].unique())
        present = [m for m in metrics if (sub[C.METRIC] == m).any()]
        if not present:
            continue
        hue_order = sorted(sub["setting"].unique(), key=lambda s: (not s.startswith("none"), s))
        replicated = bool((sub.groupby([C.LOSS, "setting"])[C.SEED].nunique() >= 2).any())
        with sns.axes_style(_STYLE):
            fig = _figure(4.2 * len(present) + 1.5, 2.2 * len(losses) + 0.6)
            axes = fig.subplots(len(losses), len(present), squeeze=False)
        for i, loss in enumerate(losses):
            for j, metric in enumerate(present):
                ax = axes[i, j]
                part = sub[(sub[C.LOSS] == loss) & (sub[C.METRIC] == metric)]
                if part[C.VALUE].notna().any():
                    sns.lineplot(data=part, x=C.STEP, y=C.VALUE, hue="setting",
                                 hue_order=hue_order, errorbar="sd" if replicated else None, ax=ax,
                                 legend=(i == 0 and j == len(present) - 1), lw=1.2)
                ax.set_title(f"{loss}: {metric}", fontsize=9)
                ax.set_xlabel("generator step" if i == len(losses) - 1 else "")
                ax.set_ylabel("")
        legend = axes[0, len(present) - 1].get_legend()
        if legend is not None:
            legend.set_title("setting")
            sns.move_legend(axes[0, len(present) - 1], "upper left", bbox_to_anchor=(1.02, 1),
                            fontsize=8, title_fontsize=8)
        what = "mean over seeds, band: sd" if replicated else "one seed per line, no band"
        fig.suptitle(f"{dataset}: training curves ({what})", fontsize=10)
        paths.append(_save(fig, out_dir, f"curves-{_slug(dataset)}.png"))
    return paths or None


def plot_score_curves(runs_df: pd.DataFrame, curves_df: pd.DataFrame, out_dir) -> list[Path] | None:
    """Per dataset: the in-training score (FID, or modes for 2-D mixtures) per objective
    over generator steps (mean over seeds) and over training seconds (one line per run),
    a row per setting, so a reader sees whether a ranking is about speed or about where
    runs end."""
    if not _has(curves_df, C.RUN_ID, C.STEP, C.METRIC, C.VALUE) or not _has(runs_df, C.RUN_ID):
        return None
    info = runs_df[[C.RUN_ID, C.DATASET, C.LOSS, C.REGULARIZERS, C.PARAMS, C.SEED]]
    pts = curves_df[curves_df[C.METRIC].isin([*C.SCORE_CURVE_METRICS, C.CURVE_WALL_S])]
    if pts.empty:
        return None
    pts = pts.assign(**{C.VALUE: pd.to_numeric(pts[C.VALUE], errors="coerce")
                        .replace([np.inf, -np.inf], np.nan)})
    wide = pts.pivot_table(index=[C.RUN_ID, C.STEP], columns=C.METRIC, values=C.VALUE,
                           aggfunc="first").reset_index().merge(info, on=C.RUN_ID)
    paths = []
    for dataset, sub in wide.groupby(C.DATASET, sort=True):
        metric = next((m for m in C.SCORE_CURVE_METRICS if m in sub and sub[m].notna().any()), None)
        if metric is None:
            continue
        sub = sub.assign(setting=[C.setting_label(r, p) for r, p in zip(sub[C.REGULARIZERS], sub[C.PARAMS])])
        settings = sorted(sub["setting"].unique(), key=lambda s: (not s.startswith("none"), s))
        losses = sorted(sub[C.LOSS].unique())
        with sns.axes_style(_STYLE):
            fig = _figure(10, 3.2 * len(settings) + 0.6)
            axes = fig.subplots(len(settings), 2, squeeze=False)
        for i, setting in enumerate(settings):
            part = sub[sub["setting"] == setting]
            sns.lineplot(data=part, x=C.STEP, y=metric, hue=C.LOSS, hue_order=losses,
                         errorbar=None, marker="o", ax=axes[i, 0], legend=False, lw=1.2)
            if C.CURVE_WALL_S in part and part[C.CURVE_WALL_S].notna().any():
                sns.lineplot(data=part, x=C.CURVE_WALL_S, y=metric, hue=C.LOSS, hue_order=losses,
                             units=C.SEED, estimator=None, marker="o", ax=axes[i, 1],
                             legend=(i == 0), lw=1.2)
            for j, xlabel in enumerate(("generator step", "training seconds")):
                ax = axes[i, j]
                ax.set_title(f"{setting}: by {xlabel}", fontsize=9)
                ax.set_xlabel(xlabel)
                ax.set_ylabel(_metric_label(metric))
                if metric == keys.FID:
                    ax.set_yscale("log")
        if axes[0, 1].get_legend() is not None:
            sns.move_legend(axes[0, 1], "upper left", bbox_to_anchor=(1.02, 1), fontsize=8,
                            title_fontsize=8, title="objective")
        fig.suptitle(f"{dataset}: {_metric_label(metric)} during training (small-sample score; "
                     "left: mean over seeds)", fontsize=10)
        paths.append(_save(fig, out_dir, f"score-curves-{_slug(dataset)}.png"))
    return paths or None


# -- samples ---------------------------------------------------------------------------------


def _representative(sub: pd.DataFrame, filename: str) -> pd.Series | None:
    """Seed 0's run if ok, else the lowest ok seed, else any run that left ``filename``."""
    sub = sub[[bool(d) and (Path(d) / filename).is_file() for d in sub[C.RUN_DIR].fillna("")]]
    if sub.empty:
        return None
    sub = sub.assign(_ok=(sub[C.STATUS] != C.OK).astype(int)).sort_values(["_ok", C.SEED])
    return sub.iloc[0]


def _objective_order(summary_df: pd.DataFrame | None, dataset: str, regs: str, params: str,
                     losses: list[str]) -> list[str]:
    """Objectives best first by the summary's rank; unranked ones after, by name."""
    rank = {}
    if _has(summary_df, C.RANK):
        part = summary_df[(summary_df[C.DATASET] == dataset) & (summary_df[C.REGULARIZERS] == regs)
                          & (summary_df[C.PARAMS] == params)]
        rank = {l: r for l, r in zip(part[C.LOSS], part[C.RANK]) if not pd.isna(r)}
    return sorted(losses, key=lambda l: (rank.get(l, math.inf), l))


def _panel_title(row: pd.Series, extra: str = "") -> str:
    title = str(row[C.LOSS])
    if row[C.STATUS] != C.OK:
        title += f" ({row[C.STATUS]})"
    elif not pd.isna(row[C.SEED]) and int(row[C.SEED]) != 0:
        title += f" (seed {int(row[C.SEED])})"
    return title + extra


def _panels(n: int, panel: float, aspect: float = 1.0, extra_h: float = 0.6):
    """A grid of ``n`` panels, 5 per row; ``aspect`` = height / width of one panel."""
    ncols = min(5, n)
    nrows = math.ceil(n / ncols)
    fig = _figure(panel * ncols, panel * aspect * nrows + 0.3 * nrows + extra_h)
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for ax in axes[n:]:
        ax.set_axis_off()
    return fig, axes


def plot_sample_grids(runs_df: pd.DataFrame, out_dir,
                      summary_df: pd.DataFrame | None = None) -> list[Path] | None:
    """Per image dataset and setting: each objective's samples.png side by side, titled by
    objective, best ranked first (seed 0's run, or the first ok seed)."""
    import matplotlib.image as mpimg

    if not _has(runs_df, C.RUN_DIR, C.DATASET):
        return None
    images = runs_df[~runs_df[C.DATASET].map(is_points)]
    paths = []
    for (dataset, regs, params), sub in images.groupby(
            [C.DATASET, C.REGULARIZERS, C.PARAMS], sort=True):
        chosen = {loss: _representative(g, C.SAMPLES_PNG) for loss, g in sub.groupby(C.LOSS)}
        chosen = {k: v for k, v in chosen.items() if v is not None}
        if not chosen:
            continue
        order = _objective_order(summary_df, dataset, regs, params, list(chosen))
        grids = {loss: mpimg.imread(Path(chosen[loss][C.RUN_DIR]) / C.SAMPLES_PNG) for loss in order}
        first = grids[order[0]]
        fig, axes = _panels(len(order), 2.6, aspect=first.shape[0] / first.shape[1])
        for ax, loss in zip(axes, order):
            row = chosen[loss]
            ax.imshow(grids[loss], cmap="gray", interpolation="nearest")
            ax.set_title(_panel_title(row), fontsize=9)
            ax.set_axis_off()
        fig.suptitle(f"{dataset}, {C.setting_prose(regs, params)}: samples by objective", fontsize=10)
        paths.append(_save(fig, out_dir, f"samples-{_slug(dataset, regs, _params_slug(params))}.png"))
    return paths or None


def _params_slug(params: str) -> str:
    return "" if params in ("{}", "", None) else C.setting_label("", params).lstrip(", ")


def plot_mixture_samples(runs_df: pd.DataFrame, out_dir,
                         summary_df: pd.DataFrame | None = None) -> list[Path] | None:
    """Per 2-D mixture and setting: generated points (samples.npz) of each objective with
    the true mode centres marked, titled with the run's modes covered and high-quality share."""
    if not _has(runs_df, C.RUN_DIR, C.DATASET):
        return None
    mixtures = runs_df[runs_df[C.DATASET].map(is_points)]
    if mixtures.empty:
        return None
    from gan_zoo.data import mixture_centers  # torch import only when mixtures exist

    paths = []
    for (dataset, regs, params), sub in mixtures.groupby(
            [C.DATASET, C.REGULARIZERS, C.PARAMS], sort=True):
        chosen = {loss: _representative(g, C.SAMPLES_NPZ) for loss, g in sub.groupby(C.LOSS)}
        chosen = {k: v for k, v in chosen.items() if v is not None}
        if not chosen:
            continue
        centers = np.asarray(mixture_centers(dataset), dtype=float)
        lim = float(np.abs(centers).max()) + 1.5
        order = _objective_order(summary_df, dataset, regs, params, list(chosen))
        with sns.axes_style("white"):
            fig, axes = _panels(len(order), 2.8, extra_h=0.5)
        for ax, loss in zip(axes, order):
            row = chosen[loss]
            x = _read_samples(Path(row[C.RUN_DIR]) / C.SAMPLES_NPZ)
            # modes as open red rings under the points, so they never hide what G made
            ax.scatter(centers[:, 0], centers[:, 1], marker="o", s=70, facecolors="none",
                       edgecolors="tab:red", lw=1.2, zorder=1)
            ax.scatter(x[:, 0], x[:, 1], s=3, alpha=0.35, color="tab:blue", lw=0,
                       rasterized=True, zorder=2)
            ax.set_xlim(-lim, lim)
            ax.set_ylim(-lim, lim)
            ax.set_aspect("equal")
            ax.set_xticks([])
            ax.set_yticks([])
            extra = ""
            if not pd.isna(row.get(keys.MODES, math.nan)):
                total = row.get(keys.MODES_TOTAL)
                total = len(centers) if pd.isna(total) else int(total)
                extra += f"\nmodes {row[keys.MODES]:.0f}/{total}"
            if not pd.isna(row.get(keys.HQ_FRAC, math.nan)):
                extra += f", HQ {100 * row[keys.HQ_FRAC]:.0f}%"
            ax.set_title(_panel_title(row, extra), fontsize=9)
        fig.suptitle(f"{dataset}, {C.setting_prose(regs, params)}: generated points "
                     "(red rings: true modes)", fontsize=10)
        paths.append(_save(fig, out_dir, f"mixture-{_slug(dataset, regs, _params_slug(params))}.png"))
    return paths or None


# -- all -------------------------------------------------------------------------------------


def plot_all(runs_df: pd.DataFrame, curves_df: pd.DataFrame, summary_df: pd.DataFrame,
             out_dir) -> dict[str, list[Path]]:
    """Every figure; keys name the kind, kinds with nothing to draw are left out."""
    made = {
        "metric": plot_metric_by_objective(runs_df, summary_df, out_dir),
        "heatmap": plot_heatmaps(summary_df, out_dir),
        "curves": plot_curves(runs_df, curves_df, out_dir),
        "score_curves": plot_score_curves(runs_df, curves_df, out_dir),
        "samples": plot_sample_grids(runs_df, out_dir, summary_df),
        "mixtures": plot_mixture_samples(runs_df, out_dir, summary_df),
    }
    return {k: v for k, v in made.items() if v}


def _read_samples(path: Path) -> np.ndarray:
    """A run's stored 2-D samples, read as plain arrays; a malformed file is one line."""
    from gan_zoo.errors import GanZooError

    try:
        with np.load(path, allow_pickle=False) as npz:
            return np.asarray(npz["x"], dtype=float).reshape(-1, 2)
    except (OSError, ValueError, KeyError, EOFError) as exc:
        raise GanZooError(f"{path}: not a readable samples file ({type(exc).__name__}); "
                          "remove it and run the same bench command again to rewrite it") from None
