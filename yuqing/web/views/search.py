"""Full-text search over the index interface, with highlights and filters; monitors see their schools only.

The index area is imported when a search runs, not when the app starts: a broken or missing index
backend turns into a message on this page and never takes the review queue down with it.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from fastapi import APIRouter, Request, Response

from yuqing.errors import InputError
from yuqing.web.deps import CurrentActor, render

router = APIRouter()
log = logging.getLogger(__name__)
SORTS = {"relevance": "相关度", "newest": "最新", "oldest": "最早", "sensitivity": "敏感度"}


@router.get("/search")
def search_page(request: Request, actor: CurrentActor, q: str = "", school: str = "", category: str = "",
                severity: str = "", since: str = "", until: str = "", sort: str = "relevance",
                page: int = 1) -> Response:
    fields = {"q": q, "school": school, "category": category, "severity": severity, "since": since,
              "until": until, "sort": sort, "page": max(page, 1)}
    ctx: dict[str, Any] = {**fields, "result": None, "error": "", "sorts": SORTS}
    status = 200
    try:
        search = importlib.import_module("alerting.scoped_search")
        index = importlib.import_module("alerting.index")
    except ImportError as exc:
        log.error("search unavailable: %s", exc)
        return render(request, "search.html", {**ctx, "error": "检索功能暂不可用(检索模块未安装或加载失败)。"}, 503)
    form = search.SearchForm(**fields)
    if not form.empty:
        try:
            ctx["result"] = search.scoped_search(request.app.state.cfg, actor, form)
        except InputError as exc:
            ctx["error"], status = f"查询条件有误: {exc}", 400
        except index.IndexUnavailable as exc:
            ctx["error"], status = f"检索服务暂时不可用,请稍后再试({type(exc).__name__})。", 503
    return render(request, "search.html", ctx, status)
