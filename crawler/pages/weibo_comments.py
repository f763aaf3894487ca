"""WeiboCommentsPage: comments under one weibo, from m.weibo.cn ``comments/hotflow`` (pages chained by
``max_id``) or the older ``api/comments/show`` (``page=N``, ``hot_data`` beside ``data``).

Each comment becomes a post of kind ``comment`` on its weibo's URL, with ``thread_id`` the weibo's post id
and an id keyed by the comment id. The weibo comes from ``options["link"]`` (the meta of the search page's
``comments`` Link: ``post_id`` and ``url``) or, failing that, from ``id`` in the request URL.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from crawler.pages.base import Link
from crawler.pages.dates import parse_datetime
from crawler.pages.text import to_int
from crawler.pages.weibo import _WeiboJson, weibo_html_to_text
from yuqing.model import Metrics, Post, PostKind, post_id_for


class WeiboCommentsPage(_WeiboJson):
    def _comments(self) -> list[dict[str, Any]]:
        data = self.data()
        if data.get("ok") == 0:
            return []  # "快来发表你的评论吧": no (more) comments
        body = data.get("data")
        if data.get("ok") != 1 or not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise self.fail("no_items", "评论 JSON 中没有 data.data 列表(接口可能已改版)")
        seen: set[str] = set()
        found: list[dict[str, Any]] = []
        for comment in [*body.get("hot_data", []), *body["data"]]:
            key = str(comment.get("id", ""))
            if isinstance(comment, dict) and key and key not in seen:
                seen.add(key)
                found.append(comment)
        return found

    def _parent(self) -> tuple[str, str]:
        """(URL, post id) of the weibo these comments belong to."""
        link = self.option("link") or {}
        post = self.option("post") or {}
        url = link.get("url") or post.get("url")
        if not url:
            query = parse_qs(urlsplit(self.url).query)
            mid = (query.get("id") or query.get("mid") or [""])[0]
            url = self.status_url({"mid": mid})
        return url, link.get("post_id") or post.get("id") or post_id_for(url)

    def posts(self) -> list[Post]:
        url, parent_id = self._parent()
        posts: list[Post] = []
        for comment in self._comments():
            user = comment.get("user") or {}
            raw_time = str(comment.get("created_at") or "")
            extra: dict[str, Any] = {"comment_id": str(comment["id"])}
            if comment.get("reply_id"):
                extra["reply_to"] = str(comment["reply_id"])
            text = weibo_html_to_text(str(comment.get("text") or ""))
            if not text:
                text = "[图片]" if comment.get("pic") else ""
            if not text:
                continue  # an emptied (deleted) comment
            posts.append(
                self.make_post(
                    url=url,
                    content=text,
                    kind=PostKind.comment,
                    id_key=f"c{comment['id']}",
                    author=str(user.get("screen_name") or ""),
                    published_at=parse_datetime(raw_time, self.page.crawl_time),
                    published_at_raw=raw_time,
                    metrics=Metrics(likes=to_int(comment.get("like_count", comment.get("like_counts")))),
                    thread_id=parent_id,
                    extra=extra,
                )
            )
        return posts

    def links(self) -> list[Link]:
        data = self.data()
        body = data.get("data") if data.get("ok") == 1 else None
        if not isinstance(body, dict) or not self._comments():
            return []
        parts = urlsplit(self.url)
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        if "max_id" in body:  # hotflow: the next page is named by max_id; 0 means the last page
            if not body.get("max_id"):
                return []
            query["max_id"] = str(body["max_id"])
        else:  # comments/show: numbered pages up to "max"
            page = int(query.get("page", "1") or 1)
            if page >= int(body.get("max") or 0):
                return []
            query["page"] = str(page + 1)
        nxt = urlunsplit(parts._replace(query=urlencode(query)))
        return [Link(url=nxt, kind="next", meta=dict(self.option("link") or {}))]
