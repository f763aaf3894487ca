"""Scrapy settings shared by every spider; `scrapy crawl` and the scheduler's runner use exactly these.

Values that come from configuration (user agent, politeness, page size, timeouts, state folders, the
database) are applied per source by ``crawler.spiders.base.SourceSpider.from_crawler`` from
config/county.yaml (``crawler:``) and the source's ``politeness`` overrides; what is here are the
components, their order, and safe defaults. The config folder is the ``YUQING_CONFIG`` setting or
environment variable (default ./config).
"""

from scrapy.settings import default_settings as _scrapy_defaults

BOT_NAME = "yuqing"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# Politeness (per-source values replace these at start-up; see SourceSpider.apply_settings).
ROBOTSTXT_OBEY = True
USER_AGENT = "yuqing/0.1 (+mailto:yuqing-admin@localhost)"
DOWNLOAD_DELAY = 1.0
DOWNLOAD_DELAY_JITTER = 0.5  # ±50% around the delay, so requests do not tick like a metronome
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
DOWNLOAD_FAIL_ON_DATALOSS = True  # a cut-off body is an error we count, not a silently short page

# Retries only for server errors and timeouts (never 4xx, never 429: a site asking us to slow down gets
# a health record, not more requests), with exponential backoff (YUQING_RETRY_BACKOFF_BASE * 2**n seconds).
RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408]
RETRY_EXCEPTIONS = [
    "twisted.internet.defer.TimeoutError",
    "twisted.internet.error.TimeoutError",
    "twisted.internet.error.TCPTimedOutError",
    "twisted.web._newclient.ResponseNeverReceived",
    "twisted.internet.error.ConnectionLost",
]
YUQING_RETRY_BACKOFF_BASE = 1.0
YUQING_RETRY_BACKOFF_MAX = 30.0
REDIRECT_MAX_TIMES = 5  # a redirect loop ends after five hops with a counted error
METAREFRESH_ENABLED = False
COOKIES_ENABLED = True

# Conditional requests: Scrapy's HTTP cache with the RFC 2616 policy revalidates every stored page with
# If-None-Match / If-Modified-Since; a 304 hands the stored body back (flag 'cached'), so the spider can
# still follow its links while the pipeline sees an unchanged fingerprint and writes nothing.
HTTPCACHE_ENABLED = True
HTTPCACHE_POLICY = "scrapy.extensions.httpcache.RFC2616Policy"
HTTPCACHE_STORAGE = "crawler.middlewares.cache.SafeFilesystemCacheStorage"
HTTPCACHE_ALWAYS_STORE = True
HTTPCACHE_GZIP = True
HTTPCACHE_EXPIRATION_SECS = 14 * 24 * 3600
HTTPCACHE_IGNORE_HTTP_CODES = [301, 302, 303, 307, 308, 400, 401, 403, 404, 410, 429, 500, 502, 503, 504]
DEFAULT_REQUEST_HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,application/json;q=0.8,*/*;q=0.7",
    "Accept-Language": "zh-CN,zh;q=0.9",
    "Cache-Control": "max-age=0",  # always revalidate stored pages (never serve them without asking)
}

DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.middlewares.robots.ConcurrentSafeRobotsTxtMiddleware": 100,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.retry.BackoffRetryMiddleware": 550,
    "crawler.middlewares.status.SourceStatusMiddleware": 950,  # next to the network: sees real statuses
    # After the cache: only requests that go to the network take a slot of the site's delay.
    "crawler.middlewares.shared_delay.SharedDelayMiddleware": 960,
}
SPIDER_MIDDLEWARES = {
    # Errors are judged by the health extension; 4xx/5xx responses reach the callbacks' errbacks.
}
ITEM_PIPELINES = {
    "crawler.pipelines.store.StorePipeline": 300,
}
# No consoles into a running crawler: the telnet console and the remote-control HTTP server (it runs Python
# sent to it) stay off in an unattended service. They are left out of the base list rather than disabled with
# None in EXTENSIONS: Scrapy imports every class named there, even to disable it, and the remote control pulls
# in aiohttp (a third of a second of start-up in every crawl process).
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
EXTENSIONS_BASE = {
    path: order for path, order in _scrapy_defaults.EXTENSIONS_BASE.items()
    if path not in ("scrapy.extensions.telnet.TelnetConsole", "scrapy.extensions.remote_control.RemoteControl")
}
EXTENSIONS = {
    "crawler.extensions.health.SourceHealth": 500,
}

# Scrapy handles a callback's output with this many asyncio tasks per response (default 100). Our item
# pipeline is synchronous and a page yields one item plus its links, so more tasks only cost CPU
# (about 2 ms per page at 100).
CONCURRENT_ITEMS = 8

LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
