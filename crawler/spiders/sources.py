"""From configuration to a crawl: the config folder, the source, its Scrapy settings and page options.

``source_settings`` is the one place where config/county.yaml ``crawler:`` and a source's explicit
``politeness`` overrides become Scrapy settings; the spider applies them in ``from_crawler`` (before the
settings freeze), so `scrapy crawl` by hand and the runner crawl with exactly the same values.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from scrapy.settings import Settings

from yuqing.config import Config, Source
from yuqing.errors import YuqingError


def config_dir_from(settings: Settings, explicit: str | None = None) -> Path:
    return Path(explicit or settings.get("YUQING_CONFIG") or os.environ.get("YUQING_CONFIG") or "config")


def source_settings(cfg: Config, src: Source) -> dict[str, Any]:
    """The Scrapy settings one source crawls with (county defaults, then the source's explicit overrides)."""
    c, p = cfg.crawler, src.politeness
    return {
        "USER_AGENT": c.user_agent,
        "ROBOTSTXT_OBEY": c.obey_robots if p.obey_robots is None else p.obey_robots,
        "DOWNLOAD_DELAY": c.download_delay if p.download_delay is None else p.download_delay,
        "CONCURRENT_REQUESTS_PER_DOMAIN": c.concurrency_per_domain
        if p.concurrency_per_domain is None else p.concurrency_per_domain,
        "AUTOTHROTTLE_ENABLED": c.autothrottle if p.autothrottle is None else p.autothrottle,
        "DOWNLOAD_MAXSIZE": c.max_page_bytes,
        "DOWNLOAD_WARNSIZE": min(c.max_page_bytes, 4 * 1024 * 1024),
        "DOWNLOAD_TIMEOUT": c.timeout_seconds,
        "RETRY_TIMES": c.retries,
        "HTTPCACHE_DIR": str(cfg.crawl_state_dir / src.id / "httpcache"),
        "YUQING_DATABASE_URL": cfg.database_url,
        "PLAYWRIGHT_LAUNCH_OPTIONS": {
            "executable_path": c.chromium_path,
            "headless": True,
            "args": ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
        },
        "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": c.max_browser_pages,
    }


def pick_source(cfg: Config, source_type: str, source_id: str | None) -> Source:
    if source_id:
        try:
            src = cfg.source(source_id)
        except KeyError:
            raise YuqingError(f"配置中没有编号为 {source_id!r} 的来源") from None
        if src.type != source_type:
            raise YuqingError(f"来源 {source_id} 的类型是 {src.type},应使用爬虫 {src.type} 而不是 {source_type}")
        return src
    candidates = [s for s in cfg.sources if s.type == source_type and s.enabled]
    if len(candidates) != 1:
        names = ", ".join(s.id for s in candidates) or "无"
        raise YuqingError(f"请用 -a source=编号 指定 {source_type} 类型的来源(可选: {names})")
    return candidates[0]


def page_options(src: Source) -> dict[str, Any]:
    """Source.selectors / follow / paginate / options as the page objects' options mapping."""
    selectors = {k: v for k, v in src.selectors.model_dump().items() if v}
    if "published_at" in selectors:
        selectors.setdefault("date", selectors["published_at"])
    opts: dict[str, Any] = dict(src.options)
    opts.update(selectors=selectors, follow=list(src.follow), keywords=list(src.keywords))
    if src.paginate:
        opts["paginate"] = src.paginate
    return opts
