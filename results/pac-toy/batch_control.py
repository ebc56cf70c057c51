"""pac against the plain D at the same samples per step (batch 128), from this study's tables.

    python results/pac-toy/batch_control.py [PAC_DIR [BATCH128_DIR]]

PacGAN's pac with m = 2 changes two things at once: D judges packs of two samples, and
each step draws twice the samples (64 packs of 2 = 128 reals and 128 fakes; G's step 128
fakes). ring8-batch128 trains the plain D at batch 128, so pac (batch 64 packs) against
it changes only the packing. This prints, per objective, the three arms' modes covered
and high-quality share (median [min-max] over seeds), and gan-zoo's setting test (exact
two-sided Mann-Whitney U, ``gan_zoo.bench.stats.setting_tests``) of pac against batch 128,
Holm-corrected over the four objectives per measure. Reads the runs.csv files that
``gan-zoo report`` wrote; nothing is fitted or tuned.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

from gan_zoo.bench.stats import fmt_p, holm, setting_tests

HERE = Path(__file__).resolve().parent
MEASURES = {"modes": "modes covered (headline)", "hq_frac": "high-quality share"}


def _arm(row) -> str:
    params = json.loads(row["params"]) if isinstance(row["params"], str) and row["params"] else {}
    if row["regularizers"] == "pac":
        return "pac (64 packs of 2)"
    return "none, batch 128" if params.get("batch_size") == 128 else "none, batch 64"


def main(pac_dir: Path, b128_dir: Path) -> None:
    runs = pd.concat([pd.read_csv(pac_dir / "runs.csv"), pd.read_csv(b128_dir / "runs.csv")], ignore_index=True)
    runs = runs[runs["status"] == "ok"].copy()
    runs["params"] = runs["params"].fillna("")
    runs["arm"] = runs.apply(_arm, axis=1)
    arms = ["none, batch 64", "none, batch 128", "pac (64 packs of 2)"]
    print("# pac against the plain D at the same samples per step (ring8)\n")
    print("Printed by `python results/pac-toy/batch_control.py > results/pac-toy/batch_control.md` "
          "from ring8/runs.csv and ring8-batch128/runs.csv.")
    for metric, name in MEASURES.items():
        print(f"\n{name}, median [min-max] over seeds (n):\n")
        print("| objective | " + " | ".join(arms) + " |")
        print("| --- | " + " | ".join("---" for _ in arms) + " |")
        for loss, sub in runs.groupby("loss", sort=True):
            cells = []
            for arm in arms:
                v = sub.loc[sub["arm"] == arm, metric].dropna()
                fmt = (lambda x: f"{x:g}") if metric == "modes" else (lambda x: f"{100 * x:.0f}%")
                cells.append(f"{fmt(v.median())} [{fmt(v.min())}-{fmt(v.max())}] ({len(v)})" if len(v) else "-")
            print(f"| {loss} | " + " | ".join(cells) + " |")
        # the contrast that changes only the packing: pac against the plain D at batch 128
        two = runs[runs["arm"] != "none, batch 64"]
        tests = setting_tests(two, metric)
        if tests.empty:
            print("\nno test: fewer than the needed seeds in an arm")
            continue
        tests = tests.sort_values("loss").reset_index(drop=True)
        tests["p_holm_objectives"] = holm(tests["p"])
        print(f"\npac against none at batch 128, {name} (exact two-sided Mann-Whitney U, Holm over the "
              f"{len(tests)} objectives):\n")
        print("| objective | median pac | median batch 128 | p | p Holm | smallest p possible |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for _, t in tests.iterrows():
            print(f"| {t['loss']} | {t['median_a']:g} | {t['median_b']:g} | {fmt_p(t['p'])} | "
                  f"{fmt_p(t['p_holm_objectives'])} | {fmt_p(t['min_p'])} |")


if __name__ == "__main__":
    args = [Path(a) for a in sys.argv[1:]]
    main(args[0] if args else HERE / "ring8", args[1] if len(args) > 1 else HERE / "ring8-batch128")
