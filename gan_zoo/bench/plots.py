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
    "plot_mixture_samples", "plot_all", "read_samples",
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


def _medians(runs_df: pd.DataFrame, dataset: str, metric: str) -> pd.DataFrame:
    """Per configuration of ``dataset``: median of ``metric`` over the ok seeds, the 95%
    percentile-bootstrap interval of the median (NaN with fewer than 2 seeds) and n."""
    from gan_zoo.bench.stats import bootstrap_ci

    ok = runs_df[(runs_df[C.DATASET] == dataset) & (runs_df[C.STATUS] == C.OK)]
    rows = []
    for (loss, regs, params), g in ok.groupby([C.LOSS, C.REGULARIZERS, C.PARAMS], sort=True):
        v = pd.to_numeric(g[metric], errors="coerce").dropna().to_numpy(float)
        if v.size == 0:
            continue
        lo, hi = bootstrap_ci(v, statistic=np.median)
        rows.append({C.LOSS: loss, C.REGULARIZERS: regs, C.PARAMS: params, "median": float(np.median(v)),
                     "lo": lo, "hi": hi, "n": int(v.size)})
    return pd.DataFrame(rows, columns=[C.LOSS, C.REGULARIZERS, C.PARAMS, "median", "lo", "hi", "n"])


def plot_metric_by_objective(runs_df: pd.DataFrame, summary_df: pd.DataFrame,
                             out_dir) -> list[Path] | None:
    """Per dataset: the median over seeds of its rank metric (FID, or modes for mixtures)
    per configuration, with the 95% percentile-bootstrap interval of the median where
    there are 2+ seeds, and each seed as a dot, best first; the title names the statistic
    and which intervals exist. Medians, because the readings and tests speak of medians:
    a mean bar can sit where no seed lies (a bimodal objective)."""
    if not _has(summary_df, C.DATASET) or not _has(runs_df, C.STATUS):
        return None
    paths = []
    for dataset, sub in summary_df.groupby(C.DATASET, sort=True):
        metric = _primary_metric(dataset, sub)
        if metric is None:
            continue
        med = _medians(runs_df, dataset, metric)
        if med.empty:
            continue
        ascending = metric not in C.HIGHER_IS_BETTER
        med = med.sort_values(["median", C.LOSS], ascending=[ascending, True], kind="stable")
        one_setting = med[[C.REGULARIZERS, C.PARAMS]].drop_duplicates().shape[0] == 1
        med["label"] = [loss if one_setting else f"{loss} | {C.setting_label(r, p)}"
                        for loss, r, p in zip(med[C.LOSS], med[C.REGULARIZERS], med[C.PARAMS])]
        labels = list(med["label"])
        runs = runs_df[(runs_df[C.DATASET] == dataset) & (runs_df[C.STATUS] == C.OK)
                       & runs_df[metric].notna()]
        runs = runs.merge(med[[C.LOSS, C.REGULARIZERS, C.PARAMS, "label"]],
                          on=[C.LOSS, C.REGULARIZERS, C.PARAMS])

        with sns.axes_style(_STYLE):
            fig = _figure(7.5, 1.4 + 0.38 * len(labels))
            ax = fig.subplots()
        sns.barplot(data=med, x="median", y="label", order=labels, hue=C.LOSS, dodge=False,
                    errorbar=None, legend=False, ax=ax, palette="tab10", alpha=0.8)
        has_ci = med["lo"].notna().to_numpy()
        if has_ci.any():
            y = np.arange(len(labels))[has_ci]
            m = med["median"].to_numpy()[has_ci]
            err = np.vstack([m - med["lo"].to_numpy()[has_ci], med["hi"].to_numpy()[has_ci] - m])
            ax.errorbar(m, y, xerr=np.clip(err, 0, None), fmt="none", ecolor="black", capsize=3, lw=1)
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
            what = "bar: median over seeds, 95% bootstrap CI of the median; dots: seeds"
        elif has_ci.any():
            what = "bar: median over seeds; 95% bootstrap CI of the median where there are 2+ seeds; dots: seeds"
        elif int(med["n"].max()) <= 1:
            what = "single-seed snapshot: one run each, no interval"
        else:
            what = "bar: median over seeds; dots: seeds; no interval"
        # wrapped: long setting labels leave the axes (and its centred title) narrow
        what = f"({what})".replace("; ", ";\n") if len(what) > 60 else f"({what})"
        ax.set_title(f"{dataset}: {C.METRIC_LABELS.get(metric, metric)} by objective\n{what}",
                     fontsize=10)
        paths.append(_save(fig, out_dir, f"{metric}-by-objective-{_slug(dataset)}.png"))
    return paths or None


# -- heatmap ---------------------------------------------------------------------------------


def plot_heatmaps(summary_df: pd.DataFrame, out_dir, runs_df: pd.DataFrame | None = None) -> list[Path] | None:
    """Per dataset: objective x regularizer grid of the rank metric, one panel per swept
    parameter setting: the median over ok seeds when ``runs_df`` is given (the statistic
    the readings use), else the summary's mean; the title and colour bar say which.
    Blank cells are combinations without an ok run (skipped, diverged or failed)."""
    if not _has(summary_df, C.DATASET):
        return None
    paths = []
    for dataset, sub in summary_df.groupby(C.DATASET, sort=True):
        metric = _primary_metric(dataset, sub)
        if metric is None:
            continue
        mean = C.stat_column(metric, "mean")
        stat = "mean"
        if runs_df is not None and _has(runs_df, C.DATASET, C.STATUS, metric):
            med = _medians(runs_df, dataset, metric)
            if not med.empty:
                sub = sub.merge(med[[C.LOSS, C.REGULARIZERS, C.PARAMS, "median"]],
                                on=[C.LOSS, C.REGULARIZERS, C.PARAMS], how="left")
                mean, stat = "median", "median"
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
                        cbar_kws={"label": f"{stat} over seeds: {_metric_label(metric)}"})
            ax.set_xlabel("regularizers")
            ax.set_ylabel("objective")
            title = dataset if params == "{}" else f"{dataset}, {_params_slug(params)}"
            ax.set_title(f"{title}: {stat} {C.METRIC_LABELS.get(metric, metric)} over seeds", fontsize=10)
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
        scale = _curve_scale(dataset, runs_df, keys.FID) if keys.FID in present else ""
        fig.suptitle(f"{dataset}: training curves ({what})" + (f"\nfid: {scale}" if scale else ""),
                     fontsize=10)
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
                for value, text in _floor_lines(dataset, metric):
                    ax.axhline(value, color="gray", ls="--", lw=1, zorder=0)
                    ax.annotate(text, (0.01, value), xycoords=("axes fraction", "data"), fontsize=7,
                                color="dimgray", va="bottom")
        if axes[0, 1].get_legend() is not None:
            sns.move_legend(axes[0, 1], "upper left", bbox_to_anchor=(1.02, 1), fontsize=8,
                            title_fontsize=8, title="objective")
        fig.suptitle(f"{dataset}: {_metric_label(metric)} during training (left: mean over seeds)\n"
                     + _curve_scale(dataset, runs_df, metric), fontsize=10)
        paths.append(_save(fig, out_dir, f"score-curves-{_slug(dataset)}.png"))
    return paths or None


def _floor_lines(dataset: str, metric: str) -> list[tuple[float, str]]:
    """Noise-floor lines of a 2-D mixture's mode count (its in-training points score
    2,500 samples, as the final score): what a uniform spray and a line tracer score."""
    if metric not in (keys.MODES, keys.MODES_PUBLISHED) or not is_points(dataset):
        return []
    from gan_zoo.metrics.modes import dataset_noise_floor

    floor = dataset_noise_floor(dataset)
    names = {"uniform spray": "uniform spray", "border tracer": "line tracer"}
    return [(v[metric], f"noise floor: {names[g]} {v[metric]:.1f}") for g, v in floor.items()]


def _curve_scale(dataset: str, runs_df: pd.DataFrame, metric: str) -> str:
    """What scale an in-training score is on (FID: its sample count against the final
    score's); for mode counts, the rule they were counted by."""
    from gan_zoo.bench.reading import curve_samples, curve_scale_text

    if metric == keys.FID:
        return curve_scale_text(dataset, runs_df, curve_samples(runs_df[runs_df[C.DATASET] == dataset])
                                .get(dataset))
    if metric == keys.MODES_PUBLISHED:
        return ("modes by the published rule (one high-quality sample; these runs were scored "
                "before the noise-floor rule): junk points pass it too")
    if metric == keys.MODES:
        return "modes above the noise floor of a uniform spray and a line tracer"
    return "high-quality share (these runs' in-training mode counts used an older rule)" \
        if metric == keys.HQ_FRAC else ""


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


def _panels(n: int, panel: float, aspect: float = 1.0, extra_h: float = 0.6, ncols: int = 5,
            title_lines: int = 1):
    """A grid of ``n`` panels, ``ncols`` per row; ``aspect`` = height / width of one panel;
    ``title_lines``: lines of each panel's caption (room is left for them)."""
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    fig = _figure(panel * ncols, panel * aspect * nrows + 0.3 * title_lines * nrows + extra_h)
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for ax in axes[n:]:
        ax.set_axis_off()
    return fig, axes


def _extremes(sub: pd.DataFrame, metric: str | None, filename: str) -> list[tuple[str, pd.Series, bool, str]]:
    """The best and the worst ok seed of one objective by ``metric`` (ties: lower seed):
    ``[(role, row, has_file, note)]``; one entry when every seed ties. When neither
    seed's file was kept, the kept representative (seed 0, else the first ok seed) with a
    note giving its rank; an extreme whose file was not kept is named in the note of the
    other (never drawn as an empty panel); without a metric value, the representative."""
    ok = sub[sub[C.STATUS] == C.OK]
    if metric is not None and metric in ok and ok[metric].notna().any():
        ok = ok[ok[metric].notna()].assign(_v=pd.to_numeric(ok[metric], errors="coerce"))
        higher = metric in C.HIGHER_IS_BETTER
        order = ok.sort_values(["_v", C.SEED], ascending=[not higher, True], kind="stable")
        best = order.iloc[0]
        worst = ok.sort_values(["_v", C.SEED], ascending=[higher, True], kind="stable").iloc[0]
        picks = [("best", best), ("worst", worst)]
        if ok["_v"].nunique() == 1:
            picks = [("all seeds tie,", best)]
        if len(ok) == 1:
            picks = [("only seed", best)]
    else:
        row = _representative(sub, filename)
        if row is None:
            return []
        return [("seed", row, True, "")]
    out = [(role, row, _kept(row, filename)) for role, row in picks]
    missing = [f"{role} (seed {int(row[C.SEED])}, {_fmt(row['_v'])})" for role, row, has in out if not has]
    kept = [(role, row) for role, row, has in out if has]
    if kept:  # the kept extreme(s); a missing one is named in the caption, not drawn empty
        note = f"{' and '.join(missing)}: grid not kept" if missing else ""
        return [(role, row, True, note if i == 0 else "") for i, (role, row) in enumerate(kept)]
    row = _representative(sub, filename)  # neither kept: a kept seed, with its rank
    if row is None:
        return []
    ranked = list(order[C.RUN_ID])
    where = f"rank {ranked.index(row[C.RUN_ID]) + 1} of {len(ranked)}; " if row[C.RUN_ID] in ranked else ""
    return [("kept", row, True, f"{where}{' and '.join(missing)}: grids not kept")]


def _kept(row: pd.Series, filename: str) -> bool:
    d = row[C.RUN_DIR]
    return isinstance(d, str) and bool(d) and (Path(d) / filename).is_file()


def _pick_caption(loss: str, role: str, row: pd.Series, metric: str | None, note: str = "") -> str:
    seed = "" if pd.isna(row[C.SEED]) else f"seed {int(row[C.SEED])}"
    head = f"{loss}: {role} {seed}".replace("seed seed", "seed").strip()
    if row[C.STATUS] != C.OK:
        head += f" ({row[C.STATUS]})"
    if metric is not None and not pd.isna(row.get(metric, math.nan)):
        head += f"\n{C.METRIC_LABELS.get(metric, metric)} {_fmt(row[metric])}"
    return head + (f"\n{_wrap(note)}" if note else "")


def _wrap(text: str, width: int = 38) -> str:
    """A caption note in lines that fit one panel at the shipped size."""
    import textwrap

    return "\n".join(textwrap.wrap(f"({text})", width))


def _fmt(v) -> str:
    from gan_zoo.bench.reading import fmt_number

    return fmt_number(float(v))


def _study_metric(summary_df: pd.DataFrame | None, runs: pd.DataFrame, dataset: str) -> str | None:
    if _has(summary_df, C.DATASET):
        sub = summary_df[summary_df[C.DATASET] == dataset]
        if not sub.empty:
            return _primary_metric(dataset, sub)
    by = C.rank_metrics(dataset, {m for m in keys.METRIC_COLUMNS if m in runs and runs[m].notna().any()})
    return by[0] if by else None


def plot_sample_grids(runs_df: pd.DataFrame, out_dir,
                      summary_df: pd.DataFrame | None = None) -> list[Path] | None:
    """Per image dataset and setting: the samples.png of each objective's best and worst
    seed by the study's score (FID), side by side, objectives best ranked first, each
    panel captioned with objective, seed and score. A seed whose grid was not kept gets a
    panel saying so instead of another seed's grid."""
    import matplotlib.image as mpimg

    if not _has(runs_df, C.RUN_DIR, C.DATASET):
        return None
    images = runs_df[~runs_df[C.DATASET].map(is_points)]
    paths = []
    for (dataset, regs, params), sub in images.groupby(
            [C.DATASET, C.REGULARIZERS, C.PARAMS], sort=True):
        metric = _study_metric(summary_df, sub, dataset)
        chosen = {loss: _extremes(g, metric, C.SAMPLES_PNG) for loss, g in sub.groupby(C.LOSS)}
        chosen = {k: v for k, v in chosen.items() if any(p[2] for p in v)}
        if not chosen:
            continue
        order = _objective_order(summary_df, dataset, regs, params, list(chosen))
        panels = [(loss, *pick) for loss in order for pick in chosen[loss]]
        first = next(mpimg.imread(Path(row[C.RUN_DIR]) / C.SAMPLES_PNG) for _, _, row, has, _ in panels if has)
        notes = any(note for *_, note in panels)
        fig, axes = _panels(len(panels), 3.2 if notes else 2.9, aspect=first.shape[0] / first.shape[1],
                            ncols=4, title_lines=5 if notes else 2)
        for ax, (loss, role, row, has, note) in zip(axes, panels):
            caption = _pick_caption(loss, role, row, metric, note)
            ax.imshow(mpimg.imread(Path(row[C.RUN_DIR]) / C.SAMPLES_PNG), cmap="gray",
                      interpolation="nearest")
            ax.set_axis_off()
            ax.set_title(caption, fontsize=10 if note else 11)
        fig.suptitle(f"{dataset}, {C.setting_prose(regs, params)}: best and worst seed of each "
                     f"objective by {C.METRIC_LABELS.get(metric, metric) if metric else 'seed'}",
                     fontsize=12)
        paths.append(_save(fig, out_dir, f"samples-{_slug(dataset, regs, _params_slug(params))}.png"))
    return paths or None


def _params_slug(params: str) -> str:
    return "" if params in ("{}", "", None) else C.setting_label("", params).lstrip(", ")


def plot_mixture_samples(runs_df: pd.DataFrame, out_dir,
                         summary_df: pd.DataFrame | None = None) -> list[Path] | None:
    """Per 2-D mixture and setting: generated points (samples.npz) of each objective's
    best and worst seed by the headline mode count, with the true mode centres marked,
    each panel captioned with the run's modes (headline and published rule) and
    high-quality share."""
    if not _has(runs_df, C.RUN_DIR, C.DATASET):
        return None
    mixtures = runs_df[runs_df[C.DATASET].map(is_points)]
    if mixtures.empty:
        return None
    from gan_zoo.data import mixture_centers  # torch import only when mixtures exist

    paths = []
    for (dataset, regs, params), sub in mixtures.groupby(
            [C.DATASET, C.REGULARIZERS, C.PARAMS], sort=True):
        metric = _study_metric(summary_df, sub, dataset)
        chosen = {loss: _extremes(g, metric, C.SAMPLES_NPZ) for loss, g in sub.groupby(C.LOSS)}
        chosen = {k: v for k, v in chosen.items() if any(p[2] for p in v)}
        if not chosen:
            continue
        centers = np.asarray(mixture_centers(dataset), dtype=float)
        lim = float(np.abs(centers).max()) + 1.5
        order = _objective_order(summary_df, dataset, regs, params, list(chosen))
        panels = [(loss, *pick) for loss in order for pick in chosen[loss]]
        notes = any(note for *_, note in panels)
        with sns.axes_style("white"):
            fig, axes = _panels(len(panels), 3.2 if notes else 2.9, extra_h=0.5, ncols=4,
                                title_lines=6 if notes else 3)
        for ax, (loss, role, row, has, note) in zip(axes, panels):
            seed = "" if pd.isna(row[C.SEED]) else f" seed {int(row[C.SEED])}"
            title = f"{loss}: {role}{seed}".replace("seed seed", "seed")
            total = row.get(keys.MODES_TOTAL)
            total = len(centers) if pd.isna(total) else int(total)
            parts = []
            if not pd.isna(row.get(keys.MODES, math.nan)):
                parts.append(f"modes {row[keys.MODES]:.0f}/{total}")
            if not pd.isna(row.get(keys.MODES_PUBLISHED, math.nan)):
                parts.append(f"published rule {row[keys.MODES_PUBLISHED]:.0f}")
            hq = "" if pd.isna(row.get(keys.HQ_FRAC, math.nan)) else f"HQ {100 * row[keys.HQ_FRAC]:.0f}%"
            caption = (title + ("\n" + ", ".join(parts) if parts else "") + (f"\n{hq}" if hq else "")
                       + (f"\n{_wrap(note)}" if note else ""))
            x = read_samples(Path(row[C.RUN_DIR]) / C.SAMPLES_NPZ)
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
            ax.set_title(caption, fontsize=10)
        fig.suptitle(f"{dataset}, {C.setting_prose(regs, params)}: generated points of each objective's "
                     "best and worst seed by modes covered (red rings: true modes)", fontsize=12)
        paths.append(_save(fig, out_dir, f"mixture-{_slug(dataset, regs, _params_slug(params))}.png"))
    return paths or None


# -- all -------------------------------------------------------------------------------------


def plot_all(runs_df: pd.DataFrame, curves_df: pd.DataFrame, summary_df: pd.DataFrame,
             out_dir) -> dict[str, list[Path]]:
    """Every figure; keys name the kind, kinds with nothing to draw are left out."""
    made = {
        "metric": plot_metric_by_objective(runs_df, summary_df, out_dir),
        "heatmap": plot_heatmaps(summary_df, out_dir, runs_df),
        "curves": plot_curves(runs_df, curves_df, out_dir),
        "score_curves": plot_score_curves(runs_df, curves_df, out_dir),
        "samples": plot_sample_grids(runs_df, out_dir, summary_df),
        "mixtures": plot_mixture_samples(runs_df, out_dir, summary_df),
    }
    return {k: v for k, v in made.items() if v}


def read_samples(path: Path) -> np.ndarray:
    """A run's stored 2-D samples, read as plain arrays; a malformed file is one line."""
    from gan_zoo.errors import GanZooError

    try:
        with np.load(path, allow_pickle=False) as npz:
            return np.asarray(npz["x"], dtype=float).reshape(-1, 2)
    except (OSError, ValueError, KeyError, EOFError) as exc:
        raise GanZooError(f"{path}: not a readable samples file ({type(exc).__name__}); "
                          "remove it and run the same bench command again to rewrite it") from None
