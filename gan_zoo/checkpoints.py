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
           "rng_bytes", "set_aside"]


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
        aside = set_aside(ckpt)
        say(f"{exc}; set aside as {aside.name}, restarting the run from scratch")
        return None
    if state.get("run_id") != run_id:
        raise GanZooError(f"{run_dir} holds a different run ({state.get('run_id')}); "
                          "choose another --out or remove that folder")
    return state


def rng_bytes(state):
    """A random-number state as the CPU byte tensor ``set_state`` accepts, whatever device
    or dtype it was stored or mapped to."""
    import torch

    return state.detach().to(device="cpu", dtype=torch.uint8).contiguous()
