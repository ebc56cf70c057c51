"""A search folder: one Optuna study per (dataset, objective, regularizers), each trial an
ordinary run folder trained by the benchmark's runner.

Layout of ``OUT``: ``search.json`` (what the search is: datasets, space, seed, steps; a
later command must match it), ``study.db`` (the Optuna storage, unless ``--storage``
names another), ``runs/<run id>/`` (every trial and reseed run, as ``gan-zoo bench``
writes them), ``trials.csv`` (trial number -> run id and settings, written from the
studies), and the tables, plots and ``report.md`` of :mod:`gan_zoo.search.report`.

Reproducible trial lists: Optuna's :class:`~optuna.samplers.RandomSampler` draws each
value of trial ``t``, key ``k`` from a sampler seeded by (``--seed``, ``t``, ``k``), so a
trial's settings are a function of its number alone: the same whether the search ran in
one go, was killed and resumed, was extended (``--trials 40`` after 20), or ran on
several machines; and trial ``t`` draws the same learning rate for every objective
(common random numbers across objectives). Trial 0 is the objective's paper default
(``study.enqueue_trial``) and trains the very run ``gan-zoo bench`` trains for it.

Kill safety: every trial is asked and its settings are stored (Optuna writes each
suggested value to the storage at once, and the run id as a user attribute) before its
run starts. A resumed command finds its trials still RUNNING, re-derives their settings
(suggesting an already stored key returns the stored value; a key never stored draws
from its own seeded sampler, so the same value), and resumes their run folders; it asks
only for trials beyond those the study already holds. No trial is lost or duplicated.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import math
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from gan_zoo import __version__
from gan_zoo.bench import columns as C
from gan_zoo.data import is_points
from gan_zoo.errors import GanZooError
from gan_zoo.io import read_json, write_json_atomic, write_text_atomic
from gan_zoo.metrics import keys
from gan_zoo.search.space import Param, apply_settings, paper_settings, space_for, space_to_json
from gan_zoo.search.storage import open_storage, quiet_optuna

__all__ = ["SEARCH_JSON", "TRIALS_CSV", "STUDY_DB", "SearchConfig", "run_search", "trial_score",
           "score_metric", "lower_is_better", "param_seed", "open_storage", "check_folder",
           "TRIALS_COLUMNS", "read_trials", "quiet_optuna"]

SEARCH_JSON = "search.json"
TRIALS_CSV = "trials.csv"
STUDY_DB = "study.db"
FORMAT = 1
TRIALS_COLUMNS = ["dataset", "loss", "regularizers", "kind", "trial", "seed", "run_id", "state",
                  "paper_default", "settings"]
#: what a search folder's ``search.json`` must agree on with a later command
FINGERPRINT_KEYS = ("datasets", "space", "seed", "steps", "curve_points", "prune")


def score_metric(dataset: str) -> str:
    """The score of a trial: FID, or modes covered for the 2-D mixtures."""
    return keys.MODES if is_points(dataset) else keys.FID


def lower_is_better(dataset: str) -> bool:
    return not is_points(dataset)


def param_seed(seed: int, number: int, key: str) -> int:
    """The seed of trial ``number``'s draw of ``key``."""
    digest = hashlib.sha256(f"gan-zoo-search|{seed}|{number}|{key}".encode()).hexdigest()
    return int(digest[:8], 16)


# -- storage ----------------------------------------------------------------------------------


def default_storage(out: Path) -> str:
    return f"sqlite:///{(Path(out) / STUDY_DB).resolve()}"


# -- configuration --------------------------------------------------------------------------


@dataclass
class SearchConfig:
    """Everything ``gan-zoo search`` was asked for, checked."""

    out: Path
    items: list  # base GridItems: one per (dataset, objective, regularizers), seed = --seed
    space: dict[str, Param]
    phase: str
    trials: int
    seed: int
    reseed: int
    storage: str | None  # None: OUT/study.db
    budget: str
    curve_points: int
    evaluation: Any
    workers: int = 1
    executor: str = "local"
    ray_address: str | None = None
    gpus_per_run: float = 0.0
    #: --pack: trials and reseeds that can share one batched population train as one
    pack: str | int = "off"
    data_root: str | None = None
    quiet: bool = False
    baseline: str = C.DEFAULT_BASELINE
    command: str = ""
    space_file: str | None = None
    #: --prune: successive halving at the score points (:mod:`gan_zoo.search.prune`)
    prune: bool = False

    @property
    def datasets(self) -> list[str]:
        return sorted({it.spec.dataset for it in self.items})

    def steps(self) -> dict[str, int]:
        return {it.spec.dataset: it.spec.steps for it in self.items}

    def fingerprint(self) -> dict:
        out = {"datasets": self.datasets, "space": space_to_json(self.space), "seed": self.seed,
               "steps": self.steps(), "curve_points": self.curve_points}
        if self.prune:  # absent when off: folders made before --prune keep their fingerprint
            from gan_zoo.search.prune import REDUCTION_FACTOR

            out["prune"] = {"pruner": "successive-halving", "reduction_factor": REDUCTION_FACTOR}
        return out


def check_folder(cfg: SearchConfig) -> dict | None:
    """``OUT/search.json`` of an earlier command, refused when it was made with another
    space, dataset, seed or budget (one line naming the difference); None when new."""
    path = Path(cfg.out) / SEARCH_JSON
    if not path.is_file():
        if Path(cfg.out).is_dir() and (Path(cfg.out) / C.RUNS_DIR).is_dir() and any((Path(cfg.out) / C.RUNS_DIR).iterdir()):
            raise GanZooError(f"--out {cfg.out} holds runs but no {SEARCH_JSON}: it is not a search folder; "
                              "choose another --out")
        return None
    meta = read_json(path)
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise GanZooError(f"{path}: not a search folder of format {FORMAT}; choose another --out")
    mine = cfg.fingerprint()
    for key in FINGERPRINT_KEYS:
        if meta.get(key) != mine.get(key):
            raise GanZooError(f"--out {cfg.out} is a search made with another {key} ({json.dumps(meta.get(key))}, "
                              f"asked now: {json.dumps(mine.get(key))}); use the same options or another --out")
    if (meta.get("storage") or None) != (cfg.storage or None):
        raise GanZooError(f"--out {cfg.out} keeps its trials in {meta.get('storage') or STUDY_DB}; "
                          f"give the same --storage (asked now: {cfg.storage or STUDY_DB})")
    return meta


def _write_meta(cfg: SearchConfig, earlier: dict | None) -> dict:
    meta = dict(earlier or {})
    meta.update({"format": FORMAT, "gan_zoo_version": __version__, **cfg.fingerprint(),
                 "phase": cfg.phase, "space_file": cfg.space_file, "budget": cfg.budget,
                 "storage": cfg.storage, "baseline": cfg.baseline,
                 "eval_samples": cfg.evaluation.samples,
                 "score": {d: score_metric(d) for d in cfg.datasets}})
    meta.setdefault("owner", uuid.uuid4().hex)
    meta["trials"] = max(int(meta.get("trials") or 0), cfg.trials)
    meta["reseed"] = max(int(meta.get("reseed") or 0), cfg.reseed)
    commands = list(meta.get("commands") or [])
    if cfg.command and cfg.command not in commands:
        commands.append(cfg.command)
    meta["commands"] = commands
    write_json_atomic(Path(cfg.out) / SEARCH_JSON, meta)
    return meta


# -- scores ---------------------------------------------------------------------------------


def _read_curve(run_dir: Path) -> list[dict]:
    path = Path(run_dir) / C.CURVE_CSV
    if not path.is_file():
        return []
    rows = []
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            try:
                rows.append({k: (float(v) if v not in ("", None) else math.nan) for k, v in row.items()})
            except (TypeError, ValueError):
                continue  # a torn line
    return rows


def trial_score(run_dir: Path, dataset: str) -> dict:
    """A run's search score: the best of its in-training score points (lowest FID; for
    the 2-D mixtures most modes covered, ties to the higher high-quality share), else,
    without points, its final protocol evaluation. Also the final protocol value.

    Returns {score, score_step, score_hq, score_source (curve | final | none), final}."""
    metric = score_metric(dataset)
    low = lower_is_better(dataset)
    metrics = {}
    mpath = Path(run_dir) / C.METRICS_JSON
    if mpath.is_file():
        try:
            metrics = read_json(mpath)
        except GanZooError:
            metrics = {}
    final = metrics.get(metric) if isinstance(metrics, dict) else None
    final = float(final) if isinstance(final, (int, float)) and math.isfinite(final) else math.nan
    out = {"score": math.nan, "score_step": math.nan, "score_hq": math.nan, "score_source": "none",
           "final": final}
    points = [r for r in _read_curve(run_dir) if math.isfinite(r.get(metric, math.nan))]
    if points:
        if low:
            best = min(points, key=lambda r: (r[metric], r["step"]))
        else:
            best = max(points, key=lambda r: (r[metric], _finite(r.get(keys.HQ_FRAC)), -r["step"]))
        out.update(score=best[metric], score_step=best["step"], score_source="curve",
                   score_hq=best.get(keys.HQ_FRAC, math.nan) if not low else math.nan)
    elif math.isfinite(final):
        hq = metrics.get(keys.HQ_FRAC) if not low else None
        out.update(score=final, score_source="final",
                   score_hq=float(hq) if isinstance(hq, (int, float)) else math.nan)
    return out


def _finite(v) -> float:
    return v if isinstance(v, float) and math.isfinite(v) else -math.inf


# -- the studies ----------------------------------------------------------------------------


def study_name(spec) -> str:
    return f"{spec.dataset}/{spec.loss}/{spec.regularizers}"


@dataclass
class _Study:
    item: Any  # the base GridItem
    study: Any  # optuna.Study
    space: dict[str, Param]
    paper: dict


@dataclass
class _Trial:
    s: _Study
    number: int
    trial_id: int
    settings: dict
    spec: Any
    paper_default: bool

    @property
    def run_id(self) -> str:
        return self.spec.run_id()


def _suggest(trial, key: str, p: Param):
    if p.kind == "choice":
        return trial.suggest_categorical(key, list(p.values))
    return trial.suggest_float(key, p.low, p.high, log=p.kind == "log-uniform")


def _settings(st: _Study, trial, seed: int) -> tuple[dict, bool]:
    """The settings of ``trial`` (an ``optuna.Trial``), each stored in the study as it is
    drawn; trial 0 (enqueued) the paper defaults."""
    from optuna.samplers import RandomSampler

    paper_default = bool(trial.user_attrs.get("paper_default"))
    out = {}
    for key, p in st.space.items():
        if paper_default:
            if p.sampled and p.contains(st.paper[key]):
                _suggest(trial, key, p)  # the enqueued value, recorded in the study
            out[key] = st.paper[key]
        elif not p.sampled:
            out[key] = p.values[0]
        else:
            st.study.sampler = RandomSampler(seed=param_seed(seed, trial.number, key))
            value = _suggest(trial, key, p)
            if key in ("beta1", "beta2") and value >= 1.0:  # never reached by a [low, 1) draw
                value = math.nextafter(1.0, 0.0)
            out[key] = value
    return out, paper_default


def _open_studies(cfg: SearchConfig, storage) -> list[_Study]:
    import optuna

    studies = []
    for item in cfg.items:
        if item.skip_reason:
            continue
        spec = item.spec
        space = space_for(cfg.space, spec.loss, spec.regularizers)
        direction = "minimize" if lower_is_better(spec.dataset) else "maximize"
        study = optuna.create_study(storage=storage, study_name=study_name(spec), direction=direction,
                                    sampler=optuna.samplers.RandomSampler(seed=cfg.seed),
                                    load_if_exists=True)
        finger = json.dumps({**cfg.fingerprint(), "datasets": [spec.dataset],
                             "steps": spec.steps, "space": space_to_json(space)}, sort_keys=True)
        stored = study.user_attrs.get("fingerprint")
        if stored is None:
            study.set_user_attr("fingerprint", finger)
        elif stored != finger:
            raise GanZooError(f"the study {study_name(spec)} in the storage was made with other settings "
                              f"({stored}); use the same options, or another --storage / --out")
        paper = paper_settings(space, spec.loss, spec.regularizers)
        studies.append(_Study(item, study, space, paper))
    return studies


def _collect(st: _Study, cfg: SearchConfig, owner: str, wave: int | None) -> list[_Trial]:
    """This command's trials of one study: its own RUNNING ones (resumed), the WAITING
    ones (trial 0), and new ones up to ``cfg.trials`` (at most ``wave`` new)."""
    import optuna
    from optuna.trial import TrialState

    study = st.study
    trials = study.get_trials(deepcopy=False)
    if not trials:
        params = {k: v for k, v in st.paper.items() if st.space[k].sampled and st.space[k].contains(v)}
        study.enqueue_trial(params, user_attrs={"paper_default": True})
        trials = study.get_trials(deepcopy=False)
    out = []
    for t in trials:
        if t.state == TrialState.RUNNING and t.user_attrs.get("owner") in (owner, None):
            out.append(_bind(st, optuna.trial.Trial(study, t._trial_id), cfg, owner))
    for t in trials:
        if t.state == TrialState.WAITING:
            out.append(_bind(st, study.ask(), cfg, owner))
    new = max(0, cfg.trials - len(trials))
    if wave is not None:
        new = min(new, max(0, wave - len(out)))
    for _ in range(new):
        out.append(_bind(st, study.ask(), cfg, owner))
    return out


def _bind(st: _Study, trial, cfg: SearchConfig, owner: str) -> _Trial:
    if trial.user_attrs.get("owner") is None:
        trial.set_user_attr("owner", owner)
    settings, paper_default = _settings(st, trial, cfg.seed)
    base = st.item.spec
    spec = base if paper_default else apply_settings(base, settings)
    if trial.user_attrs.get("run_id") != spec.run_id():
        trial.set_user_attr("run_id", spec.run_id())
        trial.set_user_attr("settings", json.dumps(settings, sort_keys=True))
    return _Trial(st, trial.number, trial._trial_id, settings, spec, paper_default)


def _tell(t: _Trial, out: Path) -> None:
    from optuna.trial import TrialState

    from gan_zoo.runs import read_result

    run_dir = out / C.RUNS_DIR / t.run_id
    sc = trial_score(run_dir, t.spec.dataset)
    result = read_result(run_dir)
    status = result.status if result is not None else "failed"
    import optuna

    study = t.s.study
    if study.get_trials(deepcopy=False)[t.number].state.is_finished():
        return  # told already (a run shared by two trials of identical settings)
    handle = optuna.trial.Trial(study, t.trial_id)
    for key, value in (("status", status), ("score_source", sc["score_source"]),
                       ("final", None if math.isnan(sc["final"]) else sc["final"]),
                       ("score_step", None if math.isnan(sc["score_step"]) else int(sc["score_step"])),
                       ("score_hq", None if math.isnan(sc["score_hq"]) else sc["score_hq"])):
        handle.set_user_attr(key, value)
    if math.isnan(sc["score"]):
        study.tell(t.number, state=TrialState.FAIL, skip_if_finished=True)
    elif status == C.PRUNED:  # its last reported value (its score so far) is the trial's value
        study.tell(t.number, state=TrialState.PRUNED, skip_if_finished=True)
    else:
        study.tell(t.number, sc["score"], skip_if_finished=True)


def _best(st: _Study):
    """The best COMPLETE trial (ties to the higher high-quality share on the 2-D
    mixtures, then to the lower number), or None."""
    from optuna.trial import TrialState

    done = [t for t in st.study.get_trials(deepcopy=False) if t.state == TrialState.COMPLETE]
    if not done:
        return None
    sign = 1 if lower_is_better(st.item.spec.dataset) else -1
    return min(done, key=lambda t: (sign * t.value, -(t.user_attrs.get("score_hq") or 0.0), t.number))


def _reseed_items(st: _Study, cfg: SearchConfig) -> list:
    from gan_zoo.bench.grid import GridItem
    from optuna.trial import TrialState

    trials = st.study.get_trials(deepcopy=False)
    if cfg.reseed < 1 or any(t.state in (TrialState.RUNNING, TrialState.WAITING) for t in trials):
        return []
    best = _best(st)
    if best is None:
        return []
    settings = json.loads(best.user_attrs.get("settings") or "{}")
    base = st.item.spec
    spec = base if best.user_attrs.get("paper_default") else apply_settings(base, settings)
    return [GridItem(spec.replace(seed=cfg.seed + j), dict(settings)) for j in range(1, cfg.reseed + 1)]


def write_trials(cfg: SearchConfig, studies: list[_Study]) -> Path:
    """``trials.csv``: every trial of every study (and the reseed runs of each best
    trial), rebuilt from the storage."""
    rows = []
    for st in studies:
        spec = st.item.spec
        for t in st.study.get_trials(deepcopy=False):
            rows.append([spec.dataset, spec.loss, spec.regularizers, "trial", t.number, spec.seed,
                         t.user_attrs.get("run_id", ""), t.state.name.lower(),
                         bool(t.user_attrs.get("paper_default")), t.user_attrs.get("settings", "")])
        best = _best(st)
        if best is not None and cfg.reseed > 0:
            for it in _reseed_items(st, cfg):
                rows.append([spec.dataset, spec.loss, spec.regularizers, "reseed", best.number,
                             it.spec.seed, it.run_id, "", bool(best.user_attrs.get("paper_default")),
                             json.dumps(it.sweep, sort_keys=True)])
    rows.sort(key=lambda r: (r[0], r[1], r[2], r[3] != "trial", r[4], r[5]))
    # an earlier command's rows of studies not asked for this time are kept
    kept = [r for r in read_trials(cfg.out)
            if (r["dataset"], r["loss"], r["regularizers"]) not in
            {(st.item.spec.dataset, st.item.spec.loss, st.item.spec.regularizers) for st in studies}]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(TRIALS_COLUMNS)
    for r in kept:
        w.writerow([r[c] for c in TRIALS_COLUMNS])
    w.writerows(rows)
    return write_text_atomic(Path(cfg.out) / TRIALS_CSV, buf.getvalue())


def read_trials(out: Path) -> list[dict]:
    path = Path(out) / TRIALS_CSV
    if not path.is_file():
        return []
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


# -- running ----------------------------------------------------------------------------------


def run_search(cfg: SearchConfig, say: Callable[[str], None] | None = None) -> dict:
    """Run (or resume, or extend) the search of ``cfg``; returns a summary dict.

    Every user error is raised before anything is written; then the trials are asked,
    trained through :func:`gan_zoo.bench.runner.run_grid` and told their scores, and
    with ``cfg.reseed`` each study's best trial is re-run with that many fresh seeds.
    """
    from gan_zoo.bench.progress import GridProgress
    from gan_zoo.bench.runner import prepare_out, run_grid
    from gan_zoo.runs import is_complete

    say = say or (lambda text: print(text, file=sys.stderr))
    quiet_optuna()
    out = Path(cfg.out)
    earlier = check_folder(cfg)
    external = cfg.storage is not None
    if external:
        storage = open_storage(cfg.storage)  # a bad URL: one line, nothing written here
    prepare_out(out, resume=True)
    meta = _write_meta(cfg, earlier)
    cfg.reseed = int(meta["reseed"])  # a folder remembers its largest --reseed
    if not external:
        storage = open_storage(default_storage(out))
    studies = _open_studies(cfg, storage)
    owner = meta["owner"]
    wave = max(1, cfg.workers) if external else None
    runs_root = out / C.RUNS_DIR
    trained, reseeds, attempted = 0, [], set()
    try:
        while True:
            batch = [t for st in studies for t in _collect(st, cfg, owner, wave)]
            keys_ = {(study_name(t.spec), t.number) for t in batch}
            if not batch or keys_ <= attempted:
                break  # nothing new (a run that could not be told stays RUNNING for the next command)
            attempted |= keys_
            by_run: dict[str, list[_Trial]] = {}
            for t in batch:
                by_run.setdefault(t.run_id, []).append(t)
            todo = []
            from gan_zoo.bench.grid import GridItem

            for run_id, ts in by_run.items():
                if is_complete(runs_root / run_id, run_id):
                    for t in ts:
                        _tell(t, out)
                else:
                    todo.append(GridItem(ts[0].spec, dict(ts[0].settings),
                                         rung=_rung_hook(cfg, ts[0]) if cfg.prune else None))
            write_trials(cfg, studies)  # the asked trials, before any trains: a report can be rebuilt any time
            say(f"search: {len(batch)} trial(s) of {len(studies)} studies asked, {len(todo)} run(s) to train "
                f"in {out}")
            tasks = estimate = None
            if todo and not attempted - keys_:  # the first batch: the whole search's estimate
                estimate, tasks = _say_estimate(cfg, studies, todo, say)
            if todo:
                progress = GridProgress(len(todo), 0, out, todo=todo, cost=_cost, workers=cfg.workers,
                                        quiet=cfg.quiet, estimate=estimate, tasks=tasks)

                def on_done(item, result, _by_run=by_run, _progress=progress):
                    for t in _by_run.get(item.run_id, []):
                        _tell(t, out)
                    write_trials(cfg, studies)
                    _progress(item, result)

                run_grid(todo, out, data_root=cfg.data_root, evaluation=cfg.evaluation, workers=cfg.workers,
                         executor=cfg.executor, ray_address=cfg.ray_address, gpus_per_run=cfg.gpus_per_run,
                         on_done=on_done, pack=cfg.pack)
                progress.close()
                trained += len(todo)
            if not external:
                break  # every trial was asked in one batch
        # anything this command asked but could not tell (a run of another owner): left as is
        reseeds = [it for st in studies for it in _reseed_items(st, cfg)]
        todo = [it for it in reseeds if not is_complete(runs_root / it.run_id, it.run_id)]
        if todo:
            from gan_zoo.bench.estimate import estimate_plan
            from gan_zoo.bench.progress import duration

            secs, *tasks = estimate_plan(todo, Path(out), workers=cfg.workers, data_root=cfg.data_root,
                                         eval_samples=cfg.evaluation.samples, pack=cfg.pack)
            say(f"reseed: {len(todo)} run(s): each study's best trial with seeds "
                f"{cfg.seed + 1}..{cfg.seed + cfg.reseed}; estimate: about {duration(secs)}")
            progress = GridProgress(len(todo), 0, out, todo=todo, cost=_cost, workers=cfg.workers,
                                    quiet=cfg.quiet, estimate=secs, tasks=tasks)
            run_grid(todo, out, data_root=cfg.data_root, evaluation=cfg.evaluation, workers=cfg.workers,
                     executor=cfg.executor, ray_address=cfg.ray_address, gpus_per_run=cfg.gpus_per_run,
                     on_done=progress, pack=cfg.pack)
            progress.close()
            trained += len(todo)
    finally:
        write_trials(cfg, studies)
    return {"studies": len(studies), "trained": trained, "reseeds": len(reseeds)}


def _rung_hook(cfg: SearchConfig, t: _Trial):
    """The pruning hook of trial ``t``'s run (:mod:`gan_zoo.search.prune`)."""
    from gan_zoo.search.prune import RungHook, first_rung

    spec = t.spec
    return RungHook(storage=cfg.storage or default_storage(Path(cfg.out)), study=study_name(spec),
                    trial_id=t.trial_id, metric=score_metric(spec.dataset),
                    lower_is_better=lower_is_better(spec.dataset),
                    tie_break=None if lower_is_better(spec.dataset) else keys.HQ_FRAC,
                    min_resource=first_rung(spec.steps, spec.curve_points))


def _cost(item) -> float:
    from gan_zoo.bench.estimate import relative_cost

    return relative_cost(item.spec)


def _say_estimate(cfg: SearchConfig, studies: list[_Study], todo: list, say) -> tuple[float, tuple]:
    """The calibrated time of ``todo`` and of the reseed runs still to come (each at its
    study's paper-default cost: the best trial is not known yet); returns ``todo``'s
    seconds and tasks (for the progress ETA)."""
    from gan_zoo.bench.estimate import estimate_plan
    from gan_zoo.bench.grid import GridItem
    from gan_zoo.bench.progress import duration

    extra = [GridItem(st.item.spec.replace(seed=cfg.seed + j)) for st in studies
             for j in range(1, cfg.reseed + 1)]
    extra = [it for it in extra if not (Path(cfg.out) / C.RUNS_DIR / it.run_id / C.RESULT_JSON).is_file()]
    # trials and reseeds train as two grids, one after the other (populations do not mix them)
    plans = [estimate_plan(part, Path(cfg.out), workers=cfg.workers, data_root=cfg.data_root,
                           eval_samples=cfg.evaluation.samples, pack=cfg.pack) if part else (0.0, [], [])
             for part in (todo, extra)]
    secs = plans[0][0] + plans[1][0]
    say(f"estimate: about {duration(secs)} for {len(todo)} trial run(s)"
        + (f" and {len(extra)} reseed run(s)" if extra else "") + f" with {cfg.workers} worker(s)"
        + ("; less as --prune stops trials (at most every trial trains to the end)" if cfg.prune else ""))
    return plans[0][0], tuple(plans[0][1:])


def with_seed(items, seed: int, precision: str | None, device: str) -> list:
    """The grid's base items at the search's seed and precision."""
    from gan_zoo.precision import check_precision, default_precision

    out = []
    for it in items:
        spec = it.spec.replace(seed=seed)
        chosen = precision or default_precision(device)
        if precision is not None or spec.precision == "fp32":
            spec = spec.replace(precision=chosen)
        check_precision(spec.precision, device)
        out.append(dataclasses.replace(it, spec=spec))
    return out
