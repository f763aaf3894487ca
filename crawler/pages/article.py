"""ArticlePage: a generic news or government article (trafilatura, with per-source CSS/XPath overrides).

Options: ``selectors = {"content", "title", "date", "author"}`` (CSS, or XPath when starting with '/'),
used before trafilatura's guesses; ``min_length`` (default 20) characters of text below which the page
counts as having no content.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING

from crawler.pages.base import BasePage, Link
from crawler.pages.dates import _FULL, parse_datetime
from crawler.pages.guards import check_page, title_of
from crawler.pages.text import clean_text, node_text
from crawler.pages.tidy import tidy_body, tidy_title
from yuqing.model import Metrics, Post, PostKind

if TYPE_CHECKING:
    import trafilatura.settings

# <meta> names that carry the publish time, most specific first.
_DATE_METAS = (
    "article:published_time",
    "og:release_date",
    "pubdate",
    "PubDate",
    "publishdate",
    "publish_time",
    "weibo: article:create_at",
    "dc.date",
    "date",
)
_AUTHOR_PREFIX = re.compile(r"^(作者|记者|記者|编辑|編輯|责任编辑|責任編輯|来源|來源)(\s*[:：]\s*|\s+)")
_BYLINE = re.compile(r"(?:作者|记者|記者)\s*[:：]\s*([^\s|/,，。]{2,12})")
# Body containers of common Chinese CMSs (TRS, people.cn, 163, sina, xinhua, WordPress-like themes). When one
# is present its text is the article; trafilatura's guess is the fallback, because on small pages it keeps
# navigation and bylines.
CONTENT_CONTAINERS = (
    "#rwb_zw",
    "#zoom",
    ".TRS_Editor",
    "#endText",
    "#artibody",
    "#p-detail",
    ".post_body",
    "#js_content",
    ".article-body",
    ".post-content",
)
_VIEWS = re.compile(r"(?:阅读|浏览次数|浏览|点击)\s*[:：]?\s*(\d[\d,]*)")


class ArticlePage(BasePage):
    def posts(self) -> list[Post]:
        check_page(self.page)
        override = clean_text(self._override_text("content"))  # configured by a person: trusted as is
        content = override or clean_text(self._container_text())
        if not override and len(content) < int(self.option("min_length", 20)):
            extracted = self._extracted()
            content = clean_text(extracted.text if extracted and extracted.text else "")
        if not override and self._mostly_links(content):
            raise self.fail("missing_content", "页面主要是链接(列表页或首页),不是文章")
        if len(content) < (1 if override else int(self.option("min_length", 20))):
            raise self.fail("missing_content", f"正文仅 {len(content)} 字")
        title = self._title()
        content = tidy_body(content, title)
        if not content:
            raise self.fail("missing_content", "正文只有标题")
        raw_date, published = self._date(title)
        extra = {"selector_missed": "content"} if self.selector_override("content") and not override else {}
        return [
            self.make_post(
                url=self.url,
                content=content,
                kind=PostKind.article,
                title=title,
                author=self._author(),
                published_at=published,
                published_at_raw=raw_date,
                metrics=Metrics(views=self._views()),
                extra=extra,  # a configured selector that found nothing: the site changed (a stat to count)
            )
        ]

    def links(self) -> list[Link]:
        return []

    # --- pieces ---------------------------------------------------------------------------------
    def _extracted(self) -> trafilatura.settings.Document | None:
        """trafilatura's reading of the page, computed once and only when a cheaper source is missing."""
        cache = self.page._cache
        if "trafilatura" not in cache:
            import trafilatura  # a fifth of a second to import; most pages never need it (a container matches)

            cache["trafilatura"] = trafilatura.bare_extraction(
                self.page.text(),
                url=self.url,
                with_metadata=True,
                include_comments=False,
                include_tables=True,
                # Not htmldate's extensive search: it tries dateparser with every locale (seconds per page).
                date_extraction_params={"extensive_search": False, "original_date": True},
            )
        doc: trafilatura.settings.Document | None = cache["trafilatura"]
        return doc

    def _mostly_links(self, content: str) -> bool:
        """Whether the extracted text is mostly link captions, as on a list page or a home page."""
        captions = {node_text(a).replace("\n", " ") for a in self.sel.css("body a")}
        captions = {c for c in captions if len(c) >= 4}
        linked = sum(len(line) for line in content.split("\n") if any(line.startswith(c) for c in captions))
        return linked > 0.5 * max(1, len(content.replace("\n", "")))

    def _container_text(self) -> str:
        for query in CONTENT_CONTAINERS:
            found = self.sel.css(query)
            if found:
                return node_text(found[0])
        return ""

    def _override_text(self, name: str) -> str:
        query = self.selector_override(name)
        if not query:
            return ""
        found = self.select(query)
        if not found:
            return ""
        return "\n".join(node_text(node) for node in found)

    def _title(self) -> str:
        override = self._override_text("title")
        if override:
            return override
        page_title = title_of(self.page.text())
        for h1 in self.sel.css("h1"):
            text = node_text(h1).replace("\n", " ")
            if len(text) >= 4 and (text in page_title or not page_title):
                return text  # the headline that the <title> repeats, without the site suffix
        extracted = self._extracted()
        return tidy_title((extracted.title if extracted and extracted.title else "") or page_title)

    def _author(self) -> str:
        shown = self._override_text("author")
        if not shown:
            meta = self.sel.xpath("//meta[@name='author' or @name='ContentSource']/@content").get("")
            shown = meta
        if not shown:  # a byline like "來源：香港教育新聞　記者：陳家明"
            m = _BYLINE.search(self._body_text()[:3000])
            shown = m.group(1) if m else ""
        if not shown:
            extracted = self._extracted()
            shown = extracted.author if extracted and extracted.author else ""
        shown = _AUTHOR_PREFIX.sub("", shown.strip().replace("\n", " "))
        return "" if shown.isdigit() else shown  # some CMSs put an editor's user number in <meta name=author>

    def _body_text(self) -> str:
        cache = self.page._cache
        if "body_text" not in cache:
            body = self.sel.css("body")
            cache["body_text"] = node_text(body[0]) if body else ""
        text: str = cache["body_text"]
        return text

    def _date(self, title: str) -> tuple[str, datetime | None]:
        """(raw text as shown, aware UTC). Prefers a time of day over a bare date."""
        now = self.page.crawl_time
        candidates: list[str] = []
        override = self._override_text("date") or self._override_text("published_at")  # config calls it so
        if override:
            candidates.append(override)
        for name in _DATE_METAS:
            value = self.sel.xpath(f"//meta[@name='{name}' or @property='{name}']/@content").get()
            if value:
                candidates.append(value.strip())
        # The dateline under the headline, e.g. "2019-08-13 14:07来源：澎湃新闻".
        body = self._body_text()
        start = body.find(title) if title else -1
        window = body[start : start + 800] if start >= 0 else body[:3000]
        m = next((m for m in _FULL.finditer(window) if m["H"]), None)
        dateline = m.group(0) if m else ""
        parsed = [(raw, parse_datetime(raw, now)) for raw in candidates]
        if not dateline and not any(when for _, when in parsed):
            extracted = self._extracted()  # its date guess is the last resort
            if extracted and extracted.date:
                parsed.append((extracted.date, parse_datetime(extracted.date, now)))
        # A candidate with a time of day beats a bare date; the dateline is shown to readers, so keep its text.
        if dateline and not override:
            when = parse_datetime(dateline, now)
            timed = [p for p in parsed if p[1] and (p[1].hour, p[1].minute) != (16, 0) and ":" in p[0]]
            if when and not timed:
                return dateline, when
        for raw, when in parsed:
            if when:
                return raw, when
        return (dateline, parse_datetime(dateline, now)) if dateline else ("", None)

    def _views(self) -> int | None:
        m = _VIEWS.search(self._body_text()[:5000])
        return int(m.group(1).replace(",", "")) if m else None
