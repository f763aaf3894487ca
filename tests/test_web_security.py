"""Sessions, cookies, login rate limit, headers, open redirects, and hostile crawled text over HTTP."""

from __future__ import annotations

import re

from sqlalchemy import select

from alerting.accounts import set_password
from alerting.store.tables import AuditRow
from tests.plugins.web import XSS_TITLE, csrf_of, login


def test_session_cookie_flags(client_as):  # type: ignore[no-untyped-def]
    client = client_as(None)
    r = login(client, "officer_chen", "demo-officer-2026")
    assert r.status_code == 303 and r.headers["location"] == "/queue"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    assert "Secure" not in cookie  # plain http here; see the https test


def test_cookie_is_secure_over_https(web_app, demo_passwords):  # type: ignore[no-untyped-def]
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    with TestClient(web_app, base_url="https://testserver", follow_redirects=False) as client:
        r = login(client, "admin", demo_passwords["admin"])
        assert r.status_code == 303
        assert "Secure" in r.headers["set-cookie"]


def test_wrong_password_then_rate_limit(client_as, web_store):  # type: ignore[no-untyped-def]
    client = client_as(None)
    for _ in range(5):
        r = login(client, "officer_chen", "wrong-password")
        assert r.status_code == 401 and "用户名或密码不正确" in r.text
    r = login(client, "officer_chen", "demo-officer-2026")  # right password, but locked for now
    assert r.status_code == 429 and "分钟后再试" in r.text
    r = login(client, "leader_zhang", "demo-leader-2026")  # another user from the same IP still may
    assert r.status_code == 303
    with web_store.session() as s:
        fails = s.scalars(select(AuditRow).where(AuditRow.action == "login_failed")).all()
        assert len(fails) == 5 and fails[0].actor == "officer_chen"


def test_security_headers_and_csp(client_as):  # type: ignore[no-untyped-def]
    r = client_as("admin").get("/queue")
    csp = r.headers["content-security-policy"]
    script_src = re.search(r"script-src ([^;]+)", csp).group(1)
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert "frame-ancestors 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert "<script>" not in r.text.replace('<script src="/static/app.js" defer></script>', "")


def test_no_open_redirect_after_login(client_as):  # type: ignore[no-untyped-def]
    client = client_as(None)
    page = client.get("/login?next=https://evil.example/")
    r = client.post("/login", data={"csrf": csrf_of(page.text), "username": "admin",
                                    "password": "demo-admin-2026", "next": "//evil.example/x"})
    assert r.headers["location"] == "/queue"


def test_changing_the_password_ends_sessions(client_as, web_store, cfg):  # type: ignore[no-untyped-def]
    client = client_as("officer_chen")
    assert client.get("/queue").status_code == 200
    with web_store.session() as s:
        set_password(s, "officer_chen", "a-new-password")
    assert client.get("/queue").status_code == 303


def test_logout(client_as):  # type: ignore[no-untyped-def]
    client = client_as("officer_chen")
    r = client.post("/logout", data={"csrf": csrf_of(client.get("/queue").text)})
    assert r.status_code == 303
    assert client.get("/queue").status_code == 303


def test_a_forged_cookie_is_ignored(client_as):  # type: ignore[no-untyped-def]
    client = client_as(None)
    client.cookies.set("yuqing_session", "eyJ1IjoiYWRtaW4ifQ.forged.sig")
    assert client.get("/queue").status_code == 303


def test_hostile_post_is_escaped_everywhere(client_as, seeded):  # type: ignore[no-untyped-def]
    client = client_as("officer_chen")
    for path in ("/queue", f"/warnings/{seeded.xss}", f"/warnings/{seeded.xss}/form", "/dashboard"):
        html = client.get(path).text
        assert "<script>window.__pwned" not in html, path
        assert "<img src=x onerror" not in html and "<svg onload" not in html, path
        assert 'href="javascript:' not in html.lower(), path
        assert "<iframe" not in html, path
    page = client.get(f"/warnings/{seeded.xss}").text
    assert "&lt;script&gt;window.__pwned=1" in page  # shown as text, not dropped
    assert "原文地址: javascript:window.__pwned=5" in page  # non-http URL stays text
    assert XSS_TITLE not in page


def test_session_has_an_absolute_lifetime(client_as, web_app, cfg):  # type: ignore[no-untyped-def]
    import time
    from unittest.mock import patch

    from itsdangerous import URLSafeTimedSerializer

    from yuqing.web.security import SESSION_MAX_AGE, load_secret

    client = client_as("officer_chen")
    r = client.get("/queue")
    assert r.status_code == 200 and "set-cookie" not in r.headers  # not renewed by activity
    sess = web_app.state.codec.load(client.cookies.get("yuqing_session"))
    assert sess is not None and sess.username == "officer_chen"
    # The same session signed a working day ago (only the signer's clock is moved) is refused.
    signer = URLSafeTimedSerializer(load_secret(cfg), salt="yuqing-session")
    with patch("itsdangerous.timed.time.time", return_value=time.time() - SESSION_MAX_AGE - 5):
        stale = signer.dumps({"c": sess.csrf, "u": sess.username, "h": sess.fingerprint})
    client.cookies.set("yuqing_session", stale)
    assert client.get("/queue").status_code == 303


def test_secret_key_is_created_once_private_and_shared(cfg, monkeypatch):  # type: ignore[no-untyped-def]
    import stat
    from concurrent.futures import ThreadPoolExecutor

    from yuqing.web.security import SECRET_ENV, load_secret

    monkeypatch.delenv(SECRET_ENV, raising=False)
    with ThreadPoolExecutor(4) as pool:
        keys = set(pool.map(lambda _: load_secret(cfg), range(8)))
    assert len(keys) == 1
    path = cfg.data_dir / "web-secret.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in cfg.data_dir.iterdir() if p.name.startswith(".web-secret")] == []
    monkeypatch.setenv(SECRET_ENV, "from-the-environment")
    assert load_secret(cfg) == "from-the-environment"


def test_templates_need_no_inline_script_or_style():  # type: ignore[no-untyped-def]
    # The CSP allows neither; an inline handler or style attribute would silently not work.
    from pathlib import Path

    import yuqing.web

    for tpl in (Path(yuqing.web.__file__).parent / "templates").glob("*.html"):
        text = tpl.read_text(encoding="utf-8")
        assert not re.search(r"\son[a-z]+\s*=", text), tpl.name
        assert " style=" not in text and "<style" not in text, tpl.name
        assert re.findall(r"<script[^>]*>", text) in ([], ['<script src="/static/app.js" defer>']), tpl.name
