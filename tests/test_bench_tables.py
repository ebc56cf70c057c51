"""Run folders -> runs.csv, curves.csv, summary.csv, stats.csv, plots and report.md;
the atomic writers; the ``report`` command. Run folders are synthetic, written here."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from gan_zoo import __version__
from gan_zoo.bench import columns as C
from gan_zoo.bench.commands import report_command
from gan_zoo.bench.plots import plot_all
from gan_zoo.bench.report import markdown_table, rebuild
from gan_zoo.bench.stats import bootstrap_ci
from gan_zoo.bench.tables import (check_results_format, collect_runs, compute_stats, summarize,
                                  write_bench_meta, write_tables)
from gan_zoo.data import is_points
from gan_zoo.errors import GanZooError
from gan_zoo.io import (atomic_open, read_json, save_torch_atomic, savefig_atomic,
                        write_csv_atomic, write_json_atomic, write_text_atomic)
from gan_zoo.metrics import keys
from gan_zoo.spec import RunSpec

SKIP_REASON = "not applicable: soft-labels needs an objective with label targets; hinge has none"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# -- synthetic run folders --------------------------------------------------------------------


def make_run(results: Path, *, loss: str, seed: int = 0, dataset: str = "mnist",
             regularizers: str = "none", status: str = "ok", reason: str = "",
             metrics: dict | None = None, steps_done: int | None = None, sweep: dict | None = None,
             planned: int = 100, log: bool = True, images: bool = True) -> str:
    """Write one run folder as the runner does; returns its run id."""
    spec = RunSpec(dataset=dataset, loss=loss, regularizers=regularizers, seed=seed,
                   steps=planned, **(sweep or {}))
    run_id = spec.run_id()
    d = results / C.RUNS_DIR / run_id
    d.mkdir(parents=True)
    steps = planned if steps_done is None else steps_done
    if status in (C.SKIPPED, C.FAILED):
        steps = 0 if steps_done is None else steps_done
    (d / C.SPEC_JSON).write_text(json.dumps(spec.to_dict()))
    (d / C.RESULT_JSON).write_text(json.dumps({
        "run_id": run_id, "status": status, "reason": reason, "steps": steps,
        "g_steps": steps, "d_steps": 5 * steps if loss == "wgan" else steps,
        "wall_s": 1.5 + seed, "device": "cpu", "gan_zoo_version": __version__,
        "backbone": "mlp" if is_points(dataset) else "dcgan28",
        "resolved": {"lr_g": 2e-4}, "sweep": sweep or {},
        "diverged_step": steps if status == C.DIVERGED else None,
    }))
    if status in (C.OK, C.DIVERGED):
        full = {m: None for m in keys.METRIC_COLUMNS}
        full.update(metrics or {})
        full[keys.EVAL_SAMPLES] = 2500 if is_points(dataset) else 1000
        (d / C.METRICS_JSON).write_text(json.dumps(full))
    if log and steps:
        step = np.arange(0, steps + 1, 10)
        pd.DataFrame({"step": step, "d_loss": 1.3 - 0.001 * step, "g_loss": 0.7 + 0.002 * step,
                      "d_real": 0.6, "d_fake": 0.4, "g_grad_norm": 1.0, "d_grad_norm": 2.0,
                      "wall_s": 0.01 * step}).to_csv(d / C.LOG_CSV, index=False)
    if images and status in (C.OK, C.DIVERGED):
        import matplotlib.image as mpimg

        rng = np.random.default_rng(seed)
        mpimg.imsave(d / C.SAMPLES_PNG, rng.random((28, 56)), cmap="gray")
        if is_points(dataset):
            angle = rng.integers(0, 8, 500) * 2 * np.pi / 8
            x = np.stack([2 * np.cos(angle), 2 * np.sin(angle)], 1) + 0.02 * rng.normal(size=(500, 2))
            np.savez(d / C.SAMPLES_NPZ, x=x)
    return run_id


NS_FID = [10.0, 11.0, 12.0]
MINIMAX_FID = [20.0, 21.0, 23.0]


@pytest.fixture
def bench(tmp_path) -> Path:
    """A small MNIST benchmark: ns and minimax with 3 seeds each, and one run of each other status."""
    root = tmp_path / "bench"
    write_bench_meta(root, command="gan-zoo bench --losses all --dataset mnist")
    for seed, fid in enumerate(NS_FID):
        make_run(root, loss="ns", seed=seed, metrics={"fid": fid, "is_mean": 8.0 + seed})
    for seed, fid in enumerate(MINIMAX_FID):
        make_run(root, loss="minimax", seed=seed, metrics={"fid": fid, "is_mean": 6.0})
    make_run(root, loss="rsgan", seed=0, status=C.DIVERGED, steps_done=40,
             reason="non-finite d_loss at step 40")
    make_run(root, loss="hinge", regularizers="soft-labels", status=C.SKIPPED, reason=SKIP_REASON)
    make_run(root, loss="lsgan", seed=0, status=C.FAILED, reason="RuntimeError: out of memory")
    return root


# -- io -----------------------------------------------------------------------------------------


def test_json_is_sorted_indented_and_nan_is_null(tmp_path):
    p = write_json_atomic(tmp_path / "m.json", {"b": float("nan"), "a": np.float32(1.5),
                                                "c": np.int64(3), "d": [float("inf")]})
    assert p.read_text() == '{\n  "a": 1.5,\n  "b": null,\n  "c": 3,\n  "d": [\n    null\n  ]\n}\n'
    assert read_json(p) == {"a": 1.5, "b": None, "c": 3, "d": [None]}


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".tmp" in p.name)


def test_a_crash_mid_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "result.json"
    write_text_atomic(target, "old")
    with pytest.raises(RuntimeError):
        with atomic_open(target) as f:
            f.write('{"half": ')
            raise RuntimeError("killed mid-write")
    assert target.read_text() == "old" and _leftovers(tmp_path) == []


def test_a_failing_serializer_keeps_the_old_file(tmp_path):
    class HalfWriter:  # writes part of a CSV, then fails like a full disk would
        def to_csv(self, f, **kw):
            f.write("a,b\n1,")
            raise OSError("no space left on device")

    target = tmp_path / "runs.csv"
    write_csv_atomic(target, pd.DataFrame({"a": [1], "b": [2]}))
    with pytest.raises(OSError):
        write_csv_atomic(target, HalfWriter())
    assert pd.read_csv(target).to_dict("list") == {"a": [1], "b": [2]}
    with pytest.raises(TypeError):
        write_json_atomic(target.with_suffix(".json"), {"x": object()})
    assert not target.with_suffix(".json").exists() and _leftovers(tmp_path) == []


def test_figure_and_checkpoint_writers(tmp_path):
    import torch
    from matplotlib.figure import Figure

    fig = Figure()
    fig.subplots().plot([0, 1], [1, 0])
    png = savefig_atomic(fig, tmp_path / "plots" / "f.png")
    assert png.read_bytes()[:8] == PNG_MAGIC
    ckpt = save_torch_atomic({"w": torch.arange(3.0)}, tmp_path / "ckpt.pt")
    assert torch.equal(torch.load(ckpt)["w"], torch.arange(3.0))
    assert _leftovers(tmp_path) == [] and _leftovers(tmp_path / "plots") == []


def test_corrupt_json_is_a_one_line_error(tmp_path):
    (tmp_path / "x.json").write_text("{bad")
    with pytest.raises(GanZooError, match="x.json: not valid JSON"):
        read_json(tmp_path / "x.json")


# -- runs.csv ---------------------------------------------------------------------------------


REQUIRED_RUN_COLUMNS = [
    "run_id", "dataset", "backbone", "loss", "regularizers", "seed", "params", "steps",
    "g_steps", "d_steps", "wall_s", "status", "reason", "fid", "is_mean", "is_std", "kid_mean",
    "kid_std", "precision", "recall", "mifid", "modes", "mode_kl", "hq_frac", "device",
    "gan_zoo_version", "confident_frac", "cond_acc", "eval_samples",
]


def test_collect_reads_every_run(bench):
    runs, curves = collect_runs([bench])
    assert len(runs) == 9 and runs[C.RUN_ID].is_unique
    assert set(REQUIRED_RUN_COLUMNS) <= set(runs.columns)
    assert list(runs.columns) == C.RUNS_COLUMNS
    assert runs[C.STATUS].value_counts().to_dict() == {"ok": 6, "diverged": 1, "skipped": 1, "failed": 1}
    ns = runs[runs[C.LOSS] == "ns"].sort_values(C.SEED)
    assert ns[keys.FID].tolist() == NS_FID and ns[C.SEED].tolist() == [0, 1, 2]
    assert set(runs[C.PARAMS]) == {"{}"}
    skipped = runs[runs[C.STATUS] == C.SKIPPED].iloc[0]
    assert skipped[C.REASON] == SKIP_REASON and math.isnan(skipped[keys.FID])
    diverged = runs[runs[C.STATUS] == C.DIVERGED].iloc[0]
    assert (diverged[C.STEPS], diverged[C.STEPS_PLANNED], diverged[C.DIVERGED_STEP]) == (40, 100, 40)
    # curves: tidy, one row per (run, logged step, log column)
    assert list(curves.columns) == C.CURVES_COLUMNS
    logged = 6 * 11 + 5  # six full runs log 11 steps, the diverged one 5
    assert len(curves) == logged * len(C.LOG_METRICS)
    assert set(curves[C.METRIC]) == set(C.LOG_METRICS)


def test_runs_csv_has_the_columns_and_empty_cells(bench, tmp_path):
    runs, curves = collect_runs([bench])
    paths = write_tables(tmp_path / "out", runs, curves)
    table = pd.read_csv(paths["runs"], keep_default_na=False)
    assert list(table.columns) == C.RUNS_COLUMNS and len(table) == 9
    skipped = table[table[C.STATUS] == C.SKIPPED].iloc[0]
    assert skipped[keys.FID] == "" and skipped[keys.CONFIDENT_FRAC] == ""
    assert table[C.SEED].astype(str).str.fullmatch(r"\d+").all()  # integers stay integers
    # run folders are written relative to the output folder, so the folder can move
    assert all(not os.path.isabs(p) and (tmp_path / "out" / p / C.RESULT_JSON).is_file()
               for p in table[C.RUN_DIR])


def test_sweep_values_become_params(tmp_path):
    root = tmp_path / "sweep"
    for nz in (32, 200):
        make_run(root, loss="ns", sweep={"nz": nz}, metrics={"fid": nz / 10})
    runs, _ = collect_runs([root])
    assert sorted(runs[C.PARAMS]) == ['{"nz": 200}', '{"nz": 32}']
    summary = summarize(runs)
    assert len(summary) == 2 and summary[C.RANK].tolist() == [1, 2]
    assert summary.iloc[0][C.PARAMS] == '{"nz": 32}'


# -- summary ----------------------------------------------------------------------------------


def test_summary_means_ci_and_rank(bench):
    runs, _ = collect_runs([bench])
    summary = summarize(runs)
    assert list(summary.columns) == C.SUMMARY_COLUMNS
    s = summary.set_index([C.LOSS, C.REGULARIZERS])
    ns, mm = s.loc[("ns", "none")], s.loc[("minimax", "none")]
    assert ns[C.stat_column("fid", "mean")] == pytest.approx(11.0)
    assert ns[C.stat_column("fid", "std")] == pytest.approx(1.0)
    assert ns[C.stat_column("fid", "n")] == 3
    lo, hi = ns[C.stat_column("fid", "ci_low")], ns[C.stat_column("fid", "ci_high")]
    assert (lo, hi) == pytest.approx(bootstrap_ci(NS_FID))
    assert 10.0 <= lo < 11.0 < hi <= 12.0
    assert mm[C.stat_column("fid", "mean")] == pytest.approx(np.mean(MINIMAX_FID))
    assert (ns[C.RANK], mm[C.RANK]) == (1, 2) and ns[C.RANK_BY] == "fid"
    # counts by status; configurations without an ok run get no rank and no mean
    rs = s.loc[("rsgan", "none")]
    assert (rs[C.N_RUNS], rs[C.N_OK], rs[C.N_DIVERGED]) == (1, 0, 1)
    assert pd.isna(rs[C.RANK]) and math.isnan(rs[C.stat_column("fid", "mean")])
    assert s.loc[("hinge", "soft-labels"), C.N_SKIPPED] == 1
    assert s.loc[("lsgan", "none"), C.N_FAILED] == 1
    assert summary[C.LOSS].tolist()[:2] == ["ns", "minimax"]  # best first


def test_mixtures_rank_by_modes_then_quality(tmp_path):
    root = tmp_path / "toy"
    make_run(root, loss="ns", dataset="ring8", metrics={"modes": 8, "hq_frac": 0.90, "fid": 1.0})
    make_run(root, loss="lsgan", dataset="ring8", metrics={"modes": 8, "hq_frac": 0.95, "fid": 9.0})
    make_run(root, loss="minimax", dataset="ring8", metrics={"modes": 3, "hq_frac": 0.99})
    summary = summarize(collect_runs([root])[0]).set_index(C.LOSS)
    assert summary[C.RANK].to_dict() == {"lsgan": 1, "ns": 2, "minimax": 3}
    assert set(summary[C.RANK_BY]) == {"modes,hq_frac"}
    one = summary.loc["ns"]
    assert one[C.stat_column("modes", "n")] == 1 and math.isnan(one[C.stat_column("modes", "ci_low")])


# -- stats.csv --------------------------------------------------------------------------------


def test_stats_written_with_three_seeds(bench, tmp_path):
    runs, curves = collect_runs([bench])
    paths = write_tables(tmp_path, runs, curves)
    assert {"runs", "curves", "summary", "stats"} <= set(paths)
    stats = pd.read_csv(paths["stats"])
    assert list(stats.columns) == C.STATS_COLUMNS and len(stats) == 1
    r = stats.iloc[0]
    assert (r[C.A], r[C.B], r[C.METRIC]) == ("minimax", "ns", "fid")
    # 3 vs 3 fully separated: 2 of C(6, 3) = 20 orderings as extreme, one test in the family
    assert r[C.P] == pytest.approx(0.1) and r[C.P_HOLM] == pytest.approx(0.1)
    assert r[C.U] == 9.0 and not r[C.SIGNIFICANT] and r[C.BETTER] == "ns"


def test_no_stats_with_fewer_than_three_seeds_and_stale_file_removed(tmp_path):
    root = tmp_path / "one-seed"
    make_run(root, loss="ns", metrics={"fid": 7.0})
    make_run(root, loss="wgan", metrics={"fid": 9.0})
    (root / C.STATS_CSV).write_text("stale\n")
    runs, curves = collect_runs([root])
    paths = write_tables(root, runs, curves)
    assert "stats" not in paths and not (root / C.STATS_CSV).exists()


# -- merging and format -------------------------------------------------------------------------


def test_merging_keeps_the_most_complete_copy(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    write_bench_meta(first)
    write_bench_meta(second)
    rid = make_run(first, loss="ns", seed=0, status=C.FAILED, reason="killed")
    assert make_run(second, loss="ns", seed=0, metrics={"fid": 5.0}) == rid
    make_run(first, loss="wgan", seed=0, metrics={"fid": 8.0})
    make_run(second, loss="wgan", seed=0, metrics={"fid": 8.5})  # same id, equally complete
    make_run(second, loss="lsgan", seed=1, metrics={"fid": 6.0})
    runs, curves = collect_runs([first, second])
    assert len(runs) == 3 and runs[C.RUN_ID].is_unique
    ns = runs[runs[C.LOSS] == "ns"].iloc[0]
    assert ns[C.STATUS] == C.OK and ns[keys.FID] == 5.0
    assert Path(ns[C.RUN_DIR]).parent.parent == second.resolve()
    assert runs[runs[C.LOSS] == "wgan"].iloc[0][keys.FID] == 8.0  # tie: first folder wins
    assert curves.groupby(C.RUN_ID).size().nunique() == 1  # each kept run logged once
    # either order gives the same ok row for ns
    again, _ = collect_runs([second, first])
    assert again[again[C.LOSS] == "ns"].iloc[0][C.STATUS] == C.OK


def test_incompatible_format_is_a_one_line_error(tmp_path):
    root = tmp_path / "old"
    make_run(root, loss="ns", metrics={"fid": 5.0})
    (root / C.BENCH_JSON).write_text(json.dumps({"gan_zoo_version": "9.0.0", "format": 2}))
    with pytest.raises(GanZooError) as err:
        collect_runs([root])
    message = str(err.value)
    assert "\n" not in message and "format 2" in message and f"format {C.BENCH_FORMAT}" in message
    assert "9.0.0" in message
    write_bench_meta(root)
    assert check_results_format(root)["format"] == C.BENCH_FORMAT


def test_unfinished_run_folders_are_left_out(bench):
    run_dir = bench / C.RUNS_DIR / "mnist-ns-none-s9-running"
    run_dir.mkdir()
    (run_dir / C.SPEC_JSON).write_text(json.dumps(RunSpec(seed=9).to_dict()))
    runs, _ = collect_runs([bench])
    assert len(runs) == 9 and runs.attrs["incomplete"] == [str(run_dir)]


# -- plots, report, rebuild ---------------------------------------------------------------------


def test_rebuild_writes_tables_plots_and_report(bench, tmp_path):
    out = tmp_path / "report"
    paths = rebuild([bench], out)
    for name in ("runs", "curves", "summary", "stats", "report"):
        assert Path(paths[name]).is_file(), name
    kinds = {p.name.split("-")[0] for p in paths["plots"]}
    assert {"fid", "heatmap", "curves", "samples"} <= kinds
    for p in paths["plots"]:
        assert p.read_bytes()[:8] == PNG_MAGIC and p.parent == out / C.PLOTS_DIR
    report = Path(paths["report"]).read_text()
    assert "Best" not in report and "best" not in report  # 3 seeds cannot support it
    assert "Budget on **mnist**: 100 generator steps per run at batch 64, 0.11 epochs" in report
    assert SKIP_REASON in report
    assert "Diverged: mnist rsgan (none) seed 0 at step 40 of 100: non-finite d_loss" in report
    assert "Failed: mnist lsgan (none) seed 0: RuntimeError: out of memory" in report
    # 3 vs 3 seeds: no test can reject, and the report says so instead of a table of p-values
    assert ("Nothing can be concluded on mnist, no regularizer: with 3 seeds no comparison can be "
            "significant at 0.05 (smallest p 0.10, 1 comparison); 4 seeds can") in report
    assert "### Tests" not in report
    assert "1,000 generated samples, fewer than the protocol's 10,000" in report
    for p in paths["plots"]:
        assert f"]({C.PLOTS_DIR}/{p.name})" in report  # relative links


def test_report_with_one_seed_says_no_test_was_possible(tmp_path):
    root = tmp_path / "quick"
    make_run(root, loss="ns", metrics={"fid": 7.0})
    make_run(root, loss="wgan", metrics={"fid": 9.0})
    report = Path(rebuild(root)["report"]).read_text()
    assert "**Single-seed snapshot** (mnist, no regularizer)" in report
    assert "| order (one seed) |" in report and "95% CI" not in report
    assert "best" not in report.lower()
    assert "Every run finished normally" in report


def test_significant_differences_are_named(tmp_path):
    root = tmp_path / "five"
    for seed in range(5):
        make_run(root, loss="ns", seed=seed, metrics={"fid": 5.0 + seed}, images=False, log=False)
        make_run(root, loss="minimax", seed=seed, metrics={"fid": 20.0 + seed}, images=False, log=False)
    report = Path(rebuild(root)["report"]).read_text()
    assert "1 comparison against the baseline ns" in report and "): 1 significant." in report
    assert ("ns is better than minimax: median FID 7 vs 22, difference -15 (95% CI -18 to -12); "
            "a seed of ns beats one of minimax with probability 1.00 (95% CI 1.00 to 1.00); "
            "p_holm 0.0079") in report
    assert "Not separable from ns: ns" in report and "Worse than ns: minimax" in report
    assert "| fid | none | minimax | ns | 5 | 5 | 22 | 7 | 15 (12 to 18) | 0.00 (0.00 to 0.00) " in report
    assert "Best" not in report  # against a baseline only; no all-pairs test says best


def test_mixture_scatter_plots(tmp_path):
    root = tmp_path / "toy"
    for loss, modes in (("ns", 8), ("minimax", 2)):
        make_run(root, loss="ns" if loss == "ns" else loss, dataset="ring8",
                 metrics={"modes": modes, "modes_total": 8, "hq_frac": 0.97})
    paths = rebuild(root)
    names = sorted(p.name for p in paths["plots"])
    assert "mixture-ring8_none.png" in names and "modes-by-objective-ring8.png" in names
    assert "order by modes covered is one draw" in Path(paths["report"]).read_text()


def test_nothing_to_plot_never_crashes(tmp_path):
    root = tmp_path / "all-failed"
    make_run(root, loss="ns", status=C.FAILED, reason="boom")
    make_run(root, loss="hinge", regularizers="soft-labels", status=C.SKIPPED, reason=SKIP_REASON)
    runs, curves = collect_runs([root])
    summary = summarize(runs)
    assert plot_all(runs, curves, summary, tmp_path) == {}
    empty = pd.DataFrame(columns=C.RUNS_COLUMNS)
    assert plot_all(empty, pd.DataFrame(columns=C.CURVES_COLUMNS), summarize(empty), tmp_path) == {}
    report = Path(rebuild(root)["report"]).read_text()
    assert "No ok run on **mnist** has a value of FID, so nothing can be compared" in report
    assert "Failed: mnist ns (none) seed 0: boom" in report


def test_markdown_table_formats_and_escapes():
    df = pd.DataFrame({"name": ["a|b", None], "x": [1.23456, math.nan], "n": [3, 4]})
    assert markdown_table(df) == (
        "| name | x | n |\n| --- | ---: | ---: |\n| a\\|b | 1.235 | 3 |\n|  |  | 4 |\n")
    assert markdown_table(pd.DataFrame()) == "_(none)_\n"


# -- the command --------------------------------------------------------------------------------


def test_report_command_writes_into_the_first_folder(bench):
    result = CliRunner().invoke(report_command, [str(bench)])
    assert result.exit_code == 0, result.output
    assert (bench / C.REPORT_MD).is_file() and (bench / C.RUNS_CSV).is_file()
    assert "report:" in result.output


def test_report_command_merges_into_out(bench, tmp_path):
    other = tmp_path / "other"
    make_run(other, loss="wgan", metrics={"fid": 15.0})
    out = tmp_path / "merged"
    result = CliRunner().invoke(report_command, [str(bench), str(other), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert len(pd.read_csv(out / C.RUNS_CSV)) == 10


def test_report_command_help_and_errors(tmp_path):
    help_text = CliRunner().invoke(report_command, ["--help"]).output
    assert "--out" in help_text and "default: the first DIR" in help_text
    missing = CliRunner().invoke(report_command, [str(tmp_path / "nope")])
    assert isinstance(missing.exception, GanZooError) and "does not exist" in str(missing.exception)
    (tmp_path / "empty").mkdir()
    empty = CliRunner().invoke(report_command, [str(tmp_path / "empty")])
    assert isinstance(empty.exception, GanZooError) and "no finished runs" in str(empty.exception)
    assert "\n" not in str(empty.exception)


def test_report_command_baseline_and_comparisons(bench):
    r = CliRunner().invoke(report_command, [str(bench), "--comparisons", "all"])
    assert r.exit_code == 0, r.output
    assert set(pd.read_csv(bench / C.STATS_CSV)[C.COMPARISON]) == {"all"}
    r = CliRunner().invoke(report_command, [str(bench), "--baseline", "minimax"])
    stats = pd.read_csv(bench / C.STATS_CSV)
    assert r.exit_code == 0 and list(stats[C.B]) == ["minimax"] and list(stats[C.A]) == ["ns"]
    bad = CliRunner().invoke(report_command, [str(bench), "--baseline", "wgan"])
    assert isinstance(bad.exception, GanZooError) and "baseline 'wgan' has no runs" in str(bad.exception)


def test_long_logs_are_thinned_in_curves_csv_but_short_ones_kept_whole(tmp_path):
    root = tmp_path / "bench"
    long_id = make_run(root, loss="ns", planned=3000)  # logs steps 0, 10, ..., 3000: 301 rows
    short_id = make_run(root, loss="ns", seed=1, planned=100)  # 11 rows
    _, curves = collect_runs([root])
    d_loss = curves[curves[C.METRIC] == "d_loss"]
    long_steps = d_loss[d_loss[C.RUN_ID] == long_id][C.STEP].tolist()
    assert len(long_steps) == C.CURVE_LOG_ROWS
    assert long_steps[0] == 0 and long_steps[-1] == 3000 and long_steps == sorted(long_steps)
    gaps = np.diff(long_steps)
    assert gaps.min() >= 30 and gaps.max() <= 40  # evenly spaced over the run
    short_steps = d_loss[d_loss[C.RUN_ID] == short_id][C.STEP].tolist()
    assert short_steps == list(range(0, 101, 10))
    # the run folder's own log is untouched
    assert len(pd.read_csv(root / C.RUNS_DIR / long_id / C.LOG_CSV)) == 301


def test_seed_dots_plot_is_byte_identical_on_rebuild_and_leaves_numpy_state(bench, tmp_path):
    from gan_zoo.bench.plots import plot_metric_by_objective

    runs, _ = collect_runs([bench])
    summary = summarize(runs)
    np.random.seed(123)
    before = np.random.random()
    np.random.seed(123)
    first = [p.read_bytes() for p in plot_metric_by_objective(runs, summary, tmp_path / "a")]
    after = np.random.random()
    second = [p.read_bytes() for p in plot_metric_by_objective(runs, summary, tmp_path / "b")]
    assert first and first == second
    assert after == before  # the caller's global generator is untouched


def test_end_of_training_d_outputs_are_the_mean_of_the_last_tenth_of_the_log(tmp_path):
    root = tmp_path / "bench"
    run_id = make_run(root, loss="ns", planned=1000)
    step = np.arange(0, 1001, 50)  # 0, 50, ..., 1000: the last tenth is steps 900, 950, 1000
    d_real = np.full(step.size, 0.9)
    d_real[step == 900], d_real[step == 950], d_real[step == 1000] = 0.5, 0.6, 0.7
    pd.DataFrame({"step": step, "d_loss": 1.0, "g_loss": 1.0, "d_real": d_real, "d_fake": 1 - d_real,
                  "g_grad_norm": 1.0, "d_grad_norm": 1.0, "wall_s": 0.01 * step}).to_csv(
        root / C.RUNS_DIR / run_id / C.LOG_CSV, index=False)
    no_log = make_run(root, loss="ns", seed=1, log=False)
    runs, _ = collect_runs([root])
    row = runs.set_index(C.RUN_ID).loc[run_id]
    assert row[C.D_REAL_END] == pytest.approx(0.6) and row[C.D_FAKE_END] == pytest.approx(0.4)
    assert runs.set_index(C.RUN_ID).loc[no_log, C.END_COLUMNS].isna().all()
    summary = summarize(runs)
    assert summary[C.stat_column(C.D_REAL_END, "n")].iloc[0] == 1


def test_settings_of_one_objective_are_tested_against_the_reference_setting(tmp_path):
    root = tmp_path / "bench"
    for seed in range(6):
        for nz, fid in ((100, 20.0), (200, 40.0)):
            make_run(root, loss="ns", seed=seed, sweep={"nz": nz}, metrics={keys.FID: fid + seed})
    runs, _ = collect_runs([root])
    stats = compute_stats(runs)
    between = stats[stats[C.COMPARISON] == C.SETTING]
    assert set(between[C.METRIC]) == {keys.FID, *C.END_COLUMNS}
    fid = between[between[C.METRIC] == keys.FID].iloc[0]
    assert (fid[C.LOSS], fid[C.A], fid[C.B]) == ("ns", "none, nz=200", "none, nz=100")
    assert fid[C.SIGNIFICANT] and fid[C.BETTER] == "none, nz=100" and fid[C.P] == pytest.approx(0.0022, abs=1e-4)
    # every seed logged the same D(x): no difference, and no "better" for D's outputs
    d_real = between[between[C.METRIC] == C.D_REAL_END].iloc[0]
    assert d_real[C.P] == 1.0 and not d_real[C.SIGNIFICANT] and d_real[C.BETTER] == ""
    assert math.isnan(d_real[C.PROB_BETTER])
    # the objective comparisons of each setting are untouched (one objective: none)
    assert (stats[C.COMPARISON] == C.SETTING).all()
