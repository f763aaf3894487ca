"""Chinese terminal rendering for the index commands (kept out of index_cmd so commands stay thin)."""

from __future__ import annotations

import html
import json
import re
from dataclasses import asdict
from datetime import datetime
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from alerting.index.protocol import SearchQuery, SearchResult
from alerting.index.service import IndexStatus
from yuqing.config import Config
from yuqing.model import CATEGORY_LABELS, SEVERITY_LABELS, STATE_LABELS, Category, Severity, WarningState

_TAG = re.compile(r"</?em>")


def _category(v: str) -> str:
    return CATEGORY_LABELS[Category(v)] if v in Category.__members__ else v


def _severity(v: str | None) -> str:
    return SEVERITY_LABELS[Severity(v)] if v is not None and v in Severity.__members__ else (v or "—")


def _status(v: str) -> str:
    return STATE_LABELS[WarningState(v)] if v in WarningState.__members__ else "无预警"


def print_status(console: Console, st: IndexStatus) -> None:
    t = Table(title=f"搜索索引({st.backend})", show_header=False)
    t.add_row("地址", escape(st.url))
    t.add_row("数据库中的帖子", str(st.store_posts))
    t.add_row("索引中的文档", str(st.indexed) if st.indexed is not None else f"[red]无法连接:{escape(st.error)}[/red]")
    b = st.backlog
    t.add_row("待写入(积压)", f"{b.pending}(其中到期 {b.due},出错 {b.failed})")
    t.add_row("最早积压时间", b.oldest_pending.isoformat() if b.oldest_pending else "—")
    t.add_row("已送达", str(b.delivered))
    console.print(t)


def print_result(console: Console, cfg: Config, q: SearchQuery, r: SearchResult, as_json: bool) -> None:
    if as_json:
        console.print_json(json.dumps({"total": r.total, "hits": [asdict(h) for h in r.hits],
                                       "aggregations": {k: [asdict(b) for b in v] for k, v in r.aggregations.items()}},
                                      ensure_ascii=False, default=str))
        return
    zone = ZoneInfo(cfg.timezone)
    names = {s.id: s.name for s in cfg.schools}
    t = Table(title=f"共 {r.total} 条,第 {q.page} 页({r.took_ms:.0f} 毫秒)")
    for col in ("发布时间", "学校", "类别", "级别", "状态", "标题 / 命中片段"):
        t.add_column(col)
    for h in r.hits:
        d = h.doc
        when = datetime.fromisoformat(d["published_at"].replace("Z", "+00:00")).astimezone(zone)
        # Fragments are HTML (escaped text, <em> marks); the terminal wants the plain text back.
        plain = [html.unescape(_TAG.sub("", frag)) for frag in h.highlights[:2]]
        snippet = " … ".join(plain) or d.get("content", "")[:60]
        t.add_row(when.strftime("%Y-%m-%d %H:%M"), "、".join(names.get(s, s) for s in d.get("schools", [])) or "—",
                  _category(d.get("category", "none")), _severity(d.get("severity")), _status(d.get("status", "")),
                  escape(f"{d.get('title', '')}\n{snippet}\n{d.get('url', '')}"))
    console.print(t)
    labels = {"day": "按天", "school": "按学校", "category": "按类别", "severity": "按级别"}
    for name, buckets in r.aggregations.items():
        if not buckets:
            continue
        show = {"school": lambda k: names.get(k, k), "category": _category, "severity": _severity}.get(name, str)
        console.print(f"{labels.get(name, name)}:" + ",".join(f"{show(b.key)} {b.count}" for b in buckets[:15]))
