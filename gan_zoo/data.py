"""Dataset registry: every dataset is one in-memory tensor on the target device.

GAN benchmarks on MNIST-sized data are dominated by data-loading overhead when a
``DataLoader`` applies per-item transforms, so each dataset is read once, converted
to float in one vectorized op and sampled by index (``Dataset.sample``).

Images are ``(N, C, H, W)`` float32 in [-1, 1] (``x / 127.5 - 1``, matching the
generators' ``tanh``); the toy mixtures are ``(N, 2)`` float32 points. Adding a
dataset is one loader function decorated with :func:`register_dataset` and its facts.

Each dataset's facts (epoch size, whether the MNIST classifier reads it, its default
feature extractor, mixture centres and sigma) sit on its :class:`DatasetInfo`, given
where its loader is registered; the rest of gan-zoo asks :func:`dataset_info`. Importing
this module is cheap: torch is imported when data is loaded.

Files are read by :mod:`gan_zoo.datafiles` under the data root (see
``resolve_data_root``); when they are missing and cannot be downloaded the loader
raises ``DataUnavailableError`` with one line saying where it looked.
"""

from __future__ import annotations

import dataclasses
import math
import hashlib
import os
import pathlib
import re
from dataclasses import dataclass
from typing import Callable

from gan_zoo.errors import GanZooError
from gan_zoo.datafiles import FOLDER_PREFIX, read_folder, read_torchvision
from gan_zoo.registry import Registry, UnknownNameError

#: Seed offset for the held-out split of generated datasets, so train and test differ.
TEST_SEED_OFFSET = 1_000_003
#: Epoch size budgets assume for a ``folder:PATH`` (its images are not counted before
#: they are read): the MNIST family's 60,000.
FOLDER_EPOCH_SIZE = 60_000
#: Feature extractors (names of ``gan_zoo.metrics.fidelity``'s extractors).
LENET, INCEPTION = "lenet", "inception-v3-compat"


# -- public types -------------------------------------------------------------------


@dataclass(frozen=True)
class DatasetInfo:
    """What the runner needs to know about a dataset without loading it."""

    name: str
    kind: str  # "image" | "points"
    channels: int  # image channels; 0 for points
    image_size: int | None  # side of the square images; None for points
    num_classes: int  # 0: unlabeled (folder)
    default_backbone: str
    #: training examples in one epoch (budgets given in epochs); None for point datasets
    epoch_size: int | None = None
    #: True when gan-zoo's MNIST classifier knows the classes (digits, or a digit per
    #: channel): Inception Score under ``lenet``, class / mode coverage, conditional accuracy
    classifier: bool = False
    #: the extractor FID, KID and precision/recall use unless told otherwise; None for points
    feature_extractor: str | None = None
    #: 2-D mixtures: the mode centres ``((x, y), ...)`` and the std of every mode
    centers: tuple[tuple[float, float], ...] | None = None
    sigma: float | None = None
    #: generated samples its evaluation protocol scores (README, ``gan-zoo eval``), against
    #: as many reference images (at most the whole reference split)
    eval_samples: int | None = None
    #: whether a budget may score fewer (and say so in its rows); False keeps the
    #: protocol count under every budget (the published mode counts depend on it)
    eval_samples_reducible: bool = False
    #: classifier datasets: ``confident`` (a class is covered only by confidently
    #: recognised samples) or ``argmax`` (the published VEEGAN / PacGAN rule)
    mode_rule: str = "confident"

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of one sample: ``(C, H, W)`` for images, ``(2,)`` for points."""
        if self.kind == "points":
            return (2,)
        return (self.channels, self.image_size, self.image_size)

    def mixture_centers(self):
        """Mode centres as a float32 tensor ``(K, 2)``; a GanZooError for a non-mixture."""
        import torch

        if self.centers is None:
            raise GanZooError(f"{self.name} is not a 2-D mixture; mixtures: "
                              f"{', '.join(n for n in list_datasets() if is_points(n))}")
        return torch.tensor(self.centers, dtype=torch.float32)


@dataclass
class Dataset:
    """All samples of one split as tensors on one device."""

    name: str
    x: torch.Tensor  # (N, C, H, W) in [-1, 1], or (N, 2)
    y: torch.Tensor | None  # (N,) int64, or None when unlabeled
    num_classes: int
    kind: str
    centers: torch.Tensor | None = None  # mixtures: (K, 2) mode centres
    sigma: float | None = None  # mixtures: std of each mode

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.x.shape[1:])

    def __len__(self) -> int:
        return self.x.shape[0]

    def sample(
        self, batch_size: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """A batch drawn uniformly with replacement: ``(x[idx], y[idx])``.

        Indices come from ``generator`` (a CPU generator) so a run is reproducible
        on any device; the gather itself happens on ``x``'s device.
        """
        import torch

        idx = torch.randint(
            0, len(self), (batch_size,), generator=generator, device=generator.device
        ).to(self.x.device)
        return self.x[idx], (None if self.y is None else self.y[idx])


# -- registry -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    info: DatasetInfo
    # load(root, train, seed, limit) -> (x, y, extras): x uint8 (N, C, H, W) for images
    # or float32 (N, 2) for points, on the CPU; extras holds centers / sigma.
    load: Callable[..., tuple[torch.Tensor, torch.Tensor | None, dict]]


DATASETS: Registry[_Entry] = Registry("dataset")


def register_dataset(name: str, **facts):
    """Decorator: register a loader ``load(root, train, seed, limit) -> (x, y, extras)``
    under ``name`` with its facts (the :class:`DatasetInfo` fields but the name)."""
    info = DatasetInfo(name, **facts)

    def wrap(load):
        DATASETS.register(name, _Entry(info, load))
        return load

    return wrap


def list_datasets(pattern: str = "*") -> list[str]:
    """Registered dataset names matching a wildcard pattern (``folder:PATH`` not included)."""
    return DATASETS.names(pattern)


#: The backbone whose input size matches a resized image dataset.
_BACKBONE_FOR_SIZE = {28: "dcgan28", 32: "dcgan32", 64: "dcgan64"}


def safe_name(text: str) -> str:
    """``text`` as one safe file name: letters, digits, ``. _ + -`` kept, any other character
    (a path separator among them) becomes ``_``, and no ``..`` is left. Registered dataset,
    objective and regularizer names pass unchanged."""
    return re.sub(r"\.{2,}", "_", re.sub(r"[^A-Za-z0-9._+-]", "_", str(text)))


def dataset_id(name: str) -> str:
    """The dataset's part of a run id or folder name: the registered name, or for
    ``folder:PATH`` ``folder-<PATH's last part>-<8 hex digits of PATH's SHA-256>``: one
    name, never a path, so a run folder stays under its parent."""
    if str(name).startswith(FOLDER_PREFIX):
        path = str(name)[len(FOLDER_PREFIX):]
        last = safe_name(path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1])[:40].strip("._") or "x"
        return f"folder-{last}-{hashlib.sha256(path.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"
    return safe_name(name)


def dataset_info(name: str, *, image_size: int | None = None) -> DatasetInfo:
    """Metadata for ``name`` (as ``get_dataset`` would return it with that ``image_size``)."""
    if name.startswith(FOLDER_PREFIX):
        if not name[len(FOLDER_PREFIX):].strip():
            raise GanZooError(f"{FOLDER_PREFIX} needs the path of a folder of images, e.g. "
                              f"{FOLDER_PREFIX}~/pictures")
        base = DatasetInfo(name, "image", 3, 64, 0, "dcgan64", epoch_size=FOLDER_EPOCH_SIZE,
                           feature_extractor=INCEPTION, eval_samples=10_000,
                           eval_samples_reducible=True)
    else:
        try:
            base = DATASETS.get(name).info
        except UnknownNameError as err:
            raise UnknownNameError(f"{err}, or {FOLDER_PREFIX}PATH for a folder of images") from None
    if image_size is None or image_size == base.image_size:
        return base
    if base.kind != "image":
        raise GanZooError(f"image_size does not apply to the point dataset {name!r}")
    if not isinstance(image_size, int) or image_size < 4:
        raise GanZooError(f"image_size must be an integer >= 4, got {image_size!r}")
    return dataclasses.replace(
        base,
        image_size=image_size,
        default_backbone=_BACKBONE_FOR_SIZE.get(image_size, base.default_backbone),
    )


def is_points(name: str) -> bool:
    """True for the 2-D point datasets (``ring8``, ``grid25``), scored by mode coverage."""
    return dataset_info(name).kind == "points"


def mixture_centers(name: str):
    """Mode centres ``(K, 2)`` of a 2-D mixture (see its DatasetInfo)."""
    return dataset_info(name).mixture_centers()


def resolve_data_root(root: str | os.PathLike | None = None) -> pathlib.Path:
    """Where dataset files live: ``root`` (``--data-root``), else ``$GAN_ZOO_DATA``,
    else a per-user cache folder (``platformdirs.user_cache_dir("gan-zoo")``,
    falling back to ``~/.cache/gan-zoo``)."""
    if root is None or str(root) == "":
        root = os.environ.get("GAN_ZOO_DATA") or None
    if root is None:
        try:
            import platformdirs

            root = platformdirs.user_cache_dir("gan-zoo")
        except ImportError:
            root = pathlib.Path.home() / ".cache" / "gan-zoo"
    return pathlib.Path(root).expanduser().resolve()


def get_dataset(
    name: str,
    *,
    root: str | os.PathLike | None = None,
    train: bool = True,
    device: str | torch.device = "cpu",
    seed: int = 0,
    image_size: int | None = None,
    limit: int | None = None,
) -> Dataset:
    """Load one split of a dataset into tensors on ``device``.

    ``train`` picks the split (a folder has one); ``seed`` fixes generated datasets
    (stacked-mnist, ring8, grid25) and is ignored by file datasets; ``limit`` keeps
    the first ``limit`` samples; ``image_size`` resizes images (bilinear,
    antialiased), and sets the side of ``folder:PATH`` images (default 64).
    """
    import torch

    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise GanZooError(f"limit must be a positive integer, got {limit!r}")
    info = dataset_info(name, image_size=image_size)
    if name.startswith(FOLDER_PREFIX):
        raw = read_folder(name[len(FOLDER_PREFIX):], info.image_size, limit)
        x, y, extras = raw, None, {}
    else:
        load = DATASETS.get(name).load
        x, y, extras = load(str(resolve_data_root(root)), bool(train), int(seed), limit)
    if limit is not None:
        x = x[:limit]
        y = None if y is None else y[:limit]

    device = torch.device(device)
    if info.kind == "image":
        # uint8 moves to the device first (4x less transfer), then one affine op.
        x = x.to(device).float().div_(127.5).sub_(1.0)
        if x.shape[-1] != info.image_size or x.shape[-2] != info.image_size:
            x = _resize(x, info.image_size)
    else:
        x = x.to(device=device, dtype=torch.float32)
    if y is not None:
        y = y.to(device=device, dtype=torch.int64)
    centers = extras.get("centers")
    return Dataset(
        name=name,
        x=x,
        y=y,
        num_classes=info.num_classes,
        kind=info.kind,
        centers=None if centers is None else centers.to(device),
        sigma=extras.get("sigma"),
    )


def _resize(x: torch.Tensor, size: int, chunk: int = 4096) -> torch.Tensor:
    """Bilinear, antialiased resize of a float batch, in chunks to bound peak memory."""
    import torch
    import torch.nn.functional as F

    parts = [
        F.interpolate(x[i:i + chunk], size=(size, size), mode="bilinear",
                      align_corners=False, antialias=True)
        for i in range(0, x.shape[0], chunk)
    ]
    return torch.cat(parts).clamp_(-1.0, 1.0)


@register_dataset("mnist", kind="image", channels=1, image_size=28, num_classes=10,
          default_backbone="dcgan28", epoch_size=60_000, classifier=True,
          feature_extractor=LENET, eval_samples=10_000, eval_samples_reducible=True)
def _load_mnist(root, train, seed, limit):
    x, y = read_torchvision("MNIST", root, train)
    return x, y, {}


@register_dataset("fashion-mnist", kind="image", channels=1, image_size=28, num_classes=10,
          default_backbone="dcgan28", epoch_size=60_000, feature_extractor=LENET,
          eval_samples=10_000, eval_samples_reducible=True)
def _load_fashion_mnist(root, train, seed, limit):
    x, y = read_torchvision("FashionMNIST", root, train)
    return x, y, {}


@register_dataset("cifar10", kind="image", channels=3, image_size=32, num_classes=10,
          default_backbone="dcgan32", epoch_size=50_000, feature_extractor=INCEPTION,
          eval_samples=10_000, eval_samples_reducible=True)
def _load_cifar10(root, train, seed, limit):
    x, y = read_torchvision("CIFAR10", root, train)
    return x, y, {}


# -- generated datasets -------------------------------------------------------------


def _split_generator(seed: int, train: bool) -> torch.Generator:
    """A CPU generator for a generated split; the test split uses a shifted seed."""
    import torch

    return torch.Generator().manual_seed(int(seed) + (0 if train else TEST_SEED_OFFSET))


#: Samples in each split of the generated datasets (``limit`` keeps a prefix). Stacked
#: MNIST's held-out split is the protocol's 26,000 triples of MNIST test digits, so the
#: reference matches the 26,000 generated samples (VEEGAN / PacGAN).
STACKED_MNIST_SIZE = {True: 60_000, False: 26_000}
MIXTURE_SIZE = {True: 100_000, False: 10_000}


@register_dataset("stacked-mnist", kind="image", channels=3, image_size=28, num_classes=1000,
          default_backbone="dcgan28", epoch_size=STACKED_MNIST_SIZE[True], classifier=True,
          feature_extractor=LENET, eval_samples=26_000, mode_rule="argmax")
def _load_stacked_mnist(root, train, seed, limit):
    """Three independent MNIST digits as the R, G, B channels; label ``100a + 10b + c``.

    1000 modes (VEEGAN, Srivastava et al. 2017; PacGAN, Lin et al. 2018). Digits come
    from the MNIST split of the same name; the draw is fixed by ``seed``.
    """
    import torch

    digits, labels = read_torchvision("MNIST", root, train)  # (M, 1, 28, 28), (M,)
    n = STACKED_MNIST_SIZE[train]
    idx = torch.randint(0, digits.shape[0], (n, 3), generator=_split_generator(seed, train))
    idx = idx[: limit or n]  # drawn at full size first, so a limit keeps a prefix
    x = digits[idx.reshape(-1), 0].reshape(-1, 3, *digits.shape[-2:])  # (n, 3, 28, 28)
    d = labels[idx]  # (n, 3): digit of each channel
    y = 100 * d[:, 0] + 10 * d[:, 1] + d[:, 2]
    return x, y, {}


def _ring_centers(k: int = 8, radius: float = 2.0) -> tuple[tuple[float, float], ...]:
    """``k`` centres evenly on a circle (angles in float64, as the points are drawn)."""
    angles = [i * (2 * math.pi / k) for i in range(k)]
    return tuple((radius * math.cos(a), radius * math.sin(a)) for a in angles)


def _grid_centers(values=(-4.0, -2.0, 0.0, 2.0, 4.0)) -> tuple[tuple[float, float], ...]:
    """Centres on the square grid ``values x values``, first coordinate slowest."""
    return tuple((x, y) for x in values for y in values)


def _gaussian_mixture(name: str, seed: int, train: bool, limit: int | None):
    """Equal-weight isotropic Gaussian mixture; label = index of the mode drawn."""
    import torch

    info = dataset_info(name)
    centers, sigma = info.mixture_centers(), info.sigma
    n = min(MIXTURE_SIZE[train], limit or MIXTURE_SIZE[train])
    g = _split_generator(seed, train)
    y = torch.randint(0, centers.shape[0], (n,), generator=g)
    x = centers[y] + sigma * torch.randn(n, 2, generator=g)
    return x, y, {"centers": centers, "sigma": sigma}


# PacGAN / VEEGAN toy protocol (Srivastava et al. 2017, arXiv:1705.07761; Lin et al. 2018,
# arXiv:1712.04086): ring8 on a circle of radius 2, sigma 0.02;
# grid25 on {-4, -2, 0, 2, 4}^2, sigma 0.05.
@register_dataset("ring8", kind="points", channels=0, image_size=None, num_classes=8,
          default_backbone="mlp", centers=_ring_centers(), sigma=0.02, eval_samples=2_500)
def _load_ring8(root, train, seed, limit):
    return _gaussian_mixture("ring8", seed, train, limit)


# PacGAN's released 2-D ring (fjxmlzn/PacGAN, synthetic_data_experiments/2DRing_GAN&PacGAN/
# config.py): eight modes on the unit circle, std 0.01 -- ring8 at half the scale. Their
# grid is grid25 exactly (modes {-4, -2, 0, 2, 4}^2, std 0.05).
@register_dataset("ring8-pacgan", kind="points", channels=0, image_size=None, num_classes=8,
          default_backbone="mlp", centers=_ring_centers(radius=1.0), sigma=0.01,
          eval_samples=2_500)
def _load_ring8_pacgan(root, train, seed, limit):
    return _gaussian_mixture("ring8-pacgan", seed, train, limit)


@register_dataset("grid25", kind="points", channels=0, image_size=None, num_classes=25,
          default_backbone="mlp", centers=_grid_centers(), sigma=0.05, eval_samples=2_500)
def _load_grid25(root, train, seed, limit):
    return _gaussian_mixture("grid25", seed, train, limit)
