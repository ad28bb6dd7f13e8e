"""Giving freed memory back to the operating system between the phases of a large load.

When a phase ends, its frames are freed, but Arrow's allocator and glibc's malloc keep the pages for
reuse, so the resident size of a loader only grows with each phase (a million-row load would hold
the peak of every phase at once). Releasing them at phase boundaries is what Dask's workers do too
(`malloc_trim`). Where there is no glibc (macOS, musl) only Arrow's pool is released."""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import lru_cache

import pyarrow as pa


@lru_cache(maxsize=1)
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name) if name else None
    except OSError:
        return None


# Below this many rows in the frames just let go, a release is skipped: it gives back a few MB for
# 5-20 ms (three releases were 0.05 s of a 100 000-row load's 2.4 s), and the frames of a small
# load never make its peak.
RELEASE_MIN_ROWS = 200_000


def release_memory(rows: int | None = None) -> None:
    """Give freed memory back; rows: how many rows the frames let go held (default: a release)."""
    if rows is not None and rows < RELEASE_MIN_ROWS:
        return
    pa.default_memory_pool().release_unused()
    libc = _libc()
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)
