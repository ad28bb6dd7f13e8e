"""Printable monthly analyses: a self-contained HTML file and a PDF, from the stored analyses.

Both are built from the stored documents only (headline, paragraphs, table, chart data), which were
written through buurtbeeld.disclosure: an export can hold nothing the page did not show. Charts are
drawn with matplotlib (SVG inline in the HTML, PNG in the PDF) so neither needs a browser or a CDN.
"""

from __future__ import annotations

import html
import io
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from buurtbeeld import disclosure, narrative
from buurtbeeld.safe_output import markdown_html

# Okabe–Ito: distinguishable with every common form of colour blindness.
OBSERVED, EXPECTED = "#0072B2", "#E69F00"
LEVEL_TITLES = {"gemeente": "Gemeente", "stadsdeel": "Stadsdeel", "wijk": "Wijk", "buurt": "Buurt"}
# A chart takes ~0.1 s to draw: a stadsdeel report charts every buurt; a larger one (the whole
# gemeente) only the buurten with a notable result, or a download of 600 buurten would take minutes.
ALL_CHARTS_UP_TO = 25
FEWER_CHARTS = "Grafieken staan alleen bij buurten met een opvallende uitkomst (rapport met veel buurten)."


def _charted(docs: pd.DataFrame) -> set[str]:
    buurten = docs[docs["area_level"] == "buurt"]
    if len(buurten) > ALL_CHARTS_UP_TO:
        buurten = buurten[buurten["n_notable"] > 0]
    return set(buurten["area_code"])


def _figure(width: float = 6.5, height: float = 2.4) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    fig, ax = plt.subplots(figsize=(width, height), dpi=110)
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=7)
    # Counts: whole ticks in Dutch style (not "2.5" incidents); axes with labels of their own override it.
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(MaxNLocator(integer=True))
        axis.set_major_formatter(FuncFormatter(lambda value, _: disclosure.format_number(value)))
    return fig, ax


def _trend_chart(trend: dict[str, Any], fmt: str) -> bytes | None:
    months, values = trend.get("months", []), trend.get("values", [])
    if not months or not narrative.chart_has_data(trend, ("values",)):
        return None
    fig, ax = _figure()
    xs = list(range(len(months)))
    ax.plot(xs, [float("nan") if v is None else v for v in values], marker="o", markersize=3, color=OBSERVED)
    coarse = [x for x, c in zip(xs, trend.get("coarse") or [], strict=False) if c]
    title = "Alle categorieën per maand (lege plekken: niet getoond"
    if coarse:
        ax.plot(coarse, [values[x] for x in coarse], "o", markersize=6, markerfacecolor="white", color=OBSERVED)
        title += "; open punt: grover afgerond, ≈"
    ax.set_xticks(xs[::3], [narrative.month_abbreviation(m) for m in months[::3]])
    ax.set_title(title + ")", fontsize=8, loc="left")
    return _save(fig, fmt)


def _groups_chart(groups: dict[str, Any], fmt: str) -> bytes | None:
    labels = groups.get("labels", [])
    if not labels or not narrative.chart_has_data(groups, ("observed", "expected")):
        return None
    fig, ax = _figure(height=0.22 * len(labels) + 0.8)
    ys = list(range(len(labels)))
    obs = [0 if v is None else v for v in groups["observed"]]
    exp = [0 if v is None else v for v in groups["expected"]]
    ax.barh([y + 0.2 for y in ys], obs, height=0.4, color=OBSERVED, label="geregistreerd")
    ax.barh([y - 0.2 for y in ys], exp, height=0.4, color=EXPECTED, label="verwacht")
    ax.set_yticks(ys, [label[:40] for label in labels])
    ax.legend(fontsize=7, frameon=False)
    ax.set_title(narrative.groups_chart_title(groups), fontsize=8, loc="left")
    return _save(fig, fmt)


def _charts(charts: dict[str, Any], fmt: str) -> list[tuple[bytes | None, str]]:
    """The two charts of a buurt, each with the sentence that stands in its place when it would be an
    empty frame (nothing shown to draw)."""
    return [
        (_trend_chart(charts["trend"], fmt), narrative.NO_TREND_CHART),
        (_groups_chart(charts["groups"], fmt), narrative.NO_GROUPS_CHART),
    ]


def _save(fig: Any, fmt: str) -> bytes:
    from matplotlib import pyplot as plt

    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format=fmt)
    plt.close(fig)
    return buffer.getvalue()


def _title(month: str, scope_name: str) -> str:
    return f"Maandanalyse {narrative.month_name(month)} · {scope_name}"


def html_report(docs: pd.DataFrame, month: str, scope_name: str, how_to_read: str, about: str) -> str:
    """One HTML file with everything inline (styles, SVG charts): mail it, archive it, print it."""
    parts, charted = [], _charted(docs)
    for doc in docs.itertuples():
        content = doc.content
        body = "".join(markdown_html(p) for p in content["paragraphs"])
        charts = ""
        if doc.area_level == "buurt" and doc.area_code in charted:
            for chart, instead in _charts(content["charts"], "svg"):
                if chart:
                    svg = chart.decode("utf-8")
                    charts += f'<div class="chart">{svg[svg.index("<svg") :]}</div>'
                else:
                    charts += f'<p class="about">{html.escape(instead)}</p>'
        table = pd.DataFrame(content["table"]).to_html(index=False, border=0, classes="findings", escape=True)
        parts.append(
            f'<section><p class="level">{LEVEL_TITLES.get(doc.area_level, "")}</p>'
            f'<h2>{html.escape(doc.name)}</h2><p class="headline">{html.escape(doc.headline)}</p>'
            f"{body}{charts}{table}</section>"
        )
    title = _title(month, scope_name)
    if len(charted) < (docs["area_level"] == "buurt").sum():
        about += " " + FEWER_CHARTS
    return f"""<!doctype html>
<html lang="nl"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; color: #222; line-height: 1.45; }}
section {{ border-top: 1px solid #ccc; padding-top: .5rem; margin-top: 1.5rem; page-break-inside: avoid; }}
.level {{ color: #666; font-size: .8rem; margin: 0; text-transform: uppercase; }}
.headline {{ font-weight: 600; }}
table.findings {{ border-collapse: collapse; font-size: .8rem; margin: .5rem 0; }}
table.findings td, table.findings th {{ border-bottom: 1px solid #ddd; padding: .15rem .5rem; text-align: left; }}
.chart svg {{ max-width: 100%; height: auto; }}
.about {{ color: #555; font-size: .8rem; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p class="about">{html.escape(about)}</p>
{"".join(parts)}
<section>{markdown_html(how_to_read)}</section>
</body></html>"""


def _font_path() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def pdf_report(docs: pd.DataFrame, month: str, scope_name: str, how_to_read: str, about: str) -> bytes:
    """The same content as the HTML report, as an A4 PDF (fpdf2, DejaVu Sans: all Dutch characters)."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    fonts = _font_path()
    pdf.add_font("dejavu", "", str(fonts / "DejaVuSans.ttf"))
    pdf.add_font("dejavu", "B", str(fonts / "DejaVuSans-Bold.ttf"))
    pdf.set_title(_title(month, scope_name))
    pdf.add_page()
    pdf.set_font("dejavu", "B", 15)
    pdf.multi_cell(0, 8, _title(month, scope_name), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("dejavu", "", 8)
    pdf.multi_cell(0, 4, about, new_x="LMARGIN", new_y="NEXT")
    charted = _charted(docs)
    if len(charted) < (docs["area_level"] == "buurt").sum():
        pdf.multi_cell(0, 4, FEWER_CHARTS, new_x="LMARGIN", new_y="NEXT")
    for doc in docs.itertuples():
        content = doc.content
        pdf.ln(3)
        pdf.set_font("dejavu", "B", 12)
        pdf.multi_cell(0, 6, f"{LEVEL_TITLES.get(doc.area_level, '')} {doc.name}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("dejavu", "B", 9)
        pdf.multi_cell(0, 5, doc.headline, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("dejavu", "", 9)
        for paragraph in content["paragraphs"]:
            pdf.multi_cell(0, 4.5, paragraph, markdown=True, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
        if doc.area_level == "buurt" and doc.area_code in charted:
            for chart, instead in _charts(content["charts"], "png"):
                if chart:
                    pdf.image(io.BytesIO(chart), w=170)
                else:
                    pdf.multi_cell(0, 4.5, instead, new_x="LMARGIN", new_y="NEXT")
        rows = content["table"]
        if rows:
            pdf.set_font("dejavu", "", 7)
            # Wide enough for "Geregistreerd" and "Per 1.000 inwoners" in 7 pt without a broken word.
            with pdf.table(col_widths=(38, 22, 16, 19, 22, 43), text_align="LEFT", line_height=4) as table:
                table.row(list(rows[0]))
                for row in rows:
                    table.row([str(v) for v in row.values()])
    pdf.ln(3)
    pdf.set_font("dejavu", "", 8)
    pdf.multi_cell(0, 4, how_to_read, markdown=True, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def about_text(docs: pd.DataFrame) -> str:
    if docs.empty:
        return ""
    made = pd.Timestamp(docs["created_at"].max()).strftime("%d-%m-%Y %H:%M")
    batch = int(docs["batch_id"].max()) if docs["batch_id"].notna().any() else "–"
    versions = int(docs["superseded"].sum())
    text = f"Berekend op {made} uit de gegevens t/m laadbatch {batch}."
    if versions:
        text += " Na een latere levering opnieuw berekend; de eerdere versie is bewaard."
    return text + f" Gemaakt op {datetime.now().strftime('%d-%m-%Y %H:%M')}."
