"""The search page over the real FTS5 index: highlights re-escaped, filters, monitors limited to their schools."""

from __future__ import annotations

from datetime import timedelta

import pytest

from alerting.index import IndexDoc, open_index
from yuqing.model import utcnow


@pytest.fixture
def indexed(cfg):  # type: ignore[no-untyped-def]
    now = utcnow()
    docs = [
        IndexDoc(id="p1", url="https://bbs.example.cn/t/1", title="示例县一中食堂饭菜变质",
                 content="家长反映食堂饭菜变质<script>alert(1)</script>", published_at=now - timedelta(hours=1),
                 crawled_at=now, site="bbs.example.cn", schools=("county-no1-high",), category="inquiry",
                 severity="III", relevant=True, sensitivity=0.8),
        IndexDoc(id="p2", url="javascript:alert(2)", title="西河小学食堂整改", content="西河乡中心小学食堂已整改",
                 published_at=now - timedelta(hours=2), crawled_at=now, site="news.example.cn",
                 schools=("xihe-central-primary",), category="none", relevant=True),
    ]
    index = open_index(cfg.index_url)
    index.ensure()
    index.index(docs)
    index.refresh()
    index.close()
    return docs


def test_search_with_highlights_and_filters(client_as, indexed):  # type: ignore[no-untyped-def]
    client = client_as("officer_chen")
    page = client.get("/search", params={"q": "食堂"})
    assert page.status_code == 200
    assert "共 2 条" in page.text and "<mark>" in page.text
    assert "<script>alert(1)" not in page.text and "&lt;script&gt;" in page.text
    assert 'href="javascript:' not in page.text
    only = client.get("/search", params={"q": "食堂", "school": "xihe-central-primary"}).text
    assert "共 1 条" in only and "西河小学食堂整改" in only


def test_monitor_searches_only_their_schools(client_as, indexed):  # type: ignore[no-untyped-def]
    page = client_as("monitor_wang").get("/search", params={"q": "食堂"}).text
    assert "共 1 条" in page and "西河小学食堂整改" not in page
    page = client_as("monitor_wang").get("/search", params={"q": "食堂", "school": "xihe-central-primary"}).text
    assert "西河小学食堂整改" not in page


def test_bad_query_is_a_clear_message(client_as, indexed):  # type: ignore[no-untyped-def]
    r = client_as("officer_chen").get("/search", params={"q": '"unclosed'})
    assert r.status_code == 400
    assert "查询条件有误" in r.text and "引号不成对" in r.text


def test_date_filters_and_local_times(client_as, indexed, cfg):  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    client = client_as("officer_chen")
    local = indexed[0].published_at.astimezone(ZoneInfo(cfg.timezone))
    page = client.get("/search", params={"q": "食堂"}).text
    assert local.strftime("%Y-%m-%d %H:%M") in page
    tomorrow = (local + timedelta(days=1)).date().isoformat()
    assert "共 0 条" in client.get("/search", params={"q": "食堂", "since": tomorrow}).text
    bad = client.get("/search", params={"q": "食堂", "since": "昨天"})
    assert bad.status_code == 400 and "无法识别的日期" in bad.text


def test_search_before_anything_was_indexed(client_as):  # type: ignore[no-untyped-def]
    r = client_as("officer_chen").get("/search", params={"q": "食堂"})
    assert r.status_code == 200
    assert "共 0 条" in r.text, r.text[-800:]


def test_search_when_elasticsearch_is_down(config_dir, web_store, demo_passwords):  # type: ignore[no-untyped-def]
    import socket
    import warnings

    from tests.plugins.web import login
    from yuqing.config import load_config
    from yuqing.web.app import create_app

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    storage = config_dir / "storage.yaml"
    storage.write_text(storage.read_text(encoding="utf-8") + f"index_url: http://127.0.0.1:{port}\n",
                       encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    with TestClient(create_app(load_config(config_dir), web_store), follow_redirects=False) as client:
        login(client, "officer_chen", demo_passwords["officer_chen"])
        r = client.get("/search", params={"q": "食堂"})
    assert r.status_code == 503 and "检索服务暂时不可用" in r.text


def test_a_broken_index_module_only_disables_search(client_as, seeded, monkeypatch):  # type: ignore[no-untyped-def]
    import sys

    monkeypatch.setitem(sys.modules, "alerting.scoped_search", None)  # import now raises ImportError
    client = client_as("officer_chen")
    r = client.get("/search", params={"q": "食堂"})
    assert r.status_code == 503 and "检索功能暂不可用" in r.text
    assert client.get("/queue").status_code == 200
    assert client.get(f"/warnings/{seeded.mine}").status_code == 200
