"""Page objects on responses from the running demo sites (real HTTP on 127.0.0.1): the interstitial pages
sites answer with when they stop cooperating, and the JavaScript-only Weibo topic page rendered by the
system Chromium."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import pytest

from crawler.pages import LoginExpired, PageInput, ParseError, page_for
from yuqing.demo.sites import DemoSites

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--lang=zh-CN"]


def get(demo_sites: DemoSites, target: str, kind: str, **options: Any) -> Any:
    resp = httpx.get(demo_sites.url(target), follow_redirects=True, timeout=10)
    page = PageInput(url=str(resp.url), body=resp.content, headers=dict(resp.headers), options=options)
    return page_for(kind, page)


def weibo_api(demo_sites: DemoSites, word: str) -> str:
    return f"/weibo/api/container/getIndex?containerid={quote('100103type=1&q=' + word, safe='')}&page_type=searchall"


def test_expired_weibo_login_raises_login_expired(demo_sites: DemoSites) -> None:
    target = weibo_api(demo_sites, demo_sites.corpus.county)
    demo_sites.set_fault("/weibo/api/", "login_expired")
    page = get(demo_sites, target, "weibo")
    with pytest.raises(LoginExpired) as err:
        page.posts()
    assert err.value.reason == "login_expired" and err.value.stat == "login_expired"
    assert "登录已失效" in str(err.value)


def test_weibo_login_page_instead_of_json_is_login_expired(demo_sites: DemoSites) -> None:
    demo_sites.set_fault("/weibo/api/", "login_wall")
    with pytest.raises(LoginExpired):
        get(demo_sites, weibo_api(demo_sites, demo_sites.corpus.county), "weibo").posts()


@pytest.mark.parametrize(
    ("fault", "reason"), [("captcha", "captcha"), ("login_wall", "login_required"), ("http_403", "blocked")]
)
def test_interstitial_pages_are_typed_failures(demo_sites: DemoSites, fault: str, reason: str) -> None:
    item = demo_sites.corpus.by_platform("tieba")[0]
    demo_sites.set_fault("/tieba/", fault)
    for target, kind in [(f"/tieba/p/{item.number}", "tieba"), (f"/tieba/f?kw={quote(item.title)}", "tieba_list")]:
        page = get(demo_sites, target, kind)
        with pytest.raises(ParseError) as err:
            page.posts()
            page.links()
        assert err.value.reason == reason, (fault, target)


def test_redesigned_page_over_http_raises_no_items(demo_sites: DemoSites) -> None:
    demo_sites.set_fault("/bbs/", "redesign")
    with pytest.raises(ParseError) as err:
        get(demo_sites, "/bbs/forum.php?mod=forumdisplay&fid=2", "discuz_list").links()
    assert err.value.reason == "no_items"


@pytest.mark.browser
def test_rendered_topic_page_gives_the_same_weibos_as_the_api(demo_sites: DemoSites) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            tab = browser.new_page()
            tab.goto(demo_sites.url("/weibo/topic.html"))
            tab.wait_for_selector("body[data-loaded]", timeout=15000)
            html, url = tab.content(), tab.url
            unrendered = httpx.get(url, timeout=10).content
        finally:
            browser.close()
    rendered = page_for("weibo_rendered", PageInput(url=url, body=html.encode("utf-8"))).posts()
    topic = [i for i in demo_sites.corpus.by_platform("weibo") if i.topic and not i.deleted]
    assert len(rendered) == len(topic) > 0
    by_bid = {i.bid: i for i in topic}
    for post in rendered:
        item = by_bid[post.url.rsplit("/", 1)[1]]
        assert post.author == item.author and post.metrics.likes == item.likes
        assert post.content.split("\n//")[0].replace(" ", "") in item.text.replace("\n", "").replace(" ", "")
    extends = page_for("weibo_rendered", PageInput(url=url, body=html.encode("utf-8"))).links()
    cut = {p.extra["mid"] for p in rendered if p.extra.get("long_text")}
    assert extends and {link.meta["id"] for link in extends} == cut
    assert all(httpx.get(link.url, timeout=10).json()["ok"] == 1 for link in extends)
    # The JSON API path gives the same posts the same ids.
    containerid = quote("231522type=1&q=#" + demo_sites.corpus.county + "教育#", safe="")
    api = get(demo_sites, f"/weibo/api/container/getIndex?containerid={containerid}&page_type=searchall", "weibo")
    assert {p.id for p in api.posts()} <= {p.id for p in rendered}
    # Captured before its script ran, the page holds no cards: that is a failure, not "no posts".
    with pytest.raises(ParseError) as err:
        page_for("weibo_rendered", PageInput(url=url, body=unrendered)).posts()
    assert err.value.reason == "no_items"


@pytest.mark.parametrize(("target", "kind"), [("/news/rss.xml", "feed"), ("/weibo/api/container/getIndex", "weibo")])
def test_captcha_instead_of_feed_or_json_says_captcha(demo_sites: DemoSites, target: str, kind: str) -> None:
    demo_sites.set_fault(target, "captcha")
    with pytest.raises(ParseError) as err:
        get(demo_sites, target + "?containerid=x", kind).posts()
    assert err.value.reason == "captcha"
