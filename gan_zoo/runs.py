"""A run folder on disk: its file names, statuses, result record, the one rule for
"this run is complete", the one writer of ``result.json``, and opening a trained run.

A run folder holds ``spec.json``, ``result.json``, ``log.csv``,
``checkpoints/last.pt``, ``samples.png``, ``best50.png`` and ``curves.png``
(plus ``samples.npz`` of generated points for the 2-D mixtures, ``metrics.json``
once scored, ``error.txt`` when it failed). Every module names these files through
the constants here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from gan_zoo.version import __version__
from gan_zoo.errors import GanZooError
from gan_zoo.io import read_json, write_json_atomic

if TYPE_CHECKING:
    import numpy as np
    import torch
    from torch import nn

    from gan_zoo.spec import RunSpec

__all__ = ["Run", "RunResult", "load_run", "read_result", "write_result", "training_ended",
           "is_complete", "check_same_run", "read_spec_file", "read_result_file", "read_metrics_file",
           "result_problem", "metrics_problem"]

# -- files of one run folder ------------------------------------------------------------

SPEC_JSON = "spec.json"
RESULT_JSON = "result.json"
METRICS_JSON = "metrics.json"
LOG_CSV = "log.csv"
CHECKPOINT = str(Path("checkpoints") / "last.pt")
SAMPLES_PNG = "samples.png"
SAMPLES_NPZ = "samples.npz"
BEST50_PNG = "best50.png"
CURVES_PNG = "curves.png"
#: in-training score points: step, wall_s (training seconds), fid (or modes, hq_frac)
CURVE_CSV = "score_curve.csv"
ERROR_TXT = "error.txt"
#: log.csv columns, in order
LOG_COLUMNS = ["step", "d_loss", "g_loss", "d_real", "d_fake", "g_grad_norm", "d_grad_norm", "wall_s"]

# -- statuses (result.json "status") ------------------------------------------------------

OK, DIVERGED, SKIPPED, FAILED = "ok", "diverged", "skipped", "failed"
#: stopped at a rung of ``gan-zoo search --prune`` (successive halving): its score
#: points up to there are kept, it has no final evaluation
PRUNED = "pruned"
STATUSES = (OK, DIVERGED, SKIPPED, FAILED, PRUNED)
#: How complete a run is; of two copies of one run id the higher one is kept.
STATUS_COMPLETENESS = {OK: 4, DIVERGED: 3, PRUNED: 2, SKIPPED: 1, FAILED: 0}
#: Statuses after which training never resumes.
TRAINING_ENDED = (OK, DIVERGED, PRUNED)


@dataclass
class RunResult:
    """What a run ended with; written to ``result.json`` by :func:`write_result` only.

    Build one with :meth:`ok`, :meth:`diverged`, :meth:`skipped` or :meth:`failed`.
    """

    run_id: str
    status: str  # ok | diverged | failed | skipped
    reason: str = ""
    steps: int = 0  # generator steps done
    g_steps: int = 0
    d_steps: int = 0
    wall_s: float = 0.0  # pure training time, summed over resumptions
    device: str = "cpu"
    precision: str = "fp32"  # fp32 | tf32 | bf16 (gan_zoo.precision)
    diverged_step: int | None = None
    backbone: str = ""
    resolved: dict = field(default_factory=dict)
    sweep: dict = field(default_factory=dict)  # the grid's --set values for this run
    gan_zoo_version: str = __version__
    machine: str = ""  # torch, kernels (GPU name or CPU instruction set) and threads: gan_zoo.accel.machine
    run_dir: str = ""  # in memory only (a folder can move); not written

    @classmethod
    def ok(cls, run_id: str, *, steps: int, d_steps: int, wall_s: float, device: str,
           backbone: str, resolved: dict) -> "RunResult":
        return cls(run_id, OK, steps=steps, g_steps=steps, d_steps=d_steps, wall_s=round(wall_s, 3),
                   device=device, backbone=backbone, resolved=resolved)

    @classmethod
    def diverged(cls, run_id: str, *, reason: str, steps: int, d_steps: int, wall_s: float,
                 device: str, backbone: str, resolved: dict) -> "RunResult":
        return cls(run_id, DIVERGED, reason=reason, steps=steps, g_steps=steps, d_steps=d_steps,
                   wall_s=round(wall_s, 3), device=device, diverged_step=steps, backbone=backbone,
                   resolved=resolved)

    @classmethod
    def ended(cls, run_id: str, status: str, *, reason: str = "", diverged_step: int | None = None,
              steps: int, d_steps: int, wall_s: float, device: str, backbone: str, resolved: dict,
              run_dir=None, precision: str) -> "RunResult":
        """The record of a run that trained until ``status`` (ok, diverged or pruned): what a single
        run and a population member both write."""
        common = dict(steps=steps, d_steps=d_steps, wall_s=wall_s, device=device, backbone=backbone,
                      resolved=resolved)
        if status == DIVERGED:
            result = cls.diverged(run_id, reason=reason, **common)
            result.diverged_step = diverged_step or steps
        elif status == PRUNED:
            result = cls.ok(run_id, **common)
            result.status, result.reason = PRUNED, reason
        else:
            result = cls.ok(run_id, **common)
        result.run_dir = str(run_dir or "")
        result.precision = precision
        return result

    @classmethod
    def skipped(cls, run_id: str, reason: str, sweep: dict | None = None) -> "RunResult":
        return cls(run_id, SKIPPED, reason=reason, device="", sweep=dict(sweep or {}))

    @classmethod
    def failed(cls, run_id: str, reason: str, device: str, sweep: dict | None = None) -> "RunResult":
        return cls(run_id, FAILED, reason=reason, device=device, sweep=dict(sweep or {}))

    @classmethod
    def from_dict(cls, data: dict, source: str | None = None) -> "RunResult":
        """A result from its ``result.json`` content, every field of its type; a wrong one
        is a one-line GanZooError (prefixed with ``source``, the file, when given). Keys
        this version does not know are left out."""
        problem = result_problem(data)
        if problem:
            raise GanZooError(f"{source + ': ' if source else ''}{problem}; restore it or remove the run folder")
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def to_dict(self) -> dict:
        """The ``result.json`` content."""
        return {k: v for k, v in asdict(self).items() if k != "run_dir"}


#: result.json field -> (test, what it must be)
_RESULT_TYPES = {
    "run_id": (lambda v: isinstance(v, str) and v != "", "text"),
    "status": (lambda v: v in STATUSES, f"one of {', '.join(STATUSES)}"),
    "diverged_step": (lambda v: v is None or _is_int(v), "an integer or null"),
    "wall_s": (lambda v: v is None or (_is_number(v) and v >= 0), "a number of seconds >= 0"),
    "resolved": (lambda v: isinstance(v, dict), "an object"),
    "sweep": (lambda v: isinstance(v, dict), "an object"),
    **{k: (lambda v: _is_int(v) and v >= 0, "an integer >= 0") for k in ("steps", "g_steps", "d_steps")},
    **{k: (lambda v: isinstance(v, str), "text")
       for k in ("reason", "device", "precision", "backbone", "gan_zoo_version", "machine")},
}


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def result_problem(data) -> str:
    """What is wrong with a ``result.json`` content, or ``""``."""
    if not isinstance(data, dict):
        return f"not a JSON object of result fields (got {type(data).__name__})"
    for key in ("run_id", "status"):
        if key not in data:
            return f"no {key}"
    for key, (test, allowed) in _RESULT_TYPES.items():
        if key in data and not test(data[key]):
            return f"{key} is {data[key]!r:.60}, not {allowed}"
    return ""


def metrics_problem(data) -> str:
    """What is wrong with a ``metrics.json`` content, or ``""``: an object whose values are
    numbers, text, true/false or null, the metric columns numbers or null."""
    from gan_zoo.metrics.keys import METRIC_COLUMNS

    if not isinstance(data, dict):
        return f"not a JSON object of metrics (got {type(data).__name__})"
    for key, value in data.items():
        if key in METRIC_COLUMNS and not (value is None or _is_number(value)):
            return f"{key} is {value!r:.60}, not a number or null"
        if not (value is None or isinstance(value, (str, int, float, bool))):
            return f"{key} is {type(value).__name__}, not a number, text or null"
    return ""


def read_spec_file(run_dir: Path):
    """The ``RunSpec`` of a run folder's ``spec.json``; anything wrong with the file (not
    UTF-8, not JSON, a field of the wrong type) is one line naming it."""
    from gan_zoo.spec import RunSpec

    path = Path(run_dir) / SPEC_JSON
    return RunSpec.from_dict(read_json(path), source=str(path))


def read_result_file(run_dir: Path) -> RunResult:
    """A run folder's ``result.json``, checked field by field; a bad one is one line naming it."""
    path = Path(run_dir) / RESULT_JSON
    return RunResult.from_dict(read_json(path), source=str(path))


def read_metrics_file(run_dir: Path) -> dict:
    """A run folder's ``metrics.json``, checked (:func:`metrics_problem`); a bad one is one
    line naming it."""
    path = Path(run_dir) / METRICS_JSON
    data = read_json(path)
    problem = metrics_problem(data)
    if problem:
        raise GanZooError(f"{path}: {problem}; score the run again with gan-zoo eval")
    return data


def write_result(run_dir: Path, result: RunResult) -> Path:
    """The one writer of ``result.json``."""
    return write_json_atomic(Path(run_dir) / RESULT_JSON, result.to_dict())


def read_result(run_dir: Path) -> RunResult | None:
    """The stored result, or None when there is none (or it cannot be read)."""
    path = Path(run_dir) / RESULT_JSON
    if not path.is_file():
        return None
    try:
        return RunResult.from_dict(read_json(path))
    except (GanZooError, TypeError, OSError):
        return None


def check_same_run(run_dir: Path, run_id: str) -> None:
    """Refuse a folder that holds another run (by the id of its ``spec.json``)."""
    from gan_zoo.spec import RunSpec

    path = Path(run_dir) / SPEC_JSON
    if path.is_file():
        stored = RunSpec.from_dict(read_json(path), source=str(path)).run_id()
        if stored != run_id:
            raise GanZooError(f"{run_dir} holds a different run ({stored}); "
                              "choose another --out or remove that folder")


def training_ended(run_dir: Path, run_id: str) -> RunResult | None:
    """The stored result of ``run_id`` if its training ended (ok or diverged)."""
    result = read_result(run_dir)
    if result is None or result.run_id != run_id or result.status not in TRAINING_ENDED:
        return None
    return result


def is_complete(run_dir: Path, run_id: str) -> bool:
    """The one rule: a run needs nothing more when it was skipped, diverged, pruned, or
    ended ok and was scored (``metrics.json`` beside ``result.json``)."""
    result = read_result(run_dir)
    if result is None or result.run_id != run_id:
        return False
    if result.status == OK:
        return (Path(run_dir) / METRICS_JSON).is_file()
    return result.status in (DIVERGED, SKIPPED, PRUNED)


# -- a trained run ----------------------------------------------------------------------

@dataclass
class Run:
    """A trained generator and critic with the spec that made them."""

    run_dir: Path
    spec: RunSpec
    result: dict
    g: nn.Module
    d: nn.Module
    kind: str  # image | points
    device: str

    @property
    def num_classes(self) -> int:
        return self.g.num_classes

    def sample(self, n: int, labels=None, seed: int | None = 0) -> torch.Tensor:
        """``n`` samples as a tensor in data units ([-1, 1] images, or 2-D points).

        ``labels``: one class for all (int) or one per sample, for conditional runs.
        G stays in eval mode (batch norm running statistics); dropout in G stays on.
        """
        import torch

        if n < 1:
            raise GanZooError(f"n must be a positive integer, got {n}")
        y = None
        if self.num_classes:
            if labels is None:
                raise GanZooError(f"this run is conditional: give labels in 0..{self.num_classes - 1}")
            y = torch.as_tensor(labels, dtype=torch.long).reshape(-1)
            if y.numel() == 1:
                y = y.expand(n)
            if y.numel() != n or y.min() < 0 or y.max() >= self.num_classes:
                raise GanZooError(f"labels must be one class or {n} classes in 0..{self.num_classes - 1}")
            y = y.to(self.device)
        elif labels is not None:
            raise GanZooError("this run is not conditional; labels cannot be given")
        gen = torch.Generator(device=self.device)
        gen.manual_seed(int(seed) if seed is not None else torch.seed())
        self.g.eval()
        out = []
        with torch.no_grad():
            for start in range(0, n, 1000):
                m = min(1000, n - start)
                z = torch.randn(m, self.g.nz, generator=gen, device=self.device)
                out.append(self.g(z, None if y is None else y[start:start + m]))
        return torch.cat(out)

    def generate(self, n: int, labels=None, seed: int | None = None) -> np.ndarray:
        """The seeds' ``generate(n)`` / ``generate(n, c)``: a NumPy array of ``n`` samples.

        MNIST-like (one channel): ``n x 28 x 28``; colour: ``n x C x H x W``; both with
        pixel values in [0, 1]. 2-D mixtures: ``n x 2`` coordinates. A fresh random
        draw each call unless ``seed`` is given.
        """
        x = self.sample(n, labels, seed=seed).float().cpu()
        if self.kind == "points":
            return x.numpy()
        x = ((x + 1) / 2).clamp(0, 1)
        if x.shape[1] == 1:
            x = x[:, 0]
        return x.numpy()

    def score(self, x: torch.Tensor, labels=None) -> torch.Tensor:
        """D's raw score of samples (higher: judged more real)."""
        import torch

        self.d.eval()
        with torch.no_grad():
            y = None if labels is None else torch.as_tensor(labels, dtype=torch.long).to(self.device)
            from gan_zoo.backbones import per_sample_scores

            return per_sample_scores(self.d, x.to(self.device), y)


def load_run(run_dir, device: str = "cpu") -> Run:
    """Open a run folder written by ``gan-zoo train`` / ``train_run``."""
    from gan_zoo.checkpoints import read_checkpoint
    from gan_zoo.data import dataset_info
    from gan_zoo.resolve import build_networks, resolve
    from gan_zoo.spec import RunSpec

    run_dir = Path(run_dir)
    ckpt = run_dir / CHECKPOINT
    if not (run_dir / SPEC_JSON).is_file() or not ckpt.is_file():
        raise GanZooError(f"{run_dir} is not a trained run folder (needs {SPEC_JSON} and {CHECKPOINT})")
    spec = read_spec_file(run_dir).replace(device=device)
    result = read_result_file(run_dir).to_dict() if (run_dir / RESULT_JSON).is_file() else {}
    res = resolve(spec)
    info = dataset_info(spec.dataset)
    g, d = build_networks(res, info.shape, info.num_classes)
    state = read_checkpoint(ckpt)  # refuses a crafted or corrupt file with one line naming it
    if state.get("run_id") != spec.run_id():
        raise GanZooError(f"{ckpt} belongs to run {state.get('run_id')}, not to {spec.run_id()} of "
                          f"{run_dir / SPEC_JSON}; refusing to use it")
    try:
        g.load_state_dict(state["g"])
        d.load_state_dict(state["d"])
    except (RuntimeError, KeyError, ValueError, TypeError) as exc:
        from gan_zoo.checkpoints import CorruptCheckpointError

        raise CorruptCheckpointError(f"{ckpt} does not fit this run's networks "
                                     f"({' '.join(str(exc).split())[:160]})") from None
    return Run(run_dir, spec, result, g, d, info.kind, res.device)
