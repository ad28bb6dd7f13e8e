"""Header aliases: suppliers spell the same column differently; map them onto canonical names."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from etl.errors import LoadError
from etl.header import normalise_header


def hints(aliases: Mapping[str, Iterable[str]]) -> set[str]:
    """All normalised spellings, for finding the header row."""
    return {normalise_header(a) for spellings in aliases.values() for a in spellings}


def resolve(columns: Iterable[str], aliases: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """Canonical name -> the file's own column name, for the first spelling found of each."""
    by_norm = {normalise_header(c): c for c in columns}
    found: dict[str, str] = {}
    for canonical, spellings in aliases.items():
        for spelling in spellings:
            original = by_norm.get(normalise_header(spelling))
            if original is not None and original not in found.values():
                found[canonical] = original
                break
    return found


def map_columns(
    df: pd.DataFrame,
    aliases: Mapping[str, Iterable[str]],
    required: Iterable[str],
    file_name: str,
) -> pd.DataFrame:
    """Rename the first matching spelling of each canonical column; fail listing what is missing.

    Columns not named in `aliases` are kept under their own names.
    """
    renames = {original: canonical for canonical, original in resolve(df.columns, aliases).items()}
    missing = [c for c in required if c not in renames.values()]
    if missing:
        wanted = "; ".join(f"'{c}' (bv. {', '.join(list(aliases[c])[:3])})" for c in missing)
        raise LoadError(
            f"{file_name}: verplichte kolom(men) ontbreken: {wanted}. "
            f"Gevonden kolommen: {', '.join(map(str, df.columns))}."
        )
    return df.rename(columns=renames)
