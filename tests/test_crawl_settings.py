"""crawler/settings.py: the components every crawl process runs with."""

from __future__ import annotations

from scrapy.settings import Settings, default_settings
from scrapy.utils.conf import build_component_list

import crawler.settings as project


def _settings() -> Settings:
    s = Settings()
    s.setmodule(project, priority="project")
    return s


def test_no_console_into_a_running_crawler_and_the_other_extensions_kept() -> None:
    enabled = build_component_list(_settings().get_component_priority_dict_with_base("EXTENSIONS"))
    assert "crawler.extensions.health.SourceHealth" in enabled
    assert not [p for p in enabled if "telnet" in p or "remote_control" in p]
    kept = set(default_settings.EXTENSIONS_BASE) - {"scrapy.extensions.telnet.TelnetConsole",
                                                    "scrapy.extensions.remote_control.RemoteControl"}
    assert kept <= set(enabled)  # AutoThrottle, CloseSpider, MemoryUsage ... still there
    s = _settings()
    assert not s.getbool("TELNETCONSOLE_ENABLED") and not s.getbool("REMOTE_CONTROL_ENABLED")


def test_politeness_defaults_stay_on() -> None:
    s = _settings()
    assert s.getbool("ROBOTSTXT_OBEY") and s.getbool("AUTOTHROTTLE_ENABLED")
    assert s.getfloat("DOWNLOAD_DELAY") > 0 and s.getint("CONCURRENT_REQUESTS_PER_DOMAIN") <= 2
    assert s.getint("CONCURRENT_ITEMS") < 100  # one item per page: Scrapy's 100 tasks per response cost CPU
