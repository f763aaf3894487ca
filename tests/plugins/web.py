"""Fixtures for the review queue and the web UI: a migrated store, demo accounts, seeded warnings,
the app under TestClient and under a real uvicorn on 127.0.0.1 port 0."""

from __future__ import annotations

import itertools
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from alerting.store import Store
from alerting.store.posts import save_evidence, upsert_post
from alerting.store.tables import AnalysisRow, EventRow, WarningRow
from yuqing.config import Config
from yuqing.model import Metrics, Post, PostKind, post_id_for, utcnow

_SEQ = itertools.count()
XSS_TITLE = '示例县一中<script>window.__pwned=1;alert(1)</script>食堂<img src=x onerror="window.__pwned=2">'
XSS_CONTENT = (
    '家长反映<a href="javascript:window.__pwned=3">点此查看</a>食堂饭菜变质 '
    '<svg onload="window.__pwned=4"></svg> <iframe src="javascript:alert(2)"></iframe>'
)


def seed_warning(
    session: Session, cfg: Config, *, school: str = "county-no1-high", category: str = "inquiry",
    severity: str = "III", title: str = "示例县一中食堂饭菜变质,家长询问何时答复", content: str = "",
    url: str = "", n_posts: int = 2, created_at: datetime | None = None, status: str = "new",
    kind: str = "opinion", source_id: str | None = None,
) -> int:
    """Posts + analyses + event + warning, the way the pipeline leaves them. Returns the warning id."""
    now = created_at or utcnow()
    key = f"{school}-{title}-{now.timestamp()}-{next(_SEQ)}"
    event_id = post_id_for("event:" + key)
    session.add(EventRow(id=event_id, title=title, first_seen=now - timedelta(hours=2), last_seen=now,
                         post_count=n_posts, site_count=min(n_posts, 2), reach=120, schools=[school],
                         category=category, severity=severity, sensitivity=0.8))
    session.flush()
    sites = ["tieba.baidu.com", "bbs.example.cn"]
    for i in range(n_posts if kind == "opinion" else 0):
        u = url if (url and i == 0) else f"https://{sites[i % 2]}/p/{abs(hash(key)) % 10**8}/{i}"
        body = f"<html><body><h1>{title}</h1><p>{content or '家长们在论坛上反映情况'} {i}</p></body></html>"
        sha = save_evidence(session, u, body.encode("utf-8"), content_type="text/html; charset=utf-8")
        post = Post(
            id=post_id_for(u), url=u, source="demo-tieba", site=sites[i % 2],
            kind=PostKind.thread, title=title, content=(content or f"家长们在论坛上反映情况,第 {i + 1} 条。"),
            author=f"网友{i}", published_at=now - timedelta(hours=2 - i), published_at_raw="",
            crawled_at=now - timedelta(hours=1), metrics=Metrics(comments=10 + i, likes=5, views=1000),
            raw_sha256=sha,
        )
        upsert_post(session, post)
        session.flush()
        session.add(AnalysisRow(post_id=post.id, schools=[school], relevant=True, sensitivity=0.82,
                                category=category, severity=severity, sentiment=-0.6,
                                explanation=[["变质", 0.9], ["食堂", 0.5]], topics=["食品安全"],
                                event_id=event_id, model="test-1", analysed_at=now))
    w = WarningRow(kind=kind, event_id=event_id if kind == "opinion" else None, source_id=source_id, status=status,
                   category=category, severity=severity, schools=[school] if kind == "opinion" else [],
                   title=title, sensitivity=0.82, created_at=now, updated_at=now)
    session.add(w)
    session.flush()
    return w.id


@pytest.fixture
def web_store(cfg: Config) -> Iterator[Store]:
    store = Store.from_config(cfg)
    yield store
    store.dispose()


@pytest.fixture
def demo_passwords(web_store: Store, cfg: Config) -> dict[str, str]:
    from alerting.accounts import ensure_demo_users

    with web_store.session() as s:
        return ensure_demo_users(s, cfg)


@dataclass
class Seeded:
    mine: int  # county-no1-high, monitor_wang's school
    other: int  # xihe-central-primary, monitor_zhao's school
    xss: int  # a hostile post on monitor_wang's school
    health: int  # a source_health warning


@pytest.fixture
def seeded(web_store: Store, cfg: Config, demo_passwords: dict[str, str]) -> Seeded:
    with web_store.session() as s:
        mine = seed_warning(s, cfg)
        other = seed_warning(s, cfg, school="xihe-central-primary", category="fabrication", severity="II",
                             title="网传西河乡中心小学老师体罚学生,造谣", n_posts=3)
        xss = seed_warning(s, cfg, category="incident", severity="IV", title=XSS_TITLE, content=XSS_CONTENT,
                           url="javascript:window.__pwned=5")
        health = seed_warning(s, cfg, kind="source_health", source_id="demo-tieba", category="none",
                              severity="IV", title="数据源 demo-tieba 连续失败")
    return Seeded(mine, other, xss, health)


@pytest.fixture
def live_ui(cfg: Config, web_store: Store, demo_passwords: dict[str, str]) -> Iterator[str]:
    """The web UI under a real uvicorn on 127.0.0.1, a free port; yields its base URL."""
    import uvicorn

    from yuqing.web.app import create_app

    server = uvicorn.Server(uvicorn.Config(create_app(cfg, web_store), host="127.0.0.1", port=0,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def csrf_of(html: str) -> str:
    import re

    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "page has no CSRF field"
    return m.group(1)


def login(client: Any, username: str, password: str) -> Any:
    """Log a TestClient in through the real form; returns the response after the redirect."""
    page = client.get("/login")
    return client.post("/login", data={"csrf": csrf_of(page.text), "username": username, "password": password,
                                       "next": "/queue"})


@pytest.fixture
def web_app(cfg: Config, web_store: Store, demo_passwords: dict[str, str]) -> Any:
    from yuqing.web.app import create_app

    return create_app(cfg, web_store)


@pytest.fixture
def client_as(web_app: Any, demo_passwords: dict[str, str]) -> Iterator[Any]:
    """``client_as("officer_chen")`` → a TestClient logged in as that demo user (None: anonymous)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    made: list[Any] = []

    def make(username: str | None) -> Any:
        client = TestClient(web_app, base_url="http://testserver", follow_redirects=False)
        client.__enter__()
        made.append(client)
        if username:
            r = login(client, username, demo_passwords[username])
            assert r.status_code == 303, r.text
        return client

    yield make
    for c in made:
        c.__exit__(None, None, None)


_TERMS = ("食物中毒", "呕吐", "住院", "食堂", "强制收费", "收费", "资料费", "答复", "造谣", "老师", "建议", "课后服务")


def seed_demo_anchor(session: Session, cfg: Config, name: str, severity: str = "III",
                     base_url: str = "http://127.0.0.1:8800") -> int:
    """A warning made of the demo corpus's copies of one anchor story (``corpus_posts``: the posts a
    crawl of the demo sites records), stored the way the pipeline leaves them. Returns the warning id."""
    from yuqing.demo.content import ANCHORS, build_corpus, corpus_posts

    anchor = ANCHORS[name]
    posts = [p for p in corpus_posts(build_corpus(cfg), base_url)
             if p.extra.get("truth", {}).get("anchor") == name and p.thread_id is None]
    assert posts, f"the demo corpus has no copy of anchor {name}"
    event_id = post_id_for(f"demo-event:{name}")
    first = min(p.published_at or p.crawled_at for p in posts)
    last = max(p.published_at or p.crawled_at for p in posts)
    title = posts[0].title or posts[0].content[:40]  # weibos have no title: the pipeline uses the text's start
    session.add(EventRow(id=event_id, title=title, first_seen=first, last_seen=last, post_count=len(posts),
                         site_count=len({p.source for p in posts}), reach=sum(p.metrics.reach() for p in posts),
                         schools=list(anchor.schools), category=anchor.category.value, severity=severity,
                         sensitivity=0.9))
    session.flush()
    for post in posts:
        body = f"<html><head><title>{post.title}</title></head><body><h1>{post.title}</h1><p>{post.content}</p>"
        sha = save_evidence(session, post.url, (body + "</body></html>").encode("utf-8"),
                            content_type="text/html; charset=utf-8")
        upsert_post(session, post.model_copy(update={"raw_sha256": sha}))
        session.flush()
        text = post.title + post.content
        session.add(AnalysisRow(post_id=post.id, schools=list(anchor.schools), relevant=True, sensitivity=0.9,
                                category=anchor.category.value, severity=severity, sentiment=-0.5,
                                explanation=[[t, round(1 - i * 0.15, 2)] for i, t in enumerate(
                                    t for t in _TERMS if t in text)][:5],
                                event_id=event_id, model="demo-seed", analysed_at=utcnow()))
    w = WarningRow(kind="opinion", event_id=event_id, status="new", category=anchor.category.value,
                   severity=severity, schools=list(anchor.schools), title=title, sensitivity=0.9,
                   created_at=utcnow(), updated_at=utcnow())
    session.add(w)
    session.flush()
    return w.id
