"""The 登记表 as a Word document: A4, a bordered two-column table, the way a county office prints it."""

from __future__ import annotations

import io

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from alerting.reports.form import RegistrationForm

BODY_FONT = "仿宋"  # official documents use FangSong for body text and SimHei/XiaoBiaoSong for titles
TITLE_FONT = "黑体"


def set_font(run, name: str, size: float, bold: bool = False) -> None:  # type: ignore[no-untyped-def]
    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold
    # East Asian text ignores font.name unless the eastAsia attribute is set too.
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)


def a4_document(title: str, subtitle: str, subtitle_align: WD_ALIGN_PARAGRAPH) -> DocxDocument:
    """A4 portrait with office margins, a centred bold title and one line under it."""
    doc = Document()
    sec = doc.sections[0]
    sec.page_height, sec.page_width = Cm(29.7), Cm(21.0)
    sec.top_margin = sec.bottom_margin = Cm(2.54)
    sec.left_margin = sec.right_margin = Cm(2.2)
    head = doc.add_paragraph()
    head.alignment = WD_ALIGN_PARAGRAPH.CENTER
    set_font(head.add_run(title), TITLE_FONT, 18, bold=True)
    sub = doc.add_paragraph()
    sub.alignment = subtitle_align
    set_font(sub.add_run(subtitle), BODY_FONT, 11)
    return doc


def render_docx(form: RegistrationForm, county: str, organisation: str = "教育局") -> bytes:
    doc = a4_document(f"{county}{organisation}网络舆情登记表", f"编号: {form.values.get('number', '')}",
                      WD_ALIGN_PARAGRAPH.RIGHT)

    rows = [r for r in form.rows() if r[0] != "number"]
    table = doc.add_table(rows=len(rows), cols=2)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for i, (_key, label, value) in enumerate(rows):
        left, right = table.rows[i].cells
        left.width, right.width = Cm(3.6), Cm(13.0)
        left.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
        lp = left.paragraphs[0]
        lp.alignment = WD_ALIGN_PARAGRAPH.CENTER
        set_font(lp.add_run(label), BODY_FONT, 12, bold=True)
        lines = value.split("\n") if value else [""]
        rp = right.paragraphs[0]
        set_font(rp.add_run(lines[0]), BODY_FONT, 12)
        for line in lines[1:]:
            set_font(right.add_paragraph().add_run(line), BODY_FONT, 12)
    foot = doc.add_paragraph()
    foot.alignment = WD_ALIGN_PARAGRAPH.LEFT
    set_font(foot.add_run("注: 本表由舆情监测系统根据预警自动填写,经工作人员核对修改后打印存档。"), BODY_FONT, 10)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
