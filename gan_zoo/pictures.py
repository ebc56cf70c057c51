"""The pictures of a run folder: sample grids, the 50 samples D likes best, the
training curves. PNG sample grids are drawn with Pillow alone; scatter plots and curves
with ``matplotlib.figure.Figure`` (never pyplot, no seaborn, pandas or torchvision), so
drawing them costs a fraction of a second beside the run.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from torch import nn

from gan_zoo.backbones import per_sample_scores
from gan_zoo.io import atomic_open, savefig_atomic
from gan_zoo.runs import BEST50_PNG, CURVES_PNG, SAMPLES_NPZ, SAMPLES_PNG

__all__ = ["image_grid", "save_grid", "write_run_pictures", "plot_run_curves", "grid_nrow"]

#: sample grids are enlarged this many times (nearest neighbour) so a 28-pixel digit reads
GRID_SCALE = 3


def image_grid(x: torch.Tensor, nrow: int, pad: int = 2) -> np.ndarray:
    """(N, C, H, W) in [-1, 1] -> one (H', W', C) array in [0, 1] with ``pad``-pixel
    white gutters, ``nrow`` images a row (the layout of torchvision's ``make_grid``)."""
    imgs = ((x.detach().float().cpu() + 1) / 2).clamp(0, 1).numpy()  # (N, C, H, W)
    n, c, h, w = imgs.shape
    cols = min(nrow, n)
    rows = int(math.ceil(n / cols))
    grid = np.ones(((h + pad) * rows + pad, (w + pad) * cols + pad, c), dtype=np.float32)
    for i in range(n):
        top, left = pad + (i // cols) * (h + pad), pad + (i % cols) * (w + pad)
        grid[top:top + h, left:left + w] = imgs[i].transpose(1, 2, 0)
    return grid


def save_grid(x: torch.Tensor, path: Path, nrow: int, title: str | None = None) -> Path:
    """Write a sample grid (images) or a scatter plot (2-D points); the format follows the
    suffix. PNG image grids are drawn with Pillow, everything else with matplotlib."""
    if x.dim() == 2:  # points
        fig, ax = _figure((4.5, 4.5))
        pts = x.float().cpu().numpy()
        ax.scatter(pts[:, 0], pts[:, 1], s=3, alpha=0.5)
        ax.set_aspect("equal")
    else:
        grid = image_grid(x, nrow)
        if Path(path).suffix.lower() == ".png":
            return _save_png_grid(grid, Path(path), title)
        h, w = grid.shape[:2]
        fig, ax = _figure((max(3.0, w / 40), max(3.0, h / 40) + (0.3 if title else 0)))
        ax.imshow(grid[..., 0] if grid.shape[2] == 1 else grid,
                  cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.axis("off")
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return savefig_atomic(fig, path, dpi=100)


def _figure(size: tuple[float, float], ncols: int = 1):
    """A matplotlib Figure and its axes, without pyplot (no backend, no global state)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=size)
    axes = fig.subplots(1, ncols)
    return fig, axes


def _save_png_grid(grid: np.ndarray, path: Path, title: str | None) -> Path:
    """A [0, 1] grid array as a PNG, enlarged GRID_SCALE times, the title above it."""
    from PIL import Image, ImageDraw, ImageFont

    pixels = (grid * 255 + 0.5).astype(np.uint8)
    pixels = pixels[..., 0] if pixels.shape[2] == 1 else pixels
    img = Image.fromarray(pixels).convert("RGB")
    img = img.resize((img.width * GRID_SCALE, img.height * GRID_SCALE), Image.NEAREST)
    if title:
        font = ImageFont.load_default(size=13)
        left, top, right, bottom = font.getbbox(title)
        band = bottom - top + 10
        width = max(img.width, right - left + 10)
        canvas = Image.new("RGB", (width, img.height + band), "white")
        ImageDraw.Draw(canvas).text(((width - (right - left)) // 2 - left, 5 - top), title,
                                    fill="black", font=font)
        canvas.paste(img, ((width - img.width) // 2, band))
        img = canvas
    with atomic_open(path, "wb") as f:
        img.save(f, format="PNG")
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
            np.savez_compressed(run_dir / SAMPLES_NPZ, x=pts.float().cpu().numpy())
            _scatter(pts, mixture_centers(spec.dataset), run_dir / SAMPLES_PNG, label)
            scores = per_sample_scores(d, pts, y)
            best = pts[scores.argsort(descending=True)[:50]]
            _scatter(best, mixture_centers(spec.dataset), run_dir / BEST50_PNG,
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
            save_grid(g(z, y), run_dir / SAMPLES_PNG, nrow=8, title=label)
            m = 500
            z = torch.randn(m, g.nz, generator=gen, device=res.device)
            y = torch.randint(0, num_classes, (m,), generator=gen, device=res.device) if num_classes else None
            x = g(z, y)
            scores = per_sample_scores(d, x, y)
            order = scores.argsort(descending=True)[:50]
            save_grid(x[order], run_dir / BEST50_PNG, nrow=10, title="50 best of 500 by D's score")
    g.train()
    d.train()
    plot_run_curves(log, run_dir / CURVES_PNG, label, probability=res.objective.reports_probability)


def _scatter(pts: torch.Tensor, centers: torch.Tensor, path: Path, title: str) -> None:
    p = pts.float().cpu().numpy()
    c = centers.cpu().numpy()
    fig, ax = _figure((4.5, 4.5))
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


def plot_run_curves(log: list[dict], path: Path, title: str, probability: bool) -> Path | None:
    """One run's G and D losses, and D's mean output on real and generated samples,
    over steps (the benchmark's across-run curves are :mod:`gan_zoo.bench.plots`)."""
    if not log:
        return None
    steps = [row["step"] for row in log]
    fig, axes = _figure((10, 3.6), ncols=2)
    for key, label in (("d_loss", "d_loss"), ("g_loss", "g_loss")):
        axes[0].plot(steps, [row[key] for row in log], label=label)
    axes[0].set(title="losses", xlabel="step", ylabel="loss")
    for key, label in (("d_real", "D(x)"), ("d_fake", "D(G(z))")):
        axes[1].plot(steps, [row[key] for row in log], label=label)
    axes[1].set(title="discriminator outputs", xlabel="step",
                ylabel="mean sigma(C)" if probability else "mean raw score C")
    if probability:
        axes[1].set_ylim(0, 1)
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return savefig_atomic(fig, path, dpi=100)


def grid_nrow(n: int) -> int:
    return max(1, int(math.ceil(math.sqrt(n))))
