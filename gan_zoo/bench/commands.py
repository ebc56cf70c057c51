"""``gan-zoo bench`` and ``gan-zoo report``: run a grid; rebuild tables, statistics,
plots and report.md from run folders.

Kept next to the code they drive; ``gan_zoo.cli`` attaches them to the group.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from gan_zoo.errors import GanZooError

__all__ = ["bench_command", "report_command"]


@click.command("report")
@click.argument("results_dirs", metavar="DIR [DIR...]", nargs=-1, required=True,
                type=click.Path(path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for runs.csv, summary.csv, stats.csv, plots/ and report.md "
                   "(default: the first DIR).")
def report_command(results_dirs: tuple[Path, ...], out_dir: Path | None) -> None:
    """Rebuild tables, statistics, plots and report.md from the runs in DIR (several DIRs
    are merged; a run found twice keeps its most complete copy)."""
    from gan_zoo.bench.report import rebuild  # pandas/seaborn only when the command runs

    for d in results_dirs:
        if not d.is_dir():
            raise GanZooError(f"results folder {d} does not exist")
    paths = rebuild(list(results_dirs), out_dir)
    for name in ("runs", "summary", "stats", "curves"):
        if name in paths:
            click.echo(f"{name + ':':9}{paths[name]}")
    click.echo(f"{'plots:':9}{len(paths['plots'])} figures in {Path(paths['report']).parent / 'plots'}")
    click.echo(f"{'report:':9}{paths['report']}")


@click.command("bench")
@click.option("--dataset", default="mnist", show_default=True,
              help="Dataset of the grid; its fixed backbone is used for every objective.")
@click.option("--losses", default="all", show_default=True,
              help="Objectives: 'all', or names separated by commas (wildcards allowed: 'ra*').")
@click.option("--regularizers", default="none", show_default=True,
              help="'none', 'all' (none plus each alone), or comma-separated entries, each a name "
                   "or a '+' combination (soft-labels+instance-noise).")
@click.option("--seeds", type=int, default=1, show_default=True, help="Seeds per combination (0..N-1).")
@click.option("--set", "sets", multiple=True, metavar="KEY=V1[,V2...]",
              help="Set or sweep a run-spec field, e.g. nz=100,200 (the latent-size study); repeatable.")
@click.option("--budget", default=None,
              help="smoke, quick or standard [default: standard with a GPU, quick without].")
@click.option("--steps", type=int, default=None, help="Generator steps per run (overrides the budget).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Results folder [default: results/<dataset>-<budget>]. The same command again resumes.")
@click.option("--data-root", type=click.Path(file_okay=False), default=None,
              help="Folder holding the datasets [default: $GAN_ZOO_DATA, else a per-user cache].")
@click.option("--device", default="auto", show_default=True, help="auto, cpu or cuda.")
@click.option("--workers", type=int, default=None,
              help="Runs in parallel [default: one single-threaded worker per CPU core, one per GPU].")
@click.option("--executor", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="local: worker processes on this machine; ray: one Ray task per run.")
@click.option("--ray-address", default=None, help="Address of a running Ray cluster [default: a local one].")
@click.option("--gpus-per-run", type=float, default=None,
              help="GPUs each Ray task asks for; fractions pack runs on one GPU [default: 0.25 with a GPU, else 0].")
@click.option("--eval-samples", type=int, default=None,
              help="Generated samples scored per run [default: the budget's].")
@click.option("--feature-extractor", default=None,
              help="torch-fidelity feature extractor [default: lenet for the MNIST family, "
                   "inception-v3-compat for colour images].")
@click.option("--inception-weights", type=click.Path(dir_okay=False), default=None,
              help="Local Inception-v3 weights file for colour datasets (no download).")
@click.option("--no-resume", is_flag=True,
              help="Start afresh: earlier runs in --out are moved aside to runs.old-<time>, not deleted.")
def bench_command(dataset, losses, regularizers, seeds, sets, budget, steps, out, data_root, device,
                  workers, executor, ray_address, gpus_per_run, eval_samples, feature_extractor,
                  inception_weights, no_resume):
    """Train and score every objective x regularizer x seed (x --set sweep) combination."""
    from gan_zoo.bench.grid import budget_for, expand_grid, parse_losses, parse_regularizer_list, parse_sweeps
    from gan_zoo.bench.runner import (EvalOptions, completed_count, default_workers, prepare_out,
                                      run_grid)
    from gan_zoo.bench.tables import write_bench_meta
    from gan_zoo.train import resolve_device

    dev = resolve_device(device)
    plan = budget_for(budget, dev)
    for label, value in (("--workers", workers), ("--eval-samples", eval_samples)):
        if value is not None and value < 1:
            raise GanZooError(f"{label} must be a positive integer, got {value}")
    if gpus_per_run is not None and gpus_per_run < 0:
        raise GanZooError(f"--gpus-per-run must be >= 0, got {gpus_per_run}")
    if executor != "ray" and (ray_address or gpus_per_run):
        raise GanZooError("--ray-address and --gpus-per-run apply to --executor ray only")
    items = expand_grid(dataset=dataset, losses=parse_losses(losses),
                        regularizers=parse_regularizer_list(regularizers), seeds=seeds,
                        sweeps=parse_sweeps(sets), budget=plan, steps=steps, device=device)
    out = out or Path("results") / f"{dataset.replace(':', '_').replace('/', '_')}-{plan.name}"
    workers = workers or default_workers(dev)
    if gpus_per_run is None:
        gpus_per_run = 0.25 if dev.startswith("cuda") else 0.0
    evaluation = EvalOptions(samples=eval_samples or plan.samples(dataset),
                             samples_reason="--eval-samples" if eval_samples else plan.samples_reason(),
                             feature_extractor=feature_extractor, inception_weights=inception_weights)
    _check_data(items, data_root, evaluation)

    prepare_out(out, resume=not no_resume)
    write_bench_meta(out, dataset=dataset, budget=plan.name, command=" ".join(sys.argv[1:]))
    done_before = completed_count(items, out)
    skipped = sum(bool(it.skip_reason) for it in items)
    todo = [it for it in items if not it.skip_reason]
    click.echo(f"grid: {len(items)} runs ({len(todo)} to train, {skipped} not applicable), "
               f"{plan.name} budget: {todo[0].spec.steps if todo else 0} generator steps, "
               f"{evaluation.samples} evaluation samples; {done_before} already complete in {out}", err=True)
    if todo and done_before < len(items):
        from gan_zoo.bench.estimate import estimate_seconds

        secs = estimate_seconds(todo, out, workers=workers, data_root=data_root,
                                eval_samples=evaluation.samples)
        click.echo(f"estimate: about {_duration(secs)} with {workers} {executor} worker(s) on {dev}", err=True)

    count = {"n": done_before}

    def on_done(item, res):
        count["n"] += 1
        extra = f" ({res.get('reason')})" if res.get("reason") else ""
        click.echo(f"[{count['n']}/{len(items)}] {item.spec.loss} {item.spec.regularizers} "
                   f"seed {item.spec.seed}: {res.get('status')}{extra}", err=True)

    try:
        run_grid(items, out, data_root=data_root, evaluation=evaluation, workers=workers,
                 executor=executor, ray_address=ray_address, gpus_per_run=gpus_per_run, on_done=on_done)
    except KeyboardInterrupt:
        click.echo(f"gan-zoo: interrupted; {completed_count(items, out)} of {len(items)} runs complete "
                   f"in {out}; run the same command again to resume", err=True)
        sys.exit(130)
    from gan_zoo.bench.report import rebuild

    paths = rebuild([out])
    click.echo(f"runs:    {paths['runs']}")
    click.echo(f"report:  {paths['report']}")


def _check_data(items, data_root, evaluation) -> None:
    """Fail before anything is written when the data or the evaluation cannot work."""
    from gan_zoo.data import get_dataset

    datasets = {it.spec.dataset for it in items}
    from gan_zoo.data import dataset_info
    from gan_zoo.metrics import default_extractor, fidelity

    for name in datasets:
        if dataset_info(name).kind == "points":
            continue  # scored by mode coverage only
        extractor = evaluation.feature_extractor or default_extractor(name)
        if extractor not in fidelity.EXTRACTORS:
            raise GanZooError(f"unknown --feature-extractor {extractor!r}; valid: {', '.join(fidelity.EXTRACTORS)}")
        if extractor.startswith("inception"):
            fidelity.resolve_inception_weights(evaluation.inception_weights)
    for name in datasets:
        get_dataset(name, root=data_root, limit=1)  # missing data offline -> one line


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
