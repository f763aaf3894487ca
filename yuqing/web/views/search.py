"""Full-text search over the index interface, with highlights and filters; monitors see their schools only."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Request, Response

from alerting.index import IndexUnavailable
from alerting.scoped_search import SORTS, SearchForm, scoped_search
from yuqing.errors import InputError
from yuqing.web.deps import CurrentActor, render

router = APIRouter()


@router.get("/search")
def search_page(request: Request, actor: CurrentActor, q: str = "", school: str = "", category: str = "",
                severity: str = "", since: str = "", until: str = "", sort: str = "relevance",
                page: int = 1) -> Response:
    form = SearchForm(q, school, category, severity, since, until, sort, page)
    ctx: dict[str, Any] = {**asdict(form), "result": None, "error": "", "sorts": SORTS}
    status = 200
    if not form.empty:
        try:
            ctx["result"] = scoped_search(request.app.state.cfg, actor, form)
        except InputError as exc:
            ctx["error"], status = f"查询条件有误: {exc}", 400
        except IndexUnavailable as exc:
            ctx["error"], status = f"检索服务暂时不可用,请稍后再试({type(exc).__name__})。", 503
    return render(request, "search.html", ctx, status)
