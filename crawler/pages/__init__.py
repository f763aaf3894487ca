"""Page objects: parsing separated from crawling. Each class turns one fetched page (PageInput) into
``yuqing.model.Post`` objects and links to follow, without Scrapy, storage or analysis, so spiders,
`yuqing parse` and the fixture tests all use the same code."""

from crawler.pages.article import ArticlePage
from crawler.pages.base import Link, PageInput, PageObject
from crawler.pages.charset import decode_body
from crawler.pages.dates import parse_datetime
from crawler.pages.discuz import DiscuzListPage, DiscuzThreadPage
from crawler.pages.errors import REASONS_ZH, LoginExpired, ParseError
from crawler.pages.feed import FeedPage
from crawler.pages.news_list import NewsListPage
from crawler.pages.registry import PAGE_TYPES, page_for, page_options
from crawler.pages.search import SearchResultsPage
from crawler.pages.tieba import TiebaListPage, TiebaThreadPage
from crawler.pages.weibo import WeiboExtendPage, WeiboSearchPage
from crawler.pages.weibo_comments import WeiboCommentsPage
from crawler.pages.weibo_rendered import WeiboRenderedPage
from crawler.pages.weibo_status import WeiboStatusPage

__all__ = [
    "PAGE_TYPES",
    "REASONS_ZH",
    "ArticlePage",
    "DiscuzListPage",
    "DiscuzThreadPage",
    "FeedPage",
    "Link",
    "LoginExpired",
    "NewsListPage",
    "PageInput",
    "PageObject",
    "ParseError",
    "SearchResultsPage",
    "TiebaListPage",
    "TiebaThreadPage",
    "WeiboCommentsPage",
    "WeiboExtendPage",
    "WeiboRenderedPage",
    "WeiboSearchPage",
    "WeiboStatusPage",
    "decode_body",
    "page_for",
    "page_options",
    "parse_datetime",
]
