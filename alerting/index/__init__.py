"""The search index: one protocol (``SearchIndex``), two backends picked by URL.

    open_index("sqlite:///data/index.db")        → SQLite FTS5 (the embedded default)
    open_index("http://127.0.0.1:9200", api_key=…) → Elasticsearch (what Kibana reads)
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from alerting.index.protocol import (
    NO_WARNING,
    Bucket,
    DocFailure,
    Hit,
    IndexDoc,
    IndexReport,
    IndexUnavailable,
    SearchIndex,
    SearchQuery,
    SearchResult,
)
from alerting.index.tokens import Tokenize, WordCutter
from yuqing.errors import ConfigError, ConfigProblem

if TYPE_CHECKING:
    from yuqing.config import Config

__all__ = [
    "NO_WARNING", "Bucket", "DocFailure", "Hit", "IndexDoc", "IndexReport", "IndexUnavailable", "SearchIndex",
    "SearchQuery", "SearchResult", "open_index", "open_index_from_config",
]


def open_index(url: str, *, tokenize: Tokenize | None = None, **options: Any) -> SearchIndex:
    """The backend for ``url``. ``options`` go to the Elasticsearch backend (api_key, basic_auth,
    ca_certs, prefix, replicas, request_timeout); the FTS5 backend takes none."""
    if url.startswith("sqlite:///"):
        from alerting.index.fts5 import Fts5Index

        return Fts5Index(url)  # matches on characters; the segmenter's words serve Elasticsearch
    if url.startswith(("http://", "https://")):
        from alerting.index.elasticsearch import ElasticsearchIndex

        return ElasticsearchIndex(url, tokenize=tokenize, **options)
    raise ValueError(f"index URL must start with sqlite:///, http:// or https://, not {url!r}")


def open_index_from_config(cfg: Config, tokenize: Tokenize | None = None) -> SearchIndex:
    """The configured index (storage.yaml ``index_url``; FTS5 in data_dir when empty), with the
    credentials named in storage.yaml read from the environment. ``tokenize`` defaults to
    ``WordCutter.from_config(cfg)``; the edges pass the analysis segmenter's ``cut``."""
    st = cfg.storage
    url = cfg.index_url
    options: dict[str, Any] = {}
    problems: list[ConfigProblem] = []
    if url.startswith(("http://", "https://")):
        if st.es_api_key_env:
            key = os.environ.get(st.es_api_key_env)
            if not key:
                problems.append(ConfigProblem("storage.yaml", None, "es_api_key_env",
                                              f"环境变量 {st.es_api_key_env} 未设置(应为 Elasticsearch API key)"))
            options["api_key"] = key
        if st.es_username:
            password = os.environ.get(st.es_password_env or "", "")
            if not password:
                name = st.es_password_env or "(未指定)"
                problems.append(ConfigProblem("storage.yaml", None, "es_password_env",
                                              f"环境变量 {name} 未设置(Elasticsearch 密码)"))
            options["basic_auth"] = (st.es_username, password)
        if st.es_ca_certs:
            options["ca_certs"] = st.es_ca_certs
        options["prefix"] = st.es_index_prefix
    elif not url.startswith("sqlite:///"):
        problems.append(ConfigProblem("storage.yaml", None, "index_url",
                                      f"index_url 必须以 sqlite:///、http:// 或 https:// 开头,现在是 {url!r}"))
    if problems:
        raise ConfigError(problems)
    return open_index(url, tokenize=tokenize or WordCutter.from_config(cfg), **options)
