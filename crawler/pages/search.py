"""SearchResultsPage: a search engine's news results (Baidu news layout): result links and the next page.

Each result Link carries the engine's snippet, source name and shown time in ``meta``; the spider follows
it to ArticlePage. A page that says "没有找到" is an honest empty result, not a failure; a page with
neither results nor that notice means the layout changed (ParseError "no_items").
Options: ``result`` (CSS of one result), ``paginate`` (CSS of the next link).
"""

from __future__ import annotations

from parsel import Selector

from crawler.pages.base import BasePage, Link
from crawler.pages.dates import parse_datetime
from crawler.pages.guards import check_page
from crawler.pages.news_list import next_link
from crawler.pages.text import node_text
from yuqing.model import Post

_RESULTS = "div.result-op.c-container, div.result.c-container, div.result"
_NO_RESULTS = ".content_none, #noresult, .nors"


class SearchResultsPage(BasePage):
    def links(self) -> list[Link]:
        check_page(self.page)
        results = self.select(self.option("result", _RESULTS))
        if not results:
            if self.sel.css(_NO_RESULTS):
                return []
            raise self.fail("no_items", self.option("result", _RESULTS))
        out: list[Link] = []
        for result in results:
            anchor = result.css("h3 a[href]")
            if not anchor:
                continue
            url = self.absolute(result.attrib.get("mu") or anchor.attrib["href"])
            shown = self._label(result, "发布于：") or result.css(".c-color-gray2::text, .c-author::text").get("")
            when = parse_datetime(shown, self.page.crawl_time) if shown else None
            meta = {
                "snippet": self._label(result, "摘要：") or node_text(result.css(".c-summary, .c-font-normal")[:1]),
                "media": self._label(result, "新闻来源：") or result.css(".c-color-gray::text").get("").strip(),
                "published_raw": shown.strip(),
                "published": when.isoformat() if when else None,
            }
            title = self._label(anchor[0], "标题：") or node_text(anchor[0]).replace("\n", " ")
            out.append(Link(url=url, kind="article", title=title, meta=meta))
        if not out:
            raise self.fail("no_items", "h3 a")
        nxt = next_link(self, self.option("paginate"))
        if nxt and nxt != self.url:
            out.append(Link(url=nxt, kind="next"))
        return out

    def posts(self) -> list[Post]:
        return []

    @staticmethod
    def _label(node: Selector, prefix: str) -> str:
        """Baidu's accessible labels: aria-label="摘要：…" holds the clean text without <em> highlights."""
        query = f"descendant-or-self::*[starts-with(@aria-label, '{prefix}')]/@aria-label"
        value: str = node.xpath(query).get("")
        return value.removeprefix(prefix).strip()
