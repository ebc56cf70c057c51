"""Run folders -> tables: runs.csv, curves.csv, summary.csv, stats.csv.

The runner writes each run into its own folder; this module turns those folders into
the benchmark tables (the report's reading, the progress line and the plots read them
too, each for its own purpose). It merges several results folders (a benchmark
resumed elsewhere, or split across machines) and keeps one row per run id.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from gan_zoo import __version__
from gan_zoo.bench import columns as C
from gan_zoo.bench.stats import bootstrap_ci, pairwise_tests, setting_tests
from gan_zoo.errors import GanZooError
from gan_zoo.io import read_json, write_csv_atomic, write_json_atomic
from gan_zoo.metrics import keys

__all__ = [
    "bench_meta", "write_bench_meta", "check_results_format", "find_run_dirs",
    "collect_runs", "summarize", "compute_stats", "has_replicates", "write_tables",
]

# -- bench.json ---------------------------------------------------------------------------


def bench_meta(**extra) -> dict:
    """The ``bench.json`` content of a results folder written by this version."""
    return {"gan_zoo_version": __version__, "format": C.BENCH_FORMAT, **extra}


def write_bench_meta(results_dir: str | os.PathLike, **extra) -> Path:
    return write_json_atomic(Path(results_dir) / C.BENCH_JSON, bench_meta(**extra))


#: bench.json field -> (type, what it must be); null is allowed for each
_BENCH_TYPES = {
    "format": (int, "an integer"), "curve_points": (int, "an integer"),
    "wall_seconds": ((int, float), "a number"),
    **{k: (str, "text") for k in ("gan_zoo_version", "dataset", "budget", "command", "baseline",
                                   "comparisons", "match", "wall_seconds_from", "preset")},
}


def check_results_format(results_dir: str | os.PathLike) -> dict | None:
    """Read ``bench.json`` and refuse a folder whose layout this version cannot read.

    A folder without ``bench.json`` (run folders copied by hand) is read as the
    current format; returns the metadata or None.
    """
    path = Path(results_dir) / C.BENCH_JSON
    if not path.is_file():
        return None
    meta = read_json(path)
    for key, value in (meta.items() if isinstance(meta, dict) else ()):
        allowed = _BENCH_TYPES.get(key)
        if allowed and not (value is None or (isinstance(value, allowed[0]) and not isinstance(value, bool))):
            raise GanZooError(f"{path}: {key} is {value!r:.60}, not {allowed[1]}; restore it or remove it")
    fmt = meta.get("format") if isinstance(meta, dict) else None
    if fmt != C.BENCH_FORMAT:
        wrote = meta.get("gan_zoo_version", "unknown") if isinstance(meta, dict) else "unknown"
        raise GanZooError(
            f"{results_dir}: results format {fmt!r} (written by gan-zoo {wrote}); "
            f"gan-zoo {__version__} reads format {C.BENCH_FORMAT} only"
        )
    return meta


# -- reading run folders -------------------------------------------------------------------


def find_run_dirs(results_dir: str | os.PathLike) -> list[Path]:
    """Run folders of a results folder: ``DIR/runs/*``, or ``DIR/*`` if DIR is a runs folder."""
    root = Path(results_dir)
    if not root.is_dir():
        raise GanZooError(f"results folder {root} does not exist")
    base = root / C.RUNS_DIR if (root / C.RUNS_DIR).is_dir() else root
    if (base / C.RESULT_JSON).is_file() or (base / C.SPEC_JSON).is_file():
        return [base]  # a single run folder
    return sorted(p for p in base.iterdir()
                  if p.is_dir() and ((p / C.RESULT_JSON).is_file() or (p / C.SPEC_JSON).is_file()))


def _num(value) -> float:
    """A metric value as float; None, strings and missing values become NaN."""
    if value is None or isinstance(value, bool):
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _run_row(run_dir: Path) -> dict:
    """One runs.csv row from a finished run folder (it has result.json)."""
    from gan_zoo.runs import read_metrics_file, read_result_file, read_spec_file

    # each file checked field by field: a bad one is one line naming it
    result = read_result_file(run_dir).to_dict()
    spec = read_spec_file(run_dir).to_dict() if (run_dir / C.SPEC_JSON).is_file() else {}
    metrics = read_metrics_file(run_dir) if (run_dir / C.METRICS_JSON).is_file() else {}
    for name, value in ((C.RESULT_JSON, result), (C.SPEC_JSON, spec), (C.METRICS_JSON, metrics)):
        if not isinstance(value, dict):
            raise GanZooError(f"{run_dir / name}: not a JSON object; restore it or remove the run folder")
    status = result.get("status")
    if status not in C.STATUSES:
        raise GanZooError(
            f"{run_dir / C.RESULT_JSON}: unknown status {status!r}; valid: {', '.join(C.STATUSES)}"
        )
    row = {
        C.RUN_ID: result.get("run_id") or run_dir.name,
        C.DATASET: spec.get("dataset"),
        C.BACKBONE: result.get("backbone") or spec.get("backbone"),
        C.LOSS: spec.get("loss"),
        C.REGULARIZERS: spec.get("regularizers") or "none",
        C.SEED: spec.get("seed"),
        C.PARAMS: json.dumps(result.get("sweep") or {}, sort_keys=True),
        C.STEPS: result.get("steps"),
        C.STEPS_PLANNED: spec.get("steps"),
        C.G_STEPS: result.get("g_steps"),
        C.D_STEPS: result.get("d_steps"),
        C.D_EXAMPLES: _d_examples(result, spec),
        C.WALL_S: _num(result.get("wall_s")),
        C.MATCH: (result.get("resolved") or {}).get("match") or spec.get("match") or "g-steps",
        C.WALL_BUDGET_S: _num(spec.get("wall_budget_s")),
        C.STATUS: status,
        C.REASON: result.get("reason") or "",
        C.DIVERGED_STEP: result.get("diverged_step"),
        C.DEVICE: result.get("device") or spec.get("device"),
        C.MACHINE: result.get("machine") or "",
        C.TRAIN_PRECISION: result.get("precision") or spec.get("precision") or "fp32",
        C.VERSION: result.get("gan_zoo_version"),
        C.RUN_DIR: str(run_dir.resolve()),
    }
    for m in keys.METRIC_COLUMNS:
        row[m] = _num(metrics.get(m))
    for m in C.EVAL_EXTRA_COLUMNS:
        row[m] = metrics.get(m)
    if row[C.DATASET] and _is_points(row[C.DATASET]) and status == "ok" and keys.MODES_PUBLISHED not in metrics:
        _rescore_mixture(row, run_dir, metrics)
    for m in C.END_COLUMNS:  # from log.csv, read once per kept run in collect_runs
        row[m] = math.nan
    population = (result.get("resolved") or {}).get(C.POPULATION)
    if isinstance(population, dict) and population.get("id"):
        row[C.POPULATION] = str(population["id"])
    return row


def _is_points(dataset: str) -> bool:
    from gan_zoo.data import is_points

    try:
        return is_points(dataset)
    except GanZooError:  # a dataset this install does not know
        return False


#: eval_protocol note of a 2-D run scored before the noise-floor rule (see _rescore_mixture).
RESCORED_NOTE = f"modes rescored on {C.SAMPLES_NPZ}"


def _old_rule_was_published(dataset: str, n) -> bool:
    """Whether a mixture run scored before the noise-floor rule counted modes by PacGAN's
    single sample: the old threshold was max(1, 1% of n / K)."""
    from gan_zoo.data import dataset_info

    k = dataset_info(dataset).num_classes
    return bool(k) and not pd.isna(_num(n)) and 0.01 * _num(n) / k <= 1


def _rescore_mixture(row: dict, run_dir: Path, metrics: dict) -> None:
    """A 2-D run scored before the noise-floor rule (its metrics.json has no
    ``modes_published``): the headline ``modes`` comes from the run's samples.npz (2,500
    points of the final generator: another draw than the scored one, so the high-quality
    share and KL stay those of metrics.json) and the eval_protocol says so; without
    samples.npz it is not measured (empty). ``modes_published`` is metrics.json's own
    count where its old rule was the published one (grid25), else samples.npz's."""
    from gan_zoo.bench.plots import read_samples
    from gan_zoo.data import dataset_info
    from gan_zoo.metrics import modes

    old = row[keys.MODES]
    row[keys.MODES] = math.nan
    row[keys.MODES_PUBLISHED] = old if _old_rule_was_published(row[C.DATASET], metrics.get(keys.EVAL_SAMPLES)) \
        else math.nan
    path = run_dir / C.SAMPLES_NPZ
    if not path.is_file():
        return
    info = dataset_info(row[C.DATASET])
    res = modes.mixture_modes(read_samples(path), info.mixture_centers(), info.sigma)
    row[keys.MODES] = float(res[keys.MODES])
    if pd.isna(row[keys.MODES_PUBLISHED]):  # else the scored draw's own count, by the same rule
        row[keys.MODES_PUBLISHED] = float(res[keys.MODES_PUBLISHED])
    protocol = row.get(keys.EVAL_PROTOCOL) or "protocol"
    row[keys.EVAL_PROTOCOL] = f"{protocol}; {RESCORED_NOTE}"


def _d_examples(result: dict, spec: dict) -> int | None:
    """Real samples D saw: its steps times the batch size times the samples per pack
    (``pac``: the batch counts packs of m samples); it saw as many fakes."""
    resolved = result.get("resolved") or {}
    batch = resolved.get("batch_size") or spec.get("batch_size")
    d_steps = result.get("d_steps")
    pack = int(resolved.get("pack") or 1)
    return int(d_steps) * int(batch) * pack if d_steps is not None and batch else None


def _typed_runs(rows: list[dict]) -> pd.DataFrame:
    optional = [c for c in C.OPTIONAL_RUNS_COLUMNS if any(row.get(c) for row in rows)]
    df = pd.DataFrame(rows, columns=[*C.RUNS_COLUMNS, *optional])
    for col in optional:  # present only when some run has one: empty for the others
        df[col] = df[col].fillna("")
    for col in C.RUNS_INT_COLUMNS:
        df[col] = pd.to_numeric(df[col], errors="coerce").round().astype("Int64")
    for col in [*keys.METRIC_COLUMNS, *C.END_COLUMNS, C.WALL_S, C.WALL_BUDGET_S]:
        df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
    return df


def _read_log(run_dir: Path) -> pd.DataFrame | None:
    """A run folder's log.csv with numeric steps; a torn last line (crash mid-append) is dropped."""
    path = Path(run_dir) / C.LOG_CSV
    if not path.is_file():
        return None
    try:
        log = pd.read_csv(path, on_bad_lines="skip")
    except pd.errors.EmptyDataError:
        return None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise GanZooError(f"{path}: not a readable CSV log ({type(exc).__name__}); restore it or "
                          "remove the run folder") from None
    if C.STEP not in log.columns or log.empty:
        return None
    log[C.STEP] = pd.to_numeric(log[C.STEP], errors="coerce")
    return log.dropna(subset=[C.STEP])


def _curve_modes_key(run_dir, dataset) -> str | None:
    """What the ``modes`` of a run's score curve are (see :func:`_read_score_curve`)."""
    if not isinstance(dataset, str) or not _is_points(dataset):
        return keys.MODES
    try:
        metrics = read_json(Path(run_dir) / C.METRICS_JSON)
    except (OSError, ValueError, GanZooError):
        return keys.MODES
    if not isinstance(metrics, dict) or keys.MODES_PUBLISHED in metrics:
        return keys.MODES
    return keys.MODES_PUBLISHED if _old_rule_was_published(dataset, metrics.get(keys.EVAL_SAMPLES)) else None


def _tidy_log(run_id: str, run_dir: Path, log: pd.DataFrame | None,
              legacy_modes: str | None = keys.MODES) -> pd.DataFrame | None:
    """log.csv (at most ``C.CURVE_LOG_ROWS`` rows of it) and the score curve -> tidy rows."""
    if log is None:
        return None
    log = _thin(log, C.CURVE_LOG_ROWS)
    value_cols = [c for c in log.columns if c != C.STEP]
    tidy = log.melt(id_vars=[C.STEP], value_vars=value_cols, var_name=C.METRIC, value_name=C.VALUE)
    tidy[C.VALUE] = pd.to_numeric(tidy[C.VALUE], errors="coerce")
    tidy.insert(0, C.RUN_ID, run_id)
    return pd.concat([tidy, _read_score_curve(run_id, run_dir, legacy_modes)], ignore_index=True)


def _end_means(log: pd.DataFrame | None) -> dict[str, float]:
    """D(x) and D(G(z)) at the end of training: the mean of the log rows whose step lies
    in the last ``C.END_SHARE`` of the logged steps (the last row at least)."""
    out = {col: math.nan for col in C.END_COLUMNS}
    if log is None or log.empty:
        return out
    first, last = float(log[C.STEP].min()), float(log[C.STEP].max())
    tail = log[log[C.STEP] >= last - C.END_SHARE * (last - first)]
    for col, source in zip(C.END_COLUMNS, ("d_real", "d_fake")):
        if source in tail.columns:
            values = pd.to_numeric(tail[source], errors="coerce").dropna()
            out[col] = float(values.mean()) if not values.empty else math.nan
    return out


def _thin(log: pd.DataFrame, rows: int) -> pd.DataFrame:
    """At most ``rows`` rows, evenly spaced over the log, its first and last row kept."""
    if len(log) <= rows:
        return log
    keep = np.unique(np.linspace(0, len(log) - 1, rows).round().astype(int))
    return log.iloc[keep]


def _read_score_curve(run_id: str, run_dir: Path, legacy_modes: str | None = keys.MODES) -> pd.DataFrame:
    """The in-training score points -> tidy rows: ``fid`` (or modes, hq_frac) and
    ``curve_wall_s`` (training seconds at the point) per generator step.

    ``legacy_modes``: what the file's ``modes`` column means: ``modes`` (scored by the
    current rule), ``modes_published`` (a run scored before the noise-floor rule, whose
    old rule was the published one) or None (an old rule that is neither: dropped)."""
    path = Path(run_dir) / C.CURVE_CSV
    empty = pd.DataFrame(columns=C.CURVES_COLUMNS)
    if not path.is_file():
        return empty
    try:
        pts = pd.read_csv(path, on_bad_lines="skip")
    except pd.errors.EmptyDataError:
        return empty
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise GanZooError(f"{path}: not a readable CSV of score points ({type(exc).__name__}); restore it "
                          "or remove it") from None
    if C.STEP not in pts.columns or pts.empty:
        return empty
    pts = pts.rename(columns={C.WALL_S: C.CURVE_WALL_S})
    if keys.MODES in pts.columns and legacy_modes != keys.MODES:
        pts = pts.rename(columns={keys.MODES: legacy_modes}) if legacy_modes else pts.drop(columns=[keys.MODES])
    cols = [c for c in [*C.SCORE_CURVE_METRICS, C.CURVE_WALL_S] if c in pts.columns]
    tidy = pts.melt(id_vars=[C.STEP], value_vars=cols, var_name=C.METRIC, value_name=C.VALUE)
    tidy[C.VALUE] = pd.to_numeric(tidy[C.VALUE], errors="coerce")
    tidy.insert(0, C.RUN_ID, run_id)
    return tidy[C.CURVES_COLUMNS]


def collect_runs(results_dirs: Iterable[str | os.PathLike]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read every run folder of one or more results folders into (runs_df, curves_df).

    The same run id found twice (a resumed or merged benchmark) keeps the most complete
    copy: ok > diverged > skipped > failed, then more metrics, then more steps; on a full
    tie the folder given first wins. Curves come from the kept copy only. Run folders
    without result.json (still running, or killed) are left out; their paths are in
    ``runs_df.attrs["incomplete"]``.
    """
    if isinstance(results_dirs, (str, os.PathLike)):
        results_dirs = [results_dirs]
    rows, incomplete = [], []
    for order, results_dir in enumerate(results_dirs):
        check_results_format(results_dir)
        for run_dir in find_run_dirs(results_dir):
            if not (run_dir / C.RESULT_JSON).is_file():
                incomplete.append(str(run_dir))
                continue
            row = _run_row(run_dir)
            row["_order"] = order
            rows.append(row)
    if not rows:
        runs = _typed_runs([])
        runs.attrs["incomplete"] = incomplete
        return runs, pd.DataFrame(columns=C.CURVES_COLUMNS)

    raw = pd.DataFrame(rows)
    raw["_complete"] = raw[C.STATUS].map(C.STATUS_COMPLETENESS)
    raw["_n_metrics"] = raw[keys.METRIC_COLUMNS].notna().sum(axis=1)
    raw["_steps"] = pd.to_numeric(raw[C.STEPS], errors="coerce").fillna(-1)
    raw = raw.sort_values(["_complete", "_n_metrics", "_steps", "_order"],
                          ascending=[False, False, False, True], kind="stable")
    kept = raw.drop_duplicates(subset=[C.RUN_ID], keep="first")
    runs = _typed_runs(kept[C.runs_columns(kept)].to_dict("records"))
    runs = runs.sort_values([C.DATASET, C.LOSS, C.REGULARIZERS, C.PARAMS, C.SEED, C.RUN_ID],
                            kind="stable", na_position="last").reset_index(drop=True)
    runs.attrs["incomplete"] = incomplete

    logs = []
    for i, (run_id, run_dir, dataset) in enumerate(zip(runs[C.RUN_ID], runs[C.RUN_DIR], runs[C.DATASET])):
        log = _read_log(run_dir)
        for col, value in _end_means(log).items():
            runs.loc[i, col] = value
        logs.append(_tidy_log(run_id, run_dir, log, _curve_modes_key(run_dir, dataset)))
    logs = [t for t in logs if t is not None and not t.empty]
    curves = (pd.concat(logs, ignore_index=True)[C.CURVES_COLUMNS] if logs
              else pd.DataFrame(columns=C.CURVES_COLUMNS))
    return runs, curves


# -- summary -------------------------------------------------------------------------------


def _rank(summary: pd.DataFrame) -> pd.DataFrame:
    """Rank configurations within each dataset (1 = best; ties share the lower rank).

    Configurations without a value of the first rank metric get no rank.
    """
    summary[C.RANK] = pd.Series(pd.NA, index=summary.index, dtype="Int64")
    summary[C.RANK_BY] = ""
    for dataset, sub in summary.groupby(C.DATASET, sort=False):
        available = {m for m in keys.METRIC_COLUMNS if sub[C.stat_column(m, "mean")].notna().any()}
        by = C.rank_metrics(dataset, available)
        if not by:
            continue
        summary.loc[sub.index, C.RANK_BY] = ",".join(by)
        rankable = sub[sub[C.stat_column(by[0], "mean")].notna()]
        keyed = []
        for idx, row in rankable.iterrows():
            key = []
            for m in by:
                v = row[C.stat_column(m, "mean")]
                v = math.inf if pd.isna(v) else (-v if m in C.HIGHER_IS_BETTER else v)
                key.append(v)
            keyed.append((tuple(key), idx))
        keyed.sort(key=lambda t: t[0])
        rank, prev = 0, None
        for pos, (key, idx) in enumerate(keyed, start=1):
            if key != prev:
                rank, prev = pos, key
            summary.loc[idx, C.RANK] = rank
    return summary


def summarize(runs_df: pd.DataFrame, level: float = 0.95, n_resamples: int = 2000,
              seed: int = 0) -> pd.DataFrame:
    """One row per (dataset, loss, regularizers, params): run counts by status, then the
    n, mean, std (ddof 1), and bootstrap CI of each metric over the configuration's ok runs,
    and its rank within the dataset (FID ascending; mixtures: modes descending, then
    high-quality share). With a single ok run, std and CI are empty (see bootstrap_ci).
    """
    if runs_df is None or runs_df.empty:
        return pd.DataFrame(columns=C.SUMMARY_COLUMNS)
    out = []
    for group, sub in runs_df.groupby(C.GROUP_COLUMNS, sort=True, dropna=False):
        row = dict(zip(C.GROUP_COLUMNS, group))
        status = sub[C.STATUS]
        row.update({C.N_RUNS: len(sub), C.N_OK: int((status == C.OK).sum()),
                    C.N_DIVERGED: int((status == C.DIVERGED).sum()),
                    C.N_SKIPPED: int((status == C.SKIPPED).sum()),
                    C.N_FAILED: int((status == C.FAILED).sum())})
        ok = sub[status == C.OK]
        for m in C.SUMMARY_METRICS:
            x = ok[m].to_numpy(dtype=float)
            x = x[~np.isnan(x)]
            lo, hi = bootstrap_ci(x, level=level, n_resamples=n_resamples, seed=seed)
            row[C.stat_column(m, "n")] = int(x.size)
            row[C.stat_column(m, "mean")] = float(x.mean()) if x.size else math.nan
            # identical values: exactly 0, not the 1e-16 that float summation leaves
            row[C.stat_column(m, "std")] = (math.nan if x.size < 2 else 0.0 if np.all(x == x[0])
                                            else float(x.std(ddof=1)))
            row[C.stat_column(m, "ci_low")] = lo
            row[C.stat_column(m, "ci_high")] = hi
        out.append(row)
    summary = pd.DataFrame(out)
    summary = _rank(summary)
    summary = summary.sort_values([C.DATASET, C.RANK, C.LOSS, C.REGULARIZERS, C.PARAMS],
                                  na_position="last", kind="stable").reset_index(drop=True)
    return summary[C.SUMMARY_COLUMNS]


def has_replicates(summary_df: pd.DataFrame, min_seeds: int = C.MIN_SEEDS_FOR_TEST) -> bool:
    """True when some configuration has at least ``min_seeds`` ok runs (tests make sense)."""
    return summary_df is not None and not summary_df.empty and bool(
        (summary_df[C.N_OK] >= min_seeds).any())


def compute_stats(runs_df: pd.DataFrame, comparisons: str = "baseline",
                  baseline: str | None = C.DEFAULT_BASELINE) -> pd.DataFrame:
    """Tests on each dataset's rank metrics (FID; modes and hq_frac for mixtures): every
    objective against ``baseline``, or every pair (``comparisons="all"``), within each
    setting; then, where an objective ran in several settings (regularizers, swept
    values), each setting against its reference on the rank metrics and on D's outputs
    at the end of training."""
    parts = []
    if runs_df is not None and not runs_df.empty:
        for dataset, sub in runs_df.groupby(C.DATASET, sort=True):
            available = {m for m in keys.METRIC_COLUMNS if sub[m].notna().any()}
            metrics = C.rank_metrics(dataset, available)
            for metric in metrics:
                parts.append(pairwise_tests(sub, metric=metric, comparisons=comparisons, baseline=baseline))
            for metric in [*metrics, *C.END_COLUMNS]:
                parts.append(setting_tests(sub, metric=metric))
        parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame(columns=C.STATS_COLUMNS)
    return pd.concat(parts, ignore_index=True)[C.STATS_COLUMNS]


# -- writing -------------------------------------------------------------------------------


def write_tables(out_dir: str | os.PathLike, runs_df: pd.DataFrame, curves_df: pd.DataFrame,
                 summary_df: pd.DataFrame | None = None,
                 stats_df: pd.DataFrame | None = None) -> dict[str, Path]:
    """Write runs.csv, curves.csv, summary.csv and, when some configuration has >= 3 ok
    seeds, stats.csv (a stale stats.csv from an earlier rebuild is removed otherwise).

    ``summary_df``/``stats_df`` are computed when not given. Returns {name: path}.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if summary_df is None:
        summary_df = summarize(runs_df)
    paths = {}
    runs_out = runs_df.copy()
    runs_out[C.RUN_DIR] = [_relpath(p, out) for p in runs_out[C.RUN_DIR]]
    paths["runs"] = write_csv_atomic(out / C.RUNS_CSV, runs_out[C.runs_columns(runs_out)])
    paths["curves"] = write_csv_atomic(out / C.CURVES_CSV, curves_df[C.CURVES_COLUMNS])
    paths["summary"] = write_csv_atomic(out / C.SUMMARY_CSV, summary_df[C.SUMMARY_COLUMNS])
    stats_path = out / C.STATS_CSV
    if has_replicates(summary_df):
        if stats_df is None:
            stats_df = compute_stats(runs_df)
        paths["stats"] = write_csv_atomic(stats_path, stats_df[C.STATS_COLUMNS])
    elif stats_path.is_file():
        stats_path.unlink()
    return paths


def _relpath(path, start: Path) -> str:
    if not isinstance(path, str) or not path:
        return ""
    try:
        return os.path.relpath(path, start)
    except ValueError:  # another drive on Windows
        warnings.warn(f"run folder {path} is not below {start}; keeping the absolute path")
        return path
