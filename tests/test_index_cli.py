"""`yuqing index status|rebuild|replay` and `yuqing search` as a user runs them (FTS5 default, and
the real node when storage.yaml points at it)."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from alerting.index import open_index
from alerting.index.outbox import enqueue_post
from alerting.store import Store
from alerting.store.posts import upsert_post
from alerting.store.tables import AnalysisRow
from yuqing.config import Config
from yuqing.model import Post, post_id_for

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 3, 5, 2, 0, tzinfo=timezone.utc)


def yuqing(config_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "yuqing.cli", *args, "--config", str(config_dir)],
                          capture_output=True, text=True, timeout=240, cwd=ROOT,
                          env={"PATH": "/usr/bin:/bin", "COLUMNS": "200", "HOME": str(config_dir.parent)})


def _seed(cfg: Config, n: int = 12) -> list[str]:
    store = Store.from_config(cfg)
    ids = []
    with store.session() as s:
        for i in range(n):
            url = f"https://tieba.baidu.com/p/{500 + i}"
            school = cfg.schools[i % 2]
            post = Post(id=post_id_for(url), url=url, source="tieba", site="tieba.baidu.com", kind="thread",
                        title=f"{school.name}{'食堂' if i % 3 == 0 else '校车'}问题", content=f"家长反映情况,第{i}帖。",
                        published_at=T0, crawled_at=T0)
            upsert_post(s, post)
            s.flush()
            s.add(AnalysisRow(post_id=post.id, schools=[school.id], relevant=True, sensitivity=0.9,
                              category="inquiry", severity="IV", model="t", analysed_at=T0))
            enqueue_post(s, post.id, now=T0)
            ids.append(post.id)
    store.dispose()
    return ids


def test_status_replay_search_rebuild_on_fts5(cfg: Config, config_dir: Path) -> None:
    ids = _seed(cfg)
    status = yuqing(config_dir, "index", "status")
    assert status.returncode == 0, status.stderr
    assert "SQLite FTS5" in status.stdout and "待写入" in status.stdout and "12" in status.stdout

    replay = yuqing(config_dir, "index", "replay")
    assert replay.returncode == 0, replay.stderr
    assert "已送达 12 条" in replay.stdout

    found = yuqing(config_dir, "search", "食堂", "--school", cfg.schools[0].id)
    assert found.returncode == 0, found.stderr
    assert "共 2 条" in found.stdout and cfg.schools[0].name in found.stdout and "询问" in found.stdout

    rebuilt = yuqing(config_dir, "index", "rebuild", "--yes")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "已写入 12 条文档" in rebuilt.stdout
    js = yuqing(config_dir, "search", "问题", "--json", "--size", "50")
    assert js.returncode == 0 and all(i in js.stdout for i in ids)


@pytest.mark.parametrize("query", ['"食堂', "食堂 OR -宿舍", "食堂 OR", "(食堂)"])
def test_bad_query_is_a_chinese_message_without_traceback(config_dir: Path, query: str) -> None:
    result = yuqing(config_dir, "search", query)
    assert result.returncode == 1
    assert result.stderr.startswith("错误: ") and "Traceback" not in result.stderr + result.stdout


def test_bad_date_is_a_clear_error(config_dir: Path) -> None:
    result = yuqing(config_dir, "search", "食堂", "--since", "三月一日")
    assert result.returncode == 1 and "无法识别的日期" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.es
def test_configured_elasticsearch_is_used(cfg: Config, config_dir: Path, es_url: str, es_prefix: str) -> None:
    storage = config_dir / "storage.yaml"
    storage.write_text(storage.read_text(encoding="utf-8") + f"index_url: {es_url}\nes_index_prefix: {es_prefix}\n",
                       encoding="utf-8")
    _seed(cfg, n=4)
    try:
        replay = yuqing(config_dir, "index", "replay")
        assert replay.returncode == 0, replay.stderr
        status = yuqing(config_dir, "index", "status")
        assert "Elasticsearch" in status.stdout
        open_index(es_url, prefix=es_prefix).refresh()  # the index refreshes every 5 s by itself
        found = yuqing(config_dir, "search", "食堂 OR 校车", "--size", "10")
        assert "共 4 条" in found.stdout
        assert open_index(es_url, prefix=es_prefix).count() == 4
    finally:
        open_index(es_url, prefix=es_prefix).delete_all()


def test_an_unreachable_cluster_is_reported_not_a_traceback(cfg: Config, config_dir: Path) -> None:
    storage = config_dir / "storage.yaml"
    storage.write_text(storage.read_text(encoding="utf-8") + "index_url: http://127.0.0.1:9\n", encoding="utf-8")
    _seed(cfg, n=3)
    status = yuqing(config_dir, "index", "status")
    assert status.returncode == 0 and "无法连接" in status.stdout and "3" in status.stdout
    replay = yuqing(config_dir, "index", "replay")
    assert replay.returncode == 3 and "仍在等待 3 条" in replay.stdout and "索引暂时不可用" in replay.stdout
    found = yuqing(config_dir, "search", "食堂")
    assert found.returncode == 1 and found.stderr.startswith("错误: 无法连接 Elasticsearch")
    assert "Traceback" not in found.stderr + status.stderr + replay.stderr
