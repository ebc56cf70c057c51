"""Atomic file writes, so an interrupted run never leaves a half-written result.

Every writer goes through :func:`atomic_open`: the data lands in a temporary file in
the destination folder (same file system, so the rename is atomic), is flushed and
fsynced, and only then replaces the destination with ``os.replace``. A crash or an
exception mid-write leaves the previous file intact and no temporary file behind.
Readers (the benchmark tables, ``--resume``) can therefore trust any file they find.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import math
import os
import tempfile
import warnings
from pathlib import Path
from typing import IO, Any, Iterator

from gan_zoo.errors import GanZooError

__all__ = [
    "atomic_open",
    "write_text_atomic",
    "write_json_atomic",
    "write_csv_atomic",
    "savefig_atomic",
    "save_torch_atomic",
    "read_json",
    "remove_stale_temporaries",
    "to_jsonable",
]


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w") -> Iterator[IO]:
    """Open a temporary sibling of ``path`` for writing; rename it over ``path`` on success.

    ``mode`` is ``"w"`` (text, UTF-8) or ``"wb"``. The temporary name keeps the
    destination's suffix because some writers (matplotlib) pick the format from it.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open mode must be 'w' or 'wb', got {mode!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f"{TMP_PREFIX}{path.name}.", suffix=path.suffix)
    except OSError as exc:  # the temporary has no name a user knows: name the destination
        raise OSError(exc.errno, exc.strerror or os.strerror(exc.errno or 0), str(path)) from None
    try:
        # mkstemp creates the file 0600; results are ordinary files, readable like the rest
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, mode, **({"encoding": "utf-8", "newline": ""} if mode == "w" else {})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.errno in _DISK_FULL and exc.filename != str(path):
            # the temporary file has no name a user knows: name the destination
            raise OSError(exc.errno, os.strerror(exc.errno), str(path)) from None
        raise
    _fsync_dir(path.parent)


#: How every temporary file of :func:`atomic_open` begins: stale-temporary clean-up removes
#: files named so, and nothing else (a user's ``.notes.tmp.txt`` is not ours).
TMP_PREFIX = ".gan-zoo-tmp."
#: a full disk, or a full quota
_DISK_FULL = tuple(e for e in (errno.ENOSPC, getattr(errno, "EDQUOT", None)) if e is not None)
#: The sub-folders of a run or results folder that gan-zoo writes files into (``*``: any
#: one name); temporaries are looked for there only, never in a user's own folders.
WRITTEN_FOLDERS = ("", "checkpoints", "plots", "runs/*", "runs/*/checkpoints",
                   "calibration/*", "calibration/*/checkpoints")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def remove_stale_temporaries(folder: str | os.PathLike) -> list[Path]:
    """Delete the temporary files that a killed writer of gan-zoo left in ``folder``.

    Only files named by :func:`atomic_open` (:data:`TMP_PREFIX`), and only in the folders
    gan-zoo writes (:data:`WRITTEN_FOLDERS`); anything else is the user's and stays.
    Only call this while holding the folder's write lock (:mod:`gan_zoo.lock`): then no
    live writer owns any of them. Returns what was removed.
    """
    root = Path(folder)
    removed = []
    for pattern in WRITTEN_FOLDERS:
        for tmp in sorted(root.glob(f"{pattern}/{TMP_PREFIX}*" if pattern else f"{TMP_PREFIX}*")):
            if tmp.is_file() and not tmp.is_symlink():
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()
                    removed.append(tmp)
    return removed


def _fsync_dir(folder: Path) -> None:
    """Persist the rename itself (POSIX); a no-op where folders cannot be opened."""
    try:
        dfd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    with atomic_open(path, "w") as f:
        f.write(text)
    return Path(path)


def to_jsonable(obj: Any) -> Any:
    """Plain JSON values: NaN/inf -> None, NumPy/torch scalars -> Python, Path -> str.

    Strict JSON has no NaN; a missing metric is ``null`` so any reader can parse it.
    """
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, int):
        return obj
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        items = sorted(obj) if isinstance(obj, (set, frozenset)) else obj
        return [to_jsonable(v) for v in items]
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if hasattr(obj, "tolist"):  # numpy scalars/arrays, 0-dim or small torch tensors
        return to_jsonable(obj.tolist())
    if hasattr(obj, "item"):
        return to_jsonable(obj.item())
    raise TypeError(f"cannot write {type(obj).__name__} as JSON: {obj!r}")


def write_json_atomic(path: str | os.PathLike, obj: Any) -> Path:
    """Indented, key-sorted JSON (stable diffs); NaN becomes ``null``."""
    text = json.dumps(to_jsonable(obj), indent=2, sort_keys=True, allow_nan=False)
    return write_text_atomic(path, text + "\n")


def write_csv_atomic(path: str | os.PathLike, df, **to_csv_kw: Any) -> Path:
    """Write a pandas DataFrame as CSV (no index unless ``index=True``)."""
    to_csv_kw.setdefault("index", False)
    with atomic_open(path, "w") as f:
        df.to_csv(f, **to_csv_kw)
    return Path(path)


def savefig_atomic(fig, path: str | os.PathLike, **savefig_kw: Any) -> Path:
    """``fig.savefig`` into a temporary file, then rename; the format follows the suffix."""
    path = Path(path)
    savefig_kw.setdefault("format", path.suffix.lstrip(".") or "png")
    with atomic_open(path, "wb") as f:
        fig.savefig(f, **savefig_kw)
    return path


def save_torch_atomic(obj: Any, path: str | os.PathLike) -> Path:
    """``torch.save`` for checkpoints; a crash mid-save keeps the previous checkpoint."""
    import torch  # local: the tables and report do not need torch

    # serialised in memory first: torch.save reports a full disk as a RuntimeError that
    # names no file, a plain write as OSError(ENOSPC) that atomic_open names
    buf = io.BytesIO()
    torch.save(obj, buf)
    with atomic_open(path, "wb") as f:
        f.write(buf.getbuffer())
    return Path(path)


def read_json(path: str | os.PathLike) -> Any:
    """Parse a JSON file; a corrupt file is a one-line ``GanZooError`` naming it.

    A missing file raises ``FileNotFoundError`` as usual (callers often expect that).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise GanZooError(f"{path}: not UTF-8 text (byte {err.start}); restore it or remove it") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise GanZooError(f"{path}: not valid JSON ({err.msg} at line {err.lineno})") from None


@contextlib.contextmanager
def quiet():
    """Swallow a library's prints, progress bars and warnings (torchvision downloads,
    torch-fidelity), so a command's output stays ours."""
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
