"""Header aliases: suppliers spell the same column differently; map them onto canonical names."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from etl.errors import LoadError
from etl.extract import normalise_header


def hints(aliases: Mapping[str, Iterable[str]]) -> set[str]:
    """All normalised spellings, for finding the header row."""
    return {normalise_header(a) for spellings in aliases.values() for a in spellings}


def map_columns(
    df: pd.DataFrame,
    aliases: Mapping[str, Iterable[str]],
    required: Iterable[str],
    file_name: str,
) -> pd.DataFrame:
    """Rename the first matching spelling of each canonical column; fail listing what is missing.

    Columns not named in `aliases` are kept under their own names.
    """
    by_norm = {normalise_header(c): c for c in df.columns}
    renames: dict[str, str] = {}
    for canonical, spellings in aliases.items():
        for spelling in spellings:
            found = by_norm.get(normalise_header(spelling))
            if found is not None and found not in renames:
                renames[found] = canonical
                break
    missing = [c for c in required if c not in renames.values()]
    if missing:
        wanted = "; ".join(f"'{c}' (bv. {', '.join(list(aliases[c])[:3])})" for c in missing)
        raise LoadError(
            f"{file_name}: verplichte kolom(men) ontbreken: {wanted}. "
            f"Gevonden kolommen: {', '.join(map(str, df.columns))}."
        )
    return df.rename(columns=renames)
