"""Weibo through the m.weibo.cn JSON API: search/topic card lists (getIndex) and long text (statuses/extend).

Assumptions, from the saved 2018/2019 responses (no public sample of a current search response exists):
- posts are ``mblog`` objects in cards of ``card_type`` 9, either top-level or inside the ``card_group`` of
  ``card_type`` 11 cards; other card types (users, topics, headers) are skipped;
- ``ok: 1`` is success, ``ok: 0`` the end of the results (an empty page, not an error), ``ok: -100`` or a
  redirect to passport.weibo.cn / an HTML login page means the login (cookie) expired;
- ``text`` is HTML (emoticons as <img alt=[笑]>, topics and @names as links, "全文" when cut at 140
  characters with ``isLongText``); the full text comes from ``/statuses/extend?id=<mid>``, found next to
  the API path (``options["extend_url"]`` overrides it, a template with ``{id}``).
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit, urlunsplit

from parsel import Selector

from crawler.pages.base import BasePage, Link
from crawler.pages.dates import parse_datetime
from crawler.pages.errors import LoginExpired
from crawler.pages.guards import check_page
from crawler.pages.text import node_text, to_int
from yuqing.model import Metrics, Post, PostKind

_MORE = re.compile(r"(\.\.\.|…)?\s*<a [^>]*href=\"?/status/[^>]*>全文</a>\s*$")
_MORE_TEXT = re.compile(r"\s*(\.\.\.|…)\s*全文$")  # the 2018 search API cut text without the link
_LOGIN_URL = re.compile(r"passport\.weibo\.c(n|om)|/signin|/login|visitor/visitor", re.I)


def weibo_html_to_text(html: str) -> str:
    """Weibo text HTML to plain text: emoticon images become their [名称], <br /> a line break."""
    html = _MORE.sub("", html)
    sel = Selector(text=f"<div>{html}</div>")
    for img in sel.root.iter("img"):
        alt = img.get("alt") or ""
        img.tail = alt + (img.tail or "")
    return _MORE_TEXT.sub("", node_text(sel.css("body > div")[0]))


class _WeiboJson(BasePage):
    def data(self) -> dict[str, Any]:
        cache = self.page._cache
        if "json" in cache:
            cached: dict[str, Any] = cache["json"]
            return cached
        if _LOGIN_URL.search(self.url):
            raise LoginExpired(self.url, "被重定向到登录页")
        text = self.page.text().strip()
        try:
            data = json.loads(text)
        except ValueError:
            if "登录" in text[:5000] or _LOGIN_URL.search(text[:5000]):
                raise LoginExpired(self.url, "返回了登录页面而不是 JSON") from None
            if text.startswith(("{", "[")):
                raise self.fail("truncated", f"JSON 不完整({len(self.page.body)} 字节)") from None
            check_page(self.page)  # a captcha or ban page instead of JSON
            raise self.fail("not_json", text[:60].replace("\n", " ")) from None
        if not isinstance(data, dict) or "ok" not in data:
            raise self.fail("no_items", "JSON 中没有 ok 字段(接口可能已改版)")
        ok = data.get("ok")
        if ok == -100 or str(data.get("errno", "")) == "100005" or "login" in str(data.get("url", "")):
            raise LoginExpired(self.url, f"ok={ok} {data.get('msg', '')}".strip())
        cache["json"] = data
        return data

    def status_url(self, mblog: dict[str, Any], scheme: str | None = None) -> str:
        if scheme:
            parts = urlsplit(urljoin(self.url, scheme))
            return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        key = mblog.get("bid") or mblog.get("mid") or mblog.get("id")
        template = self.option("status_url")
        return template.format(id=key) if template else urljoin(self.url, f"/status/{key}")

    def extend_url(self, mid: str) -> str:
        template = self.option("extend_url")
        return template.format(id=mid) if template else urljoin(self.url, f"../../statuses/extend?id={mid}")

    def mblog_post(self, mblog: dict[str, Any], scheme: str | None = None) -> Post:
        user = mblog.get("user") or {}
        raw_time = str(mblog.get("created_at") or "")
        text = weibo_html_to_text(str(mblog.get("text") or ""))
        retweet = mblog.get("retweeted_status")
        extra: dict[str, Any] = {"mid": str(mblog.get("mid") or mblog.get("id") or ""), "bid": mblog.get("bid", "")}
        if mblog.get("isLongText"):
            extra["long_text"] = True
        if isinstance(retweet, dict) and retweet.get("user"):
            original = weibo_html_to_text(str(retweet.get("text") or ""))
            text = f"{text}\n//@{retweet['user'].get('screen_name', '')}: {original}"
            extra["retweet_of"] = self.status_url(retweet)
        return self.make_post(
            url=self.status_url(mblog, scheme),
            content=text,
            kind=PostKind.weibo,
            id_key=None,
            author=str(user.get("screen_name") or ""),
            published_at=parse_datetime(raw_time, self.page.crawl_time),
            published_at_raw=raw_time,
            metrics=Metrics(
                reposts=to_int(mblog.get("reposts_count")),  # "100万+" on popular posts
                comments=to_int(mblog.get("comments_count")),
                likes=to_int(mblog.get("attitudes_count")),
            ),
            extra=extra,
        )


class WeiboSearchPage(_WeiboJson):
    """``/api/container/getIndex`` card lists (keyword search, topic, user timeline)."""

    def _cards(self) -> list[tuple[dict[str, Any], str | None]]:
        data = self.data()
        if data.get("ok") == 0:
            return []  # "no more results"
        if data.get("ok") != 1:
            raise self.fail("api_error", f"ok={data.get('ok')} {data.get('msg', '')}".strip())
        cards = (data.get("data") or {}).get("cards") or []
        found: list[tuple[dict[str, Any], str | None]] = []
        for card in cards:
            for item in card.get("card_group") or [card]:
                if item.get("card_type") == 9 and isinstance(item.get("mblog"), dict):
                    found.append((item["mblog"], item.get("scheme")))
        if not found:
            raise self.fail("no_items", f"{len(cards)} 张卡片中没有 card_type 9 的微博")
        return found

    def posts(self) -> list[Post]:
        posts: list[Post] = []
        seen: set[str] = set()
        for mblog, scheme in self._cards():
            post = self.mblog_post(mblog, scheme)
            if post.id not in seen:
                seen.add(post.id)
                posts.append(post)
        return posts

    def links(self) -> list[Link]:
        out: list[Link] = []
        for mblog, scheme in self._cards():
            mid = str(mblog.get("mid") or mblog.get("id") or "")
            if mblog.get("isLongText") and mid:
                post = self.mblog_post(mblog, scheme)
                meta = {"id": mid, "post": post.model_dump(mode="json")}
                out.append(Link(url=self.extend_url(mid), kind="extend", meta=meta))
            if self.option("comments") and mid and (to_int(mblog.get("comments_count")) or 0) > 0:
                url = urljoin(self.url, f"../../comments/hotflow?id={mid}&mid={mid}&max_id_type=0")
                post = self.mblog_post(mblog, scheme)
                meta = {"id": mid, "post_id": post.id, "url": post.url}
                out.append(Link(url=url, kind="comments", meta=meta))
        info = (self.data().get("data") or {}).get("cardlistInfo") or {}
        if self.data().get("ok") == 1 and info.get("page"):
            parts = urlsplit(self.url)
            query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            query["page"] = str(info["page"])
            out.append(Link(url=urlunsplit(parts._replace(query=urlencode(query))), kind="next"))
        return out


class WeiboExtendPage(_WeiboJson):
    """``/statuses/extend?id=<mid>``: the full text of a long weibo.

    ``options["post"]`` is the ``meta["post"]`` of the search page's extend Link (the cut post as JSON);
    the result is that post with the full text and fresh counts, under the same id.
    """

    def posts(self) -> list[Post]:
        data = self.data()
        body: dict[str, Any] = data["data"] if isinstance(data.get("data"), dict) else {}
        if data.get("ok") != 1 or not body.get("longTextContent"):
            raise self.fail("deleted" if data.get("ok") == 0 else "missing_content", str(data.get("msg", "")))
        text = weibo_html_to_text(str(body["longTextContent"]))
        counts = Metrics(
            reposts=to_int(body.get("reposts_count")),
            comments=to_int(body.get("comments_count")),
            likes=to_int(body.get("attitudes_count")),
        )
        stored = self.option("post")
        mid = (parse_qs(urlsplit(self.url).query).get("id") or [""])[0]
        if stored:
            cut = Post.model_validate(stored)
            retweet = cut.content.split("\n//@", 1)[1] if "\n//@" in cut.content else ""
            content = f"{text}\n//@{retweet}" if retweet else text
            extra = {**cut.extra, "long_text": True, "long_text_complete": True}
            return [
                self.make_post(
                    url=cut.url,
                    content=content,
                    kind=cut.kind,
                    id_key=None,
                    title=cut.title,
                    author=cut.author,
                    published_at=cut.published_at,
                    published_at_raw=cut.published_at_raw,
                    metrics=counts,
                    extra=extra,
                )
            ]
        return [
            self.make_post(
                url=self.status_url({"mid": mid}),
                content=text,
                kind=PostKind.weibo,
                id_key=None,
                metrics=counts,
                extra={"mid": mid, "long_text": True, "long_text_complete": True},
            )
        ]

    def links(self) -> list[Link]:
        return []
