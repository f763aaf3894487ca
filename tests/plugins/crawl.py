"""Crawl fixtures: a configuration folder pointed at the session demo sites, and helpers to crawl it.

``crawl_env_factory(name, only=[ids], overrides={id: {...}}, extra_sources=[{...}], county={...})``
gives a CrawlEnv with its own data folder (SQLite, HTTP cache, logs); "{base}" in an extra source stands
for the demo base URL.
``env.crawl([...])`` runs the real runner (one `scrapy crawl` process per source); ``env.posts(source)``
and ``env.runs(source)`` read back what the crawl stored.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from alerting.store.tables import PostRow, SeenUrlRow, SourceRunRow
from yuqing.config import Config, load_config
from yuqing.demo.sites import DemoSites

ROOT = Path(__file__).resolve().parents[2]
FAST = {"download_delay": 0, "autothrottle": False, "concurrency_per_domain": 8}


@dataclass
class CrawlEnv:
    config_dir: Path
    data_dir: Path
    sites: DemoSites

    @property
    def cfg(self) -> Config:
        return load_config(self.config_dir)

    def crawl(self, source_ids: list[str] | None = None, **kwargs: Any) -> dict[str, Any]:
        from crawler.runner import crawl_sources

        kwargs.setdefault("parallel", 4)
        kwargs.setdefault("timeout_s", 120)
        results = crawl_sources(self.cfg, self.config_dir, source_ids, **kwargs)
        return {r.source_id: r for r in results}

    def session(self) -> Session:
        return Session(create_engine(f"sqlite:///{self.data_dir / 'yuqing.db'}"))

    def posts(self, source: str | None = None) -> list[PostRow]:
        with self.session() as s:
            stmt = select(PostRow)
            if source is not None:
                stmt = stmt.where(PostRow.source == source)
            return list(s.scalars(stmt))

    def runs(self, source: str) -> list[SourceRunRow]:
        with self.session() as s:
            return list(s.scalars(select(SourceRunRow).where(SourceRunRow.source_id == source)
                                  .order_by(SourceRunRow.id)))

    def seen(self, source: str) -> list[SeenUrlRow]:
        with self.session() as s:
            return list(s.scalars(select(SeenUrlRow).where(SeenUrlRow.source == source)))

    def log(self, source: str) -> str:
        path = self.data_dir / "logs" / "crawl" / f"{source}.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


def make_crawl_env(
    work: Path, sites: DemoSites, extra_sources: list[dict[str, Any]] | None = None,
    county: dict[str, Any] | None = None, only: list[str] | None = None,
    overrides: dict[str, dict[str, Any]] | None = None,
) -> CrawlEnv:
    config_dir = work / "config"
    shutil.copytree(ROOT / "config", config_dir)
    data_dir = work / "data"
    (config_dir / "storage.yaml").write_text(f"data_dir: {data_dir}\n", encoding="utf-8")
    sources_file = config_dir / "sources.yaml"
    doc = yaml.safe_load(sources_file.read_text(encoding="utf-8"))
    sources = doc["sources"]
    if only is not None:
        sources = [s for s in sources if s["id"] in only]
    for src in sources:
        src.update((overrides or {}).get(src["id"], {}))
    for extra in extra_sources or []:
        sources.append({"politeness": dict(FAST), "schedule": {"interval_minutes": 30}, **extra})
    # The demo sources' URLs use ${YUQING_DEMO_URL}; write them resolved so that children need no env.
    text = yaml.safe_dump({"sources": sources}, allow_unicode=True, sort_keys=False)
    text = text.replace("${YUQING_DEMO_URL:-http://127.0.0.1:8800}", sites.base_url).replace("{base}", sites.base_url)
    sources_file.write_text(text, encoding="utf-8")
    if county:
        county_file = config_dir / "county.yaml"
        data = yaml.safe_load(county_file.read_text(encoding="utf-8"))
        data["crawler"].update(county)
        county_file.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return CrawlEnv(config_dir, data_dir, sites)


@pytest.fixture(scope="module")
def crawl_env_factory(
    tmp_path_factory: pytest.TempPathFactory, demo_sites_server: DemoSites
) -> Iterator[Callable[..., CrawlEnv]]:
    """Build CrawlEnvs on the session demo sites; faults set through the factory's sites are cleared after."""
    saved = os.environ.get("YUQING_DEMO_URL")
    os.environ["YUQING_DEMO_URL"] = demo_sites_server.base_url

    def factory(name: str, **kwargs: Any) -> CrawlEnv:
        return make_crawl_env(tmp_path_factory.mktemp(name), demo_sites_server, **kwargs)

    yield factory
    demo_sites_server.clear_faults()
    if saved is None:
        os.environ.pop("YUQING_DEMO_URL", None)
    else:
        os.environ["YUQING_DEMO_URL"] = saved
