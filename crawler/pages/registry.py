"""The page object for each source type name (as used by `yuqing parse --type` and config/sources.yaml)."""

from __future__ import annotations

from typing import Any

from crawler.pages.article import ArticlePage
from crawler.pages.base import PageInput, PageObject
from crawler.pages.discuz import DiscuzListPage, DiscuzThreadPage
from crawler.pages.feed import FeedPage
from crawler.pages.news_list import NewsListPage
from crawler.pages.search import SearchResultsPage
from crawler.pages.tieba import TiebaListPage, TiebaThreadPage
from crawler.pages.weibo import WeiboExtendPage, WeiboSearchPage
from crawler.pages.weibo_comments import WeiboCommentsPage
from crawler.pages.weibo_rendered import WeiboRenderedPage
from crawler.pages.weibo_status import WeiboStatusPage
from yuqing.config import Source
from yuqing.errors import InputError

PAGE_TYPES: dict[str, type] = {
    "news": ArticlePage,
    "feed": FeedPage,
    "news_list": NewsListPage,
    "search": SearchResultsPage,
    "tieba_list": TiebaListPage,
    "tieba": TiebaThreadPage,
    "discuz_list": DiscuzListPage,
    "discuz": DiscuzThreadPage,
    "weibo": WeiboSearchPage,
    "weibo_extend": WeiboExtendPage,
    "weibo_comments": WeiboCommentsPage,
    "weibo_status": WeiboStatusPage,
    "weibo_rendered": WeiboRenderedPage,
}


def page_for(type_name: str, page_input: PageInput) -> PageObject:
    """The page object of a type name over one input; InputError (Chinese) for an unknown name."""
    try:
        cls = PAGE_TYPES[type_name]
    except KeyError:
        known = ", ".join(PAGE_TYPES)
        raise InputError(f"未知的页面类型 {type_name!r},可选: {known}", where="--type") from None
    page: PageObject = cls(page_input)
    return page


def page_options(source: Source) -> dict[str, Any]:
    """PageInput.options for a configured source: its selectors, link rules and type-specific options."""
    options: dict[str, Any] = {
        "selectors": source.selectors.model_dump(exclude_none=True),
        "follow": list(source.follow),
    }
    if source.paginate:
        options["paginate"] = source.paginate
    options.update(source.options)
    return options
