"""Reports as PDF files (fpdf2): a title, a line saying what they cover, and tables.

The core PDF fonts carry Latin-1 only, so a character outside it (a name in Greek, say) is
written as "?" rather than failing the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace


@dataclass(frozen=True)
class Table:
    heading: str
    columns: Sequence[str]
    rows: Sequence[Sequence[object]] = field(default_factory=list)


def write_pdf(path: Path, title: str, covers: str, tables: Sequence[Table]) -> None:
    pdf = FPDF(orientation="landscape", format="A4")
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.set_title(_latin(title))
    pdf.add_page()
    pdf.set_font("Helvetica", style="B", size=14)
    pdf.cell(0, 9, _latin(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)
    pdf.cell(0, 6, _latin(covers), new_x="LMARGIN", new_y="NEXT")
    for table in tables:
        pdf.ln(3)
        pdf.set_font("Helvetica", style="B", size=11)
        pdf.cell(0, 8, _latin(table.heading), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=8)
        if not table.rows:
            pdf.cell(0, 6, "Nothing in this interval.", new_x="LMARGIN", new_y="NEXT")
            continue
        with pdf.table(headings_style=FontFace(emphasis="BOLD"), text_align="LEFT") as grid:
            heading = grid.row()
            for column in table.columns:
                heading.cell(_latin(column))
            for values in table.rows:
                row = grid.row()
                for value in values:
                    row.cell(_latin("" if value is None else str(value)))
    pdf.output(str(path))


def _latin(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")
