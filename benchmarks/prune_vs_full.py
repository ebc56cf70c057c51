"""A pruned search against the full search on the same trial list (issue 27, item 7).

    python benchmarks/prune_vs_full.py FULL PRUNED [--out FILE.md]

FULL and PRUNED are two ``gan-zoo search`` folders made with the same datasets, space,
seed, steps and score points (so trial t has the same settings in both), FULL without
``--prune`` and PRUNED with it. Per study it prints, as a markdown table: the best trial
of each (number, score), whether they are the same trial, where the pruned search's best
ranks in the full search, how many trials the pruned search stopped, and the training
hours of each with their ratio. Scores come from each folder's ``scores.csv`` (written
by ``gan-zoo search`` and ``gan-zoo report``).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import _common  # noqa: F401  (puts the repository on sys.path)
import pandas as pd

from gan_zoo.search.report import SCORES_CSV
from gan_zoo.search.study import SEARCH_JSON, lower_is_better

SAME = ("datasets", "space", "seed", "steps", "curve_points")
FINISHED = ("ok", "diverged", "failed")


def _load(folder: Path) -> tuple[dict, pd.DataFrame]:
    meta_path, scores_path = folder / SEARCH_JSON, folder / SCORES_CSV
    for p in (meta_path, scores_path):
        if not p.is_file():
            sys.exit(f"prune_vs_full: {p} not found; give two search folders (run gan-zoo report on each first)")
    scores = pd.read_csv(scores_path)
    return json.loads(meta_path.read_text()), scores[scores["kind"] == "trial"]


def _ordered(sub: pd.DataFrame, low: bool) -> pd.DataFrame:
    """Finished trials, best first (the search's order: score, then the high-quality
    share on the 2-D mixtures, then the trial number)."""
    done = sub[sub["status"].isin(FINISHED) & sub["score"].notna()]
    return done.sort_values(["score", "score_hq", "trial"], ascending=[low, False, True],
                            na_position="last", kind="stable")


def _best(sub: pd.DataFrame, low: bool):
    done = _ordered(sub, low)
    return None if done.empty else done.iloc[0]


def compare(full_dir: Path, pruned_dir: Path) -> pd.DataFrame:
    full_meta, full = _load(full_dir)
    pruned_meta, pruned = _load(pruned_dir)
    for key in SAME:
        if full_meta.get(key) != pruned_meta.get(key):
            sys.exit(f"prune_vs_full: the folders differ in {key}; they must search the same trial list")
    if full_meta.get("prune") or not pruned_meta.get("prune"):
        sys.exit("prune_vs_full: give the full search first and the pruned one second")
    rows = []
    for (dataset, loss, regs), fsub in full.groupby(["dataset", "loss", "regularizers"], sort=True):
        psub = pruned[(pruned["dataset"] == dataset) & (pruned["loss"] == loss) & (pruned["regularizers"] == regs)]
        if psub.empty:
            continue
        low = lower_is_better(dataset)
        common = sorted(set(fsub["trial"]) & set(psub["trial"]))
        fsub, psub = fsub[fsub["trial"].isin(common)], psub[psub["trial"].isin(common)]
        fb, pb = _best(fsub, low), _best(psub, low)
        rank = math.nan
        if pb is not None:
            ordered = list(_ordered(fsub, low)["trial"])
            rank = ordered.index(pb["trial"]) + 1 if pb["trial"] in ordered else math.nan
        fh, ph = fsub["wall_s"].sum() / 3600, psub["wall_s"].sum() / 3600
        rows.append({"dataset": dataset, "loss": loss, "regularizers": regs, "trials": len(common),
                     "full best (score)": "" if fb is None else f"{int(fb['trial'])} ({fb['score']:.4g})",
                     "pruned best (score)": "" if pb is None else f"{int(pb['trial'])} ({pb['score']:.4g})",
                     "same trial": fb is not None and pb is not None and int(fb["trial"]) == int(pb["trial"]),
                     "its rank in full": rank, "stopped": int((psub["status"] == "pruned").sum()),
                     "full h": round(fh, 3), "pruned h": round(ph, 3),
                     "fraction": round(ph / fh, 3) if fh > 0 else math.nan})
    return pd.DataFrame(rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("full", type=Path)
    ap.add_argument("pruned", type=Path)
    ap.add_argument("--out", type=Path, default=None, help="also write the table to this markdown file")
    args = ap.parse_args(argv)
    table = compare(args.full, args.pruned)
    from gan_zoo.bench.report import markdown_table

    text = markdown_table(table)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
