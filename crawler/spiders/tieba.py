"""Baidu Tieba: board list pages (/f?kw=) and thread pages (/p/<id>), first post and replies."""

from crawler.spiders.base import SourceSpider


class TiebaSpider(SourceSpider):
    name = "tieba"
    source_type = "tieba"
    entry_page = "tieba_list"
    link_pages = {"thread": "tieba"}
