"""The real reference set a run is scored against: a seeded, uniform sample of a split.

MNIST's test split holds two writer populations in order (lenet FID 28.3 between its
first and last 5,000 images, 2.0-2.8 between random halves), so a reference made of
the first ``n`` images is biased. The reference of ``n`` images is instead drawn
uniformly without replacement from the dataset's reference split with a fixed seed
(:data:`REFERENCE_SEED` unless told otherwise), the whole split when ``n`` reaches its
size; every run of a grid is scored against the same images. For a generated dataset
(Stacked MNIST) the seed also draws the split itself (the stacked triples), so one
number fixes the reference.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["REFERENCE_SEED", "REFERENCE_SPLIT", "Reference", "reference_indices",
           "reference_set"]

#: Seed of the reference sample (recorded in every metrics.json).
REFERENCE_SEED = 0
#: The split reference images come from.
REFERENCE_SPLIT = "test"


@dataclass(frozen=True)
class Reference:
    """Real images ``(n, C, H, W)`` in [-1, 1] and how they were chosen."""

    images: object  # torch.Tensor
    split: str  # "test", or "given" for images the caller passed
    seed: int | None  # None for given images

    @property
    def size(self) -> int:
        return len(self.images)


def reference_indices(split_size: int, n: int, seed: int = REFERENCE_SEED):
    """Sorted indices of ``min(n, split_size)`` items of a split, uniform without
    replacement (a seeded ``randperm``); ``arange(split_size)`` when ``n >= split_size``."""
    import torch

    if n >= split_size:
        return torch.arange(split_size)
    perm = torch.randperm(split_size, generator=torch.Generator().manual_seed(int(seed)))
    return perm[:n].sort().values


def reference_set(dataset: str, n: int, *, seed: int = REFERENCE_SEED, data_root=None,
                  image_size: int | None = None) -> Reference:
    """``n`` reference images of ``dataset`` (see the module docstring)."""
    from gan_zoo.data import get_dataset

    split = get_dataset(dataset, root=data_root, train=False, seed=seed, image_size=image_size)
    idx = reference_indices(len(split), n, seed)
    return Reference(split.x[idx.to(split.x.device)], REFERENCE_SPLIT, int(seed))
