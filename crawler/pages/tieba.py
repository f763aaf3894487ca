"""Baidu Tieba: the board list (``/f?kw=``) and thread pages (``/p/<id>``).

Markup follows the saved real pages: list items ``li.j_thread_list`` with a JSON ``data-field``; thread
floors ``#j_p_postlist .l_post`` whose body is ``div[id^=post_content_]`` (every floor also holds a hidden
"该楼层疑似违规已被系统折叠" notice, which must not become the text). Real Tieba ships parts of the page
inside HTML comments (BigPipe); when the live DOM has no items we parse the commented-out markup too.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from parsel import Selector

from crawler.pages.base import BasePage, Link
from crawler.pages.dates import parse_datetime
from crawler.pages.guards import check_page, title_of
from crawler.pages.text import node_text, to_int
from yuqing.model import Metrics, Post, PostKind, post_id_for

_FLOOR = re.compile(r"^(\d+)楼$")
_TIME = re.compile(r"^\d{4}-\d{1,2}-\d{1,2} \d{1,2}:\d{2}$")
_L_POST = "./descendant::*[contains(concat(' ', normalize-space(@class), ' '), ' l_post ')]"
_TITLE_SUFFIX = re.compile(r"【[^】]*吧】_百度贴吧$|_百度贴吧$")


def _field(sel: Selector) -> dict[str, Any]:
    try:
        value = json.loads(sel.attrib.get("data-field") or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _uncommented(sel: Selector, page_text: str, query: str) -> list[Selector]:
    """Items from the DOM, or else from the BigPipe markup hidden in comments."""
    found = sel.css(query)
    if found or "<!--" not in page_text:
        return list(found)
    return list(Selector(text=page_text.replace("<!--", "").replace("-->", "")).css(query))


def _floor_texts(floor: Any) -> tuple[list[str], list[str]]:
    """What ``.tail-info::text, .post-tail-wrap span::text`` and ``.p_author_name::text`` select in a floor (text
    nodes in document order), from one walk of its tree: the three class queries cost several times more."""
    tails: list[str] = []
    authors: list[str] = []

    def walk(el: Any, in_wrap: bool) -> None:
        classes = (el.get("class") or "").split()
        is_tail = "tail-info" in classes or (in_wrap and el.tag == "span")
        is_author = "p_author_name" in classes
        texts = [el.text] if el.text is not None else []
        child_wrap = in_wrap or "post-tail-wrap" in classes
        for child in el:
            if is_tail or is_author:  # this element's own text nodes, in order with its children's
                _emit(texts, tails if is_tail else None, authors if is_author else None)
                texts = []
            if isinstance(child.tag, str):  # comments and processing instructions hold no elements
                walk(child, child_wrap)
            if child.tail is not None:
                texts.append(child.tail)
        if is_tail or is_author:
            _emit(texts, tails if is_tail else None, authors if is_author else None)

    walk(floor, False)
    return tails, authors


def _emit(texts: list[str], *targets: list[str] | None) -> None:
    for target in targets:
        if target is not None:
            target.extend(texts)


def thread_url(url: str) -> str:
    """The canonical thread URL: the /p/<id> path without page or anchor."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


class TiebaListPage(BasePage):
    """Thread links with reply counts and last-reply times in ``meta`` (for revisiting), and the next page."""

    def links(self) -> list[Link]:
        check_page(self.page)
        items = _uncommented(self.sel, self.page.text(), self.option("item", "li.j_thread_list"))
        if not items:
            raise self.fail("no_items", "li.j_thread_list")
        now = self.page.crawl_time
        out: list[Link] = []
        for li in items:
            anchor = li.css("a.j_th_tit")
            href = anchor.attrib.get("href") if anchor else None
            if not href:
                continue
            field = _field(li)
            last_raw = li.css(".threadlist_reply_date::text").get("").strip()
            last = parse_datetime(last_raw, now) if last_raw else None
            meta = {
                "tid": field.get("id") or li.attrib.get("data-tid"),
                "replies": to_int(li.css(".threadlist_rep_num::text").get()) or field.get("reply_num") or 0,
                "author": li.css(".frs-author-name::text").get("").strip() or field.get("author_name") or "",
                "created_raw": li.css(".is_show_create_time::text").get("").strip(),
                "last_reply_raw": last_raw,
                "last_reply_at": last.isoformat() if last else None,
                "pinned": bool(field.get("is_top")) or "thread_top" in li.attrib.get("class", ""),
            }
            title = anchor.attrib.get("title") or node_text(anchor[0])
            out.append(Link(url=thread_url(self.absolute(href)), kind="thread", title=title, meta=meta))
        nxt = self.sel.css("#frs_list_pager a.next::attr(href), a.next.pagination-item::attr(href)").get()
        if nxt:
            out.append(Link(url=self.absolute(nxt), kind="next"))
        return out

    def posts(self) -> list[Post]:
        return []  # a list shows only excerpts; the thread page has the text


class TiebaThreadPage(BasePage):
    """Floors of one thread page: floor 1 is the thread post, the others replies (thread_id = floor 1's id)."""

    def posts(self) -> list[Post]:
        check_page(self.page)
        postlist = self.by_id("j_p_postlist")  # the id table first: "#j_p_postlist .l_post" scans the whole tree
        floors = list(postlist.xpath(_L_POST)) if postlist is not None else []
        floors = floors or _uncommented(self.sel, self.page.text(), "#j_p_postlist .l_post")
        if not floors:
            raise self.fail("no_items", "#j_p_postlist .l_post")
        url = thread_url(self.url)
        thread_id = post_id_for(url)  # floor 1's id; replies on later pages know it without seeing floor 1
        title = self._title()
        replies = to_int(self.sel.css(".l_reply_num span.red::text").get())
        posts: list[Post] = []
        for node in floors:
            field = _field(node)
            content = node.css("div[id^=post_content_]")
            if not content:
                continue  # an advert or a folded placeholder floor without a body
            text = node_text(content[0])
            if not text:
                text = "[图片]" if content.css("img") else ""
            raw_tails, authors = _floor_texts(node.root)
            tails = [t.strip() for t in raw_tails]
            floor = to_int(next((t for t in tails if _FLOOR.match(t)), None))
            floor = floor or (field.get("content") or {}).get("post_no")
            raw_time = next((t for t in reversed(tails) if _TIME.match(t)), "") or str(
                (field.get("content") or {}).get("date", "")
            )
            author = authors[0].strip() if authors else ""
            author = author or ((field.get("author") or {}).get("user_name") or "")
            is_first = floor == 1
            if not text:
                continue  # a floor emptied by the platform; the others still count
            posts.append(
                self.make_post(
                    url=url,
                    content=text,
                    kind=PostKind.thread if is_first else PostKind.reply,
                    floor=floor,
                    id_key=None if is_first else floor,
                    title=title,
                    author=author,
                    published_at=parse_datetime(raw_time, self.page.crawl_time),
                    published_at_raw=raw_time,
                    metrics=Metrics(comments=replies if is_first else (field.get("content") or {}).get("comment_num")),
                    thread_id=None if is_first else thread_id,
                    extra={"pid": node.attrib.get("data-pid", "")},
                )
            )
        if not posts:
            raise self.fail("no_items", "div[id^=post_content_]")
        return posts

    def links(self) -> list[Link]:
        pager = self.sel.css(".l_pager a")
        nxt = next((a.attrib.get("href") for a in pager if node_text(a) == "下一页"), None)
        return [Link(url=self.absolute(nxt), kind="next")] if nxt else []

    def _title(self) -> str:
        title = self.sel.css(".core_title_txt::attr(title), h1.core_title_txt::text").get("")
        return title.strip() or _TITLE_SUFFIX.sub("", title_of(self.page.text()))
