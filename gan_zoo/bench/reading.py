"""The generated reading of report.md: what was run, what the tests can and cannot say.

Every sentence here is backed by a number in the tables: the budget in generator steps
and epochs, the discriminator steps and training seconds behind each objective, the
feature extractor and its scale, the seeds and samples, the groups of objectives the
tests cannot separate, and whether the FID curves were still falling when training
stopped. "Best" is said only of a difference that survives the Holm correction; with
one seed the results are a snapshot, and with too few seeds the reading says that no
comparison could have been significant instead of printing p-values of 1.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from gan_zoo.bench import columns as C
from gan_zoo.bench.stats import can_reject, fmt_p, n_comparisons, outlook, seeds_needed, tiers
from gan_zoo.data import is_points
from gan_zoo.metrics import keys

__all__ = ["budget_lines", "extractor_lines", "verdict_lines", "setting_lines", "curve_lines", "tier_map",
           "tier_labels", "stratified_lines",
           "curve_trend", "curve_samples", "curve_scale_text", "CURVE_RULE",
           "batch_sizes", "epoch_size", "fmt_number"]

#: What gan-zoo's lenet FID scale means, measured with gan_zoo.metrics on 10,000 images
#: (tests/test_metrics.py): MNIST train vs test images, and uniform noise vs MNIST.
LENET_REAL_FID, LENET_NOISE_FID = 2.2, 1178
#: A FID curve "still improves" when its fitted change over the last third of training
#: exceeds this share of the fitted value at the end and twice the scatter around the fit.
CURVE_MIN_SHARE = 0.05
#: The one rule for "still improving / flat / getting worse", as the report states it
#: (results/README.md quotes it; its figures come from :func:`curve_trend`).
CURVE_RULE = ("a curve is still improving when the straight line fitted to its points in the "
              "last third of the steps (mean over seeds) falls, from the start to the end of "
              f"that third, by more than {CURVE_MIN_SHARE:.0%} of its fitted value at the end and "
              "by more than twice the scatter of the points around the line (sample standard "
              "deviation of the residuals); getting worse when it rises by as much; flat otherwise")
MAX_LISTED = 12


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


def _names(items: list[str]) -> str:
    return ", ".join(items[:MAX_LISTED]) + (f" and {len(items) - MAX_LISTED} more"
                                             if len(items) > MAX_LISTED else "")


# -- budget and compute ----------------------------------------------------------------------


def epoch_size(dataset: str) -> int | None:
    """Training examples in one epoch of ``dataset``; None for sampled 2-D mixtures."""
    from gan_zoo.data import dataset_info
    from gan_zoo.errors import GanZooError

    try:
        info = dataset_info(dataset)
    except GanZooError:  # a dataset this install does not know: no epoch figure, not an error
        return None
    return info.epoch_size


def batch_sizes(runs: pd.DataFrame) -> pd.Series:
    """Batch size per run: a ``batch_size`` column if the table has one, else spec.json."""
    if "batch_size" in runs.columns:
        return pd.to_numeric(runs["batch_size"], errors="coerce")
    out = []
    for d in runs[C.RUN_DIR].fillna("") if C.RUN_DIR in runs.columns else [""] * len(runs):
        path = Path(d) / C.SPEC_JSON if d else None
        try:
            out.append(float(json.loads(path.read_text())["batch_size"]) if path else math.nan)
        except (OSError, ValueError, KeyError, TypeError):
            out.append(math.nan)
    return pd.Series(out, index=runs.index, dtype=float)


def compute_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Per (dataset, loss, regularizers, params): median generator and discriminator steps
    and training seconds over the ok runs."""
    ok = runs[runs[C.STATUS] == C.OK]
    cols = [C.G_STEPS, C.D_STEPS, C.D_EXAMPLES, C.WALL_S]
    if ok.empty:
        return pd.DataFrame(columns=[*C.GROUP_COLUMNS, *cols])
    num = ok[C.GROUP_COLUMNS].copy()
    for c in cols:
        num[c] = pd.to_numeric(ok[c], errors="coerce").astype(float)
    return num.groupby(C.GROUP_COLUMNS, sort=True, dropna=False)[cols].median().reset_index()


def _match_text(sub: pd.DataFrame) -> str:
    """How the grid matched compute (runs.csv ``match``), as the end of the budget line."""
    modes = sorted(set(sub[C.MATCH].dropna())) if C.MATCH in sub else []
    mode = modes[0] if len(modes) == 1 else ("g-steps" if not modes else None)
    if mode is None:
        return f"; these runs matched compute in different ways ({', '.join(modes)}): compare with care."
    if mode == "d-steps":
        return ("; compute matched in discriminator steps (--match d-steps): "
                "objectives with several critic updates per generator step made that many times "
                "fewer generator steps.")
    if mode == "wall":
        budget = pd.to_numeric(sub.get(C.WALL_BUDGET_S), errors="coerce").median()
        return (f"; compute matched in training seconds (--match wall, {fmt_number(budget)} s per run): "
                "each run stopped when its time was spent, so step counts depend on the machine "
                "and its load, and these runs are not bitwise reproducible.")
    return ("; budgets count generator steps (--match g-steps), so objectives with several critic "
            "updates per step also got more discriminator steps and time.")


def budget_lines(runs: pd.DataFrame, baseline: str | None) -> list[str]:
    """Per dataset: generator steps, epochs, discriminator steps and seconds per objective."""
    lines = []
    ok = runs[runs[C.STATUS] == C.OK].assign(_batch=batch_sizes(runs))
    compute = compute_table(runs)
    for dataset, sub in ok.groupby(C.DATASET, sort=True):
        g = pd.to_numeric(sub[C.G_STEPS], errors="coerce").dropna()
        if g.empty:
            continue
        steps, unit = int(g.median()), "generator"
        if set(sub[C.MATCH].dropna()) == {"d-steps"}:  # the budget is counted in D updates
            steps, unit = int(pd.to_numeric(sub[C.D_STEPS], errors="coerce").median()), "discriminator"
        text = f"Budget on **{dataset}**: {steps:,} {unit} steps per run"
        batch = sub["_batch"].dropna()
        size = epoch_size(dataset)
        if not batch.empty and batch.nunique() == 1:
            text += f" at batch {int(batch.iloc[0])}"
            if size:
                text += (f", {steps * batch.iloc[0] / size:.2g} epochs of the {size:,} "
                         "training examples")
        text += _match_text(sub)
        lines.append(text)
        comp = compute[compute[C.DATASET] == dataset]
        ratio = (comp[C.D_STEPS] / comp[C.G_STEPS]).round(2)
        groups = {}
        for loss, r in zip(comp[C.LOSS], ratio):
            groups.setdefault(r, []).append(loss)
        if len(groups) > 1 or next(iter(groups), 1) != 1:
            parts = [f"{fmt_number(r)} for {_names(sorted(set(ls)))}" for r, ls in sorted(groups.items())]
            lines.append(f"Discriminator steps per generator step on {dataset}: " + "; ".join(parts) + ".")
        per_loss = comp.groupby(C.LOSS)[C.WALL_S].median().sort_values()
        if per_loss.notna().any():
            base = per_loss.get(baseline, math.nan) if baseline else math.nan
            parts = [f"{loss} {s:.0f}"
                     + (f" ({s / base:.1f}x {baseline})" if base > 0 and loss != baseline
                        and abs(s / base - 1) >= 0.25 else "")
                     for loss, s in per_loss.items() if not pd.isna(s)]
            lines.append(f"Training seconds per run on {dataset} (median over seeds): "
                         + ", ".join(parts) + ".")
        machines = pd.Series(["" if pd.isna(m) else str(m) for m in sub.get(C.MACHINE, [])], dtype=object)
        counts = machines[machines != ""].value_counts()
        if not counts.empty:
            parts = [f"{m} ({n} run{'s' if n != 1 else ''})" for m, n in counts.items()]
            unknown = int((machines == "").sum())
            lines.append("Ran on: " + "; ".join(parts)
                         + (f"; not recorded for {unknown}" if unknown else "")
                         + (". Seconds are comparable only within one of these." if len(counts) > 1 or unknown
                            else "."))
    return lines


def extractor_lines(runs: pd.DataFrame) -> list[str]:
    """Which features the FIDs use and what their scale means; seeds and sample counts."""
    lines = []
    ok = runs[runs[C.STATUS] == C.OK]
    for dataset, sub in ok.groupby(C.DATASET, sort=True):
        seeds = sub.groupby([C.LOSS, C.REGULARIZERS, C.PARAMS])[C.SEED].nunique()
        lo, hi = (int(seeds.min()), int(seeds.max())) if not seeds.empty else (0, 0)
        count = f"{lo}" if lo == hi else f"{lo} to {hi}"
        text = f"Seeds on {dataset}: {count} per configuration ({len(seeds)} configurations)"
        n = pd.to_numeric(sub[keys.EVAL_SAMPLES], errors="coerce").dropna()
        if not n.empty:
            text += f"; {int(n.min()):,} generated samples scored per run"
            text += "" if n.nunique() == 1 else f" (up to {int(n.max()):,})"
        lines.append(text + ".")
        extractors = sorted(set(sub[keys.FEATURE_EXTRACTOR].dropna().astype(str)))
        if not extractors or is_points(dataset):
            continue
        if extractors == ["lenet"]:
            lines.append(f"FID on {dataset} uses gan-zoo's lenet MNIST classifier features: the "
                         "numbers compare within gan-zoo only, not with published Inception FIDs "
                         f"(on this scale real MNIST train vs test images score about "
                         f"{LENET_REAL_FID}, uniform noise about {LENET_NOISE_FID:,}).")
        else:
            lines.append(f"FID on {dataset} uses {', '.join(extractors)} features"
                         + (" (the scale of published FIDs when sample counts match)."
                            if all(e.startswith("inception") for e in extractors) else "."))
    return lines


# -- what the tests say ------------------------------------------------------------------------


def _family(stats: pd.DataFrame | None, dataset, regs, params, metric) -> pd.DataFrame:
    """The tests between objectives of one (dataset, setting) on ``metric``."""
    if stats is None or stats.empty:
        return pd.DataFrame(columns=C.STATS_COLUMNS)
    return stats[(stats[C.COMPARISON] != C.SETTING) & (stats[C.DATASET] == dataset) & (stats[C.REGULARIZERS] == regs)
                 & (stats[C.PARAMS] == params) & (stats[C.METRIC] == metric)]


def _rank_metric(summary: pd.DataFrame) -> str | None:
    by = next((s.split(",") for s in summary[C.RANK_BY] if s), [])
    return by[0] if by else None


def _tested_groups(summary: pd.DataFrame, stats: pd.DataFrame | None):
    """((dataset, regularizers, params), groups of objectives the tests separate, best
    first) for each setting whose test family can reject."""
    for (dataset, regs, params), sub in summary.groupby([C.DATASET, C.REGULARIZERS, C.PARAMS]):
        metric = _rank_metric(sub)
        family = _family(stats, dataset, regs, params, metric)
        if metric is None or not can_reject(family):
            continue
        yield (dataset, regs, params), tiers(family, _medians(family), metric)


def tier_map(summary: pd.DataFrame, stats: pd.DataFrame | None) -> dict[tuple, int]:
    """(dataset, loss, regularizers, params) -> tier (1 = top group), where tests exist."""
    out = {}
    for (dataset, regs, params), groups in _tested_groups(summary, stats):
        for i, group in enumerate(groups, start=1):
            for loss in group:
                out[(dataset, loss, regs, params)] = i
    return out


def _medians(family: pd.DataFrame) -> dict[str, float]:
    med = dict(zip(family[C.A], family[C.MEDIAN_A]))
    med.update(zip(family[C.B], family[C.MEDIAN_B]))
    return med


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _effect(r, metric: str) -> str:
    """Effect sizes of one significant test, told from the better side."""
    label = C.METRIC_LABELS.get(metric, metric)
    flip = r[C.BETTER] == r[C.B]
    win, lose = (r[C.B], r[C.A]) if flip else (r[C.A], r[C.B])
    med_w, med_l = (r[C.MEDIAN_B], r[C.MEDIAN_A]) if flip else (r[C.MEDIAN_A], r[C.MEDIAN_B])
    sign = -1.0 if flip else 1.0
    d_lo, d_hi = sorted((sign * r[C.DIFF_LOW], sign * r[C.DIFF_HIGH]))
    prob = 1 - r[C.PROB_BETTER] if flip else r[C.PROB_BETTER]
    w_lo, w_hi = sorted((1 - r[C.PROB_BETTER_LOW], 1 - r[C.PROB_BETTER_HIGH])) if flip else \
        (r[C.PROB_BETTER_LOW], r[C.PROB_BETTER_HIGH])
    text = (f"{win} is better than {lose}: median {label} {fmt_number(med_w)} vs "
            f"{fmt_number(med_l)}, difference {fmt_number(sign * r[C.DIFF])}")
    if not pd.isna(d_lo):
        text += f" (95% CI {fmt_number(d_lo)} to {fmt_number(d_hi)})"
    text += f"; a seed of {win} beats one of {lose} with probability {prob:.2f}"
    if not pd.isna(w_lo):
        text += f" (95% CI {w_lo:.2f} to {w_hi:.2f})"
    return text + f"; p_holm {fmt_p(r[C.P_HOLM])}"


def _tier_names(groups: list[list[str]], baseline: str | None, comparisons: str) -> list[str]:
    if comparisons != "baseline":
        return ["" for _ in groups]
    at = next((i for i, g in enumerate(groups) if baseline in g), 0)
    return [f" (better than {baseline})" if i < at else f" (worse than {baseline})" if i > at
            else f" (not separable from {baseline})" for i in range(len(groups))]


def tier_labels(summary: pd.DataFrame, stats: pd.DataFrame | None, comparisons: str,
                baseline: str | None) -> dict[tuple, str]:
    """(dataset, loss, regularizers, params) -> what the tests say of it, for the report
    table: against a baseline "better than ns" / "not separated from ns" / "worse than
    ns" (no tier number, which would read as a rank: a rank-6 objective the tests cannot
    separate from the baseline is not "top tier"); with all pairs, "group k" (1: the
    best group the tests separate)."""
    out = {}
    for (dataset, regs, params), groups in _tested_groups(summary, stats):
        names = _tier_names(groups, baseline, comparisons)
        for i, (group, name) in enumerate(zip(groups, names), start=1):
            label = name.strip(" ()").replace("not separable", "not separated") if name else f"group {i}"
            for loss in group:
                out[(dataset, loss, regs, params)] = label
    return out


def verdict_lines(dataset: str, summary: pd.DataFrame, stats: pd.DataFrame | None,
                  comparisons: str, baseline: str | None, runs: pd.DataFrame | None = None) -> list[str]:
    """What the tests allow us to say about each setting of ``dataset``: on its first
    rank metric in full; on the further rank metrics (a mixture's high-quality share)
    where their tests exist, e.g. when the first metric has one seed per objective.
    With ``runs``, an objective the tests do not separate from the baseline but whose
    seeds split to both sides of every baseline seed is named (a split is not a tie)."""
    sub = summary[summary[C.DATASET] == dataset]
    metric = _rank_metric(sub)
    if metric is None:
        names = " or ".join(C.METRIC_LABELS.get(m, m) for m in C.rank_metrics(dataset)) or "a rank metric"
        return [f"No ok run on **{dataset}** has a value of {names}, so nothing can be compared "
                "(were the runs evaluated?)."]
    lines = _verdict_for(dataset, sub, stats, comparisons, baseline, metric, runs=runs)
    by = next((s.split(",") for s in sub[C.RANK_BY] if s), [])
    for other in by[1:]:
        block = _verdict_for(dataset, sub, stats, comparisons, baseline, other, tested_only=True)
        lines += block
    return lines


def _split_lines(runs: pd.DataFrame | None, family: pd.DataFrame, dataset: str, regs: str, params: str,
                 metric: str, baseline: str | None) -> list[str]:
    """Objectives not separated from ``baseline`` whose seeds lie on both sides of all
    of its seeds: some better than every baseline seed, some worse than every one."""
    if runs is None or baseline is None or family.empty or metric not in runs:
        return []
    ok = runs[(runs[C.DATASET] == dataset) & (runs[C.REGULARIZERS] == regs) & (runs[C.PARAMS] == params)
              & (runs[C.STATUS] == C.OK)]
    base = pd.to_numeric(ok[ok[C.LOSS] == baseline][metric], errors="coerce").dropna()
    if base.empty:
        return []
    higher = metric in C.HIGHER_IS_BETTER
    label = C.METRIC_LABELS.get(metric, metric)
    out = []
    for _, r in family[~family[C.SIGNIFICANT].astype(bool)].iterrows():
        loss = r[C.A] if r[C.B] == baseline else r[C.B]
        if loss == baseline:
            continue
        v = pd.to_numeric(ok[ok[C.LOSS] == loss][metric], errors="coerce").dropna()
        better = v[v > base.max()] if higher else v[v < base.min()]
        worse = v[v < base.min()] if higher else v[v > base.max()]
        if len(better) and len(worse):
            out.append(f"  - {loss} is not separated from {baseline}, but its seeds split: "
                       f"{len(better)} of {len(v)} beat every {baseline} seed ({label} "
                       f"{', '.join(fmt_number(x) for x in sorted(better, reverse=higher))}) and "
                       f"{len(worse)} are worse than every one "
                       f"({', '.join(fmt_number(x) for x in sorted(worse, reverse=higher))}).")
    return out


def _verdict_for(dataset: str, sub: pd.DataFrame, stats: pd.DataFrame | None, comparisons: str,
                 baseline: str | None, metric: str, tested_only: bool = False,
                 runs: pd.DataFrame | None = None) -> list[str]:
    lines = []
    label = C.METRIC_LABELS.get(metric, metric)
    vs = f"against the baseline {baseline}" if comparisons == "baseline" else "between all pairs"
    alone = []  # settings where a single objective has values: nothing to compare
    for (regs, params), part in sub.groupby([C.REGULARIZERS, C.PARAMS], sort=True):
        where = f"{dataset}, {C.setting_prose(regs, params)}"
        ranked = part[part[C.stat_column(metric, "n")] > 0]
        if tested_only and not can_reject(_family(stats, dataset, regs, params, metric)):
            continue
        if len(ranked) == 1:
            alone.append((ranked[C.LOSS].iloc[0], C.setting_prose(regs, params)))
            continue
        seeds = int(ranked[C.stat_column(metric, "n")].max()) if not ranked.empty else 0
        k = n_comparisons(len(ranked), comparisons)
        family = _family(stats, dataset, regs, params, metric)
        if seeds <= 1:
            lines.append(f"**Single-seed snapshot** ({where}): one seed per objective, so the "
                         f"order by {label} is one draw, not a ranking, and no test is possible"
                         + (f"; {seeds_needed(k)} seeds per objective could reach significance at "
                            f"{C.ALPHA:g} ({_plural(k, 'Holm-corrected comparison')} {vs})." if k else "."))
            continue
        if family.empty:
            why = (f"the baseline {baseline} has fewer than {C.MIN_SEEDS_FOR_TEST} ok seeds here; "
                   "choose another with --baseline or compare all pairs with --comparisons all"
                   if comparisons == "baseline" and seeds >= C.MIN_SEEDS_FOR_TEST else
                   f"at least {C.MIN_SEEDS_FOR_TEST} seeds per objective are needed")
            text = outlook(seeds, k)
            lines.append(f"No test on {where}: {why}" + (f"; {text}." if text else "."))
            continue
        if not can_reject(family):
            n = int(family[[C.N_A, C.N_B]].min().min())
            text = outlook(n, len(family)) or ""
            lines.append(f"Nothing can be concluded on {where}: {text} "
                         f"(exact two-sided Mann-Whitney {vs}, Holm-corrected). The order by "
                         f"{label} in the table may change with other seeds.")
            continue
        sig = family[family[C.SIGNIFICANT].astype(bool)]
        groups = tiers(family, _medians(family), metric)
        omni = family[C.OMNIBUS_P].iloc[0]
        exact = "exact" if (family[C.TEST] == "exact").all() else "normal-approximation"
        head = (f"Tests on {where} ({_plural(len(family), 'comparison')} {vs}, {exact} two-sided Mann-Whitney "
                f"on {label}, Holm-corrected at {C.ALPHA:g}"
                + (f"; Kruskal-Wallis across objectives p {fmt_p(omni)}" if not pd.isna(omni) else "")
                + f"): {len(sig)} significant.")
        lines.append(head)
        if comparisons == "all" and len(groups[0]) == 1 and len(groups) > 1:
            lines.append(f"  - Best on {where}: **{groups[0][0]}**, significantly better than "
                         "every other objective.")
        for i, (g, name) in enumerate(zip(groups, _tier_names(groups, baseline, comparisons)), start=1):
            if name:  # against a baseline: what the tests say, no tier number to read as a rank
                text = name.strip(" ()")
                lines.append(f"  - {text[0].upper()}{text[1:]}: {_names(g)}"
                             + (" (the tests cannot order these; see the seeds in the tables)"
                                if "not separable" in text and len(g) > 1 else ""))
            else:
                lines.append(f"  - Group {i} (1: the best group the tests separate): {_names(g)}")
        for _, r in sig.sort_values(C.P_HOLM).head(MAX_LISTED).iterrows():
            lines.append(f"  - {_effect(r, metric)}.")
        if comparisons == "baseline":
            lines += _split_lines(runs, family, dataset, regs, params, metric, baseline)
        if sig.empty:
            lines.append(f"  - No objective differs significantly {vs}; smallest p_holm "
                         f"{fmt_p(family[C.P_HOLM].min())}.")
    if alone and not tested_only:
        losses = sorted({loss for loss, _ in alone})
        lines.append(f"One objective per setting on {dataset} ({_names(losses)} in "
                     f"{_plural(len(alone), 'setting')}: {'; '.join(w for _, w in alone)}), so no "
                     "objectives are compared there; tests between settings follow where there are seeds.")
    return lines


def _setting_effect(r, metric: str) -> str:
    """One test between two settings of an objective, told without a winner unless the
    metric has a direction and the test is significant."""
    label = C.METRIC_LABELS.get(metric, metric)
    text = (f"{r[C.A]} vs {r[C.B]}: median {label} {fmt_number(r[C.MEDIAN_A])} vs "
            f"{fmt_number(r[C.MEDIAN_B])}, difference {fmt_number(r[C.DIFF])}")
    if not pd.isna(r[C.DIFF_LOW]):
        text += f" (95% CI {fmt_number(r[C.DIFF_LOW])} to {fmt_number(r[C.DIFF_HIGH])})"
    text += f", p_holm {fmt_p(r[C.P_HOLM])}"
    if bool(r[C.SIGNIFICANT]):
        text += f", significant ({r[C.BETTER]} better)" if r[C.BETTER] else ", significant"
    return text


def setting_lines(dataset: str, stats: pd.DataFrame | None) -> list[str]:
    """What the tests between settings (regularizers, swept values) of each objective say."""
    if stats is None or stats.empty:
        return []
    part = stats[(stats[C.COMPARISON] == C.SETTING) & (stats[C.DATASET] == dataset)]
    lines = []
    for loss, sub in part.groupby(C.LOSS, sort=True):
        ref = sub[C.B].iloc[0]
        k = int(sub[C.N_TESTS].iloc[0])
        lines.append(f"Settings of **{loss}** on {dataset}, each against {ref} "
                     f"({_plural(k, 'comparison')} per metric, exact two-sided Mann-Whitney across "
                     "seeds, Holm-corrected within the objective and metric):")
        for metric, family in sub.groupby(C.METRIC, sort=False):
            label = C.METRIC_LABELS.get(metric, metric)
            omni = family[C.OMNIBUS_P].iloc[0]
            kw = f"; Kruskal-Wallis across settings p {fmt_p(omni)}" if len(family) > 1 and not pd.isna(omni) else ""
            if not can_reject(family):
                n = int(family[[C.N_A, C.N_B]].min().min())
                lines.append(f"  - {label}: {outlook(n, len(family)) or 'no test can be significant'}; "
                             f"the medians are in the tables{kw}.")
                continue
            sig = family[family[C.SIGNIFICANT].astype(bool)]
            shown = family if len(family) <= MAX_LISTED else sig.sort_values(C.P_HOLM).head(MAX_LISTED)
            lines.append(f"  - {label}: {len(sig)} of {len(family)} significant{kw}.")
            lines += [f"    - {_setting_effect(r, metric)}." for _, r in shown.iterrows()]
    return lines


def stratified_lines(dataset: str, runs: pd.DataFrame, metric: str | None = None) -> list[str]:
    """Whether each setting moves every objective of ``dataset`` the same way: the
    stratified test of :func:`gan_zoo.bench.stats.stratified_setting_tests` on the rank
    metric, one line per setting (only where some objective has 2+ settings)."""
    from gan_zoo.bench.stats import stratified_setting_tests

    sub = runs[runs[C.DATASET] == dataset]
    if metric is None:
        available = {m for m in keys.METRIC_COLUMNS if m in sub and sub[m].notna().any()}
        by = C.rank_metrics(dataset, available)
        metric = by[0] if by else None
    if metric is None:
        return []
    table = stratified_setting_tests(sub, metric)
    if table.empty:
        return []
    label = C.METRIC_LABELS.get(metric, metric)
    lines = [f"Settings across objectives on {dataset} (van Elteren stratified rank-sum test on "
             f"{label}, strata = objectives, each setting against {table['reference'].iloc[0]}; "
             "normal approximation; Holm over the settings; the per-objective tests above ask "
             "each objective alone):"]
    for _, r in table.sort_values("p").iterrows():
        lines.append(f"  - {C.setting_label(r['setting'], r['params'])}: median {label} lower in "
                     f"{r['lower']} and higher in {r['higher']} of {r['strata']} objectives; "
                     f"one-sided p (lower) {fmt_p(r['p_lower'])}, (higher) {fmt_p(r['p_higher'])}; "
                     f"two-sided p_holm {fmt_p(r['p_holm'])}.")
    return lines


# -- FID over training ------------------------------------------------------------------------


def curve_trend(steps, values, lower_is_better: bool = True) -> tuple[str, float] | None:
    """(trend, relative change) of one curve by :data:`CURVE_RULE`: trend is "improving",
    "worsening" or "flat"; the change is the fitted line's change over the last third of
    the steps as a share of its fitted value at the end (-0.17: fell by 17%). None with
    fewer than 4 points, or fewer than 3 in the last third."""
    steps, values = np.asarray(steps, dtype=float), np.asarray(values, dtype=float)
    ok = ~np.isnan(values)
    steps, values = steps[ok], values[ok]
    if steps.size < 4:
        return None
    start = steps.min() + 2 * (steps.max() - steps.min()) / 3
    tail = steps >= start
    if tail.sum() < 3:
        return None
    slope, icept = np.polyfit(steps[tail], values[tail], 1)
    resid = values[tail] - (slope * steps[tail] + icept)
    change = slope * (steps[tail].max() - steps[tail].min())
    end = abs(slope * steps[tail].max() + icept)
    relative = change / end if end > 0 else math.nan
    scatter = 2 * float(np.std(resid, ddof=1)) if tail.sum() > 2 else 0.0
    if abs(change) <= max(scatter, CURVE_MIN_SHARE * end):
        return "flat", relative
    return ("improving" if (change < 0) == lower_is_better else "worsening"), relative


def _trend(steps: np.ndarray, values: np.ndarray, lower_is_better: bool) -> str | None:
    """"improving", "worsening" or "flat" over the last third of the steps; None if too few."""
    found = curve_trend(steps, values, lower_is_better)
    return found[0] if found else None


def curve_samples(runs: pd.DataFrame) -> dict[str, int]:
    """Per dataset: the sample count of the in-training score points (spec.json's
    ``curve_samples``, the most common value over its runs)."""
    out: dict[str, int] = {}
    if C.RUN_DIR not in runs.columns:
        return out
    for dataset, sub in runs.groupby(C.DATASET, sort=True):
        counts = []
        for d in sub[C.RUN_DIR].fillna(""):
            try:
                counts.append(int(json.loads((Path(d) / C.SPEC_JSON).read_text())["curve_samples"]))
            except (OSError, ValueError, KeyError, TypeError):
                continue
        if counts:
            out[dataset] = max(set(counts), key=counts.count)
    return out


def curve_scale_text(dataset: str, runs: pd.DataFrame, n_curve: int | None) -> str:
    """How the in-training FID's scale differs from the final score's, for one dataset."""
    final = pd.to_numeric(runs[runs[C.DATASET] == dataset].get(keys.EVAL_SAMPLES), errors="coerce").dropna() \
        if keys.EVAL_SAMPLES in runs else pd.Series(dtype=float)
    n_final = int(final.median()) if not final.empty else None
    curve = f"{n_curve:,} samples" if n_curve else "a small sample"
    if n_final and n_curve and n_final != n_curve:
        return (f"in-training FID of {curve}, another scale than the final FID of {n_final:,} "
                "samples (FID's bias grows as the sample count falls): compare curve points with "
                "each other, not with the tables")
    return f"in-training FID of {curve}"


def curve_lines(runs: pd.DataFrame, curves: pd.DataFrame | None, metric: str = keys.FID) -> list[str]:
    """Per dataset and setting: which objectives' FID still improved at the end of training."""
    if curves is None or curves.empty or not (curves[C.METRIC] == metric).any():
        if (runs[C.STATUS] == C.OK).any() and runs[keys.FID].notna().any():
            return [f"{C.CURVES_CSV} has no {C.METRIC_LABELS.get(metric, metric)} over training "
                    "steps, so whether the objectives had stopped improving is not known."]
        return []
    part = curves[curves[C.METRIC] == metric].merge(
        runs[[C.RUN_ID, C.DATASET, C.LOSS, C.REGULARIZERS, C.PARAMS]], on=C.RUN_ID)
    part = part.assign(**{C.VALUE: pd.to_numeric(part[C.VALUE], errors="coerce"),
                          C.STEP: pd.to_numeric(part[C.STEP], errors="coerce")})
    lines = []
    words = {"improving": "still improving at the end", "flat": "flat over the last third",
             "worsening": "getting worse at the end"}
    n_curve = curve_samples(runs)
    scale_said: set = set()
    for (dataset, regs, params), sub in part.groupby([C.DATASET, C.REGULARIZERS, C.PARAMS], sort=True):
        found: dict[str, list[str]] = {}
        for loss, g in sub.groupby(C.LOSS, sort=True):
            mean = g.groupby(C.STEP)[C.VALUE].mean()
            trend = curve_trend(mean.index.to_numpy(float), mean.to_numpy(float),
                                metric not in C.HIGHER_IS_BETTER)
            if trend is None:
                found.setdefault("too few", []).append(loss)
            else:
                pct = "" if math.isnan(trend[1]) else f" ({trend[1]:+.0%})"
                found.setdefault(trend[0], []).append(loss + pct)
        text = "; ".join(f"{words[t]}: {_names(found[t])}" for t in words if t in found)
        if "too few" in found:
            text += ("; " if text else "") + f"too few evaluations to tell: {_names(found['too few'])}"
        scale = ""
        if metric == keys.FID and dataset not in scale_said:
            scale_said.add(dataset)
            scale = f"; {curve_scale_text(dataset, runs, n_curve.get(dataset))}"
        lines.append(f"{C.METRIC_LABELS.get(metric, metric)} over training on {dataset}, "
                     f"{C.setting_prose(regs, params)} (mean over seeds; in brackets the fitted "
                     f"change over the last third of the steps{scale}): {text}.")
    if lines:
        lines.append(f"The rule for these words: {CURVE_RULE}.")
    return lines
