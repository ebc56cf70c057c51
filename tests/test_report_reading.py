"""The generated reading on synthetic runs tables with known answers: what 6, 3 and 1
seeds allow the report to say, tiers, the budget and compute lines, FID-curve trends,
plot titles that promise only the intervals drawn."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gan_zoo.bench import columns as C
from gan_zoo.bench import plots
from gan_zoo.bench.reading import budget_lines, curve_lines, extractor_lines, verdict_lines
from gan_zoo.bench.report import write_report
from gan_zoo.bench.tables import compute_stats, summarize
from gan_zoo.metrics import keys

TEN = ["hinge", "lsgan", "minimax", "ns", "rahinge", "ralsgan", "rasgan", "rsgan", "wgan", "wgan-gp"]


def runs_table(seeds: int, leader: str = "wgan", losses=TEN) -> pd.DataFrame:
    """A runs.csv-like table: the leader's FIDs near 40, the others interleaved near 100;
    wgan takes 5 critic steps per generator step and 3x the time."""
    rows = []
    for i, loss in enumerate(losses):
        for s in range(seeds):
            fid = 40.0 + s if loss == leader else 100.0 + 3 * s + 0.1 * i
            d = 5 if loss == "wgan" else 1
            rows.append({C.RUN_ID: f"mnist-{loss}-none-s{s}", C.DATASET: "mnist", C.LOSS: loss,
                         C.REGULARIZERS: "none", C.PARAMS: "{}", C.SEED: s, C.STATUS: C.OK,
                         C.REASON: "", C.STEPS: 1000, C.STEPS_PLANNED: 1000, C.G_STEPS: 1000,
                         C.D_STEPS: 1000 * d, C.WALL_S: 60.0 * (3 if loss == "wgan" else 1),
                         keys.FID: fid, keys.EVAL_SAMPLES: 5000, keys.FEATURE_EXTRACTOR: "lenet",
                         C.RUN_DIR: "", "batch_size": 32})
    df = pd.DataFrame(rows)
    for col in C.RUNS_COLUMNS:
        if col not in df.columns:
            df[col] = np.nan
    return df


def report_text(tmp_path, runs: pd.DataFrame, comparisons="baseline", curves=None) -> str:
    summary = summarize(runs)
    stats = compute_stats(runs, comparisons, "ns")
    path = write_report(tmp_path, runs, summary, stats, curves_df=curves, comparisons=comparisons,
                        baseline="ns")
    return path.read_text()


def test_six_seeds_the_leader_is_significantly_better_than_the_baseline(tmp_path):
    text = report_text(tmp_path, runs_table(6))
    assert "(9 comparisons against the baseline ns, exact two-sided Mann-Whitney" in text
    assert "): 1 significant." in text
    assert "  - Better than ns: wgan" in text
    assert "  - Not separable from ns: " in text and "Tier" not in text
    assert "wgan is better than ns: median FID 42.5 vs 107.8" in text and "p_holm 0.019" in text
    assert "Best" not in text  # a baseline family does not compare wgan with the others
    assert "### Tests" in text and "| smallest possible p |" in text and "| 0.0022 |" in text
    assert "| tests say | rank | objective |" in text and "| better than ns | 1 | wgan |" in text


def test_all_pairs_name_a_best_only_when_it_is_significant(tmp_path):
    six = report_text(tmp_path, runs_table(6), comparisons="all")
    assert "Best" not in six
    assert ("with 6 seeds no comparison can be significant at 0.05 (smallest p 0.0022, "
            "45 comparisons); 7 seeds can") in six
    seven = report_text(tmp_path, runs_table(7), comparisons="all")
    assert "Best on mnist, no regularizer: **wgan**, significantly better than every other" in seven


def test_three_seeds_the_report_says_nothing_can_be_concluded(tmp_path):
    text = report_text(tmp_path, runs_table(3))
    assert ("Nothing can be concluded on mnist, no regularizer: with 3 seeds no comparison can be "
            "significant at 0.05 (smallest p 0.10, 9 comparisons); 6 seeds can") in text
    assert "### Tests" not in text and "p_holm" not in text and "| tests say |" not in text
    assert "Best" not in text and "best" not in text


def test_one_seed_is_a_snapshot(tmp_path):
    text = report_text(tmp_path, runs_table(1))
    assert "**Single-seed snapshot** (mnist, no regularizer)" in text
    assert "6 seeds per objective could reach significance at 0.05 (9 Holm-corrected comparisons" in text
    assert "Single-seed snapshot: one run per objective; the order is not a ranking." in text
    assert "best" not in text.lower() and "95% CI" not in text


def test_missing_baseline_is_said_not_hidden():
    runs = runs_table(6, losses=["hinge", "wgan", "lsgan"])
    lines = verdict_lines("mnist", summarize(runs), compute_stats(runs, "baseline", "ns"), "baseline", "ns")
    assert len(lines) == 1 and "the baseline ns has fewer than 3 ok seeds here" in lines[0]
    assert "--comparisons all" in lines[0]


def test_budget_compute_and_extractor_lines():
    runs = runs_table(2)
    lines = budget_lines(runs, "ns")
    assert lines[0].startswith("Budget on **mnist**: 1,000 generator steps per run at batch 32, "
                               "0.53 epochs of the 60,000 training examples")
    assert "Discriminator steps per generator step on mnist: 1 for hinge, lsgan" in lines[1]
    assert lines[1].endswith("; 5 for wgan.")
    assert "wgan 180 (3.0x ns)" in lines[2] and "ns 60," in lines[2]
    assert len(lines) == 3  # no machine recorded (runs before the record existed): no line
    runs[C.MACHINE] = "torch 2.14.1, cpu AVX512, 2 threads"
    assert budget_lines(runs, "ns")[3] == "Ran on: torch 2.14.1, cpu AVX512, 2 threads (20 runs)."
    runs.loc[:4, C.MACHINE] = "torch 2.14.1, cpu AVX2, 2 threads"
    runs.loc[5, C.MACHINE] = np.nan
    assert budget_lines(runs, "ns")[3] == (
        "Ran on: torch 2.14.1, cpu AVX512, 2 threads (14 runs); torch 2.14.1, cpu AVX2, 2 threads "
        "(5 runs); not recorded for 1. Seconds are comparable only within one of these.")
    ext = extractor_lines(runs)
    assert ext[0] == "Seeds on mnist: 2 per configuration (10 configurations); 5,000 generated samples scored per run."
    assert "lenet" in ext[1] and "not with published Inception FIDs" in ext[1]
    assert "about 2.2, uniform noise about 1,178" in ext[1]


def _curves(runs: pd.DataFrame, shapes: dict) -> pd.DataFrame:
    rows = []
    steps = np.arange(100, 1001, 100)
    for run_id, loss in zip(runs[C.RUN_ID], runs[C.LOSS]):
        for step, v in zip(steps, shapes[loss](steps)):
            rows.append({C.RUN_ID: run_id, C.STEP: step, C.METRIC: keys.FID, C.VALUE: v})
    return pd.DataFrame(rows)


def test_fid_curves_still_improving_or_flat():
    runs = runs_table(2, losses=["ns", "wgan", "lsgan"])
    curves = _curves(runs, {
        "ns": lambda s: 500 - 0.4 * s,  # falling steadily to the end
        "wgan": lambda s: np.maximum(500 - 0.9 * s, 200) + 0.5 * np.sin(s),  # reached 200 at step 333
        "lsgan": lambda s: 300 + 0.3 * s,
    })
    line, rule = curve_lines(runs, curves)
    assert "still improving at the end: ns" in line
    assert rule.startswith("The rule for these words: a curve is still improving when")
    assert "flat over the last third: wgan" in line
    assert "getting worse at the end: lsgan" in line
    assert curve_lines(runs, None)[0].startswith("curves.csv has no FID over training steps")


def test_plot_titles_promise_intervals_only_with_seeds(tmp_path, monkeypatch):
    titles = []

    def capture(fig, path, dpi=None):
        titles.extend(ax.get_title() for ax in fig.axes)
        titles.append(fig._suptitle.get_text() if fig._suptitle else "")
        return path

    monkeypatch.setattr(plots, "savefig_atomic", capture)
    one = runs_table(1, losses=["ns", "wgan"])
    plots.plot_metric_by_objective(one, summarize(one), tmp_path)
    curves = _curves(one, {"ns": lambda s: 500 - 0.4 * s, "wgan": lambda s: 400 - 0.1 * s})
    plots.plot_curves(one, curves, tmp_path)
    assert any("single-seed snapshot" in t for t in titles)
    assert not any("95%" in t or "band: sd" in t for t in titles)
    titles.clear()
    three = runs_table(3, losses=["ns", "wgan"])
    plots.plot_metric_by_objective(three, summarize(three), tmp_path)
    assert any("95% bootstrap CI of the median" in t for t in titles)


def _ring_runs() -> pd.DataFrame:
    runs = runs_table(3, losses=["ns", "hinge"])
    runs[C.DATASET] = "ring8"
    runs[keys.MODES_PUBLISHED] = [5.0, 7.0, 6.0, 8.0, 8.0, 8.0]
    runs[keys.MODES] = [4.0, 6.0, 5.0, 8.0, 8.0, 7.0]
    runs[keys.HQ_FRAC] = [0.9, 0.95, 0.99, 0.5, 0.6, 0.7]
    runs.loc[2, C.STATUS] = C.DIVERGED  # a diverged seed is not "ours"
    return runs


def test_published_figures_sit_beside_ours_with_source_and_setup(tmp_path):
    from gan_zoo.bench.published import published_table

    table = published_table(_ring_runs())
    assert set(table["objective"]) == {"minimax", "ns"}  # PacGAN's plain GAN: our two standard forms
    row = table[(table["objective"] == "ns") & (table["figure"] == "modes covered (published rule)")].iloc[0]
    assert row["published"] == "6.3" and row["ours"] == "6 [5-7] (2 seeds)"
    # the published rule's noise floor sits beside it: junk points pass it too
    assert row["noise floor (junk samples)"] == "uniform spray 6.5, line tracer 8.0"
    assert "PacGAN" in row["source"] and "2,500 samples" in row["setup"]
    hq = table[(table["objective"] == "ns") & (table["figure"] == "high-quality share")].iloc[0]
    assert hq["published"] == "0.982" and hq["ours"] == "0.925 [0.9-0.95] (2 seeds)"
    assert (table[table["objective"] == "minimax"]["ours"] == "not run").all()
    text = report_text(tmp_path, _ring_runs())
    assert "## Published figures" in text and "Lin et al. 2018 (PacGAN)" in text
    assert text.count("- Lin et al. 2018 (PacGAN), Table 1, GAN row: 2,500 samples") == 1  # setup once


def test_no_published_section_without_a_published_dataset(tmp_path):
    from gan_zoo.bench.published import published_table

    runs = _ring_runs()
    runs[C.DATASET] = "fashion-mnist"
    assert published_table(runs).empty
    assert "## Published figures" not in report_text(tmp_path, runs)


def test_stacked_modes_are_not_read_against_papers_when_no_sample_is_recognised():
    from gan_zoo.bench.published import published_table

    runs = runs_table(3, losses=["ns"])
    runs[C.DATASET] = "stacked-mnist"
    runs[keys.MODES] = [800.0, 850.0, 900.0]
    runs[keys.CONFIDENT_FRAC] = 0.0
    blobs = published_table(runs)
    assert len(blobs) == 4 and blobs["same scale"].str.startswith("no: confident share 0 in every seed").all()
    assert (blobs[blobs["figure"] == "modes covered"]["noise floor (junk samples)"]
            == "grey blobs 183, uniform noise 5 (26,000 images)").all()
    runs[keys.CONFIDENT_FRAC] = [0.0, 0.2, 0.4]  # some seed draws recognisable triples
    assert (published_table(runs)["same scale"] == "yes").all()


def _latent_runs(seeds: int) -> pd.DataFrame:
    """ns at nz 100 and 200: FID 20+s against 40+s, D(x) at the end 0.70+0.01s against 0.60+0.01s."""
    runs = runs_table(seeds, losses=["ns"])
    runs = pd.concat([runs.assign(**{C.PARAMS: '{"nz": 100}'}),
                      runs.assign(**{C.PARAMS: '{"nz": 200}'})], ignore_index=True)
    high = runs[C.PARAMS] == '{"nz": 200}'
    runs[keys.FID] = np.where(high, 40.0, 20.0) + runs[C.SEED]
    runs[C.D_REAL_END] = np.where(high, 0.60, 0.70) + 0.01 * runs[C.SEED]
    runs[C.D_FAKE_END] = 0.3
    runs[C.RUN_ID] = runs[C.RUN_ID] + np.where(high, "-nz200", "-nz100")
    return runs


def test_settings_of_one_objective_are_read_and_tabled(tmp_path):
    text = report_text(tmp_path, _latent_runs(6))
    assert "Settings of **ns** on mnist, each against none, nz=100 (1 comparison per metric" in text
    assert ("none, nz=200 vs none, nz=100: median FID 42.5 vs 22.5, difference 20" in text
            and "significant (none, nz=100 better)" in text)
    # D's outputs have no better side: the difference is told, no winner
    assert "median D(x) at the end 0.625 vs 0.725, difference -0.1" in text
    assert "D(x) at the end 0.625 vs 0.725, difference -0.1 (95% CI" in text
    line = next(l for l in text.splitlines() if "median D(x) at the end" in l)
    assert "better" not in line and line.rstrip().endswith("significant.")
    assert "- D(G(z)) at the end: with 6 seeds" not in text  # constant values: p 1, still testable
    assert "### Tests between settings of each objective" in text and "| objective |" in text
    d_row = next(l for l in text.splitlines() if l.startswith("| d_real_end | ns |"))
    assert "nan" not in d_row and " |  | " in d_row  # no P(a beats b) where no side is better
    three = report_text(tmp_path, _latent_runs(3))
    assert "  - FID: with 3 seeds no comparison can be significant at 0.05" in three


def test_objective_tests_ignore_the_setting_rows():
    runs = _latent_runs(6)
    stats = compute_stats(runs, "baseline", "ns")
    summary = summarize(runs)
    lines = verdict_lines("mnist", summary, stats, "baseline", "ns")
    # one objective per setting: nothing to compare between objectives, and no setting row
    # is mistaken for an objective test
    assert not any("Tests on" in l for l in lines)
