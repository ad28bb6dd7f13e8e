"""How long-running steps report progress without knowing who is watching.

A step passes its items through a `Progress`: the CLI hands in one that draws a bar, the DAGs and
tests leave the default, which passes the items through unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar

T = TypeVar("T")


class Progress(Protocol):
    def __call__(self, items: Iterable[T], total: int, label: str) -> Iterable[T]: ...


def unchanged(items: Iterable[T], total: int, label: str) -> Iterable[T]:
    return items
