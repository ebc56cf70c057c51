"""Column names of the benchmark tables and the results folder's own files, defined once.

The table writer, the statistics, the plots, the report and the tests all use these
constants, so a renamed column breaks loudly in one place instead of silently in five.
"""

from __future__ import annotations

import json

from gan_zoo.data import is_points
from gan_zoo.metrics import keys
# the run folder's file names and statuses belong to gan_zoo.runs; re-exported for
# the table, statistics, plot and report modules that read them through this module
from gan_zoo.runs import (  # noqa: F401
    DIVERGED, FAILED, LOG_CSV, METRICS_JSON, OK, PRUNED, RESULT_JSON, SAMPLES_NPZ, SAMPLES_PNG, SKIPPED,
    SPEC_JSON, STATUS_COMPLETENESS, STATUSES, CURVE_CSV,
)

# -- files ----------------------------------------------------------------------------

#: Inside a results folder.
BENCH_JSON = "bench.json"
RUNS_DIR = "runs"
#: Written by :func:`gan_zoo.bench.report.rebuild` into the output folder.
RUNS_CSV = "runs.csv"
CURVES_CSV = "curves.csv"
SUMMARY_CSV = "summary.csv"
STATS_CSV = "stats.csv"
REPORT_MD = "report.md"
PLOTS_DIR = "plots"

#: ``bench.json["format"]`` this version writes and reads. Bump it when the layout of a
#: results folder changes in a way old readers would misread.
BENCH_FORMAT = 1

# -- runs.csv: one row per run ----------------------------------------------------------

RUN_ID = "run_id"
DATASET = "dataset"
BACKBONE = "backbone"
LOSS = "loss"
REGULARIZERS = "regularizers"
SEED = "seed"
PARAMS = "params"  # JSON of the run's --set sweep values, sorted keys; "{}" when none
STEPS = "steps"  # generator steps done
STEPS_PLANNED = "steps_planned"  # generator steps asked for (spec.steps)
G_STEPS = "g_steps"
D_STEPS = "d_steps"
WALL_S = "wall_s"  # training time, seconds (in-training score points excluded)
D_EXAMPLES = "d_examples"  # real samples seen by D: d_steps * batch_size * pac's m (as many fakes)
MATCH = "match"  # how the grid matched compute: g-steps | d-steps | wall
WALL_BUDGET_S = "wall_budget_s"  # the training seconds a wall-matched run was given
STATUS = "status"
REASON = "reason"
DIVERGED_STEP = "diverged_step"  # generator step where a diverged run broke down
DEVICE = "device"
MACHINE = "machine"  # torch, kernels (GPU name or CPU instruction set), threads
TRAIN_PRECISION = "train_precision"  # fp32 | tf32 | bf16 (the metric "precision" is another column)
VERSION = "gan_zoo_version"
RUN_DIR = "run_dir"  # absolute in memory; relative to the output folder in runs.csv
#: D's mean outputs at the end of training, from the run's log.csv: the mean of the
#: logged window means over the last END_SHARE of the logged steps (D(x) on reals,
#: D(G(z)) on fakes; a probability where the objective reports one, minimax and ns, raw
#: scores otherwise, so comparable within one objective only). Seed 002's latent-size
#: study read a drift of D(x) toward 0.5 from such values; these make it a number per run.
D_REAL_END, D_FAKE_END = "d_real_end", "d_fake_end"
END_COLUMNS = [D_REAL_END, D_FAKE_END]
END_SHARE = 0.1

#: Evaluation columns after the metrics (from metrics.json, like the metrics).
EVAL_EXTRA_COLUMNS = [keys.MODES_TOTAL, keys.EVAL_SAMPLES, keys.FEATURE_EXTRACTOR,
                      *keys.EVAL_RECORD]

RUNS_COLUMNS = [
    RUN_ID, DATASET, BACKBONE, LOSS, REGULARIZERS, SEED, PARAMS,
    STEPS, STEPS_PLANNED, G_STEPS, D_STEPS, D_EXAMPLES, WALL_S, MATCH, WALL_BUDGET_S, STATUS, REASON, DIVERGED_STEP,
    *keys.METRIC_COLUMNS, *EVAL_EXTRA_COLUMNS, *END_COLUMNS,
    DEVICE, MACHINE, TRAIN_PRECISION, VERSION, RUN_DIR,
]
#: The population a run trained in (``gan_zoo.population``; its id), empty for a run
#: trained alone.
POPULATION = "population"
#: runs.csv columns written only when some run has a value, after RUNS_COLUMNS: tables of
#: runs without them stay byte for byte as before.
OPTIONAL_RUNS_COLUMNS = [POPULATION]


def runs_columns(df) -> list[str]:
    """The runs.csv columns of a runs table: RUNS_COLUMNS, then the optional ones it has."""
    return [*RUNS_COLUMNS, *(c for c in OPTIONAL_RUNS_COLUMNS if c in df.columns)]


#: Integer columns (nullable: empty where a run never got that far).
RUNS_INT_COLUMNS = [SEED, STEPS, STEPS_PLANNED, G_STEPS, D_STEPS, D_EXAMPLES, DIVERGED_STEP, keys.MODES_TOTAL,
                    keys.EVAL_SAMPLES, keys.REFERENCE_SIZE, keys.REFERENCE_SEED]

# -- curves.csv: tidy training log -------------------------------------------------------

STEP, METRIC, VALUE = "step", "metric", "value"
CURVES_COLUMNS = [RUN_ID, STEP, METRIC, VALUE]
#: log.csv columns besides ``step`` that become curve metrics (each a mean over its
#: logging window; wall_s the training seconds at the row).
LOG_METRICS = ["d_loss", "g_loss", "d_real", "d_fake", "g_grad_norm", "d_grad_norm", "wall_s"]
#: At most this many log.csv rows per run go into curves.csv, evenly spaced with the first
#: and last kept: 30,000 steps logged every 50 would otherwise put 600 rows x 7 metrics
#: per run into the table (16 MB for a 60-run mixture study); every row stays in the
#: run folder's log.csv.
CURVE_LOG_ROWS = 100
#: The in-training score points (the run folder's CURVE_CSV) in curves.csv: FID (modes
#: and high-quality share for 2-D mixtures) and the training seconds at each point.
CURVE_WALL_S = "curve_wall_s"
SCORE_CURVE_METRICS = [keys.FID, keys.MODES, keys.MODES_PUBLISHED, keys.HQ_FRAC]


# -- settings: a configuration's regularizers and swept values, for people -----------------


def setting_label(regularizers: str, params: str) -> str:
    """Human label of a (regularizers, params) setting: ``none`` or ``gp, nz=200``."""
    try:
        sweep = json.loads(params) if isinstance(params, str) and params else {}
    except json.JSONDecodeError:
        sweep = {}
    extra = [f"{k}={v}" for k, v in sorted(sweep.items())]
    return ", ".join([str(regularizers), *extra])


def setting_prose(regularizers: str, params: str) -> str:
    """The setting for a sentence: ``no regularizer``, ``gp``, ``gp, nz=200``."""
    label = setting_label(regularizers, params)
    return "no regularizer" + label[len("none"):] if regularizers == "none" else label


# -- summary.csv: one row per configuration ----------------------------------------------

#: A configuration: everything but the seed.
GROUP_COLUMNS = [DATASET, LOSS, REGULARIZERS, PARAMS]
N_RUNS, N_OK, N_DIVERGED, N_SKIPPED, N_FAILED = "n_runs", "n_ok", "n_diverged", "n_skipped", "n_failed"
RANK = "rank"  # 1 = best within the dataset
RANK_BY = "rank_by"  # which metric(s) the rank used, e.g. "fid" or "modes,hq_frac"
#: Metrics summarised over the ok runs of a configuration (training time included).
SUMMARY_METRICS = [*keys.METRIC_COLUMNS, *END_COLUMNS, WALL_S]
SUMMARY_STATS = ("n", "mean", "std", "ci_low", "ci_high")


def stat_column(metric: str, stat: str) -> str:
    """``fid`` + ``mean`` -> ``fid_mean``: the summary column of one statistic."""
    return f"{metric}_{stat}"


SUMMARY_COLUMNS = [
    *GROUP_COLUMNS, N_RUNS, N_OK, N_DIVERGED, N_SKIPPED, N_FAILED, RANK, RANK_BY,
    *[stat_column(m, s) for m in SUMMARY_METRICS for s in SUMMARY_STATS],
]

# -- stats.csv: tests between objectives ----------------------------------------------------

#: "baseline" (each objective against one) or "all" (every pair) between objectives of one
#: setting; "setting" between settings (regularizers, swept values) of one objective: a is a
#: setting's label, b the reference setting's (see gan_zoo.bench.stats.reference_setting),
#: the objective is in the loss column and the regularizers and params columns are empty.
COMPARISON = "comparison"
SETTING = "setting"
A, B = "a", "b"  # baseline comparisons: a = the objective, b = the baseline
N_A, N_B = "n_a", "n_b"
MEDIAN_A, MEDIAN_B = "median_a", "median_b"
#: median_a - median_b and its percentile bootstrap interval
DIFF, DIFF_LOW, DIFF_HIGH = "median_diff", "median_diff_low", "median_diff_high"
#: probability that a seed of a beats a seed of b (U / (n_a n_b) in the metric's direction)
PROB_BETTER, PROB_BETTER_LOW, PROB_BETTER_HIGH = "prob_a_better", "prob_a_better_low", "prob_a_better_high"
U, P, P_HOLM, SIGNIFICANT, BETTER = "u", "p", "p_holm", "significant", "better"
MIN_P = "min_p"  # smallest p these seed counts allow
N_TESTS = "n_tests"  # tests in the Holm family
TEST = "test"  # "exact" (permutation distribution) or "asymptotic"
OMNIBUS_P = "kruskal_p"  # Kruskal-Wallis across the family's objectives (or settings)
STATS_COLUMNS = [
    DATASET, LOSS, REGULARIZERS, PARAMS, METRIC, COMPARISON,
    A, B, N_A, N_B, MEDIAN_A, MEDIAN_B, DIFF, DIFF_LOW, DIFF_HIGH,
    PROB_BETTER, PROB_BETTER_LOW, PROB_BETTER_HIGH,
    U, TEST, P, MIN_P, N_TESTS, P_HOLM, SIGNIFICANT, BETTER, OMNIBUS_P,
]
#: Family-wise error rate of the Holm correction.
ALPHA = 0.05
#: Seeds needed on both sides for a test (with 2 vs 2 the exact two-sided Mann-Whitney
#: p is at least 1/3, so such tests only dilute the Holm family).
MIN_SEEDS_FOR_TEST = 3
#: The objective every other one is compared with by default.
DEFAULT_BASELINE = "ns"

# -- what "better" means ----------------------------------------------------------------

# Directions, stated only where a better generator moves the metric one way. Not
# ranked: k-NN precision (it rises as samples collapse into dense regions of the real
# data: grey blobs 0.995 against digits 0.68 in a quick MNIST grid), density (above 1
# for samples crowding dense regions, so "higher" is not "better" past about 1) and
# MiFID's memorisation distance (large for blobs and for novel digits alike).
LOWER_IS_BETTER = {keys.FID, keys.KID_MEAN, keys.MIFID, keys.MODE_KL, WALL_S}
HIGHER_IS_BETTER = {keys.IS_MEAN, keys.RECALL, keys.COVERAGE, keys.MODES, keys.MODES_CONFIDENT,
                    keys.MODES_PUBLISHED, keys.HQ_FRAC, keys.CONFIDENT_FRAC, keys.COND_ACC}


def rank_metrics(dataset: str, available: set[str] | None = None) -> list[str]:
    """Metrics that order configurations of ``dataset``, most important first.

    FID for image datasets; mode coverage (then sample quality) for the 2-D mixtures,
    and for any dataset whose runs have no FID (``available``: metrics with values).
    """
    if is_points(dataset):  # 2-D toy mixtures: ranked by mode coverage, not FID
        return [keys.MODES, keys.HQ_FRAC]
    if available is None or keys.FID in available:
        return [keys.FID]
    if keys.MODES in available:
        return [keys.MODES, keys.MODE_KL]
    return []


#: Shown for each metric in the report and on plot axes.
METRIC_LABELS = {
    keys.FID: "FID", keys.IS_MEAN: "IS", keys.KID_MEAN: "KID", keys.PRECISION: "precision",
    keys.RECALL: "recall", keys.DENSITY: "density", keys.COVERAGE: "coverage",
    keys.MIFID: "MiFID", keys.MIFID_DISTANCE: "MiFID memorisation distance",
    keys.MODES: "modes covered", keys.MODES_CONFIDENT: "modes covered (confident)",
    keys.MODES_PUBLISHED: "modes covered (published rule)",
    keys.MODE_KL: "KL(modes || uniform)", keys.HQ_FRAC: "high-quality share",
    keys.CONFIDENT_FRAC: "confident share", keys.COND_ACC: "conditional accuracy",
    WALL_S: "training time (s)", D_REAL_END: "D(x) at the end", D_FAKE_END: "D(G(z)) at the end",
}
