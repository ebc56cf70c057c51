"""``gan-zoo search``: objectives compared at equal tuning effort (Lucic et al. 2018).

Attached to the command group by :mod:`gan_zoo.cli`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from gan_zoo.errors import GanZooError
from gan_zoo.lock import output_lock
from gan_zoo.options import data_root_option, device_option, recorded_command, steps_option

__all__ = ["search_command"]


@click.command("search")
@click.option("--dataset", default="ring8", show_default=True,
              help="Dataset, or several separated by commas (one study per dataset and objective).")
@click.option("--losses", default="all", show_default=True,
              help="Objectives: 'all', or names separated by commas (wildcards allowed: 'ra*').")
@click.option("--regularizers", default="none", show_default=True,
              help="'none', 'all', or comma-separated entries, each a name or a '+' combination; one "
                   "study per objective and entry.")
@click.option("--trials", type=int, default=20, show_default=True,
              help="Trials per study (trial 0: the paper default). The same command with more adds trials.")
@click.option("--phase", type=click.Choice(["wide", "narrow"]), default=None,
              help="Declared space: Lucic et al.'s wide ranges or their narrow ones [default: wide].")
@click.option("--space", "space_file", type=click.Path(dir_okay=False), default=None,
              help='JSON file replacing the declared space, e.g. {"lr": {"log-uniform": [1e-4, 1e-3]}, '
                   '"beta1": 0.5, "n_critic": {"choice": [1, 5]}}.')
@click.option("--beta2", "search_beta2", is_flag=True,
              help="Also search Adam's beta2, uniform in [0.9, 0.999] (Kurach et al. 2019).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seeds the trial list and every trial's run; reseeds use seed+1..seed+N.")
@click.option("--reseed", type=int, default=0, show_default=True,
              help="Re-run each study's best trial with N fresh seeds and test the objectives against "
                   "--baseline (Holm).")
@click.option("--budget", default=None, help="smoke, quick or standard [default: standard with a GPU, quick without].")
@steps_option("Generator steps per trial (overrides the budget).")
@click.option("--curve-points", type=int, default=None,
              help="In-training score points per trial; a trial's score is the best of them "
                   "[default: the budget's, 10].")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Search folder [default: results/search-<dataset>]. The same command again resumes.")
@click.option("--storage", default=None,
              help="Optuna storage URL shared by several machines (e.g. postgresql://user:pw@host/db) "
                   "[default: sqlite in OUT/study.db].")
@click.option("--baseline", default="ns", show_default=True,
              help="Objective the reseeded ones are tested against.")
@data_root_option
@device_option
@click.option("--workers", type=int, default=None,
              help="Runs in parallel [default: one single-threaded worker per CPU core, 4 per GPU].")
@click.option("--executor", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="local: worker processes on this machine; ray: one Ray task per run.")
@click.option("--precision", type=click.Choice(["fp32", "tf32", "bf16"]), default=None,
              help="Numeric precision [default: fp32 on the CPU, tf32 on a GPU].")
@click.option("--pack", default="off", show_default=True,
              help="Train trials that differ only in learning rates, betas, clip or gp weight K at "
                   "a time as one batched population, as gan-zoo bench --pack does: K, auto or off.")
@click.option("--prune", is_flag=True,
              help="Successive halving: at score points 1, 2, 4, 8 ... a trial whose score so far is in "
                   "the worse half of the trials that reached that point stops (status pruned). A search "
                   "folder is pruned or not for good.")
@click.option("--eval-samples", type=int, default=None, help="Samples of each final evaluation [default: the budget's].")
@click.option("--quiet", is_flag=True, help="No progress bar and no line per finished run.")
def search_command(dataset, losses, regularizers, trials, phase, space_file, search_beta2, seed, reseed,
                   budget, steps, curve_points, out, storage, baseline, data_root, device, workers,
                   executor, precision, eval_samples, quiet, pack, prune):
    """Search each objective's hyperparameters with the same number of trials (Lucic et
    al. 2018): best-of-k curves, best settings, and the best re-run with fresh seeds."""
    from gan_zoo.bench.grid import budget_for, expand_grid, parse_losses, parse_regularizer_list
    from gan_zoo.bench.runner import EvalOptions, default_workers
    from gan_zoo.data import dataset_info
    from gan_zoo.resolve import resolve_device
    from gan_zoo.search.space import default_space, load_space
    from gan_zoo.search.study import SearchConfig, run_search, with_seed

    if trials is None or trials < 1:
        raise GanZooError(f"--trials must be a positive integer, got {trials}")
    if reseed < 0:
        raise GanZooError(f"--reseed must be 0 or a positive integer, got {reseed}")
    from gan_zoo.bench.packing import parse_pack

    parse_pack(pack)  # --pack 0 or text: one line, before anything is written
    for label, value in (("--workers", workers), ("--eval-samples", eval_samples)):
        if value is not None and value < 1:
            raise GanZooError(f"{label} must be a positive integer, got {value}")
    if space_file and (phase or search_beta2):
        raise GanZooError("--space replaces the declared space; --phase and --beta2 apply to the declared one only")
    datasets = [d.strip() for d in str(dataset).split(",") if d.strip()]
    if not datasets:
        raise GanZooError("--dataset is empty; gan-zoo datasets lists them")
    for d in datasets:
        dataset_info(d)  # unknown -> one line listing the valid ones
    dev = resolve_device(device)
    plan = budget_for(budget, dev)
    loss_names = parse_losses(losses)
    regs = parse_regularizer_list(regularizers)
    space = load_space(space_file) if space_file else default_space(phase or "wide", beta2=search_beta2)
    if reseed and len(loss_names) > 1 and baseline not in loss_names:
        raise GanZooError(f"--baseline {baseline} is not among the searched objectives ({', '.join(loss_names)})")
    items = []
    for d in datasets:
        points = curve_points if curve_points is not None else plan.curve_points
        items += expand_grid(dataset=d, losses=loss_names, regularizers=regs, seeds=1, sweeps={}, budget=plan,
                             steps=steps, device=device, curve_points=points)
    items = with_seed(items, seed, precision, dev)
    if prune and any(it.spec.curve_points < 2 for it in items):
        raise GanZooError(f"--prune stops trials at their score points and needs at least 2 per trial; "
                          f"--curve-points is {items[0].spec.curve_points if items else 0}")
    from gan_zoo.settings import check_value

    check_value("seed", seed + reseed)
    workers = workers or default_workers(dev)
    evaluation = EvalOptions(samples=eval_samples or max(plan.samples(d) for d in datasets),
                             samples_reason="--eval-samples" if eval_samples else plan.samples_reason())
    _check(items, space, data_root, evaluation)
    name = "-".join(d.replace(":", "_").replace("/", "_") for d in datasets)
    out = out or Path("results") / f"search-{name}"
    cfg = SearchConfig(out=out, items=items, space=space, phase="file" if space_file else (phase or "wide"),
                       trials=trials, seed=seed, reseed=reseed, storage=storage, budget=plan.name,
                       curve_points=items[0].spec.curve_points if items else 0, evaluation=evaluation,
                       workers=workers, executor=executor, data_root=data_root, quiet=quiet,
                       baseline=baseline, command=recorded_command(sys.argv[1:]), space_file=space_file,
                       pack=parse_pack(pack), prune=prune)
    from gan_zoo.search.study import check_folder, open_storage, quiet_optuna

    check_folder(cfg)  # another space, dataset, seed or budget: one line, nothing written
    if storage is not None:
        quiet_optuna()
        open_storage(storage)  # a URL that cannot be opened: one line, nothing written
    with output_lock(out):
        try:
            summary = run_search(cfg, say=lambda text: click.echo(text, err=True))
        except KeyboardInterrupt:
            click.echo(f"gan-zoo: interrupted; run the same command again to resume the search in {out}",
                       err=True)
            sys.exit(130)
        from gan_zoo.search.report import rebuild_search

        paths = rebuild_search(out)
    click.echo(f"search:  {summary['studies']} studies, {summary['trained']} runs trained now")
    click.echo(f"trials:  {paths['trials']}")
    click.echo(f"report:  {paths['report']}")


def _check(items, space, data_root, evaluation) -> None:
    """Before anything is written: the data is there, and every study's paper default and
    its space's extremes make valid runs."""
    from gan_zoo.data import dataset_info, get_dataset
    from gan_zoo.errors import NotApplicableError
    from gan_zoo.metrics import default_extractor, fidelity
    from gan_zoo.resolve import resolve
    from gan_zoo.search.space import apply_settings, space_for

    for name in sorted({it.spec.dataset for it in items}):
        if dataset_info(name).kind != "points":
            if default_extractor(name).startswith("inception"):
                fidelity.resolve_inception_weights(evaluation.inception_weights)
            get_dataset(name, root=data_root, limit=1)  # missing data offline -> one line
    for it in items:
        if it.skip_reason:
            continue
        sub = space_for(space, it.spec.loss, it.spec.regularizers)
        for pick in (0, -1):
            settings = {}
            for key, p in sub.items():
                if p.kind in ("choice", "fixed"):
                    settings[key] = p.values[pick]
                else:
                    settings[key] = p.low if pick == 0 else min(p.high, 0.999999 if key in ("beta1", "beta2") else p.high)
            try:
                resolve(apply_settings(it.spec, settings))
            except NotApplicableError:
                continue
