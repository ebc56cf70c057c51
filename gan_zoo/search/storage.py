"""The Optuna storage of a search, opened one way for the driver and for the trials'
pruning hooks (:mod:`gan_zoo.search.prune`)."""

from __future__ import annotations

from gan_zoo.errors import GanZooError

__all__ = ["open_storage", "quiet_optuna"]


def open_storage(url: str):
    """An Optuna RDB storage at ``url``; one line naming it when it cannot be opened."""
    import optuna

    kwargs = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {}
    try:
        return optuna.storages.RDBStorage(url, engine_kwargs=kwargs)
    except Exception as exc:  # noqa: BLE001 - SQLAlchemy, drivers, OS: all one line
        text = " ".join(str(exc).split())[:300]
        raise GanZooError(f"--storage {url}: cannot be opened ({type(exc).__name__}: {text}); give an "
                          "SQLAlchemy URL such as sqlite:///path/study.db or "
                          "postgresql://user:password@host/db") from None


def quiet_optuna() -> None:
    import warnings

    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    warnings.filterwarnings("ignore", message=".*[Ff]ixed parameter.*")
