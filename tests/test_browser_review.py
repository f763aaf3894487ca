"""The review UI in the real browser (system Chromium via Playwright) against uvicorn on 127.0.0.1:
log in, triage a demo warning, export the 登记表, and hostile crawled text stays inert."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from docx import Document

from tests.plugins.web import XSS_CONTENT, XSS_TITLE, seed_demo_anchor, seed_warning

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parent.parent
# The README screenshots are refreshed only on request (YUQING_SCREENSHOTS=1): a test run leaves the checkout clean.
SHOTS = ROOT / "docs" / "screenshots" if os.environ.get("YUQING_SCREENSHOTS") == "1" else None
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync", "--lang=zh-CN"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN", accept_downloads=True)
    pg = ctx.new_page()
    pg.set_default_timeout(15000)
    yield pg
    ctx.close()


def _login(page: Any, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/queue")
    assert "/login" in page.url
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/queue")


def test_log_in_triage_a_demo_warning_and_export_the_form(page, live_ui, web_store, cfg, demo_passwords,
                                                          tmp_path):  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from yuqing.model import utcnow

    with web_store.session() as s:
        seed_demo_anchor(s, cfg, "FEES_INQUIRY", severity="III")
        food = seed_demo_anchor(s, cfg, "FOOD_POISONING", severity="II")
        seed_demo_anchor(s, cfg, "RUMOUR", severity="III")
        seed_demo_anchor(s, cfg, "SUGGESTION", severity="IV")
        seed_warning(s, cfg, school="county-no2-high", category="incident", severity="III",
                     title="县二中门口校车剐蹭事故视频流传", created_at=utcnow() - timedelta(hours=7))
        seed_warning(s, cfg, kind="source_health", source_id="demo-weibo-search", category="none", severity="IV",
                     title="数据源 微博搜索(示例县) 登录失效,连续 3 次失败")
    _login(page, live_ui, "officer_chen", demo_passwords["officer_chen"])
    assert page.locator("table.queue tbody tr").count() == 6
    assert page.locator("tr.row-overdue").count() >= 1  # the seven-hour-old incident (4 h deadline)
    shots = SHOTS or tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "queue.png"), full_page=True)

    page.click(f"a[href='/warnings/{food}'] >> nth=1")
    page.wait_for_url(f"{live_ui}/warnings/{food}")
    assert "示例县第一中学" in page.inner_text(".head")
    assert page.locator(".timeline article.post").count() == 5
    form = page.locator("#act-confirm form")
    form.locator("select[name=category]").select_option("incident")
    form.locator("select[name=severity]").select_option("II")
    form.locator("textarea[name=opinion]").fill("多名学生呕吐送医属实,网上转发较多,属突发事件;须4小时内发布情况通报,并报分管领导。")
    form.locator("button[type=submit]").click()
    page.wait_for_url(f"{live_ui}/warnings/{food}?done=confirm")
    assert "已完成: 确认预警" in page.inner_text("main")
    assert "已研判" in page.inner_text(".head .facts")
    assert "陈干事 确认预警" in page.inner_text(".history")
    page.screenshot(path=str(shots / "warning.png"), full_page=True)

    page.click("a.button:has-text('登记表')")
    page.wait_for_url(f"{live_ui}/warnings/{food}/form")
    assert "多名学生呕吐送医属实" in page.input_value("#f-opinion")
    with page.expect_download() as dl:
        page.click("a.button:has-text('导出 Word')")
    target = tmp_path / dl.value.suggested_filename
    dl.value.save_as(target)
    assert target.suffix == ".docx"
    rows = {r.cells[0].text: r.cells[1].text for r in Document(str(target)).tables[0].rows}
    assert rows["涉及单位"] == "示例县第一中学"
    assert "多名学生呕吐送医属实" in rows["研判意见"]
    assert rows["舆情类别"] == "恶意传播/炒作" and rows["等级"] == "重大(II级)"
    assert rows["来源网站与链接"].count("http://127.0.0.1") == 5


INJECTED = """() => ({
  pwned: window.__pwned === undefined ? null : window.__pwned,
  scripts: Array.from(document.scripts).map(s => s.getAttribute('src')),
  handlers: Array.from(document.querySelectorAll('*')).filter(
      el => Array.from(el.attributes).some(a => a.name.toLowerCase().startsWith('on'))).length,
  bad: document.querySelectorAll('main img, main svg, main iframe, main object, main embed').length,
  jsLinks: Array.from(document.querySelectorAll('a[href]')).filter(
      a => a.href.trim().toLowerCase().startsWith('javascript:')).length,
})"""


def test_xss_payloads_from_a_crawled_post_stay_inert(page, live_ui, web_store, cfg, demo_passwords):  # type: ignore[no-untyped-def]
    from yuqing.demo.content import XSS_TITLE as DEMO_XSS_TITLE

    with web_store.session() as s:
        demo_xss = seed_demo_anchor(s, cfg, "XSS", severity="IV")
        ours = seed_warning(s, cfg, category="incident", severity="IV", title=XSS_TITLE, content=XSS_CONTENT,
                            url="javascript:window.__pwned=5")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    _login(page, live_ui, "officer_chen", demo_passwords["officer_chen"])
    for path in ("/queue", f"/warnings/{demo_xss}", f"/warnings/{ours}", f"/warnings/{ours}/form", "/dashboard"):
        page.goto(live_ui + path)
        page.wait_for_load_state("load")
        page.wait_for_timeout(300)  # give any injected handler (onerror, onload) the chance to fire
        found = page.evaluate(INJECTED)
        assert found["pwned"] is None, (path, found)
        assert found["scripts"] == ["/static/app.js"], (path, found)
        assert found["handlers"] == 0 and found["bad"] == 0 and found["jsLinks"] == 0, (path, found)
    assert dialogs == []
    # The hostile text is still shown to the reviewer, as text.
    page.goto(f"{live_ui}/warnings/{demo_xss}")
    assert DEMO_XSS_TITLE in page.inner_text("h1")
    page.goto(f"{live_ui}/warnings/{ours}")
    assert "原文地址: javascript:window.__pwned=5" in page.inner_text(".timeline")
    # The evidence copy opens as plain text in a sandbox: the raw markup is visible, nothing runs.
    with page.expect_popup() as popup:
        page.click("a:has-text('证据原文') >> nth=0")
    ev = popup.value
    ev.wait_for_load_state("load")
    assert "<script>window.__pwned=1" in ev.inner_text("body")
    assert ev.evaluate("() => window.__pwned === undefined")
    assert dialogs == []


def _act(page: Any, action: str, **fields: str) -> None:
    box = page.locator(f"#act-{action}")
    if box.get_attribute("open") is None:
        box.locator("summary").click()
    for name, value in fields.items():
        el = box.locator(f"[name={name}]")
        if el.evaluate("e => e.tagName") == "SELECT":
            el.select_option(value)
        else:
            el.fill(value)
    box.locator("button[type=submit]").click()
    page.wait_for_url(f"**/warnings/*?done={action}")


def test_the_whole_procedure_in_the_browser(browser, live_ui, web_store, cfg, demo_passwords):  # type: ignore[no-untyped-def]
    with web_store.session() as s:
        wid = seed_demo_anchor(s, cfg, "RUMOUR", severity="III")
    pages = {}
    for user in ("officer_chen", "monitor_wang", "leader_zhang"):
        ctx = browser.new_context(viewport={"width": 1280, "height": 900})
        pages[user] = ctx.new_page()
        pages[user].set_default_timeout(15000)
        _login(pages[user], live_ui, user, demo_passwords[user])
        pages[user].goto(f"{live_ui}/warnings/{wid}")
    officer, monitor, leader = pages["officer_chen"], pages["monitor_wang"], pages["leader_zhang"]
    _act(officer, "confirm", category="fabrication", severity="II", opinion="网传内容与事实不符,属捏造诽谤")
    monitor.reload()
    _act(monitor, "report", to="分管副局长", content="登记表、网帖截图")
    officer.reload()
    _act(officer, "handle", measures="核实王某某情况,联系网信部门固定证据")
    _act(officer, "draft_response", response_kind="referral", content="澄清说明并移交公安机关",
         referred_to="县公安局网安大队")
    leader.reload()
    assert "待审核的回复稿(移交)" in leader.inner_text(".actions")
    assert leader.locator("#act-approve_response textarea[name=content]").input_value() == "澄清说明并移交公安机关"
    _act(leader, "approve_response")
    officer.reload()
    _act(officer, "track", plan="关注转发情况一周")
    _act(officer, "close", evaluation="fair", summary="澄清后未再扩散;已移交公安机关依法处理")
    text = officer.inner_text("main")
    assert "已办结" in text and "澄清后未再扩散" in text
    history = officer.inner_text(".history")
    for step in ("确认预警", "上报", "处置措施", "拟写回复", "审核回复", "开始跟踪", "办结"):
        assert step in history
    assert "张组长 审核回复" in history and "王监测员 上报" in history
    for p in pages.values():
        p.context.close()
