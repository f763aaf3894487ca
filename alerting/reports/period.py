"""The period report (舆情日报/周报): what was found, how it was judged and handled, what is overdue.

Built from the store for a span of local calendar days; rendered as a Word document the office
files and forwards to the leaders.
"""

from __future__ import annotations

import io
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from docx.document import Document as DocxDocument
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alerting.queue import CLOCK_RUNNING, is_overdue, school_names
from alerting.reports.docx_form import BODY_FONT, TITLE_FONT, a4_document, set_font
from alerting.store.tables import AuditRow, PostRow, WarningRow
from yuqing.config import Config
from yuqing.errors import InputError
from yuqing.model import CATEGORY_LABELS, SEVERITY_LABELS, STATE_LABELS, Category, Severity, WarningState, utcnow

MAX_DAYS = 366
LISTED = 60  # warnings listed one by one; the rest are only counted


@dataclass
class PeriodReport:
    since: date
    until: date  # inclusive
    posts: int = 0
    warnings: list[WarningRow] = field(default_factory=list)
    by_category: Counter[str] = field(default_factory=Counter)
    by_severity: Counter[str] = field(default_factory=Counter)
    by_status: Counter[str] = field(default_factory=Counter)
    by_school: Counter[str] = field(default_factory=Counter)
    closed_in_period: int = 0
    dismissed: int = 0
    overdue_now: list[WarningRow] = field(default_factory=list)
    minutes_to_first_action: float | None = None  # median


def build_period_report(session: Session, cfg: Config, since: date, until: date,
                        now: datetime | None = None) -> PeriodReport:
    if until < since:
        raise InputError("截止日期早于起始日期", "until")
    if (until - since).days >= MAX_DAYS:
        raise InputError(f"统计区间不能超过 {MAX_DAYS} 天", "since")
    now = now or utcnow()
    tz = ZoneInfo(cfg.timezone)
    start = datetime.combine(since, time(0, 0), tz)
    end = datetime.combine(until + timedelta(days=1), time(0, 0), tz)
    r = PeriodReport(since, until)
    r.posts = int(session.scalar(select(func.count()).select_from(PostRow)
                                 .where(PostRow.crawled_at >= start, PostRow.crawled_at < end)) or 0)
    r.warnings = list(session.scalars(select(WarningRow).where(WarningRow.created_at >= start,
                                                               WarningRow.created_at < end)
                                      .order_by(WarningRow.created_at)))
    waits = []
    for w in r.warnings:
        r.by_category[_kind(w)] += 1
        r.by_severity[w.severity] += 1
        r.by_status[w.status] += 1
        for sid in w.schools or []:
            r.by_school[sid] += 1
        if w.acknowledged_at:
            waits.append((w.acknowledged_at - w.created_at).total_seconds() / 60)
        r.dismissed += w.status == WarningState.dismissed
    r.minutes_to_first_action = statistics.median(waits) if waits else None
    r.closed_in_period = int(session.scalar(select(func.count()).select_from(AuditRow).where(
        AuditRow.action == "close", AuditRow.at >= start, AuditRow.at < end)) or 0)
    open_rows = session.scalars(select(WarningRow).where(WarningRow.status.in_(CLOCK_RUNNING)))
    r.overdue_now = [w for w in open_rows if is_overdue(cfg, w, now)]
    return r


def parse_day(value: str, where: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InputError(f"日期格式应为 2026-11-17,收到 {value!r}", where) from None


def export_period(session: Session, cfg: Config, actor: str, since: date, until: date) -> tuple[bytes, str]:
    """The report's .docx bytes and file name, audited."""
    from alerting import audit

    data = render_period_docx(build_period_report(session, cfg, since, until), cfg)
    audit.record(session, actor, "export_period", details={"since": since.isoformat(), "until": until.isoformat(),
                                                            "bytes": len(data)})
    return data, f"yuqing-report-{since:%Y%m%d}-{until:%Y%m%d}.docx"


def _kind(w: WarningRow) -> str:
    """The category, or ``source_health`` for a broken source (counted apart from opinion)."""
    return w.category if w.kind == "opinion" else "source_health"


def _rank(severity: str) -> int:
    return Severity(severity).rank if severity in Severity.__members__ else 0


def _label(value: str) -> str:
    if value == "source_health":
        return "数据源故障"
    try:
        return CATEGORY_LABELS[Category(value)]
    except ValueError:
        return value


def _table(doc: DocxDocument, header: list[str], rows: list[list[str]], widths: list[float]) -> None:
    t = doc.add_table(rows=1, cols=len(header))
    t.style = "Table Grid"
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    for i, h in enumerate(header):
        cell = t.rows[0].cells[i]
        cell.width = Cm(widths[i])
        set_font(cell.paragraphs[0].add_run(h), BODY_FONT, 11, bold=True)
    for row in rows:
        cells = t.add_row().cells
        for i, v in enumerate(row):
            cells[i].width = Cm(widths[i])
            set_font(cells[i].paragraphs[0].add_run(v), BODY_FONT, 10.5)


def render_period_docx(r: PeriodReport, cfg: Config) -> bytes:
    tz = ZoneInfo(cfg.timezone)
    kind = "日报" if r.since == r.until else ("周报" if (r.until - r.since).days == 6 else "报告")
    doc = a4_document(f"{cfg.county.name}教育系统网络舆情{kind}", f"{r.since:%Y年%m月%d日} 至 {r.until:%Y年%m月%d日}",
                      WD_ALIGN_PARAGRAPH.CENTER)

    def heading(text: str) -> None:
        set_font(doc.add_paragraph().add_run(text), TITLE_FONT, 14, bold=True)

    def para(text: str) -> None:
        p = doc.add_paragraph()
        p.paragraph_format.first_line_indent = Cm(0.85)
        set_font(p.add_run(text), BODY_FONT, 12)

    heading("一、总体情况")
    first = f",首次处置中位用时 {r.minutes_to_first_action:.0f} 分钟" if r.minutes_to_first_action is not None \
        else ""
    para(f"本期共采集网络信息 {r.posts} 条,产生预警 {len(r.warnings)} 条,其中排除误报 {r.dismissed} 条;"
         f"本期办结 {r.closed_in_period} 条{first}。目前超时未办 {len(r.overdue_now)} 条。")
    heading("二、分类统计")
    cats = [c.value for c in Category] + ["source_health"]
    _table(doc, ["舆情类别", "数量"], [[_label(c), str(r.by_category[c])] for c in cats if r.by_category[c]]
           or [["(无)", "0"]], [8, 4])
    _table(doc, ["等级", "数量"], [[SEVERITY_LABELS[s], str(r.by_severity[s.value])] for s in Severity
                                  if r.by_severity[s.value]] or [["(无)", "0"]], [8, 4])
    if r.by_school:
        names = dict(zip(r.by_school, school_names(cfg, list(r.by_school)), strict=True))
        _table(doc, ["涉及学校", "预警数"], [[names[s], str(n)] for s, n in r.by_school.most_common()], [8, 4])
    heading("三、预警清单")
    listed = sorted(r.warnings, key=lambda w: (-_rank(w.severity), w.created_at))[:LISTED]
    rows = [[str(w.id), f"{w.created_at.astimezone(tz):%m-%d %H:%M}", w.title[:60],
             "、".join(school_names(cfg, list(w.schools or []))), _label(_kind(w)), w.severity,
             STATE_LABELS[WarningState(w.status)]] for w in listed]
    _table(doc, ["编号", "发现时间", "标题", "涉及学校", "类别", "等级", "状态"],
           rows or [["", "", "(本期无预警)", "", "", "", ""]], [1.2, 2.0, 6.0, 3.0, 2.2, 1.2, 1.8])
    if len(r.warnings) > LISTED:
        para(f"另有 {len(r.warnings) - LISTED} 条较低等级预警,详见系统。")
    heading("四、超时未办")
    if r.overdue_now:
        _table(doc, ["编号", "标题", "状态", "承办人"], [
            [str(w.id), w.title[:60], STATE_LABELS[WarningState(w.status)], w.assignee or "未指派"]
            for w in r.overdue_now], [1.2, 9.8, 2.5, 2.5])
    else:
        para("无。")
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
