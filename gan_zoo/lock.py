"""One writer per folder: an advisory lock that a dead holder cannot leave behind.

``gan-zoo bench`` holds the lock of its ``--out`` folder and ``gan-zoo train`` the
lock of its run folder for as long as they write. A second command on the same
folder refuses with one line that names the holder (pid, command, start time).

The lock is ``fcntl.flock`` on a small file in the folder. The operating system
releases it when the holding process ends, however it ends (SIGKILL, the OOM
killer, a power cut), so a lock file left by a dead process never blocks: the
next command simply takes it. The file's text only describes the live holder; it is
emptied when the holder finishes normally.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Iterator

from gan_zoo.errors import GanZooError

__all__ = ["LOCK_FILE", "FolderBusyError", "folder_lock", "holder", "output_lock"]

#: The lock file's name inside a locked folder.
LOCK_FILE = ".gan-zoo.lock"


class FolderBusyError(GanZooError):
    """Another live gan-zoo process writes into the folder."""


def holder(folder: str | os.PathLike) -> dict:
    """What the lock file of ``folder`` says about its (last) holder; ``{}`` if nothing."""
    try:
        return json.loads((Path(folder) / LOCK_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _describe(info: dict) -> str:
    if not info:
        return "another process"
    started = info.get("started")
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started)) if started else "?"
    return f"pid {info.get('pid', '?')} ({info.get('command', '?')}, started {when})"


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike, what: str = "results folder") -> Iterator[Path]:
    """Hold the write lock of ``folder`` (created if missing) for the block.

    Raises :class:`FolderBusyError` at once when a live process holds it. Where the
    platform has no ``fcntl`` (Windows) the block runs unlocked.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on Linux/macOS
        yield folder
        return
    path = folder / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise FolderBusyError(
                f"{folder} is in use by {_describe(holder(folder))}; wait for it to finish "
                f"or choose another {what}") from None
        info = {"pid": os.getpid(), "started": round(time.time(), 3),
                "command": " ".join(["gan-zoo", *sys.argv[1:]])[:200]}
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, (json.dumps(info) + "\n").encode(), 0)
        except OSError as exc:  # a full disk: say which file could not be written
            raise OSError(exc.errno, exc.strerror or os.strerror(exc.errno or 0), str(path)) from None
        try:
            yield folder
        finally:
            # still holding the lock: clear the holder's description, so a command that
            # took the lock and then refused leaves the folder as it found it
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # closing the descriptor releases the lock


@contextlib.contextmanager
def output_lock(out: Path) -> Iterator[Path]:
    """A command's hold on its ``--out`` folder (``gan-zoo bench``, ``gan-zoo search``):
    the write lock for the whole command (a second command on it refuses, naming the
    holder), after clearing the temporaries a killed writer left; a folder that cannot
    be written is one line."""
    from gan_zoo.io import remove_stale_temporaries

    try:
        lock = folder_lock(out, "--out")
        lock.__enter__()
    except OSError as exc:
        raise GanZooError(f"--out {out} is not writable ({exc.strerror or exc}); "
                          "choose a folder you can write to") from None
    try:
        remove_stale_temporaries(out)
        yield out
    except BaseException:
        if not lock.__exit__(*sys.exc_info()):
            raise
    else:
        lock.__exit__(None, None, None)
