"""Excel exports: what is on screen, with Dutch headers and a sheet that says what it is.

Every exported number has already passed buurtbeeld.disclosure for the user's audience (a hidden cell
arrives as the text 'x'), so an export can never hold more than the screen showed."""

from __future__ import annotations

import io
import re
from datetime import datetime

import pandas as pd

from buurtbeeld import disclosure, narrative
from buurtbeeld.safe_output import guard_workbook
from dashboard.components import audience as ui_audience
from dashboard.components import threshold, url, week_text
from warehouse import queries


def about_sheet(title: str, filters: dict[str, str], gemeente: str | None, audience: str | None = None) -> pd.DataFrame:
    """The Toelichting sheet. `audience`: whom the sheet's figures are for (default: this request's
    user); its first row says so, and `workbook` marks every sheet of an intern workbook."""
    who = audience or ui_audience()
    info = queries.freshness(url(), gemeente) if gemeente else {}
    rows = [
        ("Vertrouwelijkheid", disclosure.audience_line(who, threshold())),
        ("Onderwerp", title),
        *[(k, v) for k, v in filters.items()],
        (
            "Bron",
            "Politie, Basisvoorziening Handhaving (BVH), wekelijkse export; CBS Wijk- en buurtkaart; "
            "CBS Kerncijfers wijken en buurten; eigen registraties van de gemeente",
        ),
        ("Geheimhouding", disclosure.legend(threshold(), who)),
        ("Laadbatch", f"batch {info.get('batch_id', '–')} (de laatst geladen levering)"),
        ("Gegevens t/m", week_text(info["latest_week"]) if info.get("latest_week") else "–"),
        ("Voorlopige weken", narrative.weeks_phrase(info["provisional"]) if info.get("provisional") else "geen"),
        ("Gemaakt op", datetime.now().strftime("%d-%m-%Y %H:%M")),
    ]
    return pd.DataFrame(rows, columns=["Kenmerk", "Waarde"])


def workbook(sheets: dict[str, pd.DataFrame], about: pd.DataFrame) -> bytes:
    confidential = disclosure.CONFIDENTIAL in str(about["Waarde"].iloc[0])
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name[:31], index=False)
            sheet = writer.sheets[name[:31]]
            if confidential:  # on every printed page, and in the sheet's properties
                sheet.oddHeader.center.text = disclosure.CONFIDENTIAL
                sheet.sheet_properties.tabColor = "C00000"
            for i, column in enumerate(frame.columns, start=1):
                width = max([len(str(column)), *[len(str(v)) for v in frame[column].head(200)]]) + 2
                sheet.column_dimensions[sheet.cell(1, i).column_letter].width = min(width, 60)
        about.to_excel(writer, sheet_name="Toelichting", index=False)
        if confidential:
            writer.book.properties.title = disclosure.CONFIDENTIAL
            writer.sheets["Toelichting"].oddHeader.center.text = disclosure.CONFIDENTIAL
        writer.sheets["Toelichting"].column_dimensions["A"].width = 20
        writer.sheets["Toelichting"].column_dimensions["B"].width = 100
        guard_workbook(writer.book)
    return buffer.getvalue()


DUTCH_NUMBER = re.compile(r"−?\d{1,3}(\.\d{3})*(,\d+)?")


def excel_value(label: str) -> object:
    """A figure the texts wrote ('1.234', '2,6') as a number Excel can sum; everything else ('x', '≈10',
    'minder dan 5', '–', words) as the text it is. The label already passed disclosure: reading it
    as a number tells nothing it did not."""
    if not isinstance(label, str) or not DUTCH_NUMBER.fullmatch(label):
        return label
    number = float(label.replace("−", "-").replace(".", "").replace(",", "."))
    return int(number) if "," not in label else number


def cell_values(values: pd.Series, status: pd.Series, decimals: int = 0) -> list[object]:
    """Numbers where shown (so Excel can sum them), the disclosure sign where hidden, and a coarser
    figure as its marked text ("≈10"): as a number, Excel would sum it as if it were as exact."""
    out: list[object] = []
    for v, s in zip(values, status, strict=True):
        if int(s) == disclosure.SHOWN and pd.notna(v):
            out.append(disclosure.round_half_up(v, decimals) if decimals else int(v))
        elif int(s) == disclosure.COARSE and pd.notna(v):
            out.append(disclosure.rate_label(v, int(s), threshold(), decimals))
        else:
            out.append(disclosure.label(None, int(s), threshold()) if int(s) else "–")
    return out
