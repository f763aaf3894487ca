"""The 登记表 exports, opened again with python-docx and openpyxl; and the CLI commands of the queue."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from docx import Document
from openpyxl import load_workbook
from sqlalchemy import select

from alerting.accounts import Actor
from alerting.reports.export import export_form
from alerting.reports.form import FIELDS
from alerting.store.tables import AuditRow
from alerting.workflow import perform
from tests.plugins.web import seed_warning
from yuqing.model import Role

OFFICER = Actor("officer_chen", Role.officer, display_name="陈干事")
LABELS = [label for _, label in FIELDS]


def _worked_warning(web_store, cfg):  # type: ignore[no-untyped-def]
    with web_store.session() as s:
        wid = seed_warning(s, cfg, n_posts=3)
    with web_store.session() as s:
        perform(s, cfg, OFFICER, wid, "confirm", {"category": "inquiry", "severity": "III",
                                                  "opinion": "家长诉求属实,当日答复"})
        perform(s, cfg, OFFICER, wid, "report", {"to": "分管副局长李某", "content": "登记表"})
        perform(s, cfg, OFFICER, wid, "handle", {"measures": "约谈学校后勤负责人"})
    return wid


def test_docx_layout_and_cells(web_store, cfg, demo_passwords):  # type: ignore[no-untyped-def]
    wid = _worked_warning(web_store, cfg)
    with web_store.session() as s:
        data, name = export_form(s, cfg, OFFICER, wid, "docx")
    assert name.startswith("YQ-") and name.endswith(".docx")
    doc = Document(io.BytesIO(data))
    assert doc.paragraphs[0].text == "示例县教育局网络舆情登记表"
    assert doc.paragraphs[1].text.startswith("编号: YQ-")
    table = doc.tables[0]
    rows = {r.cells[0].text: r.cells[1].text for r in table.rows}
    assert list(rows) == LABELS[1:]  # 编号 sits above the table, as on the paper form
    assert rows["涉及单位"] == "示例县第一中学"
    assert rows["舆情类别"] == "询问/置疑/诉求" and rows["等级"] == "较大(III级)"
    assert "家长诉求属实" in rows["研判意见"] and "陈干事" in rows["研判意见"]
    assert "分管副局长李某" in rows["上报情况"] and "约谈学校后勤负责人" in rows["处置措施"]
    assert rows["来源网站与链接"].count("https://") == 3
    assert rows["填表人"] == "陈干事"
    sec = doc.sections[0]
    assert round(sec.page_width.cm, 1) == 21.0 and round(sec.page_height.cm, 1) == 29.7


def test_xlsx_layout_and_cells(web_store, cfg, demo_passwords):  # type: ignore[no-untyped-def]
    wid = _worked_warning(web_store, cfg)
    with web_store.session() as s:
        data, _ = export_form(s, cfg, OFFICER, wid, "xlsx")
        assert s.scalars(select(AuditRow).where(AuditRow.action == "export_form")).one().details["format"] == "xlsx"
    ws = load_workbook(io.BytesIO(data)).active
    assert ws["A1"].value == "示例县教育局网络舆情登记表" and "A1:B1" in {str(r) for r in ws.merged_cells.ranges}
    labels = [ws.cell(row=i, column=1).value for i in range(2, ws.max_row + 1)]
    assert labels == LABELS
    values = {ws.cell(row=i, column=1).value: ws.cell(row=i, column=2).value for i in range(2, ws.max_row + 1)}
    assert values["编号"].startswith("YQ-") and values["涉及单位"] == "示例县第一中学"
    assert ws.cell(row=3, column=2).alignment.wrap_text
    assert str(ws.page_setup.paperSize) == ws.PAPERSIZE_A4 and ws.sheet_properties.pageSetUpPr.fitToPage


def _cli(config_dir: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "yuqing.cli", *args, "--config", str(config_dir)], input=stdin,
                          capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "200"})


def test_cli_report_form_and_queue(web_store, cfg, config_dir, demo_passwords, tmp_path):  # type: ignore[no-untyped-def]
    wid = _worked_warning(web_store, cfg)
    out = tmp_path / "out" / "form.xlsx"
    r = _cli(config_dir, "report", "form", str(wid), "--format", "xlsx", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "已导出" in r.stdout and load_workbook(out).active["A1"].value.endswith("网络舆情登记表")
    r = _cli(config_dir, "report", "form", "999", "--format", "docx", "--out", str(out))
    assert r.returncode == 1 and "预警 999 不存在" in r.stderr
    r = _cli(config_dir, "queue")
    assert r.returncode == 0 and "预警队列" in r.stdout and "处置中" in r.stdout


def test_cli_user_add_refuses_bad_role(config_dir):  # type: ignore[no-untyped-def]
    # getpass reads the terminal; without one it falls back to stdin (with a warning on stderr).
    r = _cli(config_dir, "user", "add", "wu_gan", "--role", "boss", stdin="longpassword\nlongpassword\n")
    assert r.returncode == 1 and "未知角色" in r.stderr


def test_cli_user_add_list_disable(config_dir, web_store):  # type: ignore[no-untyped-def]
    r = _cli(config_dir, "user", "add", "monitor_li", "--role", "monitor", "--name", "李监测员",
             stdin="longpassword\nlongpassword\n")
    assert r.returncode == 0, r.stderr
    assert "示例县实验小学" not in r.stdout and "county-experimental-primary" in r.stdout  # scope from schools.yaml
    r = _cli(config_dir, "user", "add", "monitor_li", "--role", "monitor", stdin="longpassword\nlongpassword\n")
    assert r.returncode == 1 and "已存在" in r.stderr
    r = _cli(config_dir, "user", "add", "wu", "--role", "officer", stdin="longpassword\nmismatch!!\n")
    assert r.returncode == 1 and "不一致" in r.stderr
    assert _cli(config_dir, "user", "disable", "monitor_li").returncode == 0
    listing = _cli(config_dir, "user", "list").stdout
    assert "monitor_li" in listing and "停用" in listing and "示例县实验小学" in listing
    from alerting.accounts import authenticate

    with web_store.session() as s:
        assert authenticate(s, "monitor_li", "longpassword") is None
    assert _cli(config_dir, "user", "enable", "monitor_li").returncode == 0
    assert _cli(config_dir, "user", "passwd", "monitor_li", stdin="another-pass\nanother-pass\n").returncode == 0
    with web_store.session() as s:
        assert authenticate(s, "monitor_li", "another-pass") is not None


def test_period_report(web_store, cfg, demo_passwords):  # type: ignore[no-untyped-def]
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from alerting.reports.period import build_period_report, export_period
    from yuqing.errors import InputError
    from yuqing.model import utcnow

    wid = _worked_warning(web_store, cfg)
    with web_store.session() as s:
        seed_warning(s, cfg, school="xihe-central-primary", category="fabrication", severity="I", title="网传谣言")
        seed_warning(s, cfg, category="incident", severity="IV", title="十天前",
                     created_at=utcnow() - timedelta(days=10))
    today = utcnow().astimezone(ZoneInfo(cfg.timezone)).date()
    with web_store.session() as s:
        r = build_period_report(s, cfg, today - timedelta(days=6), today)
        assert len(r.warnings) == 2 and r.by_category["inquiry"] == 1 and r.by_category["fabrication"] == 1
        assert r.posts == 3 + 2 and r.minutes_to_first_action is not None
        assert [w.title for w in r.overdue_now] == ["十天前"]
        data, name = export_period(s, cfg, "leader_zhang", today - timedelta(days=6), today)
        try:
            build_period_report(s, cfg, today, today - timedelta(days=1))
        except InputError as exc:
            assert "截止日期早于起始日期" in str(exc)
        else:
            raise AssertionError("a reversed span was accepted")
    assert name.endswith(".docx")
    doc = Document(io.BytesIO(data))
    assert doc.paragraphs[0].text == "示例县教育系统网络舆情周报"
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "产生预警 2 条" in text and "超时未办 1 条" in text
    listing = doc.tables[3]  # category, severity, school, then the list of warnings
    assert [c.text for c in listing.rows[0].cells] == ["编号", "发现时间", "标题", "涉及学校", "类别", "等级", "状态"]
    assert listing.rows[1].cells[2].text == "网传谣言"  # the gravest first
    assert listing.rows[2].cells[0].text == str(wid)
    with web_store.session() as s:
        assert s.scalars(select(AuditRow).where(AuditRow.action == "export_period")).one().actor == "leader_zhang"


def test_cli_period_report(config_dir, web_store, cfg, tmp_path):  # type: ignore[no-untyped-def]
    out = tmp_path / "week.docx"
    r = _cli(config_dir, "report", "period", "--since", "2026-11-17", "--until", "2026-11-23", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert Document(str(out)).paragraphs[0].text == "示例县教育系统网络舆情周报"
    r = _cli(config_dir, "report", "period", "--since", "11/17", "--out", str(out))
    assert r.returncode == 1 and "日期格式" in r.stderr
