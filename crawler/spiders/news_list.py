"""News and government sites without feeds: list pages (paginated) followed to articles by link rules."""

from crawler.spiders.base import SourceSpider


class NewsListSpider(SourceSpider):
    name = "news_list"
    source_type = "news_list"
    entry_page = "news_list"
    link_pages = {"article": "news"}
