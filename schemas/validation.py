"""Run a DataFrameModel lazily and turn its failure cases into rejected rows an analyst can read.

The input frame's index is the row number in the source file (as a spreadsheet shows it), so every
reject names file row, column, value and reason.
"""

from __future__ import annotations

import re

import pandas as pd
import pandera.pandas as pa

REJECT_COLUMNS = ["row_number", "column", "value", "reason"]

# Reasons for pandera's built-in checks; checks we write ourselves carry their Dutch reason as `name`.
_BUILTIN_REASONS: list[tuple[str, str]] = [
    (r"^not_nullable$", "waarde ontbreekt"),
    (r"^field_uniqueness$|^unique$", "waarde komt meer dan eens voor in het bestand"),
    (r"^coerce_dtype\('(?:float|int)", "geen getal"),
    (r"^coerce_dtype", "waarde heeft het verkeerde type"),
    (r"^(?:str|text)_matches\(", "waarde heeft niet het verwachte formaat"),
    (r"^isin\(", "waarde is niet een van de toegestane waarden"),
    (r"^column_in_dataframe$", "kolom ontbreekt"),
]


def _reason(check: str) -> str:
    for pattern, reason in _BUILTIN_REASONS:
        if re.search(pattern, check):
            return reason
    return check


def rejects_for(row_numbers: object, column: object, values: object, reason: str) -> pd.DataFrame:
    """Rejects found outside pandera (checks that need the warehouse), in the same shape."""
    frame = pd.DataFrame({"row_number": row_numbers, "column": column, "value": values, "reason": reason})
    return frame.reindex(columns=REJECT_COLUMNS).reset_index(drop=True)


def empty_rejects() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in REJECT_COLUMNS})


def validate(model: type[pa.DataFrameModel], df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Validate lazily; return (valid rows, validated) and rejects (one row per failed cell).

    The index of `df` must be unique; it becomes `row_number` in the rejects. Row-wise (dataframe)
    checks report every column of a failing row; we keep one reject per row and check, attributed to
    the column the check is named after (`column: reason`).
    """
    try:
        return model.validate(df, lazy=True), empty_rejects()
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    whole_file = cases[cases["index"].isna()]
    if len(whole_file):
        raise ValueError("; ".join(sorted({f"{c.column}: {_reason(str(c.check))}" for c in whole_file.itertuples()})))
    rows: list[dict[str, object]] = []
    for case in cases.itertuples():
        check = str(case.check)
        column, reason = case.column, _reason(check)
        prefix, sep, rest = check.partition(": ")
        if sep and prefix in df.columns:  # a check named "column: reason" reports on that column
            column, reason = prefix, rest
        value = df.at[case.index, column] if column in df.columns else case.failure_case
        rows.append({"row_number": int(case.index), "column": column, "value": _text(value), "reason": reason})
    rejects = pd.DataFrame(rows, columns=REJECT_COLUMNS).drop_duplicates(["row_number", "column", "reason"])
    bad = set(rejects["row_number"])
    valid = df[~df.index.isin(bad)]
    return model.validate(valid, lazy=True), rejects.sort_values(["row_number", "column"]).reset_index(drop=True)


def _text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return str(value)
