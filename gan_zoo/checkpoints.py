"""Reading checkpoints back safely: tensors and plain values only, on the CPU, with one
line naming the file when it cannot be read, and setting a corrupt one aside.

A checkpoint is read with ``weights_only=True``: a file whose unpickling would build
anything but tensors, numbers, strings and containers (a crafted ``__reduce__``) is
refused before any of it runs. Everything is loaded to the CPU (``map_location="cpu"``);
the trainer moves what belongs on the device (network and optimizer tensors), while
random-number states stay CPU byte tensors and Adam's step counters stay on the CPU.
"""

from __future__ import annotations

import pickle
import sys
import time
from pathlib import Path

from gan_zoo.errors import GanZooError

__all__ = ["UnsafeCheckpointError", "CorruptCheckpointError", "read_checkpoint", "resume_state",
           "rng_bytes", "set_aside", "set_aside_and_say", "structure_problem", "check_resumable",
           "REQUIRED_KEYS", "OPTIONAL_KEYS"]


class UnsafeCheckpointError(GanZooError):
    """The file holds objects that only code could rebuild; it was not loaded."""


class CorruptCheckpointError(GanZooError):
    """The file is empty, truncated or not a checkpoint."""


def read_checkpoint(path: str | Path) -> dict:
    """The checkpoint at ``path`` as a dict of CPU tensors and plain values.

    Raises :class:`UnsafeCheckpointError` for a file that would run code when
    unpickled, :class:`CorruptCheckpointError` for an empty or unreadable one.
    """
    import torch

    path = Path(path)
    if path.stat().st_size == 0:
        raise CorruptCheckpointError(f"{path} is empty (0 bytes); it is not a checkpoint")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "global" in str(exc).lower():  # it names code to import: a crafted file
            raise UnsafeCheckpointError(
                f"{path} was refused: it holds objects beyond tensors and plain values, which "
                "only code could rebuild; gan-zoo loads no such file") from None
        raise CorruptCheckpointError(f"{path} is not a readable checkpoint ({_short(exc)})") from None
    except (RuntimeError, EOFError, OSError, ValueError, KeyError, AttributeError, IndexError) as exc:
        raise CorruptCheckpointError(f"{path} is not a readable checkpoint ({_short(exc)})") from None
    if not isinstance(state, dict) or "g" not in state or "d" not in state:
        raise CorruptCheckpointError(f"{path} is not a gan-zoo checkpoint (no generator/critic state)")
    problem = structure_problem(state)
    if problem:
        raise CorruptCheckpointError(f"{path} is not a gan-zoo checkpoint of the expected structure ({problem})")
    return state


#: What every checkpoint holds (:meth:`gan_zoo.train.Trainer.state`).
REQUIRED_KEYS = frozenset({"g", "d", "opt_g", "opt_d", "data_gen", "noise_gen", "reg_gen", "torch_rng",
                           "step", "d_steps", "wall", "log", "run_id"})
#: What a checkpoint may hold besides: the CUDA random state of a GPU run, the open logging
#: window (since it was added), and the population a member of ``gan_zoo.population`` was in.
OPTIONAL_KEYS = frozenset({"cuda_rng", "log_window", "population"})


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _state_dict_problem(name: str, sd) -> str:
    import torch

    if not isinstance(sd, dict) or not sd:
        return f"{name} is not a dict of tensors"
    if not all(isinstance(k, str) and torch.is_tensor(v) for k, v in sd.items()):
        return f"{name} holds something other than named tensors"
    return ""


def _rng_problem(name: str, t, size: int | None) -> str:
    import torch

    if not torch.is_tensor(t) or t.dim() != 1 or t.is_floating_point() or t.is_complex():
        return f"{name} is not a random-number state (a 1-D integer tensor)"
    if size is not None and t.numel() != size:
        return f"{name} holds {t.numel()} bytes, a CPU random-number state {size}"
    return ""


def structure_problem(state: dict, *, resumable: bool = False) -> str:
    """What is wrong with the structure of a checkpoint read back, or ``""``.

    Always: the generator and critic states are dicts of named tensors, no key is
    unknown, and the run id is text. With ``resumable`` (training continues from it) also:
    every key of :data:`REQUIRED_KEYS`, optimizer states with their parameter groups,
    integer step counters, CPU random states of full length, and a list log.
    """
    import torch

    unknown = sorted(map(str, set(state) - REQUIRED_KEYS - OPTIONAL_KEYS))
    if unknown:
        return f"unexpected key(s) {', '.join(unknown)[:80]}"
    for name in ("g", "d"):
        problem = _state_dict_problem(name, state.get(name))
        if problem:
            return problem
    if "run_id" in state and not isinstance(state["run_id"], str):
        return "run_id is not text"
    if not resumable:
        return ""
    missing = sorted(REQUIRED_KEYS - set(state))
    if missing:
        return f"missing key(s) {', '.join(missing)}"
    for name in ("opt_g", "opt_d"):
        opt = state[name]
        if not (isinstance(opt, dict) and isinstance(opt.get("state"), dict)
                and isinstance(opt.get("param_groups"), list) and opt["param_groups"]
                and all(isinstance(g, dict) for g in opt["param_groups"])):
            return f"{name} is not an optimizer state (state and param_groups)"
    for name in ("step", "d_steps"):
        if not _is_int(state[name]) or state[name] < 0:
            return f"{name} is {state[name]!r}, not an integer >= 0"
    wall = state["wall"]
    if isinstance(wall, bool) or not isinstance(wall, (int, float)) or not wall >= 0:
        return f"wall is {wall!r}, not a number of seconds >= 0"
    if not isinstance(state["log"], list) or not all(isinstance(row, dict) for row in state["log"]):
        return "log is not a list of rows"
    window = state.get("log_window")
    if window is not None and not isinstance(window, dict):
        return "log_window is not a dict"
    cpu_size = _cpu_rng_size()
    for name in ("data_gen", "noise_gen", "torch_rng"):
        problem = _rng_problem(name, state[name], cpu_size)
        if problem:
            return problem
    for name in ("reg_gen", "cuda_rng"):  # the device's stream: its size depends on the device
        if name in state:
            problem = _rng_problem(name, state[name], None)
            if problem:
                return problem
    return ""


def _cpu_rng_size() -> int:
    import torch

    return torch.get_rng_state().numel()


def check_resumable(state: dict, path: str | Path) -> dict:
    """``state`` if training can continue from it, else :class:`CorruptCheckpointError`
    naming ``path``."""
    problem = structure_problem(state, resumable=True)
    if problem:
        raise CorruptCheckpointError(f"{path} cannot be resumed ({problem})")
    return state


def set_aside(path: str | Path) -> Path:
    """Rename a corrupt checkpoint to ``<name>.corrupt-<time>`` (never delete it) and say so."""
    path = Path(path)
    aside = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
    n = 1
    while aside.exists():
        aside = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}-{n}")
        n += 1
    path.rename(aside)
    return aside


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:160]


def say(message: str) -> None:
    """One line on stderr about a checkpoint (set aside, restarting)."""
    print(f"gan-zoo: {message}", file=sys.stderr)


def resume_state(run_dir: Path, ckpt: Path, run_id: str) -> dict | None:
    """The checkpoint ``ckpt`` of ``run_dir`` to resume ``run_id`` from; None to start
    from scratch.

    A crafted file is refused (nothing runs); an empty or corrupt one is set aside
    (renamed, never deleted) and the run restarts from scratch, saying so on stderr.
    """
    ckpt = Path(ckpt)
    if not ckpt.is_file():
        return None
    try:
        state = read_checkpoint(ckpt)
    except CorruptCheckpointError as exc:
        set_aside_and_say(ckpt, exc)
        return None
    if state.get("run_id") != run_id:
        raise GanZooError(f"{run_dir} holds a different run ({state.get('run_id')}); "
                          "choose another --out or remove that folder")
    try:
        return check_resumable(state, ckpt)
    except CorruptCheckpointError as exc:
        set_aside_and_say(ckpt, exc)
        return None


def set_aside_and_say(ckpt: Path, exc: BaseException) -> Path:
    """Set a checkpoint that cannot be resumed aside (renamed, kept) and say so on stderr."""
    aside = set_aside(ckpt)
    say(f"{' '.join(str(exc).split())}; set aside as {aside.name}, restarting the run from scratch")
    return aside


def rng_bytes(state):
    """A random-number state as the CPU byte tensor ``set_state`` accepts, whatever device
    or dtype it was stored or mapped to."""
    import torch

    return state.detach().to(device="cpu", dtype=torch.uint8).contiguous()
