"""Every page × every role, over HTTP: login required, role checks and school scope on the server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from alerting.store.tables import AnalysisRow, AuditRow
from yuqing.model import utcnow

ROLES = ["admin", "leader_zhang", "officer_chen", "monitor_wang", None]


def _paths(seeded, web_store):  # type: ignore[no-untyped-def]
    with web_store.session() as s:
        from alerting.store.tables import WarningRow

        ev = s.get(WarningRow, seeded.other).event_id
        other_post = s.scalars(select(AnalysisRow.post_id).where(AnalysisRow.event_id == ev)).first()
        ev = s.get(WarningRow, seeded.mine).event_id
        my_post = s.scalars(select(AnalysisRow.post_id).where(AnalysisRow.event_id == ev)).first()
    return {
        "queue": "/queue",
        "dashboard": "/dashboard",
        "search": "/search",
        "audit": "/audit",
        "period_report": f"/reports/period?since={utcnow().date() - timedelta(days=6)}",
        "mine": f"/warnings/{seeded.mine}",
        "mine_form": f"/warnings/{seeded.mine}/form",
        "mine_export": f"/warnings/{seeded.mine}/export?format=docx",
        "mine_evidence": f"/posts/{my_post}/evidence",
        "other": f"/warnings/{seeded.other}",
        "other_form": f"/warnings/{seeded.other}/form",
        "other_export": f"/warnings/{seeded.other}/export?format=xlsx",
        "other_evidence": f"/posts/{other_post}/evidence",
        "health_warning": f"/warnings/{seeded.health}",
    }


def _expected(role: str | None, name: str) -> int:
    if role is None:
        return 303  # to the login page
    if name == "audit" and role in ("officer_chen", "monitor_wang"):
        return 403
    if name == "period_report" and role == "monitor_wang":
        return 403
    if role == "monitor_wang" and (name.startswith("other") or name == "health_warning"):
        return 404  # the same answer as a missing id: guessing tells nothing
    return 200


@pytest.mark.parametrize("role", ROLES)
def test_every_page_for_every_role(client_as, seeded, web_store, role):  # type: ignore[no-untyped-def]
    client = client_as(role)
    for name, path in _paths(seeded, web_store).items():
        r = client.get(path)
        assert r.status_code == _expected(role, name), (role, name, path, r.text[:300])
        if r.status_code == 303:
            assert r.headers["location"].startswith("/login?next=")


def test_monitor_guessing_ids_sees_nothing(client_as, seeded):  # type: ignore[no-untyped-def]
    client = client_as("monitor_wang")
    queue = client.get("/queue?status=").text
    assert "西河乡中心小学老师体罚" not in queue and f"/warnings/{seeded.other}\"" not in queue
    missing = client.get("/warnings/999999")
    guessed = client.get(f"/warnings/{seeded.other}")
    assert missing.status_code == guessed.status_code == 404
    assert "体罚" not in guessed.text
    r = client.post(f"/warnings/{seeded.other}/actions/note",
                    data={"csrf": _csrf(client, f"/warnings/{seeded.mine}"), "note": "x"})
    assert r.status_code == 404


def _csrf(client, path):  # type: ignore[no-untyped-def]
    from tests.plugins.web import csrf_of

    return csrf_of(client.get(path).text)


def test_every_post_route_needs_the_csrf_token(client_as, seeded):  # type: ignore[no-untyped-def]
    client = client_as("admin")
    import importlib
    import pkgutil

    import yuqing.web.views as views

    posts = []
    for info in pkgutil.iter_modules(views.__path__):
        router = importlib.import_module(f"yuqing.web.views.{info.name}").router
        posts += [r.path for r in router.routes if "POST" in (getattr(r, "methods", None) or set())]
    assert len(posts) >= 4
    for path in posts:
        url = path.replace("{warning_id}", str(seeded.mine)).replace("{action}", "note")
        r = client.post(url, data={"note": "x", "username": "admin", "password": "demo-admin-2026"})
        assert r.status_code == 403, (url, r.status_code)
        assert "CSRF" in r.text
        r = client.post(url, data={"csrf": "forged-token", "note": "x"})
        assert r.status_code == 403, url


def test_healthz_is_public_and_small(client_as):  # type: ignore[no-untyped-def]
    r = client_as(None).get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"ok": True, "db": True, "outbox_backlog": 0}


def test_unknown_page_is_404_page(client_as):  # type: ignore[no-untyped-def]
    r = client_as("admin").get("/no/such/page")
    assert r.status_code == 404 and "页面不存在" in r.text


def test_evidence_view_is_plain_text_sandboxed_and_audited(client_as, seeded, web_store):  # type: ignore[no-untyped-def]
    path = _paths(seeded, web_store)["mine_evidence"]
    r = client_as("officer_chen").get(path)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    assert "sandbox" in r.headers["content-security-policy"]
    assert "<html><body><h1>" in r.text and "SHA-256" in r.text
    with web_store.session() as s:
        row = s.scalars(select(AuditRow).where(AuditRow.action == "view_evidence")).one()
        assert row.actor == "officer_chen" and row.details["post_id"] == path.split("/")[2]


def test_malformed_parameters_get_a_chinese_page(client_as):  # type: ignore[no-untyped-def]
    client = client_as("officer_chen")
    r = client.get("/warnings/abc")
    assert r.status_code == 400 and "请求参数不正确: warning_id" in r.text
    r = client.get("/queue?page=x")
    assert r.status_code == 400 and "page" in r.text


def test_account_administration(client_as, web_store):  # type: ignore[no-untyped-def]
    from tests.plugins.web import csrf_of

    for who in ("leader_zhang", "officer_chen", "monitor_wang"):
        assert client_as(who).get("/admin/users").status_code == 403
    admin = client_as("admin")
    page = admin.get("/admin/users").text
    assert "王监测员" in page and "示例县第一中学" in page
    token = csrf_of(page)
    new = {"csrf": token, "username": "wu_gan", "display_name": "吴干事", "role": "officer"}
    r = admin.post("/admin/users", data={**new, "password": "short", "password2": "short"})
    assert r.status_code == 400 and "密码至少需要 8 个字符" in r.text and 'value="吴干事"' in r.text
    r = admin.post("/admin/users", data={**new, "password": "long-enough", "password2": "long-enough"})
    assert r.status_code == 303
    wu = client_as(None)
    from tests.plugins.web import login

    assert login(wu, "wu_gan", "long-enough").status_code == 303
    assert admin.post("/admin/users/wu_gan/active", data={"csrf": token, "active": "0"}).status_code == 303
    assert wu.get("/queue").status_code == 303  # disabled: the session ends at once
    r = admin.post("/admin/users/admin/active", data={"csrf": token, "active": "0"})
    assert r.status_code == 400 and "不能停用自己" in r.text
    assert admin.post("/admin/users/wu_gan/password", data={"csrf": token, "password": "new-password"}
                      ).status_code == 303
    with web_store.session() as s:
        acts = [a.action for a in s.scalars(select(AuditRow).where(AuditRow.actor == "admin"))]
    assert {"user_add", "user_disable", "user_passwd"} <= set(acts)


def test_database_gone_is_a_clear_503(client_as, seeded, web_store):  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    client = client_as("officer_chen")
    with web_store.engine.begin() as conn:  # a real failure: the table the page needs is gone
        conn.execute(text("PRAGMA foreign_keys=OFF"))
        conn.execute(text("ALTER TABLE warnings RENAME TO warnings_away"))
    try:
        r = client.get("/queue")
        assert r.status_code == 503 and "本次操作未保存" in r.text
    finally:
        with web_store.engine.begin() as conn:
            conn.execute(text("ALTER TABLE warnings_away RENAME TO warnings"))
