"""The click options that ``gan-zoo train``, ``bench`` and ``eval`` share, defined once
(name, type, default and help), so the commands cannot drift apart."""

from __future__ import annotations

import os
from pathlib import Path

import click

__all__ = ["data_root_option", "device_option", "dataset_option", "steps_option", "sets_option",
           "feature_extractor_option", "inception_weights_option", "recorded_command"]

data_root_option = click.option(
    "--data-root", type=click.Path(file_okay=False), default=None,
    help="Folder holding the datasets [default: $GAN_ZOO_DATA, else a per-user cache].")
device_option = click.option("--device", default="auto", show_default=True, help="auto, cpu or cuda.")
feature_extractor_option = click.option(
    "--feature-extractor", default=None,
    help="torch-fidelity feature extractor [default: lenet for the MNIST family, "
         "inception-v3-compat for colour images].")
inception_weights_option = click.option(
    "--inception-weights", type=click.Path(dir_okay=False), default=None,
    help="Local Inception-v3 weights file for colour datasets (no download).")


def dataset_option(help: str):
    return click.option("--dataset", default="mnist", show_default=True, help=help)


def steps_option(help: str):
    return click.option("--steps", type=int, default=None, help=help)


def sets_option(metavar: str, help: str):
    """``--set KEY=VALUE`` (repeatable); parsed by :func:`gan_zoo.settings.parse_pairs`."""
    return click.option("--set", "sets", multiple=True, metavar=metavar, help=help)


def recorded_command(argv: list[str]) -> str:
    """The command line as a results folder records it: ``--out`` given as an absolute
    path inside the working folder is written relative to it, so resuming a study with
    ``--out $PWD/results/x`` records the same command as ``--out results/x``."""
    args = list(argv)
    for i, arg in enumerate(args):
        if arg == "--out" and i + 1 < len(args):
            args[i + 1] = _relative(args[i + 1])
        elif arg.startswith("--out="):
            args[i] = "--out=" + _relative(arg[len("--out="):])
    return " ".join(args)


def _relative(path: str) -> str:
    p = Path(path)
    if not p.is_absolute():
        return path
    try:
        return os.path.relpath(p, Path.cwd()) if p.is_relative_to(Path.cwd()) else path
    except ValueError:  # another drive
        return path
