"""Full-text search over the index interface, with highlights and filters; monitors see their schools only."""

from __future__ import annotations

import importlib
from typing import Any

from fastapi import APIRouter, Request, Response

from yuqing.errors import InputError
from yuqing.web.deps import CurrentActor, render

router = APIRouter()
SORT_LABELS = {"relevance": "相关度", "newest": "最新", "oldest": "最早", "sensitivity": "敏感度"}


def _index_module() -> Any | None:
    try:
        return importlib.import_module("alerting.index")
    except ModuleNotFoundError as exc:
        if exc.name != "alerting.index":
            raise
        return None


@router.get("/search")
def search_page(request: Request, actor: CurrentActor, q: str = "", school: str = "", category: str = "",
                severity: str = "", sort: str = "relevance", page: int = 1) -> Response:
    cfg = request.app.state.cfg
    ctx: dict[str, Any] = {"q": q, "school": school, "category": category, "severity": severity, "sort": sort,
                           "page": max(page, 1), "result": None, "error": "", "sorts": SORT_LABELS}
    searched = bool(q or school or category or severity)
    mod = _index_module()
    if mod is None:
        ctx["error"] = "检索功能尚未安装(缺少 alerting.index)。"
    elif searched:
        schools: list[str] = [school] if school else []
        if not actor.sees_all:
            schools = [s for s in (schools or sorted(actor.schools)) if s in actor.schools] or ["-none-"]
        query = mod.SearchQuery(
            text=q.strip(), schools=tuple(schools), categories=(category,) if category else (),
            severities=(severity,) if severity else (), sort=sort if sort in SORT_LABELS else "relevance",
            page=max(page, 1), size=20, aggregations=("category", "site"))
        try:
            index = mod.open_index_from_config(cfg)
            try:
                ctx["result"] = index.search(query)
            finally:
                index.close()
        except InputError as exc:
            ctx["error"] = f"查询语句有误: {exc}"
        except mod.IndexUnavailable as exc:
            ctx["error"] = f"检索服务暂时不可用,请稍后再试({type(exc).__name__})。"
    return render(request, "search.html", ctx, 400 if ctx["error"] and searched else 200)
