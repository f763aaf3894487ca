"""Discuz! X forums: ``forumdisplay`` lists and ``viewthread`` pages, desktop (X3.x) and mobile touch
(``mobile=2``) templates. Replies become separate posts linked to the thread (thread_id = floor 1's id).

Both templates of one thread map to the same canonical URL (``forum.php?mod=viewthread&tid=N``), so a
post has one id whichever template it was read from.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

from parsel import Selector

from crawler.pages.base import BasePage, Link
from crawler.pages.dates import parse_datetime
from crawler.pages.guards import check_page
from crawler.pages.text import node_text, to_int
from yuqing.model import Metrics, Post, PostKind, post_id_for

# Inside a post body: login prompts, anti-copy noise, edit notices, attachments and quoted replies.
_NOISE_CLASSES = frozenset(("attach_nopermission", "jammer", "pstatus", "quote", "tip", "locked", "aimg_tip"))
_NOISE_TAGS = frozenset(("ignore_js_op", "script", "style"))
_FLOOR_WORDS = {"楼主": 1, "沙发": 2, "板凳": 3, "地板": 4}
_REWRITE = re.compile(r"/thread-(\d+)-\d+-\d+\.html$")
_POSTLIST_CLASS = re.compile(r"""class\s*=\s*["']?(?:[^"'>]*\s)?postlist[\s"'>]""", re.I)


def canonical_thread_url(url: str) -> str:
    """``.../forum.php?mod=viewthread&tid=N`` for any page, template or rewrite form of thread N."""
    parts = urlsplit(url)
    path = parts.path
    tid = (parse_qs(parts.query).get("tid") or parse_qs(parts.query).get("ptid") or [""])[0]
    m = _REWRITE.search(path)
    if m:
        tid = m.group(1)
        path = path[: m.start()] + "/forum.php"
    if not tid:
        return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))
    return urlunsplit((parts.scheme, parts.netloc, path, f"mod=viewthread&tid={tid}", ""))


def _message_text(node: Selector) -> str:
    """A post body's text; an image-only post reads "[图片]", a banned or emptied one ""."""
    text = node_text(node)
    return text or ("[图片]" if node.css("img") else "")


def _is_noise(el: Any) -> bool:
    return el.tag in _NOISE_TAGS or not _NOISE_CLASSES.isdisjoint((el.get("class") or "").split())


def _drop_noise(page_sel: Selector, page_text: str, cache: dict[str, object]) -> None:
    """Remove login prompts, anti-copy noise and quotes from the page tree once (posts only read bodies):
    what ``#postlist :is(NOISE), .postlist .message :is(NOISE)`` selects, found by one walk over the post
    list instead (that selector alone cost more than the rest of the page's parsing)."""
    if cache.get("discuz_clean"):
        return
    cache["discuz_clean"] = True
    scopes = list(page_sel.xpath("id('postlist')"))
    if _POSTLIST_CLASS.search(page_text):  # the touch template's post list (a tree scan: only when present)
        scopes += page_sel.xpath("//*[contains(concat(' ', normalize-space(@class), ' '), ' postlist ')]"
                                 "//*[contains(concat(' ', normalize-space(@class), ' '), ' message ')]")
    noise: dict[Any, None] = {}  # ordered, each once (a scope may hold another)
    for scope in scopes:
        for el in scope.root.iterdescendants():
            if isinstance(el.tag, str) and _is_noise(el):
                noise[el] = None
    for el in noise:
        el.drop_tree()  # keeps the tail text, as Selector.drop does


def _check_message(page_sel: Selector, url: str, fail: type) -> None:
    """Discuz! answers a missing thread or board with a 200 "提示信息" page."""
    found = page_sel.xpath("id('messagetext')")
    msg = node_text(found[0]) if found else ""
    if msg:
        reason = "login_required" if "登录" in msg else "deleted"
        raise fail(reason, url, msg.split("\n")[0])


class DiscuzListPage(BasePage):
    """Thread links (reply and view counts, last post time in ``meta``) and the next page."""

    def links(self) -> list[Link]:
        from crawler.pages.errors import ParseError

        check_page(self.page)
        _check_message(self.sel, self.url, ParseError)
        rows = self.sel.css("tbody[id^=normalthread_], tbody[id^=stickthread_]")
        found = [self._desktop_row(r) for r in rows] if rows else [self._touch_row(a) for a in self._touch_items()]
        out = [link for link in found if link is not None]
        if not out:
            raise self.fail("no_items", "tbody[id^=normalthread_] / .threadlist li")
        nxt = self.sel.css("a.nxt::attr(href)").get()
        if nxt:
            out.append(Link(url=self.absolute(nxt), kind="next"))
        return out

    def posts(self) -> list[Post]:
        return []

    def _desktop_row(self, row: Selector) -> Link | None:
        anchor = row.css("a.xst")
        if not anchor:
            return None
        by = row.css("td.by")
        last_em = by[-1].css("em") if len(by) > 1 else None
        # Recent times read "3 小时前" with the exact time in a title attribute.
        last_raw = (last_em.css("span::attr(title)").get() or node_text(last_em[0])) if last_em else ""
        last = parse_datetime(last_raw, self.page.crawl_time)
        meta = {
            "tid": row.attrib.get("id", "").split("_")[-1],
            "replies": to_int(row.css("td.num a::text").get()) or 0,
            "views": to_int(row.css("td.num em::text").get()),
            "author": node_text(by[0].css("cite")[0]) if by and by[0].css("cite") else "",
            "created_raw": (by[0].css("em span::attr(title)").get() or node_text(by[0].css("em")[0]))
            if by and by[0].css("em")
            else "",
            "last_reply_raw": last_raw,
            "last_reply_at": last.isoformat() if last else None,
            "pinned": row.attrib.get("id", "").startswith("stickthread_"),
        }
        url = canonical_thread_url(self.absolute(anchor.attrib["href"]))
        return Link(url=url, kind="thread", title=node_text(anchor[0]), meta=meta)

    def _touch_items(self) -> list[Selector]:
        return list(self.sel.css(".threadlist li a[href*='viewthread'], .threadlist li a[href*='thread-']"))

    def _touch_row(self, anchor: Selector) -> Link | None:
        copy = Selector(text=anchor.get())
        author = copy.css(".by::text").get("").strip()
        replies = to_int(copy.css(".num::text").get())
        copy.css(".by, .num, .mico, .icon_top").drop()
        title = node_text(copy.css("body")[0]).replace("\n", " ")
        url = canonical_thread_url(self.absolute(anchor.attrib["href"]))
        return Link(url=url, kind="thread", title=title, meta={"replies": replies or 0, "author": author})


class DiscuzThreadPage(BasePage):
    """The floors of one viewthread page, desktop or touch template."""

    def posts(self) -> list[Post]:
        from crawler.pages.errors import ParseError

        check_page(self.page)
        _check_message(self.sel, self.url, ParseError)
        _drop_noise(self.sel, self.page.text(), self.page._cache)
        url = canonical_thread_url(self.url)
        thread_id = post_id_for(url)
        subject = self.by_id("thread_subject")
        title = node_text(subject) if subject is not None else ""
        postlist = self.by_id("postlist")
        desktop = postlist.xpath("./div[starts-with(@id, 'post_')]") if postlist is not None else []
        read = (
            [self._desktop_floor(n, i) for i, n in enumerate(desktop)]
            if desktop
            else [self._touch_floor(n, i) for i, n in enumerate(self.sel.css(".postlist .plc[id^=pid]"))]
        )
        floors = [f for f in read if f is not None]
        if not floors:
            raise self.fail("no_items", "td[id^=postmessage_] / .message")
        if not title:
            heading = self.sel.css(".postlist > h2")
            title = node_text(heading[0]) if heading else ""
        head = self.sel.css(".hm.ptn .xi1::text").getall()  # 查看: N | 回复: M (desktop only)
        views, replies = (to_int(head[0]), to_int(head[1])) if len(head) == 2 else (None, None)
        posts: list[Post] = []
        for floor, author, raw_time, text, pid in floors:
            first = floor == 1
            posts.append(
                self.make_post(
                    url=url,
                    content=text,
                    kind=PostKind.thread if first else PostKind.reply,
                    floor=floor,
                    id_key=None if first else floor,
                    title=title,
                    author=author,
                    published_at=parse_datetime(raw_time, self.page.crawl_time),
                    published_at_raw=raw_time,
                    metrics=Metrics(comments=replies, views=views) if first else Metrics(),
                    thread_id=None if first else thread_id,
                    extra={"pid": pid},
                )
            )
        return posts

    def links(self) -> list[Link]:
        nxt = self.sel.css("a.nxt::attr(href)").get()
        return [Link(url=self.absolute(nxt), kind="next")] if nxt else []

    def _page_offset(self) -> int:
        page = to_int((parse_qs(urlsplit(self.url).query).get("page") or ["1"])[0]) or 1
        return (page - 1) * int(self.option("posts_per_page", 10))

    def _desktop_floor(self, node: Selector, index: int) -> tuple[int, str, str, str, str] | None:
        message = node.css("td[id^=postmessage_]")
        if not message:
            return None  # a deleted or banned floor ("提示: 作者被禁止或删除 内容自动屏蔽")
        pid = message.attrib["id"].removeprefix("postmessage_")
        num = node.css("a[id^=postnum]")
        label = node_text(num[0]) if num else ""
        floor = _FLOOR_WORDS.get(label) or to_int(label) or self._page_offset() + index + 1
        by = node.css(".authi a.xw1")  # the poster's name (in the .pls column on X3.x)
        author = node_text(by[0]) if by else "匿名"
        posted = node.css("em[id^=authorposton]")
        raw = ""
        if posted:
            raw = posted.css("span::attr(title)").get() or node_text(posted[0])
        raw = raw.removeprefix("发表于").strip()
        text = _message_text(message[0])
        return (floor, author, raw, text, pid) if text else None  # banned floors ("作者被禁止或删除") are skipped

    def _touch_floor(self, node: Selector, index: int) -> tuple[int, str, str, str, str] | None:
        message = node.css(".message")
        if not message:
            return None
        label = node.css(".authi em::text").get("").strip()
        floor = _FLOOR_WORDS.get(label) or to_int(label) or self._page_offset() + index + 1
        author = node.css(".authi b a::text, .authi b::text").get("").strip()
        raw = node.css(".authi li.rela::text, .authi li:nth-child(2)::text").get("").strip()
        text = _message_text(message[0])
        return (floor, author, raw, text, node.attrib.get("id", "").removeprefix("pid")) if text else None
