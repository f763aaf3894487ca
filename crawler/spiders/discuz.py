"""Discuz! X forums: forumdisplay list pages and viewthread pages (desktop or touch template)."""

from crawler.spiders.base import SourceSpider


class DiscuzSpider(SourceSpider):
    name = "discuz"
    source_type = "discuz"
    entry_page = "discuz_list"
    link_pages = {"thread": "discuz"}
