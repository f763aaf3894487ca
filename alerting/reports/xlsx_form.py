"""The 登记表 as an Excel sheet laid out for printing on one A4 page."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.worksheet.page import PageMargins

from alerting.reports.form import RegistrationForm

FONT = "仿宋"
THIN = Side(style="thin", color="000000")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
# Rough characters per line in the value column, to size rows so wrapped text is not cut off when printed.
CHARS_PER_LINE = 38


def _height(value: str) -> float:
    lines = sum(max(1, -(-len(line) // CHARS_PER_LINE)) for line in (value.split("\n") if value else [""]))
    return max(24.0, 16.0 * lines + 6)


def render_xlsx(form: RegistrationForm, county: str, organisation: str = "教育局") -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "舆情登记表"
    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["B"].width = 70
    ws.merge_cells("A1:B1")
    ws["A1"] = f"{county}{organisation}网络舆情登记表"
    ws["A1"].font = Font(name="黑体", size=18, bold=True)
    ws["A1"].alignment = Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[1].height = 36
    for i, (_key, label, value) in enumerate(form.rows(), start=2):
        a, b = ws.cell(row=i, column=1, value=label), ws.cell(row=i, column=2, value=value)
        a.font = Font(name=FONT, size=12, bold=True)
        b.font = Font(name=FONT, size=12)
        a.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        b.alignment = Alignment(horizontal="left", vertical="top", wrap_text=True)
        a.border = b.border = BOX
        ws.row_dimensions[i].height = _height(value)
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins = PageMargins(left=0.6, right=0.6, top=0.8, bottom=0.8)
    ws.print_title_rows = "1:1"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
