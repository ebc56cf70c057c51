"""A benchmark's plan: the grid, how its runs are scored, how they are spread over
workers, and where they go, checked whole before anything is written.

:func:`plan_bench` turns ``gan-zoo bench``'s options into a :class:`BenchPlan`; every
user error is one line from here, so a refused command leaves nothing behind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gan_zoo.bench.executors import ExecutorSettings
from gan_zoo.bench.grid import Budget, GridItem
from gan_zoo.errors import GanZooError
from gan_zoo.metrics.settings import EvalSettings

__all__ = ["BenchPlan", "plan_bench", "check_baseline", "check_data", "check_specs"]


@dataclass(frozen=True)
class BenchPlan:
    """What ``gan-zoo bench`` will do. ``items`` is the grid; under ``--match wall`` it is
    expanded again once the seconds per run are known (:meth:`with_wall_seconds`)."""

    dataset: str
    budget: Budget
    losses: tuple[str, ...]
    seeds: int
    items: tuple[GridItem, ...]
    evaluation: EvalSettings
    executor: ExecutorSettings
    out: Path
    data_root: str | None = None
    resume: bool = True
    baseline: str = "ns"
    comparisons: str = "baseline"
    match: str = "g-steps"
    wall_seconds: float | None = None
    grid_args: dict = field(default_factory=dict)  # expand_grid's arguments (but match)

    @property
    def device(self) -> str:
        return self.executor.device

    def with_wall_seconds(self, seconds: float) -> "BenchPlan":
        """The plan of a ``--match wall`` grid once its training seconds are known."""
        import dataclasses

        from gan_zoo.bench.grid import expand_grid

        items = expand_grid(**self.grid_args, match=self.match, wall_seconds=seconds)
        return dataclasses.replace(self, items=tuple(items), wall_seconds=seconds)


def plan_bench(*, dataset: str, losses: str = "all", regularizers: str = "none", seeds: int = 1,
               sets=(), budget: str | None = None, steps: int | None = None, out: Path | None = None,
               data_root: str | None = None, device: str = "auto", workers: int | None = None,
               executor: str = "local", ray_address: str | None = None, gpus_per_run: float | None = None,
               runs_per_gpu: int | None = None, precision: str | None = None,
               eval_samples: int | None = None, feature_extractor: str | None = None,
               inception_weights: str | None = None, no_resume: bool = False, baseline: str = "ns",
               comparisons: str = "baseline", match: str = "g-steps", wall_seconds: float | None = None,
               curve_points: int | None = None, preset: str | None = None) -> BenchPlan:
    """``gan-zoo bench``'s options, checked, as a :class:`BenchPlan`; the data is looked
    at (one image) and every run resolved, so a grid that cannot run fails here."""
    from gan_zoo.bench.executors import get_executor
    from gan_zoo.bench.grid import budget_for, expand_grid, parse_losses, parse_regularizer_list, parse_sweeps
    from gan_zoo.bench.runner import DEFAULT_RUNS_PER_GPU, default_workers
    from gan_zoo.resolve import resolve_device

    dev = resolve_device(device)
    chosen_budget = budget_for(budget, dev)
    for label, value in (("--workers", workers), ("--eval-samples", eval_samples),
                         ("--runs-per-gpu", runs_per_gpu)):
        if value is not None and value < 1:
            raise GanZooError(f"{label} must be a positive integer, got {value}")
    if gpus_per_run is not None and gpus_per_run < 0:
        raise GanZooError(f"--gpus-per-run must be >= 0, got {gpus_per_run}")
    get_executor(executor)  # an unknown name: one line listing the valid ones
    if executor != "ray" and (ray_address or gpus_per_run):
        raise GanZooError("--ray-address and --gpus-per-run apply to --executor ray only")
    if ray_address:
        from gan_zoo.bench.ray_executor import check_address

        check_address(ray_address)  # one that does not answer: one line now, not endless retries
    loss_names = parse_losses(losses)
    check_baseline(loss_names, baseline, comparisons)
    if wall_seconds is not None and (match != "wall" or not 0 < wall_seconds < float("inf")):
        raise GanZooError("--wall-seconds takes a positive number of seconds, with --match wall only")
    grid_args = dict(dataset=dataset, losses=loss_names, regularizers=parse_regularizer_list(regularizers),
                     seeds=seeds, sweeps=parse_sweeps(sets), budget=chosen_budget, steps=steps,
                     device=device, curve_points=curve_points, precision=precision)
    if preset is not None:
        grid_args["preset"] = preset
    # a wall grid is expanded again once its seconds are known
    items = expand_grid(**grid_args, match="g-steps" if match == "wall" else match)
    out = out or Path("results") / f"{dataset.replace(':', '_').replace('/', '_')}-{chosen_budget.name}"
    if runs_per_gpu is not None and not dev.startswith("cuda"):
        raise GanZooError(f"--runs-per-gpu applies to a GPU device only; this grid runs on {dev}")
    runs_per_gpu = runs_per_gpu or DEFAULT_RUNS_PER_GPU
    workers = workers or default_workers(dev, runs_per_gpu)
    if gpus_per_run is None:
        gpus_per_run = 1.0 / runs_per_gpu if dev.startswith("cuda") else 0.0
    evaluation = EvalSettings.resolve(dataset, samples=eval_samples, budget=chosen_budget,
                                      feature_extractor=feature_extractor,
                                      inception_weights=inception_weights)
    check_data(items, data_root, evaluation)
    check_specs(items)
    return BenchPlan(dataset=dataset, budget=chosen_budget, losses=tuple(loss_names), seeds=seeds,
                     items=tuple(items), evaluation=evaluation,
                     executor=ExecutorSettings(name=executor, workers=workers, device=dev,
                                               gpus_per_run=gpus_per_run, ray_address=ray_address),
                     out=Path(out), data_root=data_root, resume=not no_resume, baseline=baseline,
                     comparisons=comparisons, match=match, wall_seconds=wall_seconds,
                     grid_args=grid_args)


def check_baseline(loss_names: list[str], baseline: str, comparisons: str) -> None:
    """Against a baseline, the baseline has to be one of the grid's objectives."""
    if comparisons == "baseline" and len(loss_names) > 1 and baseline not in loss_names:
        raise GanZooError(f"--baseline {baseline} is not among the grid's objectives "
                          f"({', '.join(loss_names)}); name one of them, or use --comparisons all")


def check_data(items, data_root, evaluation: EvalSettings) -> None:
    """Fail before anything is written when the data or the evaluation cannot work."""
    from gan_zoo.data import get_dataset

    datasets = list(dict.fromkeys(it.spec.dataset for it in items))
    for name in datasets:
        evaluation.check(name)
    for name in datasets:
        get_dataset(name, root=data_root, limit=1)  # missing data offline -> one line


def check_specs(items) -> None:
    """Resolve every run of the grid before anything is written: a value no run can
    take (an unknown ``reg_params`` name, ``d_norm=batch`` with a penalty) is one line
    now, not a ``bench.json`` left behind and a grid of failed runs."""
    from gan_zoo.errors import NotApplicableError
    from gan_zoo.resolve import resolve

    for it in items:
        if not it.skip_reason:
            try:
                resolve(it.spec)
            except NotApplicableError:
                continue  # recorded as skipped by the runner, with this reason
