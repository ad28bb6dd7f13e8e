"""The header row of a delivered table, shared by the CSV and the spreadsheet reader: found below a few
title lines, its names made usable (stripped, blanks named, repeats refused), and blank rows dropped."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from etl.errors import LoadError

# Title lines above the header that a delivery may carry.
MAX_HEADER_SEARCH = 20
# Given the header, the columns a loader reads (the rest of a 33-column export is never read).
Keep = Callable[[list[str]], list[str]]


def normalise_header(name: object) -> str:
    """'Kennisname  Datum' / 'kennisname_datum' / 'Kennisname-datum' -> 'kennisname datum'."""
    text = str(name or "").replace("\ufeff", "").strip().lower()
    for ch in "_-./":
        text = text.replace(ch, " ")
    return " ".join(text.split())


def find_header(rows: list[list[str]], hints: set[str]) -> int | None:
    """The first row naming a hinted column; else the first non-empty row (the caller then says
    precisely which column is missing)."""
    first = None
    for i, row in enumerate(rows[:MAX_HEADER_SEARCH]):
        names = {normalise_header(c) for c in row if c.strip()}
        if not names:
            continue
        if first is None:
            first = i
        if not hints or names & hints:
            return i
    return first


def header_names(path: Path, row: list[str]) -> list[str]:
    header = [c.strip().replace("\ufeff", "") for c in row]
    while header and not header[-1]:
        header.pop()
    header = [h or f"kolom_{i + 1}" for i, h in enumerate(header)]
    seen: dict[str, int] = {}
    for i, h in enumerate(header):
        if h in seen:
            raise LoadError(
                f"{path.name}: kolom '{h}' staat twee keer in de kopregel (kolom {seen[h] + 1} en {i + 1})."
            )
        seen[h] = i
    return header


def drop_blank(path: Path, frame: pd.DataFrame) -> pd.DataFrame:
    if len(frame.columns):
        frame = frame[(frame != "").any(axis=1)]
    if frame.empty:
        raise LoadError(f"{path.name}: het bestand heeft een kopregel maar geen gegevensregels.")
    return frame
