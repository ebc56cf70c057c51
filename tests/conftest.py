"""Shared fixtures: where the offline MNIST files live."""

import os
import pathlib

import pytest

_REPO = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def mnist_root() -> pathlib.Path:
    """Data root holding MNIST/raw: $GAN_ZOO_DATA, else ../shared/data next to the repo."""
    root = pathlib.Path(os.environ.get("GAN_ZOO_DATA") or _REPO.parent / "shared" / "data")
    if not (root / "MNIST" / "raw" / "train-images-idx3-ubyte").is_file():
        pytest.skip(f"offline MNIST not found under {root}; set GAN_ZOO_DATA")
    return root
