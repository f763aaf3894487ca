"""Page objects on the real saved pages in ../shared/fixtures, against expected output on disk.

Run with YUQING_UPDATE_EXPECTED=1 to rewrite tests/expected/pages/*.jsonl after a deliberate change,
then read the diff: it is the review of what the parser now extracts.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from crawler.pages import LoginExpired, PageInput, ParseError, page_for
from tests.conftest import shared_path

pytestmark = pytest.mark.shared

EXPECTED = Path(__file__).parent / "expected" / "pages"
CRAWLED_AT = datetime(2026, 11, 30, 3, 0, tzinfo=timezone.utc)  # frozen: relative times resolve against it
WEIBO_API = "https://m.weibo.cn/api/container/getIndex?containerid=100103type%3D1%26q%3Dx&page_type=searchall"

# name, page type, fixture file, URL it was served at, options
CASES: list[tuple[str, str, str, str, dict[str, Any]]] = [
    *[
        (f"news_{stem}", "news", f"news/{stem}.html", f"https://news.example.cn/{stem}.html", {})
        for stem in (
            "163_9", "baijiahao_2", "cjn_1", "gzggw_1", "huanqiu_1", "njxfhn_1", "people_1",
            "shanxi_1", "sina_5", "sxmu_1", "thepaper_2", "xinhuanet_1", "zyyfy_1",
        )
    ],
    ("feed_dapenti_rss", "feed", "rss/dapenti_blog_iframe.xml", "http://www.dapenti.com/blog/rss2.asp", {}),
    ("feed_ruanyifeng_atom", "feed", "rss/www-ruangyifeng-com-blog-atom.xml", "http://www.ruanyifeng.com/blog/atom.xml",
     {"feed_only": True}),
    ("feed_oschina_bozo", "feed", "rss/https-www-oschina-net-news-rss-show-industry.xml",
     "https://www.oschina.net/news/rss", {}),
    ("feed_caogen_bom", "feed", "rss/http-www-caogen-com-adminsite-rss-xml.xml", "http://www.caogen.com/rss.xml", {}),
    ("feed_hexun_gbk_html", "feed", "rss/http-blog-hexun-com-group-getrssresouce-aspx-classid-74.xml",
     "http://blog.hexun.com/group/getrssresouce.aspx?classid=74", {}),
    ("tieba_list", "tieba_list", "tieba/tieba_list_1.html", "https://tieba.baidu.com/f?kw=%E8%B4%B4%E5%90%A7", {}),
    ("tieba_thread", "tieba", "tieba/tieba_thread_8057560733.html", "https://tieba.baidu.com/p/8057560733", {}),
    ("discuz_list", "discuz_list", "discuz/catalog_page.html",
     "http://bbs.talkop.com/forum.php?mod=forumdisplay&fid=49", {}),
    ("discuz_thread", "discuz", "discuz/viewthread_3.html",
     "http://bbs.talkop.com/forum.php?mod=viewthread&tid=108081&extra=page%3D1&page=1", {}),
    ("discuz_x33_suggestion", "discuz", "discuz/discuz_x33_viewthread_suggestion.html",
     "https://bbs.tiancity.com/forum.php?mod=viewthread&tid=53876", {}),
    ("discuz_list_netease", "discuz_list", "discuz/netease_forum_list_1.html",
     "http://nsh.bbs.163.com/forum.php?mod=forumdisplay&fid=9", {}),
    ("news_list_discuz_rewrite", "news_list", "discuz/netease_forum_list_1.html",
     "http://nsh.bbs.163.com/forum-9-1.html", {"follow": [r"/thread-\d+-1-1\.html$"], "paginate": "a.nxt"}),
    ("weibo_search", "weibo", "weibo/searchall_q-guaxue_2018_raw.json", WEIBO_API, {}),
    ("weibo_timeline", "weibo", "weibo/getIndex_containerid-107603_weibo-tab_page2.json",
     "https://m.weibo.cn/api/container/getIndex?containerid=1076031669879400&page=2", {}),
    ("weibo_extend", "weibo_extend", "weibo/statuses_extend.json",
     "https://m.weibo.cn/statuses/extend?id=4383404751066167", {}),
    ("weibo_comments_hotflow", "weibo_comments", "weibo/comments_hotflow.json",
     "https://m.weibo.cn/comments/hotflow?id=4383183661430868&mid=4383183661430868&max_id_type=0",
     {"link": {"url": "https://m.weibo.cn/status/HyTZc60ew", "post_id": "c0ffee0000000000"}}),
    ("weibo_comments_show", "weibo_comments", "weibo/api_comments_show.json",
     "https://m.weibo.cn/api/comments/show?id=4383183661430868&page=1", {}),
    ("weibo_status_show", "weibo_status", "weibo/statuses_show.json",
     "https://m.weibo.cn/statuses/show?id=4383411844046171", {"status_url": "https://m.weibo.cn/status/{id}"}),
    ("weibo_userinfo_not_posts", "weibo", "weibo/getIndex_type-uid_userinfo.json",
     "https://m.weibo.cn/api/container/getIndex?type=uid&value=1669879400", {}),
]


def run_case(kind: str, fixture: str, url: str, options: dict[str, Any]) -> list[dict[str, Any]]:
    """What the page object says about one saved page, as JSON-ready records."""
    body = shared_path("fixtures", *fixture.split("/")).read_bytes()
    page = page_for(kind, PageInput(url=url, body=body, crawled_at=CRAWLED_AT, options=options))
    try:
        posts = page.posts()
        links = page.links()
    except ParseError as exc:
        return [{"error": exc.reason, "login_expired": isinstance(exc, LoginExpired)}]
    return [post.model_dump(mode="json") for post in posts] + [
        {"link": link.url, "kind": link.kind, "title": link.title, "meta": link.meta} for link in links
    ]


@pytest.mark.parametrize(("name", "kind", "fixture", "url", "options"), CASES, ids=[c[0] for c in CASES])
def test_matches_expected_output(name: str, kind: str, fixture: str, url: str, options: dict[str, Any]) -> None:
    records = run_case(kind, fixture, url, options)
    path = EXPECTED / f"{name}.jsonl"
    text = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in records)
    if os.environ.get("YUQING_UPDATE_EXPECTED"):
        path.write_text(text, encoding="utf-8")
    expected = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in expected] == [json.loads(line) for line in text.splitlines()]


def records_of(name: str) -> list[dict[str, Any]]:
    case = next(c for c in CASES if c[0] == name)
    return run_case(*case[1:])


def test_articles_have_title_text_and_shanghai_time() -> None:
    [people] = records_of("news_people_1")
    assert people["title"] == "女儿出嫁，郑板桥画了几笔兰花当嫁妆"
    assert people["published_at_raw"] == "2019年06月15日08:18"
    assert people["published_at"] == "2019-06-15T00:18:00Z"  # 08:18 in Shanghai
    assert "父亲节" in people["content"] and "�" not in people["content"]  # declared gb2312, stored as UTF-8
    [sina] = records_of("news_sina_5")
    assert sina["published_at"] == "2019-10-23T01:10:42Z" and "陈同佳" in sina["content"]


def test_tieba_thread_floors_skip_the_folded_notice() -> None:
    posts = records_of("tieba_thread")
    assert [p["floor"] for p in posts] == [1, 2, 3, 6, 8, 9]
    assert posts[0]["kind"] == "thread" and posts[0]["metrics"]["comments"] == 6
    assert all(p["kind"] == "reply" and p["thread_id"] == posts[0]["id"] for p in posts[1:])
    assert not any("系统折叠" in p["content"] for p in posts)
    assert posts[1]["author"] == "逝者如斯不舍昼夜" and posts[1]["published_at_raw"] == "2022-11-26 15:19"


def test_discuz_thread_drops_login_prompt_and_counts_views() -> None:
    posts = records_of("discuz_thread")
    assert len(posts) == 10 + 1  # ten floors and the next-page link
    first = posts[0]
    assert first["floor"] == 1 and first["metrics"] == {"reposts": None, "comments": 88, "likes": None, "views": 20985}
    assert "马上注册" not in first["content"] and first["content"].startswith("本帖内容为独立汉化作品")
    assert posts[-1]["kind"] == "next" and posts[-1]["link"].endswith("page=2")


def test_hexun_gbk_page_instead_of_feed_is_not_a_feed() -> None:
    assert records_of("feed_hexun_gbk_html") == [{"error": "not_a_feed", "login_expired": False}]


def test_weibo_cards_in_card_groups_and_long_text_links() -> None:
    records = records_of("weibo_search")
    posts = [r for r in records if "content" in r]
    links = [r for r in records if "link" in r]
    assert len(posts) == 13 and all(p["kind"] == "weibo" for p in posts)
    assert {link["kind"] for link in links} == {"extend", "next"}
    long_ids = {p["id"] for p in posts if p["extra"].get("long_text")}
    assert long_ids == {link["meta"]["post"]["id"] for link in links if link["kind"] == "extend"}
    assert not any(p["content"].endswith("全文") for p in posts)


def test_user_info_response_has_no_weibo_cards() -> None:
    assert records_of("weibo_userinfo_not_posts")[0]["error"] == "no_items"
