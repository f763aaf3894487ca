"""Search-engine news results by keyword: result pages (by number) → articles."""

from __future__ import annotations

from collections.abc import Iterator

from scrapy.http import Request, Response

from crawler.pages import Link
from crawler.spiders.base import SourceSpider, search_url
from yuqing.model import Post


class KeywordSpider(SourceSpider):
    """A source searched by keyword: one chain of result pages per keyword, ``{page}`` counting up."""

    def template(self) -> str:
        return self.src.search_url or self.src.urls[0]

    def entry_urls(self) -> list[str]:
        return [search_url(self.template(), kw, 1) for kw in self.src.keywords]

    async def start(self):  # type: ignore[no-untyped-def, override]
        for kw in self.src.keywords:
            yield self.page_request(search_url(self.template(), kw, 1), self.entry_page, role="entry", depth=0,
                                    pages=1, keyword=kw)

    def more_requests(self, response: Response, posts: list[Post], links: list[Link]) -> Iterator[Request]:
        """When the page object offers no next link, ask for the next page number while results keep coming."""
        meta = response.meta
        if meta["page_type"] != self.entry_page or "{page}" not in self.template():
            return
        if any(link.kind == "next" for link in links):
            return
        if not (posts or any(link.kind != "next" for link in links)) or meta["pages"] >= self.src.max_pages:
            return
        url = search_url(self.template(), meta["keyword"], meta["pages"] + 1)
        yield self.page_request(url, self.entry_page, role="list", depth=meta["depth_"], pages=meta["pages"] + 1,
                                keyword=meta["keyword"], chain=True)


class NewsSearchSpider(KeywordSpider):
    name = "news_search"
    source_type = "news_search"
    entry_page = "search"
    link_pages = {"article": "news"}
