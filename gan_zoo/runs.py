"""A trained run on disk: open it, sample from it, draw its pictures.

A run folder holds ``spec.json``, ``result.json``, ``log.csv``,
``checkpoints/last.pt``, ``samples.png``, ``best50.png`` and ``curves.png``
(plus ``samples.npz`` of generated points for the 2-D mixtures).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from gan_zoo.errors import GanZooError
from gan_zoo.io import read_json, savefig_atomic

if TYPE_CHECKING:
    from gan_zoo.spec import RunSpec

__all__ = ["Run", "load_run", "image_grid", "write_run_pictures", "save_grid"]

os.environ.setdefault("MPLBACKEND", "Agg")


@dataclass
class Run:
    """A trained generator and critic with the spec that made them."""

    run_dir: Path
    spec: RunSpec
    result: dict
    g: nn.Module
    d: nn.Module
    kind: str  # image | points
    device: str

    @property
    def num_classes(self) -> int:
        return self.g.num_classes

    def sample(self, n: int, labels=None, seed: int | None = 0) -> torch.Tensor:
        """``n`` samples as a tensor in data units ([-1, 1] images, or 2-D points).

        ``labels``: one class for all (int) or one per sample, for conditional runs.
        G stays in eval mode (batch norm running statistics); dropout in G stays on.
        """
        if n < 1:
            raise GanZooError(f"n must be a positive integer, got {n}")
        y = None
        if self.num_classes:
            if labels is None:
                raise GanZooError(f"this run is conditional: give labels in 0..{self.num_classes - 1}")
            y = torch.as_tensor(labels, dtype=torch.long).reshape(-1)
            if y.numel() == 1:
                y = y.expand(n)
            if y.numel() != n or y.min() < 0 or y.max() >= self.num_classes:
                raise GanZooError(f"labels must be one class or {n} classes in 0..{self.num_classes - 1}")
            y = y.to(self.device)
        elif labels is not None:
            raise GanZooError("this run is not conditional; labels cannot be given")
        gen = torch.Generator(device=self.device)
        gen.manual_seed(int(seed) if seed is not None else torch.seed())
        self.g.eval()
        out = []
        with torch.no_grad():
            for start in range(0, n, 1000):
                m = min(1000, n - start)
                z = torch.randn(m, self.g.nz, generator=gen, device=self.device)
                out.append(self.g(z, None if y is None else y[start:start + m]))
        return torch.cat(out)

    def generate(self, n: int, labels=None, seed: int | None = None) -> np.ndarray:
        """The seeds' ``generate(n)`` / ``generate(n, c)``: a NumPy array of ``n`` samples.

        MNIST-like (one channel): ``n x 28 x 28``; colour: ``n x C x H x W``; both with
        pixel values in [0, 1]. 2-D mixtures: ``n x 2`` coordinates. A fresh random
        draw each call unless ``seed`` is given.
        """
        x = self.sample(n, labels, seed=seed).float().cpu()
        if self.kind == "points":
            return x.numpy()
        x = ((x + 1) / 2).clamp(0, 1)
        if x.shape[1] == 1:
            x = x[:, 0]
        return x.numpy()

    def score(self, x: torch.Tensor, labels=None) -> torch.Tensor:
        """D's raw score of samples (higher: judged more real)."""
        self.d.eval()
        with torch.no_grad():
            return self.d(x.to(self.device), labels)


def load_run(run_dir, device: str = "cpu") -> Run:
    """Open a run folder written by ``gan-zoo train`` / ``train_run``."""
    from gan_zoo.data import dataset_info
    from gan_zoo.spec import RunSpec
    from gan_zoo.train import CHECKPOINT, build_networks, resolve

    run_dir = Path(run_dir)
    ckpt = run_dir / CHECKPOINT
    if not (run_dir / "spec.json").is_file() or not ckpt.is_file():
        raise GanZooError(f"{run_dir} is not a trained run folder (needs spec.json and {CHECKPOINT})")
    spec = RunSpec.from_dict(read_json(run_dir / "spec.json")).replace(device=device)
    res = resolve(spec)
    info = dataset_info(spec.dataset)
    g, d = build_networks(res, info.shape, info.num_classes)
    state = torch.load(ckpt, map_location=res.device, weights_only=False)
    g.load_state_dict(state["g"])
    d.load_state_dict(state["d"])
    result = read_json(run_dir / "result.json") if (run_dir / "result.json").is_file() else {}
    return Run(run_dir, spec, result, g, d, info.kind, res.device)


# ---------------------------------------------------------------------------
# pictures

def image_grid(x: torch.Tensor, nrow: int) -> np.ndarray:
    """(N, C, H, W) in [-1, 1] -> one (H', W', C) array in [0, 1] with 2-pixel gutters."""
    from torchvision.utils import make_grid

    grid = make_grid(((x.float().cpu() + 1) / 2).clamp(0, 1), nrow=nrow, padding=2, pad_value=1.0)
    return grid.permute(1, 2, 0).numpy()


def save_grid(x: torch.Tensor, path: Path, nrow: int, title: str | None = None) -> Path:
    """Write a sample grid PNG (images) or a scatter plot (2-D points)."""
    import matplotlib.pyplot as plt

    if x.dim() == 2:  # points
        fig, ax = plt.subplots(figsize=(4.5, 4.5))
        pts = x.float().cpu().numpy()
        ax.scatter(pts[:, 0], pts[:, 1], s=3, alpha=0.5)
        ax.set_aspect("equal")
    else:
        grid = image_grid(x, nrow)
        h, w = grid.shape[:2]
        fig, ax = plt.subplots(figsize=(max(3.0, w / 40), max(3.0, h / 40) + (0.3 if title else 0)))
        ax.imshow(grid[..., 0] if grid.shape[2] == 1 or x.shape[1] == 1 else grid,
                  cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.axis("off")
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    savefig_atomic(fig, path, dpi=100)
    plt.close(fig)
    return path


def write_run_pictures(run_dir: Path, g: nn.Module, d: nn.Module, res, data, log: list[dict]) -> None:
    """samples.png, best50.png (the 50 of 500 samples D scores highest) and curves.png."""
    from gan_zoo.data import mixture_centers

    spec = res.spec
    num_classes = g.num_classes
    gen = torch.Generator(device=res.device).manual_seed(12345)
    g.eval()
    d.eval()
    label = (f"{spec.loss} on {spec.dataset}{' (conditional: a row per class)' if num_classes else ''}, "
             f"{spec.regularizers}, seed {spec.seed}")
    with torch.no_grad():
        if data.kind == "points":
            n = 2500
            z = torch.randn(n, g.nz, generator=gen, device=res.device)
            y = torch.randint(0, num_classes, (n,), generator=gen, device=res.device) if num_classes else None
            pts = g(z, y)
            np.savez_compressed(run_dir / "samples.npz", x=pts.float().cpu().numpy())
            _scatter(pts, mixture_centers(spec.dataset), run_dir / "samples.png", label)
            scores = d(pts, y)
            best = pts[scores.argsort(descending=True)[:50]]
            _scatter(best, mixture_centers(spec.dataset), run_dir / "best50.png",
                     "50 best of 2500 by D's score")
        else:
            if num_classes and num_classes <= 10:  # one row per class
                y = torch.arange(num_classes, device=res.device).repeat_interleave(8)
            elif num_classes:
                y = torch.randint(0, num_classes, (64,), generator=gen, device=res.device)
            else:
                y = None
            n = 64 if y is None else len(y)
            z = torch.randn(n, g.nz, generator=gen, device=res.device)
            save_grid(g(z, y), run_dir / "samples.png", nrow=8, title=label)
            m = 500
            z = torch.randn(m, g.nz, generator=gen, device=res.device)
            y = torch.randint(0, num_classes, (m,), generator=gen, device=res.device) if num_classes else None
            x = g(z, y)
            scores = d(x, y)
            order = scores.argsort(descending=True)[:50]
            save_grid(x[order], run_dir / "best50.png", nrow=10, title="50 best of 500 by D's score")
    g.train()
    d.train()
    plot_curves(log, run_dir / "curves.png", label, probability=res.objective.reports_probability)


def _scatter(pts: torch.Tensor, centers: torch.Tensor, path: Path, title: str) -> None:
    import matplotlib.pyplot as plt

    p = pts.float().cpu().numpy()
    c = centers.cpu().numpy()
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.scatter(p[:, 0], p[:, 1], s=3, alpha=0.4, label="generated")
    ax.scatter(c[:, 0], c[:, 1], marker="x", c="red", s=40, label="mode centres")
    lim = float(np.abs(c).max()) * 1.5
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=7)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    savefig_atomic(fig, path, dpi=100)
    plt.close(fig)


def plot_curves(log: list[dict], path: Path, title: str, probability: bool) -> Path | None:
    """G and D losses, and D's mean output on real and generated samples, over steps."""
    if not log:
        return None
    import matplotlib.pyplot as plt
    import pandas as pd
    import seaborn as sns

    df = pd.DataFrame(log)
    losses = df.melt(id_vars="step", value_vars=["d_loss", "g_loss"], var_name="player", value_name="loss")
    outs = df.melt(id_vars="step", value_vars=["d_real", "d_fake"], var_name="input", value_name="D")
    outs["input"] = outs["input"].map({"d_real": "D(x)", "d_fake": "D(G(z))"})
    sns.set_theme(style="whitegrid", context="paper")
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    sns.lineplot(data=losses, x="step", y="loss", hue="player", ax=axes[0])
    axes[0].set_title("losses")
    sns.lineplot(data=outs, x="step", y="D", hue="input", ax=axes[1])
    axes[1].set_ylabel("mean sigma(C)" if probability else "mean raw score C")
    if probability:
        axes[1].set_ylim(0, 1)
    axes[1].set_title("discriminator outputs")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    savefig_atomic(fig, path, dpi=100)
    plt.close(fig)
    return path


def grid_nrow(n: int) -> int:
    return max(1, int(math.ceil(math.sqrt(n))))
