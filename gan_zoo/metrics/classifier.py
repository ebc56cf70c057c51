"""The MNIST classifier behind the metrics: a small LeNet-style CNN shipped with the package.

It plays the role Inception-v3 plays for natural images: its logits give the Inception
Score and the mode / class histograms, its penultimate layer (128 ReLU units) gives the
features for FID, KID, precision/recall and MiFID. An MNIST-trained network is the usual
choice for MNIST-family GAN scores (e.g. the Stacked-MNIST mode counts of VEEGAN,
Srivastava et al. 2017, and PacGAN, Lin et al. 2018, use a pretrained MNIST classifier).

Input convention: float images in [-1, 1], shape ``(N, 1, 28, 28)`` (the generators'
``tanh`` range and ``gan_zoo.data``'s format). Three-channel Stacked-MNIST images are
classified one channel at a time (see :func:`stacked_log_probs`).

The weights (``weights/lenet_mnist.pt``) come from ``python -m
gan_zoo.metrics.train_classifier`` and are pinned by :data:`WEIGHTS_SHA256`; loading a
file whose hash differs raises a one-line :class:`GanZooError`.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from gan_zoo.errors import GanZooError

__all__ = [
    "LeNet",
    "WEIGHTS_PATH",
    "WEIGHTS_SHA256",
    "FEATURE_DIM",
    "file_sha256",
    "load_classifier",
    "features_and_logits",
    "stacked_log_probs",
    "predict",
]

#: The shipped weights and their SHA-256 (written by ``train_classifier``).
WEIGHTS_PATH = Path(__file__).resolve().parent / "weights" / "lenet_mnist.pt"
WEIGHTS_SHA256 = "1b0e3c8d32e85a9b4aed23d348bd4e49d72dc5991b0c86df7ae0a6ee5b1baae4"
#: Width of the penultimate feature vector.
FEATURE_DIM = 128


class LeNet(nn.Module):
    """LeNet-style MNIST classifier (LeCun et al. 1998, with ReLU and max pooling).

    ``(N,1,28,28)`` -> conv 5x5, 32, pad 2 -> ReLU -> max 2 -> ``(N,32,14,14)``
    -> conv 5x5, 48 -> ReLU -> max 2 -> ``(N,48,5,5)`` -> flatten 1200
    -> linear 128 -> ReLU  (the feature vector) -> linear 10 (the logits).
    About 194k parameters (0.8 MB in float32).
    """

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, kernel_size=5, padding=2)
        self.conv2 = nn.Conv2d(32, 48, kernel_size=5)
        self.fc1 = nn.Linear(48 * 5 * 5, FEATURE_DIM)
        self.fc2 = nn.Linear(FEATURE_DIM, 10)
        self.dropout = nn.Dropout(0.25)  # training only; identity in eval mode

    def features_and_logits(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x`` ``(N,1,28,28)`` in [-1, 1] -> features ``(N,128)``, logits ``(N,10)``."""
        h = F.max_pool2d(F.relu(self.conv1(x)), 2)  # (N, 32, 14, 14)
        h = F.max_pool2d(F.relu(self.conv2(h)), 2)  # (N, 48, 5, 5)
        feat = F.relu(self.fc1(h.flatten(1)))  # (N, 128)
        return feat, self.fc2(self.dropout(feat))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features_and_logits(x)[1]


def file_sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_classifier(
    path: str | os.PathLike | None = None,
    *,
    device: str | torch.device = "cpu",
    sha256: str | None = None,
) -> LeNet:
    """The classifier in eval mode on ``device``, its weights checked against their hash.

    ``path`` defaults to the shipped weights and ``sha256`` to :data:`WEIGHTS_SHA256`
    (for another file pass its own hash, or ``sha256=""`` to skip the check).
    Raises :class:`GanZooError` (one line) when the file is missing or its hash differs.
    The default weights are read once per process and device.
    """
    if path is None:
        return _load_default(str(torch.device(device)))
    path = Path(path)
    expected = WEIGHTS_SHA256 if sha256 is None and path == WEIGHTS_PATH else sha256
    return _load(path, expected, torch.device(device))


@functools.lru_cache(maxsize=4)
def _load_default(device: str) -> LeNet:
    return _load(WEIGHTS_PATH, WEIGHTS_SHA256, torch.device(device))


def _load(path: Path, expected: str | None, device: torch.device) -> LeNet:
    try:
        blob = path.read_bytes()
    except OSError:
        raise GanZooError(
            f"MNIST classifier weights not found at {path}; reinstall gan-zoo or rebuild them "
            f"with: python -m gan_zoo.metrics.train_classifier --data-root DIR"
        ) from None
    if expected:
        actual = hashlib.sha256(blob).hexdigest()
        if actual != expected:
            raise GanZooError(
                f"MNIST classifier weights {path} fail their SHA-256 check (expected "
                f"{expected[:12]}..., got {actual[:12]}...): the file is corrupt or was "
                f"replaced; reinstall gan-zoo"
            )
    try:  # tensors and plain values only: a crafted file is refused before anything runs
        state = torch.load(io.BytesIO(blob), map_location="cpu", weights_only=True)
        net = LeNet()
        net.load_state_dict(state)
    except Exception as exc:  # noqa: BLE001 - not classifier weights, whatever it holds
        raise GanZooError(f"MNIST classifier weights {path} are not a LeNet state dict of tensors "
                          f"({type(exc).__name__}); refusing to load it") from None
    net.requires_grad_(False)
    return net.eval().to(device)


@torch.no_grad()
def features_and_logits(
    x: torch.Tensor, *, classifier: LeNet | None = None, batch_size: int = 2000
) -> tuple[torch.Tensor, torch.Tensor]:
    """Batched :meth:`LeNet.features_and_logits` of ``(N,1,28,28)`` images in [-1, 1]."""
    net = classifier if classifier is not None else load_classifier(device=x.device)
    feats, logits = [], []
    for chunk in x.split(batch_size):
        f, lg = net.features_and_logits(chunk.to(next(net.parameters()).device).float())
        feats.append(f)
        logits.append(lg)
    return torch.cat(feats), torch.cat(logits)


def stacked_log_probs(channel_logits: torch.Tensor) -> torch.Tensor:
    """Joint log-probabilities of the 1000 Stacked-MNIST modes from per-channel logits.

    ``channel_logits`` ``(N, 3, 10)`` -> ``(N, 1000)`` with index ``100a + 10b + c``
    (the label convention of ``gan_zoo.data``). The channels are classified
    independently, so ``log p(a,b,c) = log p(a) + log p(b) + log p(c)``; its argmax
    is the per-channel argmax, the mode of the VEEGAN / PacGAN protocol.
    """
    lp = F.log_softmax(channel_logits.double(), dim=-1)  # (N, 3, 10)
    joint = lp[:, 0, :, None, None] + lp[:, 1, None, :, None] + lp[:, 2, None, None, :]
    return joint.reshape(lp.shape[0], 1000).float()


@torch.no_grad()
def predict(x: torch.Tensor, *, classifier: LeNet | None = None) -> torch.Tensor:
    """Class log-probabilities of MNIST-family images in [-1, 1].

    ``(N,1,28,28)`` -> ``(N,10)``; Stacked-MNIST ``(N,3,28,28)`` -> ``(N,1000)``
    (see :func:`stacked_log_probs`).
    """
    n, c = x.shape[:2]
    if x.shape[-2:] != (28, 28) or c not in (1, 3):
        raise GanZooError(
            f"the MNIST classifier takes (N,1,28,28) or (N,3,28,28) images, got {tuple(x.shape)}"
        )
    _, logits = features_and_logits(x.reshape(n * c, 1, 28, 28), classifier=classifier)
    if c == 1:
        return F.log_softmax(logits, dim=1)
    return stacked_log_probs(logits.reshape(n, 3, 10))
