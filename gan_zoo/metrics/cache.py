"""Where real-data features are cached, and how their files are named.

The features of a real image set depend on the dataset and split, which images, the
extractor and the SHA-256 of its weights; every cache name spells those out (plus a
digest of the exact images), so a cached file is never read for other data. The
training split's features (for MiFID) are also kept in memory once read, since a
worker scores many runs.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

__all__ = ["resolve_cache_dir", "content_digest", "dataset_slug", "train_features",
           "forget_train_features"]


def resolve_cache_dir(cache_dir: str | os.PathLike | None = None) -> Path:
    """Folder of cached real-data features: ``cache_dir``, else ``$GAN_ZOO_CACHE/metrics``,
    else ``platformdirs.user_cache_dir("gan-zoo")/metrics`` (``~/.cache/gan-zoo/metrics``
    when platformdirs is not installed)."""
    if cache_dir is not None and str(cache_dir) != "":
        return Path(cache_dir).expanduser()
    root = os.environ.get("GAN_ZOO_CACHE")
    if not root:
        try:
            import platformdirs

            root = platformdirs.user_cache_dir("gan-zoo")
        except ImportError:
            root = Path.home() / ".cache" / "gan-zoo"
    return Path(root).expanduser() / "metrics"


def content_digest(x) -> str:
    """Short SHA-256 of a CPU tensor's bytes (names cache entries after their exact content)."""
    return hashlib.sha256(x.contiguous().numpy().tobytes()).hexdigest()[:16]


def dataset_slug(dataset: str) -> str:
    """A file-name-safe dataset name (``folder:PATH`` becomes ``folder-<hash of PATH>``)."""
    from gan_zoo.datafiles import FOLDER_PREFIX

    if dataset.startswith(FOLDER_PREFIX):
        path = os.path.abspath(os.path.expanduser(dataset[len(FOLDER_PREFIX):]))
        return "folder-" + hashlib.sha256(path.encode()).hexdigest()[:12]
    return dataset


#: training-split features already read in this process (a worker scores many runs):
#: the disk cache's key hashes the whole split, so re-deriving it per run is the cost
_TRAIN_FEATURES: dict = {}


def forget_train_features() -> None:
    """Drop the in-memory copies (the disk cache stays): a fresh process's view."""
    _TRAIN_FEATURES.clear()


def train_features(dataset, data_root, extractor, weights_path, weights_sha, image_size,
                   prepare, cache_dir: Path, device):
    """FID-layer features of the whole training split, computed once per cache folder and
    read from disk once per process. ``prepare`` turns [-1, 1] images into the uint8
    images the extractor reads."""
    memo_key = (dataset, str(data_root), extractor, weights_sha, image_size, str(cache_dir))
    if memo_key not in _TRAIN_FEATURES:
        _TRAIN_FEATURES[memo_key] = _train_features_uncached(
            dataset, data_root, extractor, weights_path, weights_sha, image_size, prepare,
            cache_dir, device)
    return _TRAIN_FEATURES[memo_key]


def _train_features_uncached(dataset, data_root, extractor, weights_path, weights_sha,
                             image_size, prepare, cache_dir: Path, device):
    from gan_zoo.data import get_dataset
    from gan_zoo.io import save_torch_atomic
    from gan_zoo.metrics import fidelity

    train_u8 = prepare(get_dataset(dataset, root=data_root, train=True, image_size=image_size).x)
    layer = fidelity.feature_layers(extractor)["fid"]
    tag = fidelity.cache_tag(extractor, weights_sha)
    name = (f"gan-zoo-{dataset_slug(dataset)}-train-seed0-n{len(train_u8)}-{tag}"
            f"-d{content_digest(train_u8)}-features-{layer}.pt")
    path = Path(cache_dir) / name
    if path.is_file():
        return fidelity.load_cached(path)  # a crafted file: one line naming it
    feats = fidelity.extract_features(train_u8, extractor, layer, weights_path=weights_path,
                                      device=device)
    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    save_torch_atomic(feats, path)
    return feats
