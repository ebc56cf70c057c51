"""gan-zoo: a loss-function zoo and benchmark harness for GAN objectives."""

from gan_zoo.version import __version__

__all__ = ["__version__", "load_run"]


def load_run(run_dir, device="cpu"):
    """Open a trained run folder; see :func:`gan_zoo.runs.load_run`."""
    from gan_zoo.runs import load_run as _load_run

    return _load_run(run_dir, device=device)
