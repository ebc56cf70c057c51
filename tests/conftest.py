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
        if os.environ.get("CI"):  # CI must run every test, never skip them silently
            pytest.fail(f"offline MNIST not found under {root}; CI sets GAN_ZOO_DATA")
        pytest.skip(f"offline MNIST not found under {root}; set GAN_ZOO_DATA")
    return root


@pytest.fixture(autouse=True, scope="session")
def _data_root_env():
    """Point gan-zoo's default data root at the offline MNIST, as CI does, so commands
    run without --data-root find it there and never try the network."""
    root = pathlib.Path(os.environ.get("GAN_ZOO_DATA") or _REPO.parent / "shared" / "data")
    if "GAN_ZOO_DATA" not in os.environ and (root / "MNIST" / "raw").is_dir():
        os.environ["GAN_ZOO_DATA"] = str(root)
        yield
        os.environ.pop("GAN_ZOO_DATA", None)
    else:
        yield
