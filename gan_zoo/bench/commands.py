"""``gan-zoo bench`` and ``gan-zoo report``: run a grid; rebuild tables, statistics,
plots and report.md from run folders.

Kept next to the code they drive; ``gan_zoo.cli`` attaches them to the group.
"""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path

import click

from gan_zoo.bench.executors import EXECUTOR_NAMES
from gan_zoo.errors import GanZooError
from gan_zoo.lock import output_lock
from gan_zoo.options import (data_root_option, dataset_option, device_option, feature_extractor_option,
                             inception_weights_option, recorded_command, sets_option, steps_option)
from gan_zoo.settings import PRECISIONS
from gan_zoo.spec import MATCH_MODES

__all__ = ["bench_command", "report_command", "run_plan"]


@click.command("report")
@click.argument("results_dirs", metavar="DIR [DIR...]", nargs=-1, required=True,
                type=click.Path(path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for runs.csv, summary.csv, stats.csv, plots/ and report.md "
                   "(default: the first DIR).")
@click.option("--baseline", default=None,
              help="Objective every other one is tested against [default: the one the bench "
                   "recorded, else ns].")
@click.option("--comparisons", type=click.Choice(["baseline", "all"]), default=None,
              help="baseline: each objective against --baseline (k-1 tests per setting); all: every "
                   "pair (more tests, so more seeds needed) [default: the bench's, else baseline].")
def report_command(results_dirs: tuple[Path, ...], out_dir: Path | None, baseline: str | None,
                   comparisons: str | None) -> None:
    """Rebuild tables, statistics, plots and report.md from the runs in DIR (several DIRs
    are merged; a run found twice keeps its most complete copy)."""
    from gan_zoo.bench.report import rebuild  # pandas/seaborn only when the command runs

    for d in results_dirs:
        if not d.is_dir():
            raise GanZooError(f"results folder {d} does not exist")
    from gan_zoo.search.report import is_search_folder, rebuild_search

    if any(is_search_folder(d) for d in results_dirs):  # a gan-zoo search folder has its own report
        if len(results_dirs) > 1 or out_dir is not None or baseline or comparisons:
            raise GanZooError(f"{next(d for d in results_dirs if is_search_folder(d))} is a search folder: its "
                              "report is rebuilt on its own, in place (one DIR; no --out, --baseline or --comparisons)")
        paths = rebuild_search(results_dirs[0])
    else:
        paths = rebuild(list(results_dirs), out_dir, comparisons=comparisons, baseline=baseline)
    for name in ("runs", "summary", "stats", "curves"):
        if name in paths:
            click.echo(f"{name + ':':9}{paths[name]}")
    click.echo(f"{'plots:':9}{len(paths['plots'])} figures in {Path(paths['report']).parent / 'plots'}")
    click.echo(f"{'report:':9}{paths['report']}")


@click.command("bench")
@dataset_option("Dataset of the grid; its fixed backbone is used for every objective.")
@click.option("--losses", default="all", show_default=True,
              help="Objectives: 'all', or names separated by commas (wildcards allowed: 'ra*').")
@click.option("--regularizers", default="none", show_default=True,
              help="'none', 'all' (none plus each alone), or comma-separated entries, each a name "
                   "or a '+' combination (soft-labels+instance-noise).")
@click.option("--seeds", type=int, default=1, show_default=True, help="Seeds per combination (0..N-1).")
@sets_option("KEY=V1[,V2...]", "Set or sweep a run-spec field, e.g. nz=100,200 (the latent-size study); repeatable.")
@click.option("--budget", default=None,
              help="smoke, quick or standard [default: standard with a GPU, quick without].")
@steps_option("Generator steps per run (overrides the budget).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Results folder [default: results/<dataset>-<budget>]. The same command again resumes.")
@data_root_option
@device_option
@click.option("--workers", type=int, default=None,
              help="Runs in parallel [default: one single-threaded worker per CPU core, one per GPU].")
@click.option("--executor", type=click.Choice(EXECUTOR_NAMES), default="local", show_default=True,
              help="local: worker processes on this machine; ray: one Ray task per run.")
@click.option("--ray-address", default=None, help="Address of a running Ray cluster [default: a local one].")
@click.option("--gpus-per-run", type=float, default=None,
              help="GPUs each Ray task asks for; fractions pack runs on one GPU [default: 1/--runs-per-gpu "
                   "with a GPU, else 0].")
@click.option("--runs-per-gpu", type=int, default=None,
              help="Runs sharing each GPU (local workers per GPU; Ray: --gpus-per-run 1/N) [default: 4: "
                   "one small run leaves a GPU mostly idle].")
@click.option("--precision", type=click.Choice(PRECISIONS), default=None,
              help="Numeric precision of every run [default: fp32 on the CPU, tf32 on a GPU]; in runs.csv "
                   "(train_precision) and part of the run ids unless fp32.")
@click.option("--eval-samples", type=int, default=None,
              help="Generated samples scored per run [default: the budget's].")
@feature_extractor_option
@inception_weights_option
@click.option("--no-resume", is_flag=True,
              help="Start afresh: earlier runs in --out are moved aside to runs.old-<time>, not deleted.")
@click.option("--baseline", default="ns", show_default=True,
              help="Objective every other one is tested against (Holm over the k-1 comparisons).")
@click.option("--comparisons", type=click.Choice(["baseline", "all"]), default="baseline",
              show_default=True, help="baseline: each objective against --baseline; all: every pair.")
@click.option("--quiet", is_flag=True,
              help="No progress bar and no line per finished run.")
@click.option("--match", type=click.Choice(MATCH_MODES), default="g-steps",
              show_default=True,
              help="Compute every objective gets: the budget's generator steps (Lucic/Kurach), the "
                   "same discriminator steps (n_critic=5 -> a fifth of the generator steps), or the "
                   "same training seconds (not bitwise reproducible).")
@click.option("--wall-seconds", type=float, default=None,
              help="Training seconds per run under --match wall [default: what an ns run of the "
                   "budget's steps takes here, measured first].")
@click.option("--preset", default=None,
              help="Start every run from a paper's configuration (gan_zoo.presets; e.g. pacgan: "
                   "PacGAN's 2-D networks, optimizer, batch and 400,000 steps); --set and "
                   "--steps override its values.")
@click.option("--curve-points", type=int, default=None,
              help="In-training score points per run (FID of 1,000 samples; modes for 2-D "
                   "mixtures); 0 = none [default: 10, none under 200 steps].")
@click.option("--pack", default="auto", show_default=True,
              help="Train runs that differ only in seed, learning rates, betas, clip or gp weight "
                   "K at a time as one batched population: K, auto (where benchmarks/"
                   "bench_population.py measured a gain: the 2-D mixtures' MLP on the CPU) or off "
                   "(every run alone, as the shipped studies were trained).")
def bench_command(dataset, losses, regularizers, seeds, sets, budget, steps, out, data_root, device,
                  workers, executor, ray_address, gpus_per_run, runs_per_gpu, precision, eval_samples,
                  feature_extractor, inception_weights, no_resume, baseline, comparisons, quiet, match,
                  wall_seconds, curve_points, preset, pack):
    """Train and score every objective x regularizer x seed (x --set sweep) combination."""
    options = dict(locals())  # every option, by name, before anything else is bound here
    quiet = options.pop("quiet")
    from gan_zoo.bench.packing import parse_pack
    from gan_zoo.bench.plan import plan_bench

    pack = parse_pack(options.pop("pack"))
    run_plan(plan_bench(**options), quiet=quiet, pack=pack)


def run_plan(plan, *, quiet: bool = False, pack: str | int = "off") -> None:
    """Carry out a checked :class:`~gan_zoo.bench.plan.BenchPlan`: hold its folder, train
    and score what is not complete, then rebuild the tables and report."""
    from gan_zoo.bench import runner
    from gan_zoo.bench.runner import completed_count, prepare_out
    from gan_zoo.bench.tables import write_bench_meta

    out, evaluation, ex = plan.out, plan.evaluation, plan.executor
    with output_lock(out):  # one writer per results folder
        prepare_out(out, resume=plan.resume)
        wall_from = None
        if plan.match == "wall":
            wall_from = "--wall-seconds" if plan.wall_seconds else "an ns run of the budget's steps"
            if not plan.wall_seconds:
                seconds = _calibrate_wall(plan.grid_args, out, plan.data_root, ex.workers)
                click.echo(f"--match wall: {seconds:.1f} training seconds per run "
                           f"(what {wall_from} took here)", err=True)
            else:
                seconds = plan.wall_seconds
            plan = plan.with_wall_seconds(seconds)
        items = list(plan.items)
        write_bench_meta(out, dataset=plan.dataset, budget=plan.budget.name, command=recorded_command(sys.argv[1:]),
                         baseline=plan.baseline, comparisons=plan.comparisons, match=plan.match,
                         wall_seconds=plan.wall_seconds, wall_seconds_from=wall_from,
                         curve_points=items[0].spec.curve_points if items else 0)
        done_before = completed_count(items, out)
        skipped = sum(bool(it.skip_reason) for it in items)
        todo = [it for it in items if not it.skip_reason]
        click.echo(f"grid: {len(items)} runs ({len(todo)} to train, {skipped} not applicable), "
                   f"{plan.budget.name} budget: {todo[0].spec.steps if todo else 0} generator steps, "
                   f"{evaluation.samples} evaluation samples; {done_before} already complete in {out}", err=True)
        _say_outlook(plan.seeds, len(plan.losses), plan.comparisons, plan.baseline)
        secs = tasks = None
        if todo and done_before < len(items):
            from gan_zoo.bench.estimate import estimate_plan

            secs, *tasks = estimate_plan(todo, out, workers=ex.workers, data_root=plan.data_root,
                                         eval_samples=evaluation.samples, pack=pack)
            from gan_zoo.bench.progress import duration

            click.echo(f"estimate: about {duration(secs)} with {ex.workers} {ex.name} worker(s) on {ex.device}",
                       err=True)
        on_done = _progress(items, todo, out, done_before, secs, quiet, workers=ex.workers, tasks=tasks)
        try:
            runner.run_grid(items, out, data_root=plan.data_root, evaluation=evaluation, executor=ex,
                            on_done=on_done, pack=pack)
        except KeyboardInterrupt:
            on_done.close()
            click.echo(f"gan-zoo: interrupted; {completed_count(items, out)} of {len(items)} runs complete "
                       f"in {out}; run the same command again to resume", err=True)
            sys.exit(130)
        on_done.close()
        from gan_zoo.bench.report import rebuild

        if _none_succeeded(todo, out):
            from gan_zoo.bench import columns as C
            from gan_zoo.runs import ERROR_TXT

            try:  # best effort: runs.csv lists each failure with its reason
                with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                    rebuild([out], comparisons=plan.comparisons, baseline=None)
            except Exception:  # noqa: BLE001 - tables of nothing but failures; the line below matters
                pass
            err = GanZooError(f"no run of the grid succeeded: all {len(todo)} failed; the reasons are in "
                              f"{out / C.RUNS_CSV} (column reason) and each run's {ERROR_TXT}")
            err.exit_code = 1
            raise err
        paths = rebuild([out], comparisons=plan.comparisons,
                        baseline=plan.baseline if plan.baseline in plan.losses else None)
        click.echo(f"runs:    {paths['runs']}")
        click.echo(f"report:  {paths['report']}")


def _none_succeeded(todo, out: Path) -> bool:
    """True when the grid had runs to train and every one of them failed."""
    from gan_zoo.bench import columns as C
    from gan_zoo.runs import FAILED, read_result

    results = [read_result(out / C.RUNS_DIR / it.run_id) for it in todo]
    return bool(todo) and all(r is None or r.status == FAILED for r in results)


def _calibrate_wall(grid_args: dict, out: Path, data_root, workers: int) -> float:
    """The training seconds of one ns run (seed 0, no regularizer) of the budget's
    generator steps, trained here with the threads a grid worker gets; kept in
    ``out/calibration`` so the same command again reuses it."""
    from gan_zoo.bench.executors import threads_per_worker
    from gan_zoo.bench.grid import expand_grid
    from gan_zoo.train import torch_threads, train_run

    item = expand_grid(**{**grid_args, "losses": ["ns"], "regularizers": ["none"], "seeds": 1,
                          "curve_points": 0})[0]
    threads = threads_per_worker(workers)
    with torch_threads(threads):
        result = train_run(item.spec, out / "calibration" / item.run_id, data_root=data_root,
                           progress=False, artifacts=False)
    if result.status != "ok" or not result.wall_s > 0:
        raise GanZooError(f"--match wall: the ns calibration run ended {result.status} "
                          f"({result.reason}); give --wall-seconds")
    return float(result.wall_s)


def _say_outlook(seeds: int, n_objectives: int, comparisons: str, baseline: str) -> None:
    """Before training: say so when these seeds cannot make any comparison significant."""
    from gan_zoo.bench.stats import n_comparisons, outlook

    k = n_comparisons(n_objectives, comparisons)
    text = outlook(seeds, k)
    if text:
        vs = f"each objective against {baseline}" if comparisons == "baseline" else "all pairs"
        click.echo(f"note: {text} ({vs}, Holm-corrected)", err=True)


def _progress(items, todo, out: Path, done_before: int, estimate: float | None, quiet: bool,
              workers: int = 1, tasks=None):
    """The runner's ``on_done``: a bar and a line per finished run (see bench.progress).

    Its ETA weighs the runs still to do: on a resumed grid the complete ones are not
    work left (counting them put a 40 min resume at "ETA 1.8 h")."""
    from gan_zoo.bench import columns as C
    from gan_zoo.bench.estimate import relative_cost
    from gan_zoo.bench.progress import GridProgress
    from gan_zoo.runs import is_complete

    pending = [it for it in todo if not is_complete(out / C.RUNS_DIR / it.run_id, it.run_id)]
    return GridProgress(len(items), done_before, out, todo=pending, cost=lambda it: relative_cost(it.spec),
                        workers=workers, estimate=estimate, quiet=quiet, tasks=tasks)


def _check_data(items, data_root, evaluation) -> None:
    """:func:`gan_zoo.bench.plan.check_data` (kept under its earlier name)."""
    from gan_zoo.bench.plan import check_data

    check_data(items, data_root, evaluation)
