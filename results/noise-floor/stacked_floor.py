"""Noise floor of Stacked MNIST's published mode rule (VEEGAN / PacGAN: a triple of
digits is covered when one sample's per-channel argmax is that triple).

Scores 26,000 junk images (the protocol count) with the project's classifier, channel by
channel, and prints modes covered by the argmax rule, by the confident rule (joint
probability > 0.9) and KL(histogram || uniform):

    python results/noise-floor/stacked_floor.py
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from gan_zoo.metrics import classifier as clf
from gan_zoo.metrics import modes

N = 26_000


def junk(kind: str, g: torch.Generator) -> torch.Tensor:
    if kind == "uniform noise":
        return torch.rand(N, 3, 28, 28, generator=g) * 2 - 1
    # grey blobs: smooth low-contrast shapes per channel
    x = torch.rand(N * 3, 1, 7, 7, generator=g) * 0.6 - 0.5
    return F.interpolate(x, size=(28, 28), mode="bicubic", align_corners=False).clamp(-1, 1).reshape(N, 3, 28, 28)


def main():
    g = torch.Generator().manual_seed(0)
    for kind in ("uniform noise", "grey blobs"):
        x = junk(kind, g)
        _, logits = clf.features_and_logits(x.reshape(N * 3, 1, 28, 28))
        logp = clf.stacked_log_probs(logits.reshape(N, 3, 10))
        arg = modes.class_modes(logp, log_probs=True, rule="argmax")
        print(f"{kind}: argmax modes {arg['modes']} of 1000, confident modes {arg['modes_confident']}, "
              f"KL {arg['mode_kl']:.2f}, confident share {arg['confident_frac']:.4f}")


if __name__ == "__main__":
    main()
