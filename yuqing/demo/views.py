"""The demo sites' pages: one view per URL family, rendered from the corpus with the templates in site_files/.

Markup and JSON follow the real samples in ../shared/fixtures (Tieba, Discuz! X3.4, m.weibo.cn, Chinese
news and government pages). ``routes(sites)`` maps URL patterns to views; sites.py serves them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from html import escape as html_escape
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote

from markupsafe import Markup, escape

from yuqing.demo.content import SHANGHAI, DemoCorpus, DemoItem, Reply
from yuqing.model import utcnow

if TYPE_CHECKING:
    from yuqing.demo.sites import DemoSites

PAGE_SIZES = {
    "gov": 8,
    "search": 10,
    "tieba_list": 10,
    "tieba_thread": 30,
    "discuz_list": 10,
    "discuz_thread": 10,
    "weibo": 10,
}


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


# --- the views --------------------------------------------------------------------------------------

View = Callable[[re.Match[str], dict[str, str]], Response]


def _html(text: str, status: int = 200, charset: str = "utf-8", declared: str | None = "utf-8") -> Response:
    ctype = f"text/html; charset={declared}" if declared else "text/html"
    # Characters a legacy charset lacks become numeric references, as GBK/Big5 sites write them.
    return Response(status, text.encode(charset, errors="xmlcharrefreplace"), ctype)


def _json(data: Any) -> Response:
    return Response(200, json.dumps(data, ensure_ascii=False).encode("utf-8"), "application/json; charset=utf-8")


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return default


def _local(dt: datetime) -> datetime:
    return dt.astimezone(SHANGHAI)


def cn_date(dt: datetime, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return _local(dt).strftime(fmt)


def discuz_date(dt: datetime) -> str:
    """Discuz! writes months and days without leading zeros: 2026-11-4 09:05."""
    d = _local(dt)
    return f"{d.year}-{d.month}-{d.day} {d:%H:%M}"


def search_time(dt: datetime, now: datetime) -> str:
    age = now - dt
    if age < timedelta(hours=1):
        return f"{max(1, int(age.total_seconds() // 60))}分钟前"
    if age < timedelta(hours=24):
        return f"{int(age.total_seconds() // 3600)}小时前"
    d = _local(dt)
    return f"{d.year}年{d.month}月{d.day}日 {d:%H:%M}"


def weibo_time(item: DemoItem, now: datetime) -> str:
    """created_at as m.weibo.cn shows it: a mix of relative and absolute forms."""
    dt = item.published_at
    if item.number % 5 == 0:  # the API's full form
        return _local(dt).strftime("%a %b %d %H:%M:%S +0800 %Y")
    age = now - dt
    d, n = _local(dt), _local(now)
    if age < timedelta(minutes=1):
        return "刚刚"
    if age < timedelta(hours=1):
        return f"{int(age.total_seconds() // 60)}分钟前"
    if d.date() == n.date():
        return f"今天 {d:%H:%M}"
    if d.date() == (n - timedelta(days=1)).date():
        return f"昨天 {d:%H:%M}"
    if d.year == n.year:
        return f"{d:%m-%d}"
    return f"{d:%Y-%m-%d}"


def _modified(resp: Response, *times: datetime) -> Response:
    """Last-Modified from the content's own times, so If-Modified-Since gets a 304 until something changes."""
    resp.headers["Last-Modified"] = format_datetime(max(times).astimezone(timezone.utc), usegmt=True)
    return resp


def _latest(item: DemoItem) -> datetime:
    return max([item.published_at, *(r.published_at for r in item.replies)])


def _paged(seq: list[Any], size: int, wanted: int) -> tuple[list[Any], int, int]:
    """One page of a sequence: (the page's items, the page number clamped to 1..pages, pages)."""
    pages = max(1, -(-len(seq) // size))
    page = min(max(1, wanted), pages)
    return seq[(page - 1) * size : page * size], page, pages


def _paragraphs(text: str) -> list[str]:
    return [p for p in text.split("\n") if p.strip()]


def _highlight(text: str, words: list[str]) -> Markup:
    """Escaped text with the query words in <em>, as search engines mark them."""
    out = escape(text)
    for w in sorted(set(words), key=len, reverse=True):
        if w:
            out = Markup(out.replace(escape(w), Markup("<em>") + escape(w) + Markup("</em>")))
    return Markup(out)


def _matches(item: DemoItem, words: list[str]) -> int:
    """How well an item matches a query, loosely like a search engine that splits the query into bigrams."""
    hay = item.title + item.text
    score = 0
    for w in words:
        if w in hay:
            score += 10
        elif len(w) >= 3 and any(w[i : i + 2] in hay for i in range(len(w) - 1)):
            score += 1
    return score


class Pages:
    """The views of every URL family; each takes the URL match and the query and returns a Response."""

    def __init__(self, sites: DemoSites) -> None:
        self.s = sites
        self.c = sites.corpus

    def routes(self) -> list[tuple[re.Pattern[str], View]]:
        return [
            (re.compile(p), v)
            for p, v in [
                (r"/", self.index),
                (r"/robots\.txt", self.robots),
                (r"/private/.*", self.secret),
                (r"/deleted(/.*)?", self.deleted),
                (r"/news/rss\.xml", self.rss),
                (r"/news/atom\.xml", self.atom),
                (r"/news/(index\.html)?", self.news_index),
                (r"/news/art/(\d+|big5)\.html", self.news_article),
                (r"/gov/list_(\d+)\.html", self.gov_list),
                (r"/gov/art/(\d+)\.html", self.gov_article),
                (r"/ext/(\d+)\.html", self.ext_article),
                (r"/search/news", self.search),
                (r"/tieba/f", self.tieba_list),
                (r"/tieba/p/(\d+)", self.tieba_thread),
                (r"/bbs/forum\.php", self.discuz),
                (r"/weibo/api/container/getIndex", self.weibo_index),
                (r"/weibo/statuses/extend", self.weibo_extend),
                (r"/weibo/comments/hotflow", self.weibo_comments),
                (r"/weibo/status/(\w+)", self.weibo_status),
                (r"/weibo/topic\.html", self.weibo_topic),
            ]
        ]

    def robots(self, m: re.Match[str], q: dict[str, str]) -> Response:
        return Response(200, b"User-agent: *\nDisallow: /private/\nDisallow: /_demo/\n", "text/plain; charset=utf-8")

    def index(self, m: re.Match[str], q: dict[str, str]) -> Response:
        return _html(self.s.render("index.html"))

    def secret(self, m: re.Match[str], q: dict[str, str]) -> Response:
        return _html(self.s.render("secret.html"))

    def deleted(self, m: re.Match[str], q: dict[str, str]) -> Response:
        return self.s.not_found()

    # news site ---------------------------------------------------------------------------------
    def rss(self, m: re.Match[str], q: dict[str, str]) -> Response:
        items = [i for i in self.c.by_platform("news") if i.encoding != "big5" and not i.deleted]
        body = self.s.render(
            "news_rss.xml",
            items=items,
            rfc822=lambda dt: format_datetime(_local(dt)),
            built=format_datetime(_local(utcnow())),
        )
        resp = Response(200, body.encode("utf-8"), "application/rss+xml; charset=utf-8")
        return _modified(resp, *(i.published_at for i in items)) if items else resp

    def atom(self, m: re.Match[str], q: dict[str, str]) -> Response:
        """The same news as an Atom feed (times in RFC 3339 with +08:00)."""
        items = [i for i in self.c.by_platform("news") if i.encoding != "big5" and not i.deleted]

        def iso(dt: datetime) -> str:
            return _local(dt).isoformat(timespec="seconds")

        updated = iso(max((i.published_at for i in items), default=utcnow()))
        body = self.s.render("news_atom.xml", items=items, iso=iso, updated=updated)
        resp = Response(200, body.encode("utf-8"), "application/atom+xml; charset=utf-8")
        return _modified(resp, *(i.published_at for i in items)) if items else resp

    def news_index(self, m: re.Match[str], q: dict[str, str]) -> Response:
        items = [i for i in self.c.by_platform("news") if i.encoding != "big5" and not i.deleted][:30]
        big5 = next((i for i in self.c.by_platform("news") if i.encoding == "big5"), None)
        return _html(self.s.render("news_index.html", items=items, big5=big5, cn_date=cn_date))

    def news_article(self, m: re.Match[str], q: dict[str, str]) -> Response:
        key = m.group(1)
        item = (
            next((i for i in self.c.by_platform("news") if i.encoding == "big5"), None)
            if key == "big5"
            else self.c.find("news", int(key))
        )
        if item is None or item.deleted or (key != "big5" and item.encoding == "big5"):
            return self.s.not_found()
        related = [i for i in self.c.by_platform("news") if i is not item and i.encoding != "big5"][:5]
        if item.encoding == "big5":
            return _html(self.s.render("news_big5.html", item=item, cn_date=cn_date), charset="big5", declared="Big5")
        meta = {"gbk": "gbk", "utf-8-meta-gb2312": "gb2312"}.get(item.encoding, "utf-8")
        text = self.s.render(
            "news_article.html",
            item=item,
            paragraphs=_paragraphs(item.text),
            related=related,
            cn_date=cn_date,
            meta_charset=meta,
        )
        if item.encoding == "gbk":
            return _modified(_html(text, charset="gbk", declared="GBK"), item.published_at)
        if item.encoding == "utf-8-meta-gb2312":
            # UTF-8 bytes, gb2312 in the meta, no charset in the header
            return _modified(_html(text, declared=None), item.published_at)
        return _modified(_html(text), item.published_at)

    # government site ----------------------------------------------------------------------------
    def gov_list(self, m: re.Match[str], q: dict[str, str]) -> Response:
        page = int(m.group(1))
        chunk, shown, pages = _paged(self.c.by_platform("gov"), PAGE_SIZES["gov"], page)
        if shown != page:  # list_0 or past the last page: like a static site, no such file
            return self.s.not_found()
        return _html(self.s.render("gov_list.html", items=chunk, page=page, pages=pages, cn_date=cn_date))

    def gov_article(self, m: re.Match[str], q: dict[str, str]) -> Response:
        item = self.c.find("gov", int(m.group(1)))
        if item is None:
            return self.s.not_found()
        page = self.s.render("gov_article.html", item=item, paragraphs=_paragraphs(item.text), cn_date=cn_date)
        return _modified(_html(page), item.published_at)

    # other media, reached through the search only --------------------------------------------------
    def ext_article(self, m: re.Match[str], q: dict[str, str]) -> Response:
        item = self.c.find("ext", int(m.group(1)))
        if item is None or item.deleted:
            return self.s.not_found()
        page = self.s.render("ext_article.html", item=item, paragraphs=_paragraphs(item.text), cn_date=cn_date)
        return _modified(_html(page), item.published_at)

    # news search ----------------------------------------------------------------------------------
    def search(self, m: re.Match[str], q: dict[str, str]) -> Response:
        word = q.get("word", "").strip()
        page = max(1, _int(q.get("pn"), 1))  # pn is the 1-based page number ({page} in the source config)
        words = word.split()
        pool = [i for i in self.c.items if i.platform in ("news", "gov", "ext")]
        scored = sorted(((_matches(i, words), i) for i in pool), key=lambda t: (t[0], t[1].published_at), reverse=True)
        hits = [i for score, i in scored if score > 0] if words else []
        size = PAGE_SIZES["search"]
        chunk = hits[(page - 1) * size : page * size]
        t = utcnow()
        results = []
        for i in chunk:
            snippet = i.text.replace("\n", " ")[:90] + "…"
            results.append(
                {
                    "item": i,
                    "time": search_time(i.published_at, t),
                    "snippet": snippet,
                    "title_html": _highlight(i.title, words),
                    "snippet_html": _highlight(snippet, words),
                    "source": i.media
                    or (f"{self.c.county}人民政府网" if i.platform == "gov" else f"{self.c.county}日报"),
                }
            )
        more = page * size < len(hits)
        return _html(
            self.s.render("search.html", word=word, results=results, page=page, more=more, total=len(hits), quote=quote)
        )

    # Tieba ---------------------------------------------------------------------------------------
    def tieba_list(self, m: re.Match[str], q: dict[str, str]) -> Response:
        kw = q.get("kw", "")
        known = kw in (self.c.tieba_board, self.c.county, self.c.tieba_board + "吧")
        items = [i for i in self.c.by_platform("tieba") if not i.deleted] if known else []
        items.sort(key=_latest, reverse=True)  # by last reply, pinned threads on top
        items.sort(key=lambda i: not i.pinned)
        size = PAGE_SIZES["tieba_list"]
        pn = max(0, _int(q.get("pn"), 0))
        chunk = items[pn : pn + size]
        t = _local(utcnow())

        def short_time(dt: datetime) -> str:
            d = _local(dt)
            return f"{d:%H:%M}" if d.date() == t.date() else f"{d.month}-{d.day}"

        rows = [
            {
                "item": i,
                "reply_num": len(i.replies),
                "time": short_time(i.published_at),
                "last": i.replies[-1] if i.replies else None,
                "last_time": short_time(i.replies[-1].published_at if i.replies else i.published_at),
                "field": {
                    "id": i.number,
                    "author_name": i.author,
                    "author_nickname": None,
                    "first_post_id": _pid(i, 1),
                    "reply_num": len(i.replies),
                    "is_bakan": None,
                    "vid": "",
                    "is_good": None,
                    "is_top": True if i.pinned else None,
                    "is_protal": None,
                    "is_membertop": None,
                    "is_multi_forum": None,
                    "frs_tpoint": None,
                },
            }
            for i in chunk
        ]
        nxt = pn + size if pn + size < len(items) else None
        return _html(
            self.s.render(
                "tieba_list.html", kw=kw, known=known, rows=rows, pn=pn, next_pn=nxt, total=len(items), quote=quote
            )
        )

    def tieba_thread(self, m: re.Match[str], q: dict[str, str]) -> Response:
        item = self.c.find("tieba", int(m.group(1)))
        if item is None or item.deleted:
            return _html(self.s.render("tieba_deleted.html"), status=404)
        chunk, page, pages = _paged([_floor_of(item), *item.replies], PAGE_SIZES["tieba_thread"], _int(q.get("pn"), 1))
        posts = [
            {
                "floor": f,
                "pid": _pid(item, f.floor),
                "field": {
                    "author": {"user_id": _uid(f.author), "user_name": f.author, "props": None},
                    "content": {
                        "post_id": _pid(item, f.floor),
                        "is_anonym": False,
                        "forum_id": 21100812,
                        "thread_id": item.number,
                        "post_no": f.floor,
                        "type": "0",
                        "comment_num": 0,
                        "is_fold": 0,
                        "props": None,
                        "post_index": f.floor - 1,
                    },
                },
                "client": ["Android客户端", "iPhone客户端", None][f.floor % 3],
                "time": cn_date(f.published_at),
            }
            for f in chunk
        ]
        page_html = self.s.render(
            "tieba_thread.html",
            item=item,
            posts=posts,
            page=page,
            pages=pages,
            reply_num=len(item.replies),
            quote=quote,
        )
        return _modified(_html(page_html), _latest(item))

    # Discuz! -------------------------------------------------------------------------------------
    def discuz(self, m: re.Match[str], q: dict[str, str]) -> Response:
        mod = q.get("mod", "")
        mobile = q.get("mobile") in ("2", "yes", "touch")
        if mod == "forumdisplay":
            return self.discuz_list(q, mobile)
        if mod == "viewthread":
            return self.discuz_thread(q, mobile)
        if mod == "redirect":
            return self.discuz_redirect(q)
        return _html(self.s.render("discuz_index.html"))

    def discuz_redirect(self, q: dict[str, str]) -> Response:
        """goto=lastpost / findpost: Discuz! answers with a redirect to the page that holds the post."""
        item = self.c.find("discuz", _int(q.get("tid") or q.get("ptid"), -1))
        if item is None:
            return _html(self.s.render("discuz_message.html", message="抱歉，指定的主题不存在或已被删除或正在被审核"))
        size = PAGE_SIZES["discuz_thread"]
        floors = len(item.replies) + 1
        floor = floors
        if q.get("goto") == "findpost":
            floor = next((f for f in range(1, floors + 1) if _pid(item, f) == _int(q.get("pid"), -1)), 1)
        page = (floor - 1) // size + 1
        anchor = f"#pid{_pid(item, floor)}"
        location = f"/bbs/forum.php?mod=viewthread&tid={item.number}&page={page}{anchor}"
        return Response(302, b"", headers={"Location": location})

    def discuz_list(self, q: dict[str, str], mobile: bool) -> Response:
        if q.get("fid") != "2":
            return _html(self.s.render("discuz_message.html", message="抱歉，指定的版块不存在"))
        items = [i for i in self.c.by_platform("discuz") if not i.deleted]
        items.sort(key=_latest, reverse=True)  # the thread with the newest reply first, as Discuz! lists them
        items.sort(key=lambda i: not i.pinned)  # stable: pinned threads on top, each group still by last reply
        chunk, page, pages = _paged(items, PAGE_SIZES["discuz_list"], _int(q.get("page"), 1))
        rows = [
            {
                "item": i,
                "replies": len(i.replies),
                "views": i.views or 37 + 13 * len(i.replies) + i.number % 50,
                "date": discuz_date(i.published_at).split()[0],
                "last": i.replies[-1] if i.replies else None,
                "last_date": discuz_date(i.replies[-1].published_at if i.replies else i.published_at),
            }
            for i in chunk
        ]
        template = "discuz_list_touch.html" if mobile else "discuz_list.html"
        return _html(self.s.render(template, rows=rows, page=page, pages=pages))

    def discuz_thread(self, q: dict[str, str], mobile: bool) -> Response:
        item = self.c.find("discuz", _int(q.get("tid"), -1))
        if item is None or item.deleted:
            return _html(self.s.render("discuz_message.html", message="抱歉，指定的主题不存在或已被删除或正在被审核"))
        floors, page, pages = _paged(
            [_floor_of(item), *item.replies], PAGE_SIZES["discuz_thread"], _int(q.get("page"), 1)
        )
        t = utcnow()
        posts = [
            {
                "floor": f,
                "pid": _pid(item, f.floor),
                "uid": _uid(f.author),
                "date": discuz_date(f.published_at),
                "recent": _recent(f.published_at, t),
            }
            for f in floors
        ]
        template = "discuz_thread_touch.html" if mobile else "discuz_thread.html"
        page_html = self.s.render(
            template,
            item=item,
            posts=posts,
            page=page,
            pages=pages,
            replies=len(item.replies),
            views=item.views or 37 + 13 * len(item.replies) + item.number % 50,
        )
        return _modified(_html(page_html), _latest(item))

    # Weibo ----------------------------------------------------------------------------------------
    def weibo_index(self, m: re.Match[str], q: dict[str, str]) -> Response:
        containerid = q.get("containerid", "")
        inner = {k: v[0] for k, v in parse_qs(containerid).items()}
        word = inner.get("q", "")
        page = max(1, _int(q.get("page"), 1))
        items = [i for i in self.c.by_platform("weibo") if not i.deleted]
        if containerid.startswith("231522") or (word.startswith("#") and word.endswith("#")):
            hits = [i for i in items if i.topic]
        else:
            words = word.split()
            hits = [i for i in items if words and _matches(i, words) > 0]
        size = PAGE_SIZES["weibo"]
        chunk = hits[(page - 1) * size : page * size]
        if not chunk:
            return _json({"ok": 0, "msg": "这里还没有内容", "data": {"cards": []}})
        t = utcnow()
        groups: list[dict[str, Any]] = []
        if page == 1:
            groups.append(
                {
                    "card_type": 11,
                    "show_type": 0,
                    "card_group": [
                        {"card_type": 42, "display_arrow": 0, "show_type": 0, "desc": f"“{word}”的实时微博"}
                    ],
                }
            )
        for start in range(0, len(chunk), 5):
            groups.append(
                {
                    "card_type": 11,
                    "show_type": 1,
                    "card_group": [
                        {
                            "card_type": 9,
                            "card_type_name": "微博",
                            "show_type": 1,
                            "mblog": _mblog(self.s, i, t, word),
                            "scheme": f"{self.s.base_url}/weibo/status/{i.bid}?mblogid={i.bid}",
                        }
                        for i in chunk[start : start + 5]
                    ],
                }
            )
        info = {
            "v_p": "42",
            "containerid": containerid,
            "total": len(hits),
            "show_style": 1,
            "page": page + 1 if page * size < len(hits) else None,
            "title_top": word,
        }
        return _json(
            {
                "ok": 1,
                "data": {
                    "cardlistInfo": info,
                    "cards": groups,
                    "showAppTips": 0,
                    "scheme": "sinaweibo://cardlist?containerid=" + quote(containerid),
                },
            }
        )

    def weibo_extend(self, m: re.Match[str], q: dict[str, str]) -> Response:
        item = _weibo_by_id(self.c, q.get("id", ""))
        if item is None:
            return _json({"ok": 0, "msg": "该微博不存在", "errno": "20101"})
        return _json(
            {
                "ok": 1,
                "data": {
                    "ok": 1,
                    "longTextContent": _weibo_html(item.text, self.s.base_url),
                    "reposts_count": item.reposts,
                    "comments_count": item.comments,
                    "attitudes_count": item.likes,
                },
            }
        )

    def weibo_comments(self, m: re.Match[str], q: dict[str, str]) -> Response:
        """Hot comments like m.weibo.cn/comments/hotflow: pages chained by max_id."""
        item = _weibo_by_id(self.c, q.get("id") or q.get("mid", ""))
        if item is None or not item.replies:
            return _json({"ok": 0, "msg": "快来发表你的评论吧"})
        size = 10
        start = _int(q.get("max_id"), 0)
        chunk = item.replies[start : start + size]
        if not chunk:
            return _json({"ok": 0, "msg": "快来发表你的评论吧"})
        data = [
            {
                "created_at": _local(r.published_at).strftime("%a %b %d %H:%M:%S +0800 %Y"),
                "id": str(item.number + r.floor),
                "rootid": str(item.number + r.floor),
                "floor_number": r.floor - 1,
                "text": _weibo_html(r.text, self.s.base_url),
                "disable_reply": 0,
                "mid": str(item.number + r.floor),
                "user": {"id": _uid(r.author) * 1000 + 3, "screen_name": r.author, "verified": False},
                "like_count": (item.number + r.floor) % 97,
                "liked": False,
                "source": "",
                "total_number": 0,
                "max_id": 0,
                "bid": "",
                "isLikedByMblogAuthor": False,
            }
            for r in chunk
        ]
        nxt = start + size if start + size < len(item.replies) else 0
        pages = -(-len(item.replies) // size)
        return _json(
            {
                "ok": 1,
                "data": {"data": data, "total_number": item.comments, "max_id": nxt, "max": pages, "max_id_type": 0},
            }
        )

    def weibo_status(self, m: re.Match[str], q: dict[str, str]) -> Response:
        item = _weibo_by_id(self.c, m.group(1))
        if item is None:
            return _html(self.s.render("weibo_gone.html"), status=404)
        status = _mblog(self.s, item, utcnow(), "", full=True)
        return _html(
            self.s.render(
                "weibo_status.html",
                item=item,
                render_data=json.dumps([{"status": status, "call": "1"}], ensure_ascii=False).replace("</", "<\\/"),
            )
        )

    def weibo_topic(self, m: re.Match[str], q: dict[str, str]) -> Response:
        topic = f"#{self.c.county}教育#"  # the county's education hashtag, e.g. #示例县教育#
        containerid = "231522type=1&q=" + topic
        return _html(
            self.s.render(
                "weibo_topic.html",
                topic=topic,
                api=f"/weibo/api/container/getIndex?containerid={quote(containerid, safe='')}&page_type=searchall",
            )
        )


def _floor_of(item: DemoItem) -> Reply:
    """The thread's first post as floor 1."""
    return Reply(1, item.author, item.text, item.published_at, item.category, item.relevant, item.schools)


def _pid(item: DemoItem, floor: int) -> int:
    return item.number * 100 + floor if item.platform == "discuz" else 150000000000 + (item.number % 10**8) * 50 + floor


def _uid(name: str) -> int:
    return 100000 + sum(ord(ch) * (i + 1) for i, ch in enumerate(name)) % 899999


def _recent(dt: datetime, now: datetime) -> str | None:
    """Discuz! shows posts of the last day as '3&nbsp;小时前' with the exact time in a title attribute."""
    age = now - dt
    if age < timedelta(hours=1):
        return f"{max(1, int(age.total_seconds() // 60))} 分钟前"
    if age < timedelta(hours=24):
        return f"{int(age.total_seconds() // 3600)} 小时前"
    return None


def _weibo_by_id(c: DemoCorpus, key: str) -> DemoItem | None:
    for i in c.by_platform("weibo"):
        if str(i.number) == key or i.bid == key:
            return None if i.deleted else i
    return None


_TAG = re.compile(r"#([^#\s]{1,30})#")
_EMOTICON = re.compile(r"\[([\w\u4e00-\u9fff]{1,4})\]")
_EMOTICON_FILES = {
    "怒": "d_nu",
    "泪": "d_lei",
    "赞": "d_zan",
    "心": "l_xin",
    "允悲": "d_yunbei",
    "doge": "d_doge",
    "吃惊": "d_chijing",
    "哈哈": "d_haha",
}
_MENTION = re.compile(r"@([\w\u4e00-\u9fff-]{2,20})")


def _weibo_html(text: str, base: str) -> str:
    """Weibo's text HTML: escaped text, hashtags and @mentions as links, line breaks as <br />."""
    out = html_escape(text, quote=False)
    out = _TAG.sub(
        lambda m: (
            f'<a href="{base}/weibo/search?containerid=231522type%3D1%26q%3D%23{quote(m.group(1))}%23">'
            f'<span class="surl-text">#{m.group(1)}#</span></a>'
        ),
        out,
    )
    out = _MENTION.sub(lambda m: f"<a href='/n/{m.group(1)}'>@{m.group(1)}</a>", out)
    out = _EMOTICON.sub(
        lambda m: (
            f'<span class="url-icon"><img alt={m.group(0)} src="//h5.sinaimg.cn/m/emoticon/icon/default/'
            f'{_EMOTICON_FILES.get(m.group(1), "d_xin")}.png" style="width:1em; height:1em;" /></span>'
        ),
        out,
    )
    return out.replace("\n", "<br />")


def _mblog(s: DemoSites, item: DemoItem, now: datetime, word: str, full: bool = False) -> dict[str, Any]:
    long = len(item.text) > 140
    if long and not full:
        text = _weibo_html(item.text[:140], s.base_url) + f'...<a href="/status/{item.bid}">全文</a>'
    else:
        text = _weibo_html(item.text, s.base_url)
    mblog: dict[str, Any] = {
        "created_at": weibo_time(item, now),
        "id": str(item.number),
        "idstr": str(item.number),
        "mid": str(item.number),
        "bid": item.bid,
        "can_edit": False,
        "text": text,
        "textLength": len(item.text.encode("gbk", "replace")),
        "source": ["iPhone客户端", "Android", "微博 weibo.com", "HUAWEI Mate 60"][item.number % 4],
        "favorited": False,
        "user": {
            "id": _uid(item.author) * 1000 + 7,
            "screen_name": item.author,
            "profile_url": f"{s.base_url}/weibo/u/{_uid(item.author)}",
            "verified": item.author.endswith(("速递", "同城")),
            "followers_count": 120 + _uid(item.author) % 50000,
            "gender": "f" if item.number % 2 else "m",
        },
        "reposts_count": item.reposts,
        "comments_count": item.comments,
        "attitudes_count": item.likes,
        "pending_approval_count": 0,
        "isLongText": long,
        "visible": {"type": 0, "list_id": 0},
        "itemid": f"seqid:{item.number % 99991}|type:1|t:|pos:1-0-0|q:{word}|ext:&mid={item.number}&",
    }
    if item.retweet_of:
        try:
            original = s.corpus.get(item.retweet_of)
        except KeyError:
            original = None
        if original is not None:
            mblog["retweeted_status"] = _mblog(s, original, now, word, full=full)
        mblog["raw_text"] = item.text
    return mblog


def routes(sites: DemoSites) -> list[tuple[re.Pattern[str], View]]:
    return Pages(sites).routes()
