"""report.md: the tables, the figures and a short generated reading of the results.

The reading states only what the numbers support: the best configuration by the rank,
the pairwise differences that survive the Holm correction, and every run that did not
finish normally with its reason. With fewer than three seeds it says that no
significance test was possible instead of implying a winner.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Iterable

import pandas as pd

from gan_zoo import __version__
from gan_zoo.bench import columns as C
from gan_zoo.data import dataset_info, is_points
from gan_zoo.bench.plots import plot_all, setting_label, setting_prose
from gan_zoo.bench.tables import collect_runs, compute_stats, has_replicates, summarize, write_tables
from gan_zoo.errors import GanZooError
from gan_zoo.io import write_text_atomic
from gan_zoo.metrics import keys

__all__ = ["markdown_table", "write_report", "rebuild"]

#: Longest list of runs spelled out in the reading; the rest are counted.
MAX_LISTED = 12
#: Pairwise rows shown in full; above this only the significant ones are shown.
MAX_PAIR_ROWS = 30
#: Per-run spreads (IS and KID over splits) stay in the CSV; the report shows seed spreads.
_REPORT_SKIP = {keys.IS_STD, keys.KID_STD}


# -- markdown --------------------------------------------------------------------------------


def fmt_number(v) -> str:
    """Compact number for tables: 4 significant digits below 100, one decimal above."""
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int) or (isinstance(v, float) and v.is_integer() and abs(v) < 1e6):
        return str(int(v))
    v = float(v)
    return f"{v:.1f}" if abs(v) >= 100 else f"{v:.4g}"


def _cell(v) -> str:
    if isinstance(v, str):
        text = v
    else:
        try:
            text = fmt_number(v) if isinstance(v, (int, float, bool)) or pd.isna(v) else str(v)
        except (TypeError, ValueError):
            text = str(v)
    return " ".join(text.split()).replace("|", "\\|")


def markdown_table(df: pd.DataFrame) -> str:
    """A GitHub-flavoured markdown table; numeric columns right-aligned, NaN empty.

    Written here because ``DataFrame.to_markdown`` needs the optional ``tabulate``.
    """
    if df is None or df.empty:
        return "_(none)_\n"
    header = [_cell(str(c)) for c in df.columns]
    align = ["---:" if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])
             else "---" for c in df.columns]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    for row in df.itertuples(index=False):
        lines.append("| " + " | ".join(_cell(v) for v in row) + " |")
    return "\n".join(lines) + "\n"


# -- pieces of the reading -------------------------------------------------------------------


def _metric_name(metric: str) -> str:
    return C.METRIC_LABELS.get(metric, metric)


def _config(row, with_loss: bool = True) -> str:
    setting = setting_label(row[C.REGULARIZERS], row[C.PARAMS])
    return f"{row[C.LOSS]} ({setting})" if with_loss else setting


def _seeds(values: Iterable) -> str:
    seeds = sorted(int(s) for s in values if not pd.isna(s))
    return ("seed " if len(seeds) == 1 else "seeds ") + ", ".join(map(str, seeds))


def _ci_text(row, metric: str) -> str:
    lo, hi = row[C.stat_column(metric, "ci_low")], row[C.stat_column(metric, "ci_high")]
    n = int(row[C.stat_column(metric, "n")])
    if n < 2 or pd.isna(lo):
        return "one seed, so no confidence interval"
    return f"95% CI {fmt_number(lo)} to {fmt_number(hi)}, {n} seeds"


def _best_lines(dataset: str, summary: pd.DataFrame, stats: pd.DataFrame) -> list[str]:
    ranked = summary[summary[C.RANK].notna()]
    if ranked.empty:
        names = " or ".join(_metric_name(m) for m in C.rank_metrics(dataset)) or "a rank metric"
        return [f"No ok run on **{dataset}** has a value of {names}, so there is no best "
                "objective (were the runs evaluated?)."]
    by = ranked[C.RANK_BY].iloc[0].split(",")
    metric = by[0]
    best = ranked[ranked[C.RANK] == ranked[C.RANK].min()]
    lines = []
    for _, row in best.iterrows():
        mean = row[C.stat_column(metric, "mean")]
        line = (f"Best on **{dataset}** by {_metric_name(metric)}"
                f"{' (ties broken by ' + ', '.join(_metric_name(m) for m in by[1:]) + ')' if len(by) > 1 else ''}: "
                f"**{row[C.LOSS]}** with {setting_prose(row[C.REGULARIZERS], row[C.PARAMS])}, "
                f"mean {fmt_number(mean)} ({_ci_text(row, metric)}).")
        lines.append(line)
    if len(best) > 1:
        lines.append(f"{len(best)} configurations tie for first place on {dataset}.")
    # Is the lead over the runner-up in the same setting significant?
    row = best.iloc[0]
    same = ranked[(ranked[C.REGULARIZERS] == row[C.REGULARIZERS]) & (ranked[C.PARAMS] == row[C.PARAMS])
                  & (ranked[C.LOSS] != row[C.LOSS])]
    if not same.empty and stats is not None and not stats.empty:
        second = same.sort_values(C.RANK).iloc[0][C.LOSS]
        pair = stats[(stats[C.DATASET] == dataset) & (stats[C.METRIC] == metric)
                     & (stats[C.REGULARIZERS] == row[C.REGULARIZERS]) & (stats[C.PARAMS] == row[C.PARAMS])
                     & (((stats[C.A] == row[C.LOSS]) & (stats[C.B] == second))
                        | ((stats[C.A] == second) & (stats[C.B] == row[C.LOSS])))]
        if not pair.empty:
            p = pair.iloc[0]
            verdict = "is significant" if bool(p[C.SIGNIFICANT]) else "is not significant"
            lines.append(f"Its lead over the runner-up {second} in the same setting {verdict} "
                         f"(Mann-Whitney U, Holm-adjusted p = {fmt_number(p[C.P_HOLM])}).")
    return lines


def _significance_lines(dataset: str, summary: pd.DataFrame, stats: pd.DataFrame) -> list[str]:
    max_seeds = int(summary[C.N_OK].max()) if not summary.empty else 0
    if max_seeds < C.MIN_SEEDS_FOR_TEST:
        seeds = "one seed" if max_seeds <= 1 else f"at most {max_seeds} seeds"
        return [f"With {seeds} per configuration on {dataset}, no significance test was possible "
                f"(at least {C.MIN_SEEDS_FOR_TEST} seeds per objective are needed); the ranking "
                "may change with other seeds."]
    part = stats[stats[C.DATASET] == dataset] if stats is not None and not stats.empty else stats
    if part is None or part.empty:
        return [f"No pair of objectives on {dataset} shares a setting with at least "
                f"{C.MIN_SEEDS_FOR_TEST} ok seeds each, so no pairwise test was run."]
    sig = part[part[C.SIGNIFICANT].astype(bool)]
    n = len(part)
    if sig.empty:
        return [f"None of the {n} pairwise differences on {dataset} is significant after Holm "
                f"correction (two-sided Mann-Whitney U across seeds, alpha {C.ALPHA})."]
    lines = [f"{len(sig)} of {n} pairwise differences on {dataset} are significant after Holm "
             f"correction (two-sided Mann-Whitney U across seeds, alpha {C.ALPHA}):"]
    for i, (_, r) in enumerate(sig.sort_values(C.P_HOLM).iterrows()):
        if i == MAX_LISTED:
            lines.append(f"  - ... and {len(sig) - MAX_LISTED} more (see {C.STATS_CSV}).")
            break
        worse = r[C.B] if r[C.BETTER] == r[C.A] else r[C.A]
        better = r[C.BETTER] or r[C.A]
        med = {r[C.A]: r[C.MEDIAN_A], r[C.B]: r[C.MEDIAN_B]}
        lines.append(f"  - {better} beats {worse} on {_metric_name(r[C.METRIC])} with "
                     f"{setting_prose(r[C.REGULARIZERS], r[C.PARAMS])} (median "
                     f"{fmt_number(med[better])} vs {fmt_number(med[worse])}, "
                     f"p_holm = {fmt_number(r[C.P_HOLM])}).")
    return lines


def _status_lines(runs: pd.DataFrame) -> list[str]:
    lines = []
    diverged = runs[runs[C.STATUS] == C.DIVERGED]
    for i, (_, r) in enumerate(diverged.iterrows()):
        if i == MAX_LISTED:
            lines.append(f"- ... and {len(diverged) - MAX_LISTED} more diverged runs (see {C.RUNS_CSV}).")
            break
        planned = f" of {int(r[C.STEPS_PLANNED])}" if not pd.isna(r[C.STEPS_PLANNED]) else ""
        at = r[C.DIVERGED_STEP] if not pd.isna(r[C.DIVERGED_STEP]) else r[C.STEPS]
        step = f"at step {int(at)}{planned}" if not pd.isna(at) else "(step unknown)"
        reason = f": {r[C.REASON]}" if r[C.REASON] else ""
        lines.append(f"- Diverged: {r[C.DATASET]} {_config(r)} {_seeds([r[C.SEED]])} {step}{reason}.")
    for status, word in ((C.SKIPPED, "Skipped"), (C.FAILED, "Failed")):
        part = runs[runs[C.STATUS] == status]
        groups = list(part.groupby([C.DATASET, C.LOSS, C.REGULARIZERS, C.PARAMS, C.REASON], sort=True))
        for i, ((dataset, loss, regs, params, reason), g) in enumerate(groups):
            if i == MAX_LISTED:
                lines.append(f"- ... and {len(groups) - MAX_LISTED} more {status} configurations "
                             f"(see {C.RUNS_CSV}).")
                break
            why = reason or "no reason recorded"
            lines.append(f"- {word}: {dataset} {loss} ({setting_label(regs, params)}) "
                         f"{_seeds(g[C.SEED])}: {why}.")
    return lines


def _eval_lines(runs: pd.DataFrame) -> list[str]:
    """Say so when image metrics used fewer samples than the protocol (a quick budget)."""
    lines = []
    ok = runs[(runs[C.STATUS] == C.OK) & ~runs[C.DATASET].map(is_points)]
    for dataset, g in ok.groupby(C.DATASET, sort=True):
        n = pd.to_numeric(g[keys.EVAL_SAMPLES], errors="coerce").dropna()
        protocol = dataset_info(dataset).eval_samples
        if not n.empty and protocol and n.min() < protocol:
            lines.append(f"Metrics on {dataset} were computed from {int(n.min())} generated samples, "
                         f"fewer than the protocol's {protocol:,} (see the eval_protocol column); "
                         "compare with published numbers with care.")
    return lines


# -- tables for the report -------------------------------------------------------------------


def _summary_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Readable per-dataset summary: rank, configuration, runs, mean +- sd, CI of the rank metric."""
    show_params = (summary[C.PARAMS] != "{}").any()
    by = next((s.split(",") for s in summary[C.RANK_BY] if s), [])
    metrics = [m for m in C.SUMMARY_METRICS
               if m not in _REPORT_SKIP and summary[C.stat_column(m, "mean")].notna().any()]
    out = pd.DataFrame({
        "rank": summary[C.RANK],
        "objective": summary[C.LOSS],
        "regularizers": summary[C.REGULARIZERS],
    })
    if show_params:
        out["params"] = summary[C.PARAMS]
    out["ok / runs"] = [f"{a}/{b}" for a, b in zip(summary[C.N_OK], summary[C.N_RUNS])]
    for m in metrics:
        mean, std = summary[C.stat_column(m, "mean")], summary[C.stat_column(m, "std")]
        out[_metric_name(m)] = [
            "" if pd.isna(a) else fmt_number(a) + ("" if pd.isna(s) else f" ± {fmt_number(s)}")
            for a, s in zip(mean, std)]
        if by and m == by[0]:
            lo, hi = summary[C.stat_column(m, "ci_low")], summary[C.stat_column(m, "ci_high")]
            out[f"{_metric_name(m)} 95% CI"] = [
                "" if pd.isna(a) else f"{fmt_number(a)} to {fmt_number(b)}" for a, b in zip(lo, hi)]
    return out


def _not_ok_table(runs: pd.DataFrame) -> pd.DataFrame:
    bad = runs[runs[C.STATUS] != C.OK]
    return pd.DataFrame({
        "run": bad[C.RUN_ID], "dataset": bad[C.DATASET], "objective": bad[C.LOSS],
        "regularizers": bad[C.REGULARIZERS], "params": bad[C.PARAMS], "seed": bad[C.SEED],
        "status": bad[C.STATUS],
        "steps": [("" if pd.isna(s) else str(int(s))) + ("" if pd.isna(p) else f"/{int(p)}")
                  for s, p in zip(bad[C.STEPS], bad[C.STEPS_PLANNED])],
        "reason": bad[C.REASON],
    })


def _pairs_table(stats: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "metric": stats[C.METRIC], "setting": [setting_label(r, p) for r, p in
                                               zip(stats[C.REGULARIZERS], stats[C.PARAMS])],
        "a": stats[C.A], "b": stats[C.B], "n_a": stats[C.N_A], "n_b": stats[C.N_B],
        "median a": stats[C.MEDIAN_A], "median b": stats[C.MEDIAN_B], "U": stats[C.U],
        "p": stats[C.P], "p_holm": stats[C.P_HOLM],
        "significant": ["yes" if s else "no" for s in stats[C.SIGNIFICANT].astype(bool)],
        "better": stats[C.BETTER],
    })


def _flatten(plot_paths) -> list[tuple[str, Path]]:
    """(kind, path) pairs from {kind: [paths]} or a plain list of paths."""
    if not plot_paths:
        return []
    if isinstance(plot_paths, dict):
        return [(k, Path(p)) for k, ps in plot_paths.items() for p in (ps or [])]
    return [("figures", Path(p)) for p in plot_paths]


_FIGURE_TITLES = {
    "metric": "Rank metric by objective", "heatmap": "Objective x regularizer",
    "curves": "Training curves", "samples": "Samples", "mixtures": "2-D mixtures",
    "figures": "Figures",
}


# -- the report ------------------------------------------------------------------------------


def write_report(out_dir, runs_df: pd.DataFrame, summary_df: pd.DataFrame,
                 stats_df: pd.DataFrame | None, plot_paths=None,
                 incomplete: Iterable[str] = ()) -> Path:
    """Write ``out_dir/report.md`` and return its path.

    ``plot_paths``: {kind: [paths]} as from :func:`gan_zoo.bench.plots.plot_all`, or a
    list; links are relative to ``out_dir`` so the folder can be moved or published.
    ``incomplete``: run folders without result.json, mentioned so none vanish silently.
    """
    out = Path(out_dir)
    runs = runs_df if runs_df is not None else pd.DataFrame(columns=C.RUNS_COLUMNS)
    summary = summary_df if summary_df is not None else pd.DataFrame(columns=C.SUMMARY_COLUMNS)
    stats = stats_df if stats_df is not None else pd.DataFrame(columns=C.STATS_COLUMNS)
    counts = runs[C.STATUS].value_counts()
    status_text = ", ".join(f"{int(counts.get(s, 0))} {s}" for s in C.STATUSES)
    datasets = sorted(runs[C.DATASET].dropna().unique())

    md = ["# gan-zoo benchmark report", ""]
    md.append(f"Built by gan-zoo {__version__} from {len(runs)} runs ({status_text}) in "
              f"{len(summary)} configurations; datasets: {', '.join(datasets) or 'none'}. "
              f"Tables: [{C.RUNS_CSV}]({C.RUNS_CSV}), [{C.SUMMARY_CSV}]({C.SUMMARY_CSV}), "
              f"[{C.CURVES_CSV}]({C.CURVES_CSV})"
              + (f", [{C.STATS_CSV}]({C.STATS_CSV})" if not stats.empty else "") + ".")
    md.append("")

    md += ["## Reading", ""]
    for dataset in datasets:
        sub = summary[summary[C.DATASET] == dataset]
        for line in _best_lines(dataset, sub, stats) + _significance_lines(dataset, sub, stats):
            md.append(line if line.startswith("  - ") else f"- {line}")
    for line in _eval_lines(runs):
        md.append(f"- {line}")
    status_lines = _status_lines(runs)
    if status_lines:
        md += status_lines
    else:
        md.append("- Every run finished normally (no divergence, skip or failure).")
    incomplete = list(incomplete)
    if incomplete:
        md.append(f"- {len(incomplete)} run folder(s) have no result.json yet (still running, "
                  "or interrupted) and are not included.")
    md.append("")
    md.append("Means and sample standard deviations are over the ok seeds of each configuration; "
              "the 95% interval is a percentile bootstrap of the mean (2,000 resamples, fixed seed), "
              "empty with a single seed; with few seeds it cannot be wider than the seeds' range, so it "
              "understates the uncertainty. Pairwise tests: two-sided Mann-Whitney U between objectives "
              "of one setting across seeds, Holm-corrected within that setting.")
    md.append("")

    for dataset in datasets:
        sub = summary[summary[C.DATASET] == dataset]
        md += [f"## {dataset}", "", markdown_table(_summary_table(sub))]
        part = stats[stats[C.DATASET] == dataset] if not stats.empty else stats
        if not part.empty:
            shown = part if len(part) <= MAX_PAIR_ROWS else part[part[C.SIGNIFICANT].astype(bool)]
            note = "" if len(part) <= MAX_PAIR_ROWS else \
                f" (the {len(shown)} significant of {len(part)}; all in [{C.STATS_CSV}]({C.STATS_CSV}))"
            md += [f"### Pairwise tests{note}", "", markdown_table(_pairs_table(shown))]

    figures = _flatten(plot_paths)
    if figures:
        md += ["## Figures", ""]
        for kind in dict.fromkeys(k for k, _ in figures):
            md += [f"### {_FIGURE_TITLES.get(kind, kind)}", ""]
            for k, path in figures:
                if k == kind:
                    rel = Path(os.path.relpath(path, out)).as_posix()
                    md += [f"![{path.stem}]({rel})", ""]

    bad = _not_ok_table(runs)
    if not bad.empty:
        md += ["## Runs that did not finish normally", "", markdown_table(bad)]
    return write_text_atomic(out / C.REPORT_MD, "\n".join(md).rstrip() + "\n")


# -- everything ------------------------------------------------------------------------------


def rebuild(results_dirs, out_dir=None) -> dict:
    """Collect the run folders of ``results_dirs`` and (re)write tables, plots and report.

    Used by ``gan-zoo report`` and by the runner when a benchmark ends. ``out_dir``
    defaults to the first results folder. Returns {"runs", "curves", "summary", ["stats"],
    "plots" (list), "report"} -> paths. Raises ``GanZooError`` when there is no run.
    """
    if isinstance(results_dirs, (str, os.PathLike)):
        results_dirs = [results_dirs]
    dirs = [Path(d) for d in results_dirs]
    if not dirs:
        raise GanZooError("no results folder given")
    out = Path(out_dir) if out_dir is not None else dirs[0]
    runs, curves = collect_runs(dirs)
    if runs.empty:
        where = ", ".join(str(d) for d in dirs)
        raise GanZooError(f"no finished runs (run folders with {C.RESULT_JSON}) in {where}")
    summary = summarize(runs)
    stats = compute_stats(runs) if has_replicates(summary) else None
    paths: dict = write_tables(out, runs, curves, summary, stats)
    plots = plot_all(runs, curves, summary, out)
    paths["plots"] = [p for ps in plots.values() for p in ps]
    paths["report"] = write_report(out, runs, summary, stats, plots,
                                   incomplete=runs.attrs.get("incomplete", ()))
    return paths
