"""Reading dataset files: MNIST-style IDX files directly, other torchvision datasets
through their classes (one download attempt, bounded by timeouts; offline, one line
saying where gan-zoo looked and what to do), and a ``folder:PATH`` of images.
:mod:`gan_zoo.data` turns what these return into datasets.
"""

from __future__ import annotations

import contextlib
import functools
import pathlib
import socket
import urllib.parse
import warnings

from gan_zoo.errors import DataUnavailableError, GanZooError
from gan_zoo.io import quiet

__all__ = ["FOLDER_PREFIX", "IMAGE_SUFFIXES", "FILE_FOLDERS", "can_reach", "check_idx_files",
           "read_idx_pair", "read_torchvision", "read_folder"]

FOLDER_PREFIX = "folder:"
#: Image suffixes the ``folder:PATH`` loader reads (lower case).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
#: Seconds a download attempt may wait on one socket operation before giving up.
DOWNLOAD_TIMEOUT = 5.0
#: Seconds the connectivity check waits for a download host.
CONNECT_TIMEOUT = 3.0


# -- torchvision-backed files -------------------------------------------------------


@contextlib.contextmanager
def socket_timeout(seconds: float):
    """Bound every socket operation so an offline download fails fast instead of hanging."""
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(old)


def can_reach(cls) -> bool:
    """Quick check that one of the class's download hosts accepts a connection.

    Offline, this fails within ``CONNECT_TIMEOUT`` instead of letting torchvision try
    every mirror and file in turn.
    """
    urls = list(getattr(cls, "mirrors", None) or []) or [getattr(cls, "url", "")]
    for url in urls:
        parts = urllib.parse.urlsplit(url)
        if not parts.hostname:
            continue
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            with socket.create_connection((parts.hostname, port), timeout=CONNECT_TIMEOUT):
                return True
        except OSError:
            continue
    return False


def torchvision_class(class_name: str):
    import torchvision.datasets as tvd

    return getattr(tvd, class_name)


#: Folder (relative to the root) where each torchvision class looks for its files.
FILE_FOLDERS = {
    "MNIST": "MNIST/raw",
    "FashionMNIST": "FashionMNIST/raw",
    "CIFAR10": "cifar-10-batches-py",
}
PRETTY = {"MNIST": "MNIST", "FashionMNIST": "Fashion-MNIST", "CIFAR10": "CIFAR-10"}


def check_idx_files(folder: pathlib.Path, pretty: str) -> None:
    """Refuse an MNIST-style ``*-idx?-ubyte`` file whose size disagrees with its header
    (a truncated download), naming the file and the fix."""
    for path in sorted(folder.glob("*-idx*-ubyte")):
        with open(path, "rb") as f:
            head = f.read(4)
            ndim = head[3] if len(head) == 4 else 0
            dims = f.read(4 * ndim)
        size = path.stat().st_size
        ok = len(head) == 4 and head[:2] == b"\0\0" and ndim > 0 and len(dims) == 4 * ndim
        if ok:
            n = 1
            for i in range(ndim):
                n *= int.from_bytes(dims[4 * i:4 * i + 4], "big")
            ok = size == 4 + 4 * ndim + n  # ubyte data (type 0x08)
        if not ok:
            raise GanZooError(f"{pretty} file {path} is truncated or corrupt ({size} bytes); delete it and "
                              f"download it again, or check it against the published checksums")


#: torchvision classes whose files are plain IDX files read here directly.
IDX_CLASSES = ("MNIST", "FashionMNIST")


def read_idx_pair(folder: pathlib.Path, train: bool):
    """Images ``(N, 1, H, W)`` uint8 and int64 labels from a split's two uncompressed IDX
    files (the layout torchvision downloads to), or None when either is missing. The
    files were checked against their headers by :func:`check_idx_files`."""
    import numpy as np
    import torch

    prefix = "train" if train else "t10k"
    images, labels = folder / f"{prefix}-images-idx3-ubyte", folder / f"{prefix}-labels-idx1-ubyte"
    if not (images.is_file() and labels.is_file()):
        return None
    x = np.fromfile(images, dtype=np.uint8, offset=16)
    with open(images, "rb") as f:
        head = f.read(16)  # magic, count, rows, cols (big-endian int32)
    rows, cols = int.from_bytes(head[8:12], "big"), int.from_bytes(head[12:16], "big")
    y = np.fromfile(labels, dtype=np.uint8, offset=8)
    x = torch.from_numpy(x.reshape(-1, 1, rows, cols).copy())
    return x.contiguous(), torch.from_numpy(y.astype(np.int64))


@functools.lru_cache(maxsize=8)
def read_torchvision(class_name: str, root: str, train: bool):
    """uint8 images ``(N, C, H, W)`` and int64 labels via a torchvision dataset class.

    Tries the files on disk first, then one download; offline, raises one line.
    Memoized per (class, root, split): later calls cost nothing.
    """
    import torch

    folder = pathlib.Path(root) / FILE_FOLDERS[class_name]
    check_idx_files(folder, PRETTY[class_name])  # truncated files: say so, not "offline?"
    if class_name in IDX_CLASSES:
        found = read_idx_pair(folder, train)
        if found is not None:  # the raw files are there: no torchvision import (~4 s)
            return found
    cls = torchvision_class(class_name)
    ds = None
    with quiet():
        try:
            ds = cls(root, train=train, download=False)
        except Exception:  # missing or unreadable files: fall through to a download
            pass
        if ds is None and can_reach(cls):
            try:
                with socket_timeout(DOWNLOAD_TIMEOUT):
                    ds = cls(root, train=train, download=True)
            except Exception:  # any failure here means "not available", reported below
                ds = None
    if ds is None:
        raise DataUnavailableError(
            f"{PRETTY[class_name]} not found under {folder} and could not be downloaded "
            f"(offline?); put the files there or point gan-zoo at them with "
            f"--data-root DIR or GAN_ZOO_DATA=DIR"
        )
    data = torch.as_tensor(ds.data)
    if data.ndim == 3:  # MNIST-style (N, H, W)
        data = data.unsqueeze(1)
    else:  # CIFAR-style numpy (N, H, W, C)
        data = data.permute(0, 3, 1, 2)
    targets = torch.as_tensor(ds.targets, dtype=torch.int64)
    return data.contiguous(), targets


# -- a folder of images -------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def read_folder(path: str, size: int, limit: int | None) -> "torch.Tensor":
    """uint8 ``(N, 3, size, size)`` from every image under ``path`` (recursive, sorted).

    Each image is scaled so its shorter side is ``size`` and centre-cropped
    (``PIL.ImageOps.fit``), the usual DCGAN preprocessing. Unreadable files are
    skipped with a warning.
    """
    import numpy as np
    import torch
    from PIL import Image, ImageOps, UnidentifiedImageError

    folder = pathlib.Path(path).expanduser()
    if not folder.is_dir():
        raise GanZooError(f"{FOLDER_PREFIX}{path}: no such folder ({folder.resolve()})")
    files = sorted(p for p in folder.rglob("*")
                   if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    arrays, skipped = [], 0
    for p in files:
        if limit is not None and len(arrays) >= limit:
            break
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                with Image.open(p) as im:
                    im = ImageOps.fit(im.convert("RGB"), (size, size),
                                      method=Image.Resampling.BICUBIC, centering=(0.5, 0.5))
                    arrays.append(np.asarray(im, dtype=np.uint8))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise GanZooError(f"{p}: image larger than the limit of {Image.MAX_IMAGE_PIXELS:,} pixels "
                              f"(a decompression bomb?); remove it or shrink it") from None
        except (UnidentifiedImageError, OSError, ValueError):
            skipped += 1
    if not arrays:  # the one line, with no warning before it
        raise GanZooError(
            f"{FOLDER_PREFIX}{path}: no readable images ({', '.join(IMAGE_SUFFIXES)}) "
            f"under {folder.resolve()}" + (f" ({skipped} unreadable)" if skipped else "")
        )
    if skipped:
        warnings.warn(f"{FOLDER_PREFIX}{path}: skipped {skipped} unreadable image file(s)")
    x = torch.from_numpy(np.stack(arrays))  # (N, H, W, 3)
    return x.permute(0, 3, 1, 2).contiguous()
