"""The warning state machine: every allowed and refused transition, audit rows, labels, deadlines."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from alerting.accounts import Actor
from alerting.queue import QueueFilter, compute_deadline, list_queue
from alerting.store.tables import AuditRow, LabelRow, UserRow, WarningRow
from alerting.workflow import ACTIONS, FormInvalid, allowed_actions, perform
from tests.plugins.web import seed_warning
from yuqing.errors import NotFoundError, PermissionDeniedError, TransitionError
from yuqing.model import Role, WarningState, utcnow

OFFICER = Actor("officer_chen", Role.officer)
LEADER = Actor("leader_zhang", Role.leader)
ADMIN = Actor("admin", Role.admin)
MONITOR_WANG = Actor("monitor_wang", Role.monitor, frozenset({"county-no1-high"}))
MONITOR_ZHAO = Actor("monitor_zhao", Role.monitor, frozenset({"xihe-central-primary"}))

INPUT = {
    "confirm": {"category": "inquiry", "severity": "III", "opinion": "属实,需当日答复"},
    "dismiss": {"dismiss_kind": "not_sensitive", "reason": "正常新闻报道"},
    "assign": {"assignee": "officer_liu"},
    "report": {"to": "分管副局长", "content": "已报送舆情登记表"},
    "handle": {"measures": "联系学校核实食堂情况"},
    "draft_response": {"response_kind": "reply", "content": "已责成学校整改"},
    "approve_response": {"response_kind": "reply", "content": "已责成学校整改,并公开答复"},
    "track": {"plan": "持续关注三天"},
    "track_note": {"note": "无新增帖子"},
    "close": {"summary": "家长满意,舆情平息", "evaluation": "good"},
    "reopen": {"reason": "再次出现"},
    "note": {"note": "备注"},
}
# The happy path through every state, with the role that takes each step.
PATH = [
    ("confirm", OFFICER, "triaged"),
    ("assign", OFFICER, "triaged"),
    ("report", MONITOR_WANG, "reported"),
    ("handle", OFFICER, "handling"),
    ("handle", OFFICER, "handling"),
    ("draft_response", OFFICER, "handling"),
    ("approve_response", LEADER, "responded"),
    ("track", OFFICER, "tracking"),
    ("track_note", MONITOR_WANG, "tracking"),
    ("close", LEADER, "closed"),
]


@pytest.fixture
def wid(web_store, cfg, demo_passwords):  # type: ignore[no-untyped-def]
    with web_store.session() as s:
        return seed_warning(s, cfg)


def _do(store, cfg, actor, wid, action, data=None):  # type: ignore[no-untyped-def]
    with store.session() as s:
        return perform(s, cfg, actor, wid, action, data if data is not None else INPUT[action]).status


def test_happy_path_writes_one_audit_row_per_step(web_store, cfg, wid):  # type: ignore[no-untyped-def]
    for action, actor, expected in PATH:
        assert _do(web_store, cfg, actor, wid, action) == expected, action
    with web_store.session() as s:
        rows = list(s.scalars(select(AuditRow).where(AuditRow.warning_id == wid).order_by(AuditRow.id)))
        w = s.get(WarningRow, wid)
        assert [r.action for r in rows] == [a for a, _, _ in PATH]
        assert [r.to_state for r in rows] == [e for _, _, e in PATH]
        assert rows[0].from_state == "new" and rows[0].actor == "officer_chen"
        assert rows[2].details["to"] == "分管副局长"
        assert rows[6].details["drafted"]["content"] == "已责成学校整改"
        assert w.assignee == "officer_liu" and w.acknowledged_at is not None
        assert "家长满意" in w.summary and "好" in w.summary
        assert "_response_draft" not in (w.form or {})


@pytest.mark.parametrize("state", [s.value for s in WarningState])
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_every_action_from_every_state(web_store, cfg, action, state):  # type: ignore[no-untyped-def]
    with web_store.session() as s:
        if s.get(UserRow, "officer_liu") is None:  # the assignee; no password needed here (fast)
            s.add(UserRow(username="officer_liu", role="officer", password_hash="-", created_at=utcnow()))
        wid = seed_warning(s, cfg, status=state)
    allowed = WarningState(state) in ACTIONS[action].sources
    actor = ADMIN
    if allowed:
        _do(web_store, cfg, actor, wid, action)
        with web_store.session() as s:
            assert s.scalar(select(AuditRow).where(AuditRow.warning_id == wid)).action == action
    else:
        with pytest.raises(TransitionError) as err:
            _do(web_store, cfg, actor, wid, action)
        assert "当前状态为" in str(err.value) and "不能执行" in str(err.value)
        with web_store.session() as s:
            assert s.get(WarningRow, wid).status == state
            assert s.scalar(select(AuditRow).where(AuditRow.warning_id == wid)) is None


@pytest.mark.parametrize(
    ("action", "actor"),
    [("confirm", MONITOR_WANG), ("dismiss", MONITOR_WANG), ("assign", MONITOR_WANG), ("reopen", OFFICER)],
)
def test_role_refused(web_store, cfg, wid, action, actor):  # type: ignore[no-untyped-def]
    if action == "reopen":
        _do(web_store, cfg, OFFICER, wid, "dismiss")
    with pytest.raises(PermissionDeniedError) as err:
        _do(web_store, cfg, actor, wid, action)
    assert "只能由" in str(err.value)


def test_only_leader_or_admin_approves_responses(web_store, cfg, wid):  # type: ignore[no-untyped-def]
    for action, actor, _ in PATH[:6]:
        _do(web_store, cfg, actor, wid, action)
    with pytest.raises(PermissionDeniedError):
        _do(web_store, cfg, OFFICER, wid, "approve_response")
    assert _do(web_store, cfg, LEADER, wid, "approve_response") == "responded"


def test_monitor_cannot_touch_another_schools_warning(web_store, cfg, wid):  # type: ignore[no-untyped-def]
    _do(web_store, cfg, OFFICER, wid, "confirm")
    with pytest.raises(NotFoundError):
        _do(web_store, cfg, MONITOR_ZHAO, wid, "report")
    with web_store.session() as s:
        w = s.get(WarningRow, wid)
        assert allowed_actions(MONITOR_ZHAO, w) == []
        assert "report" in allowed_actions(MONITOR_WANG, w)
        assert "confirm" not in allowed_actions(MONITOR_WANG, w)


def test_bad_input_is_refused_per_field_and_nothing_saved(web_store, cfg, wid):  # type: ignore[no-untyped-def]
    with pytest.raises(FormInvalid) as err:
        _do(web_store, cfg, OFFICER, wid, "confirm", {"category": "bogus", "severity": "", "opinion": " "})
    assert set(err.value.errors) == {"category", "severity", "opinion"}
    with web_store.session() as s:
        assert s.get(WarningRow, wid).status == "new"
        assert s.scalars(select(LabelRow)).first() is None
    assert _do(web_store, cfg, OFFICER, wid, "confirm") == "triaged"


def test_report_time_in_future_refused(web_store, cfg, wid):  # type: ignore[no-untyped-def]
    _do(web_store, cfg, OFFICER, wid, "confirm")
    with pytest.raises(FormInvalid) as err:
        _do(web_store, cfg, OFFICER, wid, "report", {"to": "局长", "content": "x", "at": "2999-01-01T10:00"})
    assert "at" in err.value.errors
    with pytest.raises(FormInvalid) as err:
        _do(web_store, cfg, OFFICER, wid, "report", {"to": "局长", "content": "x", "at": "昨天"})
    assert "格式" in err.value.errors["at"]


def test_assignee_must_be_staff(web_store, cfg, wid):  # type: ignore[no-untyped-def]
    with pytest.raises(FormInvalid) as err:
        _do(web_store, cfg, OFFICER, wid, "assign", {"assignee": "monitor_wang"})
    assert "assignee" in err.value.errors


def test_verdicts_become_labels_for_every_post(web_store, cfg, wid):  # type: ignore[no-untyped-def]
    _do(web_store, cfg, OFFICER, wid, "confirm", {"category": "fabrication", "severity": "II", "opinion": "造谣"})
    with web_store.session() as s:
        labels = list(s.scalars(select(LabelRow).where(LabelRow.warning_id == wid)))
        assert len(labels) == 2
        assert {(x.verdict, x.category, x.sensitive, x.actor) for x in labels} == {
            ("corrected", "fabrication", True, "officer_chen")}
        w = s.get(WarningRow, wid)
        assert w.category == "fabrication" and w.severity == "II"
        assert w.deadline == w.created_at + timedelta(hours=cfg.alerts.deadlines.fabrication_hours)
        wid2 = seed_warning(s, cfg, title="另一条")
    _do(web_store, cfg, OFFICER, wid2, "dismiss")
    with web_store.session() as s:
        labels = list(s.scalars(select(LabelRow).where(LabelRow.warning_id == wid2)))
        assert {(x.verdict, x.category, x.sensitive) for x in labels} == {("dismissed", "none", False)}


def test_irrelevant_dismissal_keeps_the_category(web_store, cfg, wid):  # type: ignore[no-untyped-def]
    _do(web_store, cfg, OFFICER, wid, "dismiss", {"dismiss_kind": "not_relevant", "reason": "是邻县一中"})
    with web_store.session() as s:
        labels = list(s.scalars(select(LabelRow).where(LabelRow.warning_id == wid)))
        assert {(x.verdict, x.category, x.sensitive) for x in labels} == {("irrelevant", "inquiry", True)}


def test_source_health_warning_closes_from_any_open_state(web_store, cfg):  # type: ignore[no-untyped-def]
    with web_store.session() as s:
        wid = seed_warning(s, cfg, kind="source_health", source_id="demo-tieba", category="none")
    with pytest.raises(TransitionError):
        _do(web_store, cfg, OFFICER, wid, "confirm")
    assert _do(web_store, cfg, OFFICER, wid, "close", {"summary": "已更新 Cookie", "evaluation": "good"}) == "closed"


def test_inquiry_deadline_is_end_of_the_local_day(cfg):  # type: ignore[no-untyped-def]
    # 2026-05-01 15:30 UTC is 23:30 in Shanghai: the inquiry is due at 00:00 local = 16:00 UTC.
    created = datetime(2026, 5, 1, 15, 30, tzinfo=timezone.utc)
    assert compute_deadline(cfg, "inquiry", created) == datetime(2026, 5, 1, 16, 0, tzinfo=timezone.utc)
    # 16:30 UTC is already 2 May locally.
    created = datetime(2026, 5, 1, 16, 30, tzinfo=timezone.utc)
    assert compute_deadline(cfg, "inquiry", created) == datetime(2026, 5, 2, 16, 0, tzinfo=timezone.utc)
    assert compute_deadline(cfg, "incident", created) == created + timedelta(hours=4)


def test_queue_urgency_order_filters_and_scope(web_store, cfg):  # type: ignore[no-untyped-def]
    now = datetime(2026, 5, 2, 4, 0, tzinfo=timezone.utc)
    with web_store.session() as s:
        late = seed_warning(s, cfg, category="incident", severity="IV", created_at=now - timedelta(hours=6))
        grave = seed_warning(s, cfg, category="fabrication", severity="I", created_at=now - timedelta(hours=1))
        mild = seed_warning(s, cfg, category="suggestion", severity="IV", created_at=now - timedelta(hours=1))
        done = seed_warning(s, cfg, status="closed", created_at=now - timedelta(hours=1))
        other = seed_warning(s, cfg, school="xihe-central-primary", created_at=now - timedelta(hours=1))
    with web_store.session() as s:
        ids = [it.warning.id for it in list_queue(s, cfg, ADMIN, QueueFilter(), now)]
        assert ids[0] == late and ids[-1] == done
        assert ids.index(grave) < ids.index(mild)
        items = list_queue(s, cfg, ADMIN, QueueFilter(overdue=True), now)
        assert [it.warning.id for it in items] == [late] and items[0].overdue
        assert other not in [it.warning.id for it in list_queue(s, cfg, MONITOR_WANG, QueueFilter(), now)]
        assert [it.warning.id for it in list_queue(s, cfg, ADMIN, QueueFilter(school="xihe-central-primary"), now)
                ] == [other]
        assert done not in [it.warning.id for it in list_queue(s, cfg, ADMIN, QueueFilter(status="open"), now)]
        assert [it.warning.id for it in list_queue(s, cfg, ADMIN, QueueFilter(severity="I"), now)] == [grave]


def test_state_changes_queue_an_index_status_update(web_store, cfg, wid):  # type: ignore[no-untyped-def]
    from alerting.store.tables import OutboxRow

    _do(web_store, cfg, OFFICER, wid, "confirm")
    _do(web_store, cfg, OFFICER, wid, "assign")  # no state change: no new update
    with web_store.session() as s:
        rows = list(s.scalars(select(OutboxRow).where(OutboxRow.channel == "index")))
        assert len(rows) == 1 and rows[0].key.startswith("status:") and rows[0].key.endswith(":triaged")
        assert len(rows[0].payload["post_ids"]) == 2


def test_handling_can_escalate_to_a_graver_level_only(web_store, cfg, wid):  # type: ignore[no-untyped-def]
    for action, actor, _ in PATH[:3]:
        _do(web_store, cfg, actor, wid, action)
    with pytest.raises(FormInvalid) as err:
        _do(web_store, cfg, OFFICER, wid, "handle", {"measures": "继续核实", "escalate_to": "IV"})
    assert "须高于当前等级" in err.value.errors["escalate_to"]
    _do(web_store, cfg, OFFICER, wid, "handle", {"measures": "转发量翻倍,升级处置", "escalate_to": "II"})
    with web_store.session() as s:
        assert s.get(WarningRow, wid).severity == "II"
        last = s.scalars(select(AuditRow).where(AuditRow.warning_id == wid).order_by(AuditRow.id.desc())).first()
        assert last.details["previous_severity"] == "III" and last.details["escalate_to"] == "II"


def test_a_waiting_draft_puts_approval_first_for_the_leader(web_store, cfg, wid):  # type: ignore[no-untyped-def]
    for action, actor, _ in PATH[:4]:
        _do(web_store, cfg, actor, wid, action)
    with web_store.session() as s:
        assert allowed_actions(LEADER, s.get(WarningRow, wid))[0] == "handle"
    _do(web_store, cfg, OFFICER, wid, "draft_response")
    with web_store.session() as s:
        w = s.get(WarningRow, wid)
        assert allowed_actions(LEADER, w)[0] == "approve_response"
        assert "approve_response" not in allowed_actions(OFFICER, w)


def test_docs_table_matches_the_state_machine():  # type: ignore[no-untyped-def]
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "docs" / "review.md").read_text(encoding="utf-8")
    rows = {}
    for line in text.splitlines():
        if line.startswith("| `") and line.count("|") == 6:
            cells = [c.strip() for c in line.strip("|").split("|")]
            rows[cells[0].strip("`")] = cells
    assert set(rows) == set(ACTIONS), "docs/review.md lists other actions than alerting.workflow.ACTIONS"
    everyone = {r.value for r in Role}
    for name, spec in ACTIONS.items():
        _, label, sources, target, roles = rows[name]
        assert label == spec.label, name
        documented_roles = everyone if roles == "everyone" else {r.strip() for r in roles.split(",")}
        assert documented_roles == {r.value for r in spec.roles}, name
        if spec.target is None:
            assert target == "(same)", name
        else:
            assert target == spec.target.value, name
        if sources not in ("any", "any open"):
            assert {x.strip() for x in sources.split(",")} == {s.value for s in spec.sources}, name


ACTORS = {Role.admin: ADMIN, Role.leader: LEADER, Role.officer: OFFICER, Role.monitor: MONITOR_WANG}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_every_action_for_every_role(web_store, cfg, action, role):  # type: ignore[no-untyped-def]
    spec = ACTIONS[action]
    state = sorted(s.value for s in spec.sources)[0]
    with web_store.session() as s:
        if s.get(UserRow, "officer_liu") is None:
            s.add(UserRow(username="officer_liu", role="officer", password_hash="-", created_at=utcnow()))
        wid = seed_warning(s, cfg, status=state)  # on monitor_wang's school
    if role in spec.roles:
        _do(web_store, cfg, ACTORS[role], wid, action)
    else:
        with pytest.raises(PermissionDeniedError):
            _do(web_store, cfg, ACTORS[role], wid, action)
        with web_store.session() as s:
            assert s.get(WarningRow, wid).status == state
            assert s.scalar(select(AuditRow).where(AuditRow.warning_id == wid)) is None
