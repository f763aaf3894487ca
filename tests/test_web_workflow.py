"""The whole procedure through the web forms, each step by the role the bureau gives it."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlalchemy import select

from alerting.store.tables import AuditRow, LabelRow, WarningRow
from tests.plugins.web import csrf_of


def _act(client, wid, action, **data):  # type: ignore[no-untyped-def]
    token = csrf_of(client.get(f"/warnings/{wid}").text)
    return client.post(f"/warnings/{wid}/actions/{action}", data={"csrf": token, **data})


def test_walk_the_procedure(client_as, seeded, web_store):  # type: ignore[no-untyped-def]
    officer, leader, monitor = client_as("officer_chen"), client_as("leader_zhang"), client_as("monitor_wang")
    wid = seeded.mine
    page = officer.get(f"/warnings/{wid}").text
    assert "确认预警" in page and "排除误报" in page and "审核回复" not in page
    steps = [
        (officer, "confirm", {"category": "inquiry", "severity": "III", "opinion": "家长询问属实,需当日答复"}),
        (monitor, "report", {"to": "分管副局长", "at": "", "content": "登记表及情况说明"}),
        (officer, "handle", {"measures": "责成学校核查食堂,当日反馈"}),
        (officer, "draft_response", {"response_kind": "reply", "content": "已核查,食材合格", "referred_to": ""}),
        (leader, "approve_response", {"response_kind": "reply", "content": "经核查食材合格,已公开答复",
                                      "referred_to": "", "published_at": ""}),
        (officer, "track", {"plan": "跟踪三天"}),
        (leader, "close", {"evaluation": "good", "summary": "家长认可答复,舆情平息"}),
    ]
    for client, action, data in steps:
        r = _act(client, wid, action, **data)
        assert r.status_code == 303, (action, r.text[:500])
        assert r.headers["location"] == f"/warnings/{wid}?done={action}"
        if action == "approve_response":
            assert '<span class="state state-responded">已回复</span>' in officer.get(f"/warnings/{wid}").text
    page = leader.get(f"/warnings/{wid}?done=close").text
    assert "已完成: 办结" in page and "已办结" in page and "家长认可答复" in page
    with web_store.session() as s:
        assert s.get(WarningRow, wid).status == "closed"
        audit = [a.action for a in s.scalars(select(AuditRow).where(AuditRow.warning_id == wid)
                                              .order_by(AuditRow.id))]
        assert audit == [a for _, a, _ in steps]
        assert s.scalars(select(LabelRow).where(LabelRow.warning_id == wid)).all()
    # The 登记表 has gathered the whole story by itself.
    form = officer.get(f"/warnings/{wid}/form").text
    for text in ("家长询问属实", "分管副局长", "责成学校核查食堂", "经核查食材合格", "跟踪三天", "家长认可答复",
                 "示例县第一中学", "询问/置疑/诉求"):
        assert text in form, text


def test_bad_input_message_next_to_the_field_and_nothing_saved(client_as, seeded, web_store):  # type: ignore[no-untyped-def]
    officer = client_as("officer_chen")
    r = _act(officer, seeded.mine, "confirm", category="", severity="III", opinion="")
    assert r.status_code == 400
    assert 'class="field-error"' in r.text and "请选择舆情类别" in r.text and "请填写研判意见" in r.text
    assert 'selected>' in r.text  # the severity chosen is kept
    with web_store.session() as s:
        assert s.get(WarningRow, seeded.mine).status == "new"
        assert s.scalars(select(AuditRow).where(AuditRow.warning_id == seeded.mine)).first() is None


def test_refused_transition_and_role_have_clear_messages(client_as, seeded):  # type: ignore[no-untyped-def]
    officer, monitor = client_as("officer_chen"), client_as("monitor_wang")
    r = _act(officer, seeded.mine, "close", evaluation="good", summary="x")
    assert r.status_code == 409 and "当前状态为“待研判”,不能执行“办结”" in r.text
    r = _act(monitor, seeded.mine, "confirm", category="inquiry", severity="III", opinion="x")
    assert r.status_code == 403 and "只能由" in r.text
    assert 'id="act-confirm"' not in monitor.get(f"/warnings/{seeded.mine}").text
    r = _act(officer, seeded.mine, "no_such_action")
    assert r.status_code == 409 and "未知操作" in r.text


def test_form_edit_keeps_people_edits_and_export_is_audited(client_as, seeded, web_store):  # type: ignore[no-untyped-def]
    officer = client_as("officer_chen")
    page = officer.get(f"/warnings/{seeded.mine}/form").text
    r = officer.post(f"/warnings/{seeded.mine}/form", data={"csrf": csrf_of(page), "opinion": "人工填写的研判意见",
                                                             "filled_by": "陈干事(值班)"})
    assert r.status_code == 303
    page = officer.get(f"/warnings/{seeded.mine}/form").text
    assert "人工填写的研判意见" in page and "已人工修改" in page
    r = officer.get(f"/warnings/{seeded.mine}/export?format=xlsx")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    ws = load_workbook(io.BytesIO(r.content)).active
    cells = {ws.cell(row=i, column=1).value: ws.cell(row=i, column=2).value for i in range(2, ws.max_row + 1)}
    assert cells["研判意见"] == "人工填写的研判意见" and cells["填表人"] == "陈干事(值班)"
    # Clearing a field brings the automatic value back.
    page = officer.get(f"/warnings/{seeded.mine}/form").text
    officer.post(f"/warnings/{seeded.mine}/form", data={"csrf": csrf_of(page), "opinion": ""})
    assert "人工填写的研判意见" not in officer.get(f"/warnings/{seeded.mine}/form").text
    with web_store.session() as s:
        acts = [a.action for a in s.scalars(select(AuditRow).where(AuditRow.warning_id == seeded.mine))]
        assert acts.count("edit_form") == 2 and acts.count("export_form") == 1
    r = officer.get(f"/warnings/{seeded.mine}/export?format=pdf")
    assert r.status_code == 400 and "不支持的格式" in r.text


def test_queue_filters_and_overdue_in_red(client_as, seeded, web_store, cfg):  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from tests.plugins.web import seed_warning
    from yuqing.model import utcnow

    with web_store.session() as s:
        late = seed_warning(s, cfg, category="incident", title="两天前的事件", created_at=utcnow() - timedelta(days=2))
    client = client_as("leader_zhang")
    page = client.get("/queue").text
    assert page.index(f'href="/warnings/{late}"') < page.index(f'href="/warnings/{seeded.mine}"')
    assert 'class="row-overdue"' in page and "已超时" in page
    only = client.get("/queue?overdue=1").text
    assert f'href="/warnings/{late}"' in only and f'href="/warnings/{seeded.mine}"' not in only
    assert f'/warnings/{seeded.other}"' in client.get("/queue?school=xihe-central-primary").text
    assert f'/warnings/{seeded.mine}"' not in client.get("/queue?school=xihe-central-primary").text
    bad = client.get("/queue?severity=V")
    assert bad.status_code == 400 and "未知等级" in bad.text


def test_dashboard_and_audit_pages(client_as, seeded):  # type: ignore[no-untyped-def]
    leader = client_as("leader_zhang")
    dash = leader.get("/dashboard").text
    assert "今日新增预警" in dash and "数据源状态" in dash and "示例日报(RSS)" in dash
    leader.get(f"/warnings/{seeded.mine}/export?format=docx")
    audit = leader.get("/audit").text
    assert "导出登记表" in audit and "leader_zhang" in audit and "登录" in audit
    assert leader.get("/audit?action=export_form").text.count("导出登记表") >= 1


def test_queue_pages(client_as, web_store, cfg):  # type: ignore[no-untyped-def]
    from tests.plugins.web import seed_warning

    with web_store.session() as s:
        for i in range(105):
            seed_warning(s, cfg, category="suggestion", severity="IV", title=f"建议{i}", n_posts=0)
    client = client_as("officer_chen")
    first = client.get("/queue?category=suggestion").text
    assert "共 105 条" in first and "第 1 / 2 页" in first and first.count('<tr class="">') == 100
    second = client.get("/queue?category=suggestion&page=2").text
    assert second.count('<tr class="">') == 5 and "上一页" in second
    assert 'href="/queue?category=suggestion&amp;page=1"' in second


def test_long_posts_can_be_read_in_full(client_as, web_store, cfg):  # type: ignore[no-untyped-def]
    from tests.plugins.web import seed_warning

    long_text = "家长反映情况。" * 100 + "最后一句在这里"
    with web_store.session() as s:
        wid = seed_warning(s, cfg, content=long_text, n_posts=1)
    page = client_as("officer_chen").get(f"/warnings/{wid}").text
    assert "展开全文(707 字)" in page and "最后一句在这里" in page


def test_bulk_dismiss_of_false_alarms(client_as, seeded, web_store, cfg):  # type: ignore[no-untyped-def]
    from tests.plugins.web import seed_warning

    with web_store.session() as s:
        closed = seed_warning(s, cfg, status="closed", title="已办结的")
    officer = client_as("officer_chen")
    token = csrf_of(officer.get("/queue").text)
    r = officer.post("/queue/bulk-dismiss", data={"csrf": token, "ids": [str(seeded.mine), str(seeded.other),
                                                                          str(closed)], "dismiss_kind": "",
                                                  "reason": "同名学校"})
    assert r.status_code == 400 and "请选择误报原因" in r.text  # bad input: nothing done
    with web_store.session() as s:
        assert s.get(WarningRow, seeded.mine).status == "new"
    r = officer.post("/queue/bulk-dismiss", data={"csrf": token, "ids": [str(seeded.mine), str(seeded.other),
                                                                          str(closed)],
                                                  "dismiss_kind": "not_relevant", "reason": "同名学校,非本县"})
    assert r.status_code == 303
    page = officer.get(r.headers["location"]).text
    assert "已批量排除误报 2 条" in page and f'href="/warnings/{closed}">#{closed}</a>' in page
    with web_store.session() as s:
        assert s.get(WarningRow, seeded.mine).status == s.get(WarningRow, seeded.other).status == "dismissed"
        assert len(s.scalars(select(AuditRow).where(AuditRow.action == "dismiss")).all()) == 2
    monitor = client_as("monitor_wang")
    r = monitor.post("/queue/bulk-dismiss", data={"csrf": csrf_of(monitor.get("/queue").text),
                                                  "ids": [str(seeded.xss)], "dismiss_kind": "not_relevant",
                                                  "reason": "x"})
    assert r.status_code == 403


def test_report_form_offers_usual_recipients(client_as, seeded, web_store, cfg):  # type: ignore[no-untyped-def]
    from alerting.accounts import Actor
    from alerting.workflow import perform
    from yuqing.model import Role

    with web_store.session() as s:
        perform(s, cfg, Actor("officer_chen", Role.officer), seeded.mine, "confirm",
                {"category": "inquiry", "severity": "III", "opinion": "属实"})
    page = client_as("officer_chen").get(f"/warnings/{seeded.mine}").text
    assert 'list="dl-report-to"' in page and '<option value="分管副局长">' in page


def test_queue_lists_source_health_warnings_apart(client_as, seeded):  # type: ignore[no-untyped-def]
    page = client_as("admin").get("/queue?category=source_health").text
    assert f'href="/warnings/{seeded.health}"' in page and f'href="/warnings/{seeded.mine}"' not in page
