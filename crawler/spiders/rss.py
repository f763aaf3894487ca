"""RSS/Atom feeds, then the article pages they point to."""

from crawler.spiders.base import SourceSpider


class RssSpider(SourceSpider):
    name = "rss"
    source_type = "rss"
    entry_page = "feed"
    link_pages = {"article": "news"}
