"""A small named registry shared by objectives, regularizers, datasets and backbones.

A registry is a plain dict guarded by ``register``: duplicate names and unknown
names raise ``ValueError`` (a ``GanZooError``) whose message lists the valid names.
"""

from __future__ import annotations

import fnmatch
from typing import Generic, TypeVar

from gan_zoo.errors import GanZooError

T = TypeVar("T")


class UnknownNameError(GanZooError, ValueError):
    """Raised for a name that is not registered."""


class Registry(Generic[T]):
    """Maps names to entries of one kind (``kind`` names it in error messages)."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, name: str, entry: T) -> T:
        if not isinstance(name, str) or not name:
            raise ValueError(f"{self.kind} name must be a non-empty string, got {name!r}")
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._entries[name] = entry
        return entry

    def unregister(self, name: str) -> None:
        self._entries.pop(name, None)

    def get(self, name: str) -> T:
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            raise UnknownNameError(
                f"unknown {self.kind} {name!r}; valid: {', '.join(self.names())}"
            ) from None

    def names(self, pattern: str = "*") -> list[str]:
        return sorted(n for n in self._entries if fnmatch.fnmatchcase(n, pattern))

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __len__(self) -> int:
        return len(self._entries)
