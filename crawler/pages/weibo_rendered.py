"""WeiboRenderedPage: a Weibo topic page after the browser ran its JavaScript (scrapy-playwright hands
over the rendered HTML). Cards are ``div.card[data-mid]`` as m.weibo.cn draws them: author in
``h3.m-text-cut``, time in ``span.time``, text in ``.weibo-text``, a repost in ``.retweet``, counts in
the footer buttons titled 转发/评论/赞.

The page marks ``body[data-loaded]`` when its script finished: "error" means the API call failed; no
mark and no cards means the page was captured before rendering (ParseError "no_items").
"""

from __future__ import annotations

from urllib.parse import urljoin

from crawler.pages.base import BasePage, Link
from crawler.pages.dates import parse_datetime
from crawler.pages.guards import check_page
from crawler.pages.text import node_text, to_int
from crawler.pages.weibo import weibo_html_to_text
from yuqing.model import Metrics, Post, PostKind


class WeiboRenderedPage(BasePage):
    def posts(self) -> list[Post]:
        check_page(self.page)
        loaded = self.sel.css("body::attr(data-loaded)").get()
        if loaded == "error":
            raise self.fail("api_error", "页面脚本加载微博失败")
        cards = self.sel.css(self.option("item", "div.card[data-mid]"))
        if not cards:
            if loaded == "1":
                return []  # rendered, and the topic has no posts
            raise self.fail("no_items", "div.card[data-mid](页面可能未完成渲染)")
        posts: list[Post] = []
        for card in cards:
            texts = card.css(".weibo-main > .weibo-text")
            html = "".join(texts[0].xpath("node()").getall()) if texts else ""
            text = weibo_html_to_text(html)
            cut = ">全文</a>" in html  # m.weibo.cn cuts long weibos at 140 characters
            retweet = card.css(".retweet .weibo-text")
            if retweet:
                text = f"{text}\n//{node_text(retweet[0])}"
            href = card.css("a.weibo-link::attr(href)").get() or f"/status/{card.attrib['data-mid']}"
            counts = {b.attrib.get("title", ""): to_int(node_text(b)) for b in card.css("footer .m-diy-btn")}
            raw_time = card.css("span.time::text").get("").strip()
            posts.append(
                self.make_post(
                    url=self.absolute(href).split("?")[0],
                    content=text,
                    kind=PostKind.weibo,
                    id_key=None,
                    author=card.css("h3.m-text-cut::text").get("").strip(),
                    published_at=parse_datetime(raw_time, self.page.crawl_time),
                    published_at_raw=raw_time,
                    metrics=Metrics(reposts=counts.get("转发"), comments=counts.get("评论"), likes=counts.get("赞")),
                    extra={"mid": card.attrib["data-mid"], "rendered": True, **({"long_text": True} if cut else {})},
                )
            )
        return posts

    def links(self) -> list[Link]:
        """Long-text links for cards cut with "全文" (``options["extend_url"]`` as on WeiboSearchPage)."""
        template = self.option("extend_url") or urljoin(self.url, "statuses/extend?id={id}")
        out = []
        for post in self.posts():
            if post.extra.get("long_text"):
                meta = {"id": post.extra["mid"], "post": post.model_dump(mode="json")}
                out.append(Link(url=template.format(id=post.extra["mid"]), kind="extend", meta=meta))
        return out
