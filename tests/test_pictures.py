"""A run's PNG sample grids: Pillow draws exactly the pixels of image_grid, enlarged,
under the title; other formats still go through matplotlib."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from gan_zoo.pictures import GRID_SCALE, image_grid, save_grid


def test_png_grid_holds_the_grid_pixels_enlarged(tmp_path):
    x = torch.rand(6, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    grid = image_grid(x, nrow=3)
    path = save_grid(x, tmp_path / "g.png", nrow=3)
    img = np.asarray(Image.open(path).convert("L"))
    assert img.shape == (grid.shape[0] * GRID_SCALE, grid.shape[1] * GRID_SCALE)
    expected = np.repeat(np.repeat((grid[..., 0] * 255 + 0.5).astype(np.uint8), GRID_SCALE, 0), GRID_SCALE, 1)
    assert np.array_equal(img, expected)


def test_png_grid_title_band_sits_above_the_grid(tmp_path):
    x = -torch.ones(4, 3, 8, 8)  # black images, white gutters
    plain = np.asarray(Image.open(save_grid(x, tmp_path / "a.png", nrow=2)).convert("RGB"))
    titled = np.asarray(Image.open(save_grid(x, tmp_path / "b.png", nrow=2, title="ns on mnist")).convert("RGB"))
    band = titled.shape[0] - plain.shape[0]
    assert band > 0
    assert np.array_equal(titled[band:, (titled.shape[1] - plain.shape[1]) // 2:][:, :plain.shape[1]], plain)
    assert (titled[:band] < 128).any()  # the title's text is drawn


def test_other_formats_go_through_matplotlib(tmp_path):
    path = save_grid(torch.zeros(4, 1, 8, 8), tmp_path / "g.svg", nrow=2, title="t")
    assert path.read_text().lstrip().startswith("<?xml")
