"""search-mnist-lr's reseeded best settings against search-mnist's, per objective.

    python results/search-mnist-lr/against_narrow.py [NARROW_DIR [HIGH_DIR]]

search-mnist searched lr in [1e-4, 1e-3] (the narrow space) and its best trials sat at the
range's top; search-mnist-lr searched [5e-4, 5e-3] with everything else the same (beta1
0.5, one critic step, 2 epochs, the same evaluation). Both re-ran each objective's best
trial with fresh seeds. This prints, per objective and measure, the reseeds' median
[min-max] in each study and an exact two-sided Mann-Whitney U of the two sets of seeds
(gan-zoo's own test), Holm-corrected over the objectives within each measure. Reads the
scores.csv files that ``gan-zoo report`` wrote; nothing is fitted or tuned.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from gan_zoo.bench.stats import u_test, fmt_p, holm, min_achievable_p

HERE = Path(__file__).resolve().parent
MEASURES = {"score": "best in-training FID (1,000 samples)", "final": "final FID (10,000 samples)"}


def _reseeds(path: Path) -> pd.DataFrame:
    s = pd.read_csv(path / "scores.csv")
    s = s[(s["kind"] == "reseed") & (s["status"] == "ok")].copy()
    s["lr"] = [json.loads(t)["lr"] for t in s["settings"]]
    return s


def _cell(x: np.ndarray) -> str:
    return f"{np.median(x):.1f} [{x.min():.1f}-{x.max():.1f}]"


def main(narrow_dir: Path, high_dir: Path) -> str:
    narrow, high = _reseeds(narrow_dir), _reseeds(high_dir)
    losses = sorted(set(narrow["loss"]) & set(high["loss"]))
    lines = ["| measure | objective | lr narrow | seeds | narrow | lr high | seeds | high | p | p Holm | smallest p |",
             "| --- | --- | ---: | ---: | --- | ---: | ---: | --- | ---: | ---: | ---: |"]
    for measure, label in MEASURES.items():
        rows = []
        for loss in losses:
            a, b = narrow[narrow["loss"] == loss], high[high["loss"] == loss]
            xa, xb = a[measure].to_numpy(float), b[measure].to_numpy(float)
            rows.append((loss, a["lr"].iloc[0], xa, b["lr"].iloc[0], xb, u_test(xa, xb)[1]))
        for (loss, lra, xa, lrb, xb, p), ph in zip(rows, holm([r[-1] for r in rows])):
            lines.append(f"| {label} | {loss} | {lra:.2g} | {xa.size} | {_cell(xa)} | {lrb:.2g} | {xb.size} | "
                         f"{_cell(xb)} | {fmt_p(p)} | {fmt_p(ph)} | {fmt_p(min_achievable_p(xa.size, xb.size))} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    args = [Path(a) for a in sys.argv[1:]]
    narrow_dir = args[0] if args else HERE.parent / "search-mnist"
    high_dir = args[1] if len(args) > 1 else HERE
    table = main(narrow_dir, high_dir)
    print(table, end="")
    (HERE / "against_narrow.md").write_text(table)
