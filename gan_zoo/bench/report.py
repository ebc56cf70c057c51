"""report.md: the tables, the figures and the generated reading, assembled in one file.

The reading's sentences come from :mod:`gan_zoo.bench.reading`; this module adds the run
statuses, the tables (scores next to the compute behind them, tiers where the tests
separate objectives) and the figure links, and rebuilds everything from run folders.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

import pandas as pd

from gan_zoo import __version__
from gan_zoo.bench import columns as C
from gan_zoo.bench.plots import plot_all
from gan_zoo.bench.pacgan import pacgan_table
from gan_zoo.bench.published import noise_floor_note, published_table, with_noise_floor
from gan_zoo.bench.reading import (budget_lines, compute_table, curve_lines, extractor_lines,
                                   fmt_number, setting_lines, stratified_lines, tier_labels,
                                   verdict_lines)
from gan_zoo.bench.stats import COMPARISONS, fmt_p
from gan_zoo.bench.tables import (check_results_format, collect_runs, compute_stats, has_replicates,
                                  summarize, write_tables)
from gan_zoo.data import dataset_info, is_points
from gan_zoo.errors import GanZooError
from gan_zoo.io import write_text_atomic
from gan_zoo.metrics import keys

__all__ = ["markdown_table", "fmt_number", "write_report", "rebuild"]

#: Longest list of runs spelled out in the reading; the rest are counted.
MAX_LISTED = 12
#: Pairwise rows shown in full; above this only the significant ones are shown.
MAX_PAIR_ROWS = 30
#: Per-run spreads (IS and KID over splits) stay in the CSV; the report shows seed spreads.
#: k-NN precision and density stay in the CSVs too but are not shown: on the lenet
#: features they rise as samples get worse (see HIDDEN_NOTE).
_REPORT_SKIP = {keys.IS_STD, keys.KID_STD, keys.PRECISION, keys.DENSITY}
HIDDEN_NOTE = ("k-NN precision and density are in runs.csv and summary.csv but not shown here: "
               "on the classifier features weak images (grey blobs, blurred digits) have small "
               "feature norms and land inside the large k-NN balls of faint real digits, so both "
               "rise as samples get worse (grey blobs: precision 1.0, real digits 0.87; "
               "results/precision-check). Recall and coverage are shown.")


# -- markdown --------------------------------------------------------------------------------


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
    setting = C.setting_label(row[C.REGULARIZERS], row[C.PARAMS])
    return f"{row[C.LOSS]} ({setting})" if with_loss else setting


def _seeds(values: Iterable) -> str:
    seeds = sorted(int(s) for s in values if not pd.isna(s))
    return ("seed " if len(seeds) == 1 else "seeds ") + ", ".join(map(str, seeds))


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
            lines.append(f"- {word}: {dataset} {loss} ({C.setting_label(regs, params)}) "
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
            lines.append(f"Metrics on {dataset} were computed from {int(n.min()):,} generated samples, "
                         f"fewer than the protocol's {protocol:,} (see the eval_protocol column); "
                         "compare with published numbers with care.")
    return lines


# -- tables for the report -------------------------------------------------------------------


def _summary_table(summary: pd.DataFrame, runs: pd.DataFrame, tier: dict, snapshot: bool) -> pd.DataFrame:
    """Per-dataset table: tier (where tests separate objectives) or order, configuration,
    runs, mean +- sd of each metric, the rank metric's interval, and the compute behind it."""
    show_params = (summary[C.PARAMS] != "{}").any()
    by = next((s.split(",") for s in summary[C.RANK_BY] if s), [])
    metrics = [m for m in C.SUMMARY_METRICS if m != C.WALL_S
               and m not in _REPORT_SKIP and summary[C.stat_column(m, "mean")].notna().any()]
    keys_ = list(zip(summary[C.DATASET], summary[C.LOSS], summary[C.REGULARIZERS], summary[C.PARAMS]))
    out = pd.DataFrame(index=summary.index)
    if tier:
        out["tests say"] = [str(tier[k]) if k in tier else "" for k in keys_]
    out["order (one seed)" if snapshot else "rank"] = summary[C.RANK]
    out["objective"] = summary[C.LOSS]
    out["regularizers"] = summary[C.REGULARIZERS]
    if show_params:
        out["params"] = summary[C.PARAMS]
    out["ok / runs"] = [f"{a}/{b}" for a, b in zip(summary[C.N_OK], summary[C.N_RUNS])]
    for m in metrics:
        mean, std = summary[C.stat_column(m, "mean")], summary[C.stat_column(m, "std")]
        out[_metric_name(m)] = [
            "" if pd.isna(a) else fmt_number(a) + ("" if pd.isna(s) else f" ± {fmt_number(s)}")
            for a, s in zip(mean, std)]
        if by and m == by[0] and summary[C.stat_column(m, "ci_low")].notna().any():
            lo, hi = summary[C.stat_column(m, "ci_low")], summary[C.stat_column(m, "ci_high")]
            out[f"{_metric_name(m)} 95% CI"] = [
                "" if pd.isna(a) else f"{fmt_number(a)} to {fmt_number(b)}" for a, b in zip(lo, hi)]
    comp = compute_table(runs).set_index(C.GROUP_COLUMNS)
    for col, name in ((C.G_STEPS, "G steps"), (C.D_STEPS, "D steps"), (C.D_EXAMPLES, "D examples"),
                      (C.WALL_S, "train s")):
        out[name] = [comp[col].get(k, float("nan")) if k in comp.index else float("nan")
                     for k in keys_]
    return out.reset_index(drop=True)


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


def _interval(lo, hi, digits: str = "") -> str:
    if pd.isna(lo):
        return ""
    return f"{lo:{digits}} to {hi:{digits}}" if digits else f"{fmt_number(lo)} to {fmt_number(hi)}"


def _pairs_table(stats: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "metric": stats[C.METRIC], "setting": [C.setting_label(r, p) for r, p in
                                               zip(stats[C.REGULARIZERS], stats[C.PARAMS])],
        "a": stats[C.A], "b": stats[C.B], "n_a": stats[C.N_A], "n_b": stats[C.N_B],
        "median a": stats[C.MEDIAN_A], "median b": stats[C.MEDIAN_B],
        "a - b (95% CI)": [f"{fmt_number(d)} ({_interval(lo, hi)})" if not pd.isna(lo) else fmt_number(d)
                           for d, lo, hi in zip(stats[C.DIFF], stats[C.DIFF_LOW], stats[C.DIFF_HIGH])],
        "P(a beats b) (95% CI)": ["" if pd.isna(w) else f"{w:.2f} ({_interval(lo, hi, '.2f')})"
                                  if not pd.isna(lo) else f"{w:.2f}"
                                  for w, lo, hi in zip(stats[C.PROB_BETTER], stats[C.PROB_BETTER_LOW],
                                                       stats[C.PROB_BETTER_HIGH])],
        "p": [fmt_p(p) for p in stats[C.P]], "smallest possible p": [fmt_p(p) for p in stats[C.MIN_P]],
        "p_holm": [fmt_p(p) for p in stats[C.P_HOLM]],
        "significant": ["yes" if s else "no" for s in stats[C.SIGNIFICANT].astype(bool)],
    })


def _settings_table(stats: pd.DataFrame) -> pd.DataFrame:
    """Tests between settings of one objective: a and b are settings, no "better" for D's outputs."""
    table = _pairs_table(stats).drop(columns=["setting"])
    table.insert(1, "objective", stats[C.LOSS].to_numpy())
    return table


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
                 incomplete: Iterable[str] = (), curves_df: pd.DataFrame | None = None,
                 comparisons: str = "baseline", baseline: str | None = C.DEFAULT_BASELINE) -> Path:
    """Write ``out_dir/report.md`` and return its path.

    ``plot_paths``: {kind: [paths]} as from :func:`gan_zoo.bench.plots.plot_all`, or a
    list; links are relative to ``out_dir`` so the folder can be moved or published.
    ``incomplete``: run folders without result.json, mentioned so none vanish silently.
    ``comparisons``/``baseline``: how ``stats_df`` was computed, for the reading.
    """
    out = Path(out_dir)
    runs = runs_df if runs_df is not None else pd.DataFrame(columns=C.RUNS_COLUMNS)
    summary = summary_df if summary_df is not None else pd.DataFrame(columns=C.SUMMARY_COLUMNS)
    stats = stats_df if stats_df is not None else pd.DataFrame(columns=C.STATS_COLUMNS)
    counts = runs[C.STATUS].value_counts()
    status_text = ", ".join(f"{int(counts.get(s, 0))} {s}" for s in C.STATUSES
                            if s != C.PRUNED or counts.get(s, 0))  # pruned: search folders only
    datasets = sorted(runs[C.DATASET].dropna().unique())

    md = ["# gan-zoo benchmark report", ""]
    md.append(f"Built by gan-zoo {__version__} from {len(runs)} runs ({status_text}) in "
              f"{len(summary)} configurations; datasets: {', '.join(datasets) or 'none'}. "
              f"Tables: [{C.RUNS_CSV}]({C.RUNS_CSV}), [{C.SUMMARY_CSV}]({C.SUMMARY_CSV}), "
              f"[{C.CURVES_CSV}]({C.CURVES_CSV})"
              + (f", [{C.STATS_CSV}]({C.STATS_CSV})" if not stats.empty else "") + ".")
    md += ["", "## What was run", ""]
    md += [f"- {line}" for line in budget_lines(runs, baseline) + extractor_lines(runs) + _eval_lines(runs)]
    if not runs.empty and C.TRAIN_PRECISION in runs:  # fp32 | tf32 | bf16, per device
        used = runs[[C.DEVICE, C.TRAIN_PRECISION]].astype(object).fillna("?").astype(str).value_counts().sort_index()
        md.append("- Device and numeric precision: "
                  + ", ".join(f"{d} {p} ({n} runs)" for (d, p), n in used.items()) + ".")
    md += ["", "## Reading", ""]
    for dataset in datasets:
        for line in [*verdict_lines(dataset, summary, stats, comparisons, baseline, runs),
                     *setting_lines(dataset, stats), *stratified_lines(dataset, runs)]:
            md.append(line if line.startswith(" ") else f"- {line}")
    md += [f"- {line}" for line in curve_lines(runs, curves_df)]
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
    if keys.PRECISION in runs and runs[keys.PRECISION].notna().any():
        md += [HIDDEN_NOTE, ""]
    md.append("Means and sample standard deviations are over the ok seeds of each configuration; "
              "the 95% interval is a percentile bootstrap (2,000 resamples, fixed seed), absent with a "
              "single seed; with few seeds it cannot be wider than the seeds' range, so it understates "
              "the uncertainty. Tests: exact two-sided Mann-Whitney U across seeds "
              + (f"of every objective against {baseline}" if comparisons == "baseline" else "of every pair")
              + " within one setting, Holm-corrected within that setting; the \"tests say\" column "
              + (f"places each objective against {baseline} (better, not separated, worse): objectives "
                 "not separated from it are not a top tier, whatever their rank"
                 if comparisons == "baseline" else "groups objectives the tests cannot separate (group 1: "
                 "the best such group)")
              + "."
              + (" Settings of one objective (regularizers, swept values): the same test of each against "
                 "the reference setting, Holm-corrected within the objective and metric."
                 if not stats.empty and (stats[C.COMPARISON] == C.SETTING).any() else "")
              + " Compute columns are medians over the ok seeds.")
    md.append("")

    tier = tier_labels(summary, stats, comparisons, baseline)
    for dataset in datasets:
        sub = summary[summary[C.DATASET] == dataset]
        snapshot = not sub.empty and int(sub[C.N_OK].max()) <= 1
        md += [f"## {dataset}", ""]
        if snapshot:
            md += ["Single-seed snapshot: one run per objective; the order is not a ranking.", ""]
        note = noise_floor_note(dataset)
        if note:
            md += [note, ""]
        md.append(markdown_table(with_noise_floor(_summary_table(sub, runs, tier, snapshot), dataset, runs)))
        part = stats[stats[C.DATASET] == dataset] if not stats.empty else stats
        part = part[[bool(t) for t in (part[C.MIN_P] * part[C.N_TESTS] <= C.ALPHA)]] if not part.empty else part
        between = part[part[C.COMPARISON] == C.SETTING] if not part.empty else part
        for title, rows, table in (("Tests", part[part[C.COMPARISON] != C.SETTING] if not part.empty else part,
                                    _pairs_table),
                                   ("Tests between settings of each objective", between, _settings_table)):
            if rows.empty:
                continue
            shown = rows if len(rows) <= MAX_PAIR_ROWS else rows[rows[C.SIGNIFICANT].astype(bool)]
            note = "" if len(rows) <= MAX_PAIR_ROWS else \
                f" (the {len(shown)} significant of {len(rows)}; all in [{C.STATS_CSV}]({C.STATS_CSV}))"
            md += [f"### {title}{note}", "", markdown_table(table(shown))]

    published = published_table(runs)
    if not published.empty:
        md += ["## Published figures", "",
               "Figures from the literature for the same datasets and protocols, beside this "
               "study's unregularised runs of the corresponding objectives (median [min-max] over "
               "the ok seeds). The setups differ as the notes below the table say, so agreement or "
               "disagreement is a reading aid, not a test; nothing here was tuned to them.", "",
               markdown_table(published.drop(columns=["dataset", "setup"]))]
        md += [f"- {source}: {setup}." for source, setup in
               dict.fromkeys(zip(published["source"], published["setup"]))]
        md.append("")

    pacgan = pacgan_table(runs)
    if not pacgan.empty:
        md += ["## PacGAN Table 1 in its own configuration", "",
               "Lin et al. 2018, Table 1 (mean +- standard error over 10 trials), beside this "
               "study's runs of the `pacgan` preset (ns, PacGAN's networks, optimizer, batch and "
               "data; mean +- standard error over the ok seeds). Modes by their rule: a mode is "
               "covered by one high-quality sample; its noise floor is what 2,500 uniformly "
               "sprayed points and 2,500 points traced along a line through the modes score by "
               "the same rule. Verdict: reproduced when their mean lies in our 95% interval or "
               "ours within their error bar (`gan_zoo/bench/pacgan.py`).", "",
               markdown_table(pacgan), ""]

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


def rebuild(results_dirs, out_dir=None, *, comparisons: str | None = None,
            baseline: str | None = None) -> dict:
    """Collect the run folders of ``results_dirs`` and (re)write tables, plots and report.

    Used by ``gan-zoo report`` and by ``gan-zoo bench`` when a grid ends. ``out_dir``
    defaults to the first results folder. ``comparisons`` and ``baseline`` default to
    what the first folder's bench.json recorded, else every objective against ``ns``; a
    ``baseline`` named here that no run has is an error. Returns {"runs", "curves",
    "summary", ["stats"], "plots" (list), "report"} -> paths. Raises ``GanZooError`` when
    there is no run.
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
    meta = check_results_format(dirs[0]) or {}
    comparisons = comparisons or meta.get("comparisons") or "baseline"
    if comparisons not in COMPARISONS:
        raise GanZooError(f"unknown comparisons {comparisons!r}; valid: {', '.join(COMPARISONS)}")
    if baseline is not None and baseline not in set(runs[C.LOSS].dropna()):
        raise GanZooError(f"baseline {baseline!r} has no runs here; objectives: "
                          f"{', '.join(sorted(set(runs[C.LOSS].dropna())))}")
    baseline = baseline or meta.get("baseline") or C.DEFAULT_BASELINE
    summary = summarize(runs)
    stats = compute_stats(runs, comparisons, baseline) if has_replicates(summary) else None
    paths: dict = write_tables(out, runs, curves, summary, stats)
    plots = plot_all(runs, curves, summary, out)
    paths["plots"] = [p for ps in plots.values() for p in ps]
    paths["report"] = write_report(out, runs, summary, stats, plots,
                                   incomplete=runs.attrs.get("incomplete", ()), curves_df=curves,
                                   comparisons=comparisons, baseline=baseline)
    return paths
