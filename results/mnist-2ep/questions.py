"""The figures behind the mnist-2ep section of results/README.md, from this study's tables.

    python results/mnist-2ep/questions.py [STUDY_DIR [DSTEPS_DIR]]

Reads runs.csv, curves.csv and stats.csv as ``gan-zoo report`` wrote them (default: this
folder and ../mnist-2ep-dsteps) and prints one block per question of the study:

1. saturation (Goodfellow et al. 2014): minimax against ns in the first tenth of training,
   D(G(z)) and the norm of G's gradient per seed, and the FID at the end;
2. seed spread against objective gaps (Lucic et al. 2018): each objective's range over its
   seeds beside the range of the objectives' medians, the share of the FID variance between
   objectives, and the Kruskal-Wallis p the report states;
3. relativistic against standard (Jolicoeur-Martineau 2018): rasgan against ns from stats.csv;
4. wgan-gp, speed or end point: FID (1,000-sample curve points) at equal generator steps, at
   equal discriminator steps and at equal training seconds, the slope over the last third,
   and the compute-matched arm's end point when that folder holds runs.

Nothing here is fitted or tuned; every figure is a median, range or test of the seeds.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

HERE = Path(__file__).resolve().parent


def _load(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    runs = pd.read_csv(folder / "runs.csv")
    runs = runs[(runs["status"] == "ok") & (runs["regularizers"] == "none") & runs["fid"].notna()]
    curves = pd.read_csv(folder / "curves.csv")
    stats_path = folder / "stats.csv"
    return runs, curves, pd.read_csv(stats_path) if stats_path.is_file() else None


def _per_run(curves: pd.DataFrame, metric: str) -> pd.DataFrame:
    """step x run_id table of one logged metric."""
    sub = curves[curves["metric"] == metric]
    return sub.pivot_table(index="step", columns="run_id", values="value")


def _num(x: float) -> str:
    return f"{x:.0f}" if abs(x) >= 100 else f"{x:.3g}"


def _fmt_range(values) -> str:
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    if not v.size:
        return "no runs"
    return f"median {_num(np.median(v))} [{_num(v.min())} to {_num(v.max())}] (n={v.size})"


def saturation(runs: pd.DataFrame, curves: pd.DataFrame) -> None:
    print("## 1. minimax against ns: saturation early in training")
    steps = int(runs["steps"].max())
    early = steps // 10
    for metric in ("d_fake", "g_grad_norm"):
        table = _per_run(curves, metric)
        table = table[table.index <= early]
        by_loss = {}
        for loss in ("minimax", "ns"):
            ids = runs.loc[runs["loss"] == loss, "run_id"]
            by_loss[loss] = table[[i for i in ids if i in table.columns]].median(axis=0).to_numpy()
            print(f"  {metric}, median of the steps <= {early}, {loss}: {_fmt_range(by_loss[loss])}")
        if all(v.size >= 2 for v in by_loss.values()):
            res = stats.mannwhitneyu(by_loss["minimax"], by_loss["ns"], alternative="two-sided",
                                     method="exact")
            print(f"  {metric}: minimax vs ns, exact Mann-Whitney U={res.statistic:.0f}, p={res.pvalue:.4f}")
    for loss in ("minimax", "ns"):
        print(f"  FID at the end, {loss}: {_fmt_range(runs.loc[runs['loss'] == loss, 'fid'])}")


def spread(runs: pd.DataFrame, table: pd.DataFrame | None) -> None:
    print("## 2. seed spread against the gaps between objectives")
    groups = {loss: sub["fid"].to_numpy() for loss, sub in runs.groupby("loss")}
    medians = {loss: float(np.median(v)) for loss, v in groups.items()}
    for loss in sorted(groups, key=medians.get):
        v = groups[loss]
        print(f"  {loss:8s} FID {_fmt_range(v)}; seed range {v.max() - v.min():.0f}")
    lo, hi = min(medians.values()), max(medians.values())
    print(f"  range of the objectives' medians: {hi - lo:.0f} ({lo:.0f} to {hi:.0f})")
    allv = np.concatenate(list(groups.values()))
    ss_total = float(((allv - allv.mean()) ** 2).sum())
    ss_between = float(sum(v.size * (v.mean() - allv.mean()) ** 2 for v in groups.values()))
    print(f"  share of the FID variance between objectives (eta squared): {ss_between / ss_total:.2f}")
    ranks = runs.assign(rank=runs["fid"].rank()).groupby("loss")["rank"].agg(["min", "max"])
    overlaps = sum(
        1 for a in ranks.index for b in ranks.index
        if a < b and ranks.loc[a, "min"] <= ranks.loc[b, "max"] and ranks.loc[b, "min"] <= ranks.loc[a, "max"])
    n_pairs = len(ranks) * (len(ranks) - 1) // 2
    print(f"  pairs of objectives whose seeds' FIDs interleave: {overlaps} of {n_pairs}")
    if table is not None:
        fid = table[table["metric"] == "fid"]
        if len(fid):
            print(f"  Kruskal-Wallis p over the objectives (stats.csv): {fid['kruskal_p'].iloc[0]:.3g}")
            for _, r in fid.iterrows():
                print(f"  {r['a']} vs {r['b']}: median difference {r['median_diff']:.0f} "
                      f"[{r['median_diff_low']:.0f}, {r['median_diff_high']:.0f}], p={r['p']:.4f}, "
                      f"Holm p={r['p_holm']:.4f}, significant={r['significant']}")


def relativistic(table: pd.DataFrame | None) -> None:
    print("## 3. rasgan against ns")
    if table is None:
        print("  no stats.csv")
        return
    sub = table[((table["a"] == "rasgan") & (table["b"] == "ns")) | ((table["a"] == "ns") & (table["b"] == "rasgan"))]
    for _, r in sub.iterrows():
        print(f"  {r['metric']}: {r['a']} {r['median_a']:.4g} vs {r['b']} {r['median_b']:.4g}, "
              f"P({r['a']} better) {r['prob_a_better']:.2f} [{r['prob_a_better_low']:.2f}, "
              f"{r['prob_a_better_high']:.2f}], p={r['p']:.4f}, Holm p={r['p_holm']:.4f}")


def _at(table: pd.DataFrame, x: float) -> pd.Series:
    """Each run's value at the curve point nearest ``x`` (index: steps or seconds)."""
    return table.apply(lambda col: col.dropna().iloc[np.argmin(np.abs(col.dropna().index - x))])


def wgan_gp(runs: pd.DataFrame, curves: pd.DataFrame, dsteps: Path | None) -> None:
    print("## 4. wgan-gp: speed or end point")
    fid = _per_run(curves, "fid")
    wall = _per_run(curves, "curve_wall_s")
    ids = {loss: [i for i in runs.loc[runs["loss"] == loss, "run_id"] if i in fid.columns]
           for loss in ("ns", "wgan-gp")}
    if not all(ids.values()):
        print("  needs ns and wgan-gp runs")
        return
    steps = int(runs["steps"].max())
    wg = runs[runs["loss"] == "wgan-gp"]
    ncrit = round(float((wg["d_steps"] / wg["g_steps"]).median()))  # critic steps per G step, as run
    print(f"  curve FID (1,000 samples) at step {steps}: "
          + "; ".join(f"{k} {_fmt_range(fid[v].loc[steps])}" for k, v in ids.items()))
    matched = steps // ncrit
    print(f"  at equal D steps ({steps}): wgan-gp's curve FID at G step ~{matched}: "
          f"{_fmt_range(_at(fid[ids['wgan-gp']], matched))}")
    ns_secs = float(runs.loc[runs['loss'] == 'ns', 'wall_s'].median())
    by_time = []
    for rid in ids["wgan-gp"]:
        t = pd.Series(fid[rid].to_numpy(), index=wall[rid].to_numpy()).dropna()
        by_time.append(t.iloc[np.argmin(np.abs(t.index - ns_secs))])
    print(f"  at ns's median training seconds ({ns_secs:.0f} s): wgan-gp's nearest curve FID: "
          f"{_fmt_range(by_time)}")
    for loss, v in ids.items():
        last = fid[v][fid.index >= steps * 2 / 3]
        slopes = [np.polyfit(last.index, last[c], 1)[0] * 1000 for c in v]
        print(f"  {loss}: FID change per 1,000 steps over the last third: {_fmt_range(slopes)}")
    if dsteps is not None and (dsteps / "runs.csv").is_file():
        arm = pd.read_csv(dsteps / "runs.csv")
        arm = arm[arm["status"] == "ok"]
        for loss, sub in arm.groupby("loss"):
            print(f"  compute-matched arm (--match d-steps), {loss}: {int(sub['g_steps'].median())} G steps, "
                  f"{int(sub['d_steps'].median())} D steps, FID (10,000 samples) {_fmt_range(sub['fid'])}")


def main(argv: list[str]) -> None:
    folder = Path(argv[0]) if argv else HERE
    dsteps = Path(argv[1]) if len(argv) > 1 else HERE.parent / "mnist-2ep-dsteps"
    runs, curves, table = _load(folder)
    saturation(runs, curves)
    spread(runs, table)
    relativistic(table)
    wgan_gp(runs, curves, dsteps if dsteps.is_dir() else None)


if __name__ == "__main__":
    main(sys.argv[1:])
