"""One small generic registry for targets, model types and scorers.

A duplicate name is an error; a miss says "did you mean" and lists what exists.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


def closest(word: str, candidates: list[str], cutoff: float = 0.6) -> str | None:
    """The candidate closest to ``word``, or None when nothing is close enough."""
    found = difflib.get_close_matches(word, candidates, n=1, cutoff=cutoff)
    return found[0] if found else None


class Registry(Generic[T]):
    """Named values of one kind, e.g. ``Registry[Target]("target")``."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def add(self, name: str, value: T) -> T:
        if name in self._items:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self._items[name] = value
        return value

    def register(self, name: str) -> Callable[[T], T]:
        def decorate(value: T) -> T:
            return self.add(name, value)

        return decorate

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def names(self) -> list[str]:
        return list(self._items)

    def values(self) -> list[T]:
        return list(self._items.values())

    def find(self, name: str) -> T | None:
        return self._items.get(name)

    def suggest(self, name: str) -> str | None:
        return closest(name, self.names())

    def miss_message(self, name: str) -> str:
        """``unknown target 'trn1.2xl': did you mean trn1.2xlarge? (known: cpu, ...)``"""
        msg = f"unknown {self.kind} '{name}'"
        guess = self.suggest(name)
        if guess:
            msg += f": did you mean {guess}?"
        return msg + f" (known: {', '.join(self.names())})"
