"""A search folder's tables, figures and ``report.md``, rebuilt from its run folders,
``trials.csv`` and ``search.json`` alone (``gan-zoo report OUT`` on a search folder).

Tables: ``runs.csv`` (as ``gan-zoo bench`` writes it; the training logs stay in the runs'
``log.csv``, with no ``curves.csv`` beside them), ``scores.csv``
(one row per trial and reseed run: its score, where the score came from, the final
protocol value), ``bestk.csv`` (expected best score after k trials with its 95% band),
``reseed_stats.csv`` (each objective's reseeded best against the baseline, Holm).
Figures: ``plots/bestk_<dataset>.png`` and ``plots/settings_<dataset>.png``.
"""

from __future__ import annotations

import json
import math
import os
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import seaborn as sns

from gan_zoo import __version__
from gan_zoo.bench import columns as C
from gan_zoo.bench.report import markdown_table
from gan_zoo.bench.stats import fmt_p, pairwise_tests
from gan_zoo.bench.tables import collect_runs
from gan_zoo.errors import GanZooError
from gan_zoo.io import read_json, write_csv_atomic, write_text_atomic
from gan_zoo.search.bestk import K_TABLE, bestk_band, expected_best_curve
from gan_zoo.search.space import parse_space, space_for
from gan_zoo.search.study import (SEARCH_JSON, TRIALS_CSV, lower_is_better, read_trials, score_metric,
                                  trial_score)

__all__ = ["is_search_folder", "rebuild_search", "score_table", "bestk_table", "reseed_stats"]

SCORES_CSV = "scores.csv"
BESTK_CSV = "bestk.csv"
RESEED_STATS_CSV = "reseed_stats.csv"
SCORE_COLUMNS = ["dataset", "loss", "regularizers", "kind", "trial", "seed", "run_id", "paper_default",
                 "status", "metric", "score", "score_hq", "score_step", "score_source", "final", "wall_s",
                 "settings"]
BESTK_COLUMNS = ["dataset", "loss", "regularizers", "n_trials", "k", "expected_best", "band_low", "band_high"]
_FINISHED = ("ok", "diverged", "failed")


def is_search_folder(path) -> bool:
    return (Path(path) / SEARCH_JSON).is_file()


def _fmt(v, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "inf" if isinstance(v, float) and math.isinf(v) and v > 0 else ""
    if isinstance(v, float):
        return f"{v:.{digits}g}"
    return str(v)


def score_table(out: Path, runs: pd.DataFrame) -> pd.DataFrame:
    """One row per trial and reseed run of ``trials.csv``, scored from its run folder."""
    rows = []
    by_id = runs.set_index(C.RUN_ID) if not runs.empty else None
    for r in read_trials(out):
        run_id = r["run_id"]
        status, wall = "", math.nan
        if by_id is not None and run_id in by_id.index:
            status = str(by_id.loc[run_id, C.STATUS])
            wall = float(by_id.loc[run_id, C.WALL_S])
        # a run still training has no score yet: what its folder holds so far is not read,
        # so a folder rebuilds the same tables wherever it was copied mid-search
        sc = trial_score(out / C.RUNS_DIR / run_id, r["dataset"]) if run_id and status else {}
        rows.append({"dataset": r["dataset"], "loss": r["loss"], "regularizers": r["regularizers"],
                     "kind": r["kind"], "trial": int(r["trial"]), "seed": int(r["seed"]), "run_id": run_id,
                     "paper_default": str(r["paper_default"]) == "True", "status": status,
                     "metric": score_metric(r["dataset"]), "score": sc.get("score", math.nan),
                     "score_hq": sc.get("score_hq", math.nan),
                     "score_step": sc.get("score_step", math.nan), "score_source": sc.get("score_source", "none"),
                     "final": sc.get("final", math.nan), "wall_s": wall, "settings": r["settings"]})
    df = pd.DataFrame(rows, columns=SCORE_COLUMNS)
    for col in ("score", "score_hq", "score_step", "final", "wall_s"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
    return df.sort_values(["dataset", "loss", "regularizers", "kind", "trial", "seed"],
                          ascending=[True, True, True, False, True, True], kind="stable").reset_index(drop=True)


def _random_trials(sub: pd.DataFrame) -> pd.DataFrame:
    """The finished random trials of one study (the paper default, trial 0, is not a
    random draw and is reported beside the curve, not in it)."""
    return sub[(sub["kind"] == "trial") & ~sub["paper_default"] & sub["status"].isin(_FINISHED)] \
        .sort_values("trial")


def _filled(scores: pd.Series, low: bool) -> np.ndarray:
    """A trial without a score is a trial spent with the worst score."""
    return scores.fillna(math.inf if low else 0.0).to_numpy(dtype=float)


def bestk_table(scores: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (dataset, loss, regs), sub in scores.groupby(["dataset", "loss", "regularizers"], sort=True):
        trials = _random_trials(sub)
        if trials.empty:
            continue
        low = lower_is_better(dataset)
        s = _filled(trials["score"], low)
        curve = expected_best_curve(s, low)
        lo, hi = bestk_band(s, low)
        for k in range(1, len(s) + 1):
            rows.append({"dataset": dataset, "loss": loss, "regularizers": regs, "n_trials": len(s), "k": k,
                         "expected_best": curve[k - 1], "band_low": lo[k - 1], "band_high": hi[k - 1]})
    return pd.DataFrame(rows, columns=BESTK_COLUMNS)


def _best_rows(scores: pd.DataFrame) -> pd.DataFrame:
    """Each study's best trial (ties to the higher high-quality share on the 2-D mixtures,
    then to the lower number), the paper default among them."""
    out = []
    for (dataset, loss, regs), sub in scores.groupby(["dataset", "loss", "regularizers"], sort=True):
        trials = sub[(sub["kind"] == "trial") & sub["score"].notna() & sub["status"].isin(_FINISHED)]
        if trials.empty:
            continue
        low = lower_is_better(dataset)
        best = trials.assign(_hq=trials["score_hq"].fillna(0.0)).sort_values(
            ["score", "_hq", "trial"], ascending=[low, False, True], kind="stable").iloc[0]
        out.append(best)
    return pd.DataFrame(out)


def reseed_stats(scores: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """The reseeded best of each objective against ``baseline`` (exact Mann-Whitney U,
    Holm), on the score and on the final protocol value; column ``measure`` says which."""
    parts = []
    best = _best_rows(scores)
    reseeds = scores[scores["kind"] == "reseed"]
    if reseeds.empty or best.empty:
        return pd.DataFrame(columns=[*C.STATS_COLUMNS, "measure"])
    # only the reseeds of each study's current best trial
    current = {(r["dataset"], r["loss"], r["regularizers"]): int(r["trial"]) for _, r in best.iterrows()}
    keep = [current.get((r["dataset"], r["loss"], r["regularizers"])) == int(r["trial"]) for _, r in reseeds.iterrows()]
    reseeds = reseeds[keep]
    for measure, column in (("score (best in-training point)", "score"), ("final protocol evaluation", "final")):
        for dataset, sub in reseeds.groupby("dataset", sort=True):
            metric = score_metric(dataset)
            df = pd.DataFrame({C.DATASET: sub["dataset"], C.LOSS: sub["loss"], C.REGULARIZERS: sub["regularizers"],
                               C.PARAMS: "", C.SEED: sub["seed"],
                               C.STATUS: ["ok" if s == "ok" else s for s in sub["status"]],
                               metric: sub[column]})
            base = baseline if baseline in set(df[C.LOSS]) else None
            comparisons = "baseline" if base else "all"
            st = pairwise_tests(df, metric=metric, comparisons=comparisons, baseline=base)
            if not st.empty:
                st = st.copy()
                st["measure"] = measure
                parts.append(st)
    if not parts:
        return pd.DataFrame(columns=[*C.STATS_COLUMNS, "measure"])
    return pd.concat(parts, ignore_index=True)[[*C.STATS_COLUMNS, "measure"]]


# -- figures ------------------------------------------------------------------------------------


def _figure(w, h):
    from matplotlib.figure import Figure

    return Figure(figsize=(w, h), layout="constrained", dpi=110)


def _save(fig, out: Path, name: str) -> Path:
    from gan_zoo.io import savefig_atomic

    return savefig_atomic(fig, out / C.PLOTS_DIR / name, dpi=110)


def _metric_label(dataset: str) -> str:
    metric = score_metric(dataset)
    label = C.METRIC_LABELS.get(metric, metric)
    return f"best {label} in training ({'lower' if lower_is_better(dataset) else 'higher'} is better)"


def plot_bestk(bestk: pd.DataFrame, out: Path) -> list[Path]:
    paths = []
    for dataset, sub in bestk.groupby("dataset", sort=True):
        sns.set_theme(style="whitegrid")
        fig = _figure(7.5, 4.6)
        ax = fig.add_subplot()
        studies = list(sub.groupby(["loss", "regularizers"], sort=True))
        colors = sns.color_palette("tab10", n_colors=max(10, len(studies)))
        for i, ((loss, regs), s) in enumerate(studies):
            label = loss if regs == "none" else f"{loss} ({regs})"
            hi = s["band_high"].replace([np.inf, -np.inf], np.nan)
            lo = s["band_low"].replace([np.inf, -np.inf], np.nan)
            ax.plot(s["k"], s["expected_best"].replace([np.inf, -np.inf], np.nan), color=colors[i], label=label, lw=1.6)
            ax.fill_between(s["k"], lo, hi, color=colors[i], alpha=0.12, lw=0)
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # k counts trials
        ax.set_xlabel("trials k (random draws from the space)")
        # two lines: the label is longer than the axis is tall
        ax.set_ylabel("expected " + _metric_label(dataset).replace(" in training ", "\nin training "))
        ax.set_title(f"{dataset}: expected best score after k trials (95% bootstrap band)")
        ax.legend(fontsize=7, ncol=2, loc="best")
        paths.append(_save(fig, out, f"bestk_{dataset}.png"))
    return paths


#: an objective's own searched knob, shown in a third column of the settings figure
#: where a study searched one: WGAN-GP's penalty weight (or a ``gp`` regularizer's), WGAN's clip
OWN_KNOBS = ("gp.weight", "clip")


def _settings_columns(trials: pd.DataFrame) -> tuple[list[str], dict]:
    """The settings figure's columns among lr and beta1, and the settings every searched
    (not paper-default) trial shares, two or more of them, with their value: a fixed
    setting (the narrow space's beta1 0.5) gets no column, whose scatter would be one
    vertical line; the title names it."""
    searched = trials[~trials["paper_default"].astype(bool)]
    fixed = {c: float(searched[c].dropna().iloc[0]) for c in ("lr", "beta1")
             if searched[c].notna().sum() >= 2 and searched[c].dropna().nunique() == 1}
    return [c for c in ("lr", "beta1") if trials[c].notna().any() and c not in fixed], fixed


def _tick(x: float, _pos=None) -> str:
    """1e-4, 2e-4 for learning rates; 0.5, 1, 10 for penalty weights and clips."""
    return f"{x:.0e}".replace("e-0", "e-") if x < 0.01 else f"{x:g}"


def _log_axis(ax, values: pd.Series) -> None:
    """A log x axis labelled where a reader can read it: decades over a wide range; 1, 2
    and 5 times each decade where the values span less than two decades (the narrow
    space's [1e-4, 1e-3] would otherwise carry one label)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.set_xscale("log")
    v = values[values > 0].dropna()
    narrow = not v.empty and v.max() / v.min() < 100
    if narrow:
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(_tick))
    ax.xaxis.set_minor_formatter(NullFormatter())  # minor ticks unlabelled


def plot_settings(scores: pd.DataFrame, out: Path) -> list[Path]:
    """Score against learning rate and beta1, one row per objective, and against the
    objective's own searched knob where it has one (:data:`OWN_KNOBS`); circles n_critic
    1, triangles 5; the paper default a black diamond, the best trial a red star. A learning
    rate or beta1 that every searched trial shares (the narrow space's beta1) gets no column;
    the title names its value."""
    paths = []
    trials = scores[scores["kind"] == "trial"].copy()
    if trials.empty:
        return paths
    settings = trials["settings"].map(lambda t: json.loads(t) if isinstance(t, str) and t else {})
    for key in ("lr", "lr_d", "beta1", "n_critic", *OWN_KNOBS):
        trials[key] = [s.get(key, math.nan) for s in settings]
    trials["lr"] = trials["lr"].fillna(trials["lr_d"])
    for dataset, sub in trials.groupby("dataset", sort=True):
        studies = list(sub.groupby(["loss", "regularizers"], sort=True))
        cols, fixed = _settings_columns(sub)
        if not cols:
            continue
        if sub[list(OWN_KNOBS)].notna().any().any():
            cols.append("own")
        sns.set_theme(style="whitegrid")
        fig = _figure(3.2 * len(cols), 1.9 * len(studies) + 0.5)
        axes = fig.subplots(len(studies), len(cols), squeeze=False)
        low = lower_is_better(dataset)
        for i, ((loss, regs), s) in enumerate(studies):
            asked, s = s, s[s["score"].notna()]  # a search still running: trials without a score yet
            best = s.assign(_hq=s["score_hq"].fillna(0.0)).sort_values(
                ["score", "_hq", "trial"], ascending=[low, False, True]).head(1)
            for j, col in enumerate(cols):
                ax = axes[i][j]
                if col == "own":  # this objective's own knob, if it searched one
                    col = next((k for k in OWN_KNOBS if asked[k].notna().any()), None)
                    if col is None:
                        ax.set_axis_off()
                        continue
                unused = asked[col].isna().all()  # e.g. beta1 for wgan, which trains with RMSprop
                if s.empty or unused:
                    ax.text(0.5, 0.5, f"{col} not searched" if unused else "no trial scored yet",
                            transform=ax.transAxes, ha="center", va="center", fontsize=8, color="0.4")
                    ax.set_xticks([])
                    ax.set_yticks([])
                    ax.set_ylabel(loss if regs == "none" else f"{loss} ({regs})", fontsize=8)
                    continue
                for nc, marker in ((1, "o"), (5, "^")):
                    part = s[(s["n_critic"] == nc) | (s["n_critic"].isna() & (nc == 1))] \
                        if s["n_critic"].notna().any() else (s if nc == 1 else s.iloc[0:0])
                    part = part[~part["paper_default"]]
                    ax.scatter(part[col], part["score"], s=14, marker=marker, alpha=0.75, color="tab:blue")
                dflt = s[s["paper_default"]]
                ax.scatter(dflt[col], dflt["score"], s=40, marker="D", color="black", zorder=3)
                ax.scatter(best[col], best["score"], s=70, marker="*", color="tab:red", zorder=4)
                if col in ("lr", *OWN_KNOBS):
                    _log_axis(ax, asked[col])
                ax.set_xlabel(col if i == len(studies) - 1 or col in OWN_KNOBS else "", fontsize=8)
                ax.set_ylabel(loss if regs == "none" else f"{loss} ({regs})", fontsize=8)
                ax.tick_params(labelsize=7)
        held = "".join(f"; {c} {_fmt(v)} in every searched trial" for c, v in fixed.items())
        title = [f"{dataset}: {_metric_label(dataset)} by setting{held}",
                 "circle n_critic 1, triangle n_critic 5; black diamond paper default, red star best"]
        # about 14.5 characters an inch at this size: a one-column figure wraps its title
        fig.suptitle("\n".join(textwrap.fill(t, max(40, int(14.5 * 3.2 * len(cols)))) for t in title), fontsize=9)
        paths.append(_save(fig, out, f"settings_{dataset}.png"))
    return paths


# -- report ---------------------------------------------------------------------------------------


def _k_columns(n: int) -> list[int]:
    return [k for k in K_TABLE if k < n] + [n]


def _bestk_summary(bestk: pd.DataFrame, scores: pd.DataFrame, dataset: str) -> pd.DataFrame:
    sub = bestk[bestk["dataset"] == dataset]
    rows = []
    for (loss, regs), s in sub.groupby(["loss", "regularizers"], sort=True):
        n = int(s["n_trials"].iloc[0])
        st = scores[(scores["dataset"] == dataset) & (scores["loss"] == loss) & (scores["regularizers"] == regs)]
        dflt = st[(st["kind"] == "trial") & st["paper_default"]]
        row = {"objective": loss if regs == "none" else f"{loss} ({regs})", "random trials": n,
               "paper default": _fmt(float(dflt["score"].iloc[0])) if not dflt.empty else ""}
        for k in _k_columns(n):
            r = s[s["k"] == k].iloc[0]
            band = "" if math.isnan(r["band_low"]) else f" [{_fmt(r['band_low'])}, {_fmt(r['band_high'])}]"
            row[f"k={k}"] = _fmt(r["expected_best"]) + band
        rows.append(row)
    table = pd.DataFrame(rows).fillna("")
    # objectives with fewer finished trials (a pruned search) stop at another k: one order
    ks = sorted((c for c in table.columns if c.startswith("k=")), key=lambda c: int(c[2:]))
    return table[[c for c in table.columns if not c.startswith("k=")] + ks]


def _spread(values) -> float:
    """max - min, exactly 0 for equal expected bests (no float residue in the reading)."""
    hi, lo = max(values), min(values)
    return 0.0 if math.isclose(hi, lo, rel_tol=1e-9, abs_tol=1e-12) else hi - lo


def _settings_text(settings: str) -> str:
    try:
        d = json.loads(settings) if settings else {}
    except ValueError:
        return str(settings)
    return ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}" for k, v in d.items())


def _best_table(scores: pd.DataFrame, dataset: str) -> pd.DataFrame:
    best = _best_rows(scores[scores["dataset"] == dataset])
    rows = []
    for _, b in best.iterrows():
        st = scores[(scores["dataset"] == dataset) & (scores["loss"] == b["loss"])
                    & (scores["regularizers"] == b["regularizers"]) & (scores["kind"] == "trial")]
        dflt = st[st["paper_default"]]
        rows.append({"objective": b["loss"] if b["regularizers"] == "none" else f"{b['loss']} ({b['regularizers']})",
                     "best trial": int(b["trial"]) if not b["paper_default"] else "0 (paper default)",
                     "score": _fmt(b["score"]), "at step": "" if math.isnan(b["score_step"]) else int(b["score_step"]),
                     "final": _fmt(b["final"]), "settings": _settings_text(b["settings"]),
                     "paper default settings": _settings_text(dflt["settings"].iloc[0]) if not dflt.empty else ""})
    return pd.DataFrame(rows)


def _reseed_table(scores: pd.DataFrame, dataset: str) -> pd.DataFrame:
    best = _best_rows(scores[scores["dataset"] == dataset])
    rows = []
    for _, b in best.iterrows():
        rs = scores[(scores["dataset"] == dataset) & (scores["loss"] == b["loss"]) & (scores["kind"] == "reseed")
                    & (scores["regularizers"] == b["regularizers"]) & (scores["trial"] == b["trial"])]
        if rs.empty:
            continue
        def spread(col):
            v = rs[col].dropna()
            return f"{_fmt(float(v.median()))} [{_fmt(float(v.min()))}-{_fmt(float(v.max()))}]" if not v.empty else ""
        rows.append({"objective": b["loss"], "best trial": int(b["trial"]), "seeds": len(rs),
                     "ok": int((rs["status"] == "ok").sum()), "score median [min-max]": spread("score"),
                     "final median [min-max]": spread("final"),
                     "selected trial's score": _fmt(b["score"])})
    return pd.DataFrame(rows)


def _tests_table(stats: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for _, r in stats.iterrows():
        rows.append({"measure": r["measure"], "a": r[C.A], "b": r[C.B], "median a": _fmt(r[C.MEDIAN_A]),
                     "median b": _fmt(r[C.MEDIAN_B]), "P(a better)": _fmt(r[C.PROB_BETTER], 2),
                     "p": fmt_p(r[C.P]), "p Holm": fmt_p(r[C.P_HOLM]), "significant": bool(r[C.SIGNIFICANT]),
                     "smallest p possible": fmt_p(r[C.MIN_P])})
    return pd.DataFrame(rows)


def _ranked(order: list[str], value: dict) -> str:
    """``order`` with each value, objectives whose values print the same joined by ``=``
    (a tie is not an order)."""
    groups: list[list[str]] = []
    for name in order:
        if groups and _fmt(value[groups[-1][0]]) == _fmt(value[name]):
            groups[-1].append(name)
        else:
            groups.append([name])
    return ", ".join(f"{' = '.join(g)} ({_fmt(value[g[0]])})" for g in groups)


def _reading(scores: pd.DataFrame, bestk: pd.DataFrame, stats: pd.DataFrame, dataset: str,
             baseline: str) -> list[str]:
    """Sentences that claim only what the numbers show."""
    lines = []
    sub = bestk[bestk["dataset"] == dataset]
    if sub.empty:
        return ["No finished random trial yet."]
    low = lower_is_better(dataset)
    metric = C.METRIC_LABELS.get(score_metric(dataset), score_metric(dataset))
    n_min = int(sub["n_trials"].min())
    at1 = {l: float(s[s["k"] == 1]["expected_best"].iloc[0]) for l, s in sub.groupby("loss")}
    atn = {l: float(s[s["k"] == n_min]["expected_best"].iloc[0]) for l, s in sub.groupby("loss")}
    spread1, spreadn = _spread(at1.values()), _spread(atn.values())
    shown = {l: float(_fmt(v) or "nan") for l, v in atn.items()}  # as printed: a rounding is a tie
    order = sorted(atn, key=lambda l: (shown[l] if low else -shown[l], l))
    lines.append(f"Expected best {metric} of one random trial ranges over {_fmt(spread1)} across the "
                 f"{len(at1)} objectives ({_fmt(min(at1.values()))} to {_fmt(max(at1.values()))}); "
                 f"after {n_min} trials over {_fmt(spreadn)} ({_fmt(min(atn.values()))} to "
                 f"{_fmt(max(atn.values()))}). Order at k = {n_min}: {_ranked(order, atn)}.")
    # whose bands overlap the best one's at k = n_min
    top = order[0]
    band = {l: (float(s[s['k'] == n_min]['band_low'].iloc[0]), float(s[s['k'] == n_min]['band_high'].iloc[0]))
            for l, s in sub.groupby("loss")}
    tl, th = band[top]
    overlap = [l for l in order[1:] if not (math.isnan(tl) or math.isnan(band[l][0]))
               and band[l][0] <= th and band[l][1] >= tl]
    if not math.isnan(tl):
        lines.append(f"At k = {n_min} the 95% bands of {', '.join(overlap) if overlap else 'no other objective'} "
                     f"overlap the band of {top} (bands are per objective, not tests).")
    part = stats[stats[C.DATASET] == dataset] if not stats.empty else stats
    if not part.empty:
        for measure, fam in part.groupby("measure", sort=False):
            sig = fam[fam[C.SIGNIFICANT].astype(bool)]
            can = bool((fam[C.MIN_P] * fam[C.N_TESTS]).min() <= C.ALPHA)
            if not can:
                lines.append(f"Reseeded best settings, {measure}: these seeds cannot make any Holm-corrected "
                             "comparison significant at 0.05.")
            elif sig.empty:
                lines.append(f"Reseeded best settings, {measure}: no objective differs significantly from "
                             f"{fam[C.B].iloc[0]} (Holm, 0.05).")
            else:
                lines.append(f"Reseeded best settings, {measure}: significantly different from {fam[C.B].iloc[0]}: "
                             + ", ".join(f"{r[C.A]} ({'better' if r[C.BETTER] == r[C.A] else 'worse'}, "
                                         f"p Holm {fmt_p(r[C.P_HOLM])})" for _, r in sig.iterrows()) + ".")
    return lines


LUCIC_READING = (
    "Lucic et al. 2018 (arXiv:1711.10337) searched 100 wide-range settings per model on MNIST, "
    "Fashion-MNIST, CIFAR-10 and CelebA and found that with enough search and restarts most "
    "objectives reach similar best FIDs, that the spread across objectives at a small budget is "
    "larger than at a large one, and that no objective was consistently better than the "
    "non-saturating GAN. Their FIDs use Inception features on image data and their networks differ, "
    "so compare orders and spreads here, not values; on the 2-D mixtures the score is modes covered, "
    "which they did not measure."
)


def rebuild_search(out) -> dict:
    """Rewrite the tables, figures and report.md of search folder ``out``."""
    out = Path(out)
    meta_path = out / SEARCH_JSON
    if not meta_path.is_file():
        raise GanZooError(f"{out} is not a search folder (no {SEARCH_JSON})")
    meta = read_json(meta_path)
    if not (out / TRIALS_CSV).is_file():
        raise GanZooError(f"{out} has no {TRIALS_CSV} yet; run the search command again to write it")
    # no curves.csv: the report does not read it, and for a search it would repeat every
    # run's log.csv (12 MB beside search-ring8's 19 MB)
    runs, _ = collect_runs([out])
    paths: dict = {"trials": out / TRIALS_CSV}
    runs_out = runs.copy()
    runs_out[C.RUN_DIR] = [os.path.relpath(p, out) if isinstance(p, str) and p else "" for p in runs_out[C.RUN_DIR]]
    paths["runs"] = write_csv_atomic(out / C.RUNS_CSV, runs_out[C.runs_columns(runs_out)])
    scores = score_table(out, runs)
    paths["scores"] = write_csv_atomic(out / SCORES_CSV, scores)
    bestk = bestk_table(scores)
    paths["bestk"] = write_csv_atomic(out / BESTK_CSV, bestk)
    baseline = meta.get("baseline") or C.DEFAULT_BASELINE
    stats = reseed_stats(scores, baseline)
    paths["reseed_stats"] = write_csv_atomic(out / RESEED_STATS_CSV, stats)
    plots = plot_bestk(bestk, out) + plot_settings(scores, out)
    paths["plots"] = plots
    pruning = pruning_table(scores, runs) if meta.get("prune") else None
    paths["report"] = _write_report(out, meta, scores, bestk, stats, plots, baseline, pruning,
                                    worker_seconds(runs))
    return paths


def worker_seconds(runs: pd.DataFrame) -> tuple[float, int]:
    """Seconds the workers spent training, and the runs trained in populations: a
    population's members each record the population's seconds, so it counts once (at
    its longest member), a single run as itself."""
    if runs.empty or C.POPULATION not in runs or C.WALL_S not in runs:
        return (float(runs[C.WALL_S].sum()) if C.WALL_S in runs else 0.0), 0
    wall = pd.to_numeric(runs[C.WALL_S], errors="coerce").fillna(0.0)
    pop = runs[C.POPULATION].fillna("").astype(str)
    packed = pop != ""
    return float(wall[~packed].sum() + wall[packed].groupby(pop[packed]).max().sum()), int(packed.sum())


def pruning_table(scores: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """Per study of a pruned search: trials that ran to the end and that were stopped
    (at which step), the training seconds spent, and what the same trials would have
    cost unpruned (each stopped run's seconds scaled by its planned over its done steps),
    so the fraction spent."""
    steps = runs.set_index(C.RUN_ID)[[C.STEPS, C.STEPS_PLANNED]] if not runs.empty else None
    rows = []
    trials = scores[scores["kind"] == "trial"]
    for (dataset, loss, regs), sub in trials.groupby(["dataset", "loss", "regularizers"], sort=True):
        spent = full = 0.0
        stopped: dict[int, int] = {}
        for _, r in sub.iterrows():
            wall = r["wall_s"] if math.isfinite(r["wall_s"]) else 0.0
            spent += wall
            if r["status"] == C.PRUNED and steps is not None and r["run_id"] in steps.index:
                done, planned = steps.loc[r["run_id"], C.STEPS], steps.loc[r["run_id"], C.STEPS_PLANNED]
                full += wall * (float(planned) / float(done)) if done and planned else wall
                stopped[int(done)] = stopped.get(int(done), 0) + 1
            else:
                full += wall
        rows.append({"dataset": dataset, "loss": loss, "regularizers": regs, "trials": len(sub),
                     "to the end": int(sub["status"].isin(_FINISHED).sum()),
                     "stopped (at step)": ", ".join(f"{n} at {k}" for k, n in sorted(stopped.items())) or "none",
                     "training h": round(spent / 3600, 3), "unpruned h (est.)": round(full / 3600, 3),
                     "fraction": round(spent / full, 3) if full > 0 else math.nan})
    return pd.DataFrame(rows)


def _write_report(out: Path, meta: dict, scores: pd.DataFrame, bestk: pd.DataFrame, stats: pd.DataFrame,
                  plots: list[Path], baseline: str, pruning: pd.DataFrame | None = None,
                  worker: tuple[float, int] = (0.0, 0)) -> Path:
    datasets = sorted(scores["dataset"].unique()) if not scores.empty else list(meta.get("datasets") or [])
    trials = scores[scores["kind"] == "trial"]
    reseeds = scores[scores["kind"] == "reseed"]
    md = ["# gan-zoo search report", ""]
    status = ", ".join(f"{int(n)} {s or 'still training'}" for s, n in scores["status"].value_counts().sort_index().items())
    md.append(f"Built by gan-zoo {__version__} from {len(trials)} trials and {len(reseeds)} reseed runs "
              f"({status}); "
              f"datasets: {', '.join(datasets)}. Tables: [{TRIALS_CSV}]({TRIALS_CSV}), [{SCORES_CSV}]({SCORES_CSV}), "
              f"[{BESTK_CSV}]({BESTK_CSV}), [{RESEED_STATS_CSV}]({RESEED_STATS_CSV}), [{C.RUNS_CSV}]({C.RUNS_CSV}).")
    md += ["", "## What was searched", ""]
    space = parse_space(meta["space"], SEARCH_JSON)
    source = f"the file {meta.get('space_file')}" if meta.get("phase") == "file" else \
        f"the declared {meta.get('phase')} space (Lucic et al. 2018)"
    md.append(f"- Space: {source}; per objective the keys that apply (Adam's betas with Adam only, the clipping "
              "bound where the objective clips, a regularizer's parameter where it is used); `lr` sets both "
              "players' learning rates; `gp.weight` is the `gp` regularizer's weight, and WGAN-GP's built-in penalty "
              "weight (its lambda).")
    for (loss, regs), _ in trials.groupby(["loss", "regularizers"], sort=True):
        sub = space_for(space, loss, regs)
        md.append(f"  - {loss}{'' if regs == 'none' else f' ({regs})'}: "
                  + "; ".join(p.text() for p in sub.values()))
    counts = trials.groupby(["dataset", "loss", "regularizers"]).size()
    md.append(f"- Trials per study: {', '.join(sorted({str(int(c)) for c in counts}))} (trial 0 the objective's paper "
              "default, the same run `gan-zoo bench` trains; trials 1.. drawn by Optuna's random sampler, each value "
              f"seeded by the search seed {meta.get('seed')}, the trial number and the key, so trial t draws the same "
              "learning rate for every objective).")
    steps = meta.get("steps") or {}
    md.append(f"- Budget: {meta.get('budget')}; generator steps per trial: "
              + ", ".join(f"{d} {s}" for d, s in sorted(steps.items()))
              + f"; {meta.get('curve_points')} in-training score points per trial; final evaluation on "
              f"{meta.get('eval_samples')} samples (the dataset's protocol count where it is fixed).")
    md.append("- Score: a trial's score is its best in-training score point (Lucic et al.: the best FID over the "
              "run), " + "; ".join(
                  f"{d}: {'FID of 1,000 samples, lowest' if lower_is_better(d) else 'modes covered of 2,500 samples, most (ties to the higher high-quality share)'}"
                  for d in datasets)
              + ". The final protocol evaluation of every run is kept (`final` in scores.csv, the metrics in runs.csv). "
              "The best-of-k curves, their table and the best settings use the score; the reseeded tests are given on both.")
    md.append("- Best of k: for the n finished random trials (trial 0, the paper default, is a chosen point, not a "
              "draw: it is shown beside the curve), E[best of k] = sum_i s_(i) C(n-i, k-1) / C(n, k) over the "
              "sorted scores (k trials drawn without replacement); the 95% band is a percentile bootstrap over the "
              "trials (1,000 resamples, fixed seed). A failed trial counts as spent with the worst score.")
    total = scores["wall_s"].sum()
    if worker[1]:
        md.append(f"- Training time: {worker[0] / 3600:.2f} h of worker time; {worker[1]} runs trained in "
                  f"populations, whose members each record their population's seconds (summed run by run: "
                  f"{total / 3600:.2f} h).")
    else:
        md.append(f"- Training time: {total / 3600:.2f} h over all runs (sum of the runs' training seconds).")
    if meta.get("storage"):
        md.append(f"- Storage: {meta['storage']}.")
    md.append("- Commands: " + "; ".join(f"`gan-zoo {c}`" for c in meta.get("commands") or []) + ".")
    if meta.get("prune"):
        md.append("- Successive halving (`--prune`, Optuna's asynchronous SuccessiveHalvingPruner, reduction factor "
                  f"{meta['prune'].get('reduction_factor')}): at score points 1, 2, 4, 8 ... a trial whose score so far "
                  "is in the worse half of the trials that reached that point before it stops (status pruned; no "
                  "final evaluation). Best of k and the best settings use the trials that ran to the end only: "
                  "survivors of the halving, so its curves are not those of a random search.")
    else:
        md.append("- Successive halving: not used (no `--prune`); every trial trained its full budget.")
    for dataset in datasets:
        md += ["", f"## {dataset}", "", "### Reading", ""]
        md += [f"- {line}" for line in _reading(scores, bestk, stats, dataset, baseline)]
        if pruning is not None and not pruning.empty:
            part = pruning[pruning["dataset"] == dataset].drop(columns=["dataset"])
            md += ["", "### Successive halving", "",
                   "Training hours of the trials against the same trials run to the end (a stopped trial's "
                   "seconds scaled by its planned over its done steps). Whether the best setting is the one "
                   "the full search finds: `python benchmarks/prune_vs_full.py FULL PRUNED`.", "",
                   markdown_table(part)]
        md += ["", "### Expected best score after k random trials", "",
               f"Score: {_metric_label(dataset)}; [95% band].", "",
               markdown_table(_bestk_summary(bestk, scores, dataset))]
        for p in plots:
            if p.name == f"bestk_{dataset}.png":
                md += [f"![{p.stem}]({Path(os.path.relpath(p, out)).as_posix()})", ""]
        md += ["### Best settings", "", markdown_table(_best_table(scores, dataset))]
        rt = _reseed_table(scores, dataset)
        if not rt.empty:
            md += ["### Best settings re-run with fresh seeds", "",
                   "The selected trial's own score is biased upwards by the selection (the best of n); the "
                   "fresh seeds are not.", "", markdown_table(rt)]
            part = stats[stats[C.DATASET] == dataset] if not stats.empty else stats
            if not part.empty:
                md += [f"Exact two-sided Mann-Whitney U of each objective's reseeds against {part[C.B].iloc[0]}'s, "
                       "Holm-corrected within each measure.", "", markdown_table(_tests_table(part))]
        for p in plots:
            if p.name == f"settings_{dataset}.png":
                md += ["### Score by setting", "", f"![{p.stem}]({Path(os.path.relpath(p, out)).as_posix()})", ""]
        bad = scores[(scores["dataset"] == dataset) & scores["status"].isin(["diverged", "failed"])]
        if not bad.empty:
            md += ["### Runs that did not finish normally", "",
                   markdown_table(bad[["loss", "kind", "trial", "seed", "status", "score", "settings"]])]
    md += ["", "## Against Lucic et al. 2018", "", LUCIC_READING]
    return write_text_atomic(out / C.REPORT_MD, "\n".join(md).rstrip() + "\n")
