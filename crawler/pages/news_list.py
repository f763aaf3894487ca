"""NewsListPage: a list page of a news or government site without a feed.

Options:
- ``follow``: regexes; an absolute link URL matching any of them is an article to follow. Without it, a
  link on the same site whose text reads like a headline (at least 6 characters) and whose path ends in
  .html/.shtml/.htm or contains a number counts.
- ``paginate``: CSS (or XPath) of the next-page link; default: ``a.next`` or a link reading "下一页".
- ``list``: CSS of the list region, when the page carries other link lists (nav, related, footer).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from parsel import Selector

from crawler.pages.base import BasePage, Link
from crawler.pages.dates import _FULL, parse_datetime
from crawler.pages.guards import check_page
from crawler.pages.text import node_text
from yuqing.model import Post

_ARTICLE_PATH = re.compile(r"\.(s?html?)$|\d{3,}")
_NEXT_TEXT = ("下一页", "下页", "下一頁", "next", "›", "»")


def next_link(page: BasePage, query: str | None) -> str | None:
    """The next-page URL from a configured selector, or a.next / a link that says 下一页."""
    if query:
        found = page.select(query)
        href = found.attrib.get("href") if found else None
        return page.absolute(href) if href else None
    for anchor in page.sel.css("a[href]"):
        text = node_text(anchor).strip("<> ").lower()
        classes = anchor.attrib.get("class", "").split()
        if text in _NEXT_TEXT or "next" in classes or "nxt" in classes:
            href = anchor.attrib["href"]
            if not href.startswith(("javascript:", "#")):
                return page.absolute(href)
    return None


class NewsListPage(BasePage):
    def links(self) -> list[Link]:
        check_page(self.page)
        region = self.option("list")
        roots: list[Selector] = list(self.select(region)) if region else [self.sel]
        if region and not roots:
            raise self.fail("no_items", f"列表区域 {region}")
        patterns = [re.compile(p) for p in self.option("follow", []) or []]
        site = self.page.site
        found: dict[str, tuple[bool, Link]] = {}  # url -> (anchor had text, link); text beats an icon's title
        for root in roots:
            for anchor in root.css("a[href]"):
                url = self.absolute(anchor.attrib["href"]).split("#")[0]
                text = node_text(anchor).replace("\n", " ").strip()
                if not url.startswith("http") or (url in found and (found[url][0] or not text)):
                    continue
                title = text or anchor.attrib.get("title", "").strip()
                if patterns:
                    if not any(p.search(url) for p in patterns):
                        continue
                elif urlsplit(url).hostname != site or len(title) < 6 or not _ARTICLE_PATH.search(urlsplit(url).path):
                    continue
                found[url] = (bool(text), Link(url=url, kind="article", title=title, meta=self._date_near(anchor)))
        out = [link for _, link in found.values()]
        if not out:
            rule = ", ".join(p.pattern for p in patterns) or "默认文章链接规则"
            raise self.fail("no_items", rule)
        nxt = next_link(self, self.option("paginate"))
        if nxt and nxt != self.url:
            out.append(Link(url=nxt, kind="next"))
        return out

    def posts(self) -> list[Post]:
        return []

    def _date_near(self, anchor: Selector) -> dict[str, str | None]:
        """A date printed beside the link (same list item), for age limits before fetching the article."""
        parent = anchor.xpath("..")
        text = node_text(parent[0]) if parent else ""
        m = _FULL.search(text)
        if not m:
            return {}
        when = parse_datetime(m.group(0), self.page.crawl_time)
        return {"published_raw": m.group(0), "published": when.isoformat() if when else None}
