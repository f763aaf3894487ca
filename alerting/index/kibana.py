"""Kibana saved objects for the posts alias: a data view, saved searches and a dashboard.

``saved_objects(cfg)`` builds them in the documented export format (one JSON object per line,
JSON-encoded strings for ``searchSourceJSON``/``visState``/``panelsJSON``, references by name,
an export summary as the last line), so the file imports with Kibana's saved-objects import API
or its "Saved objects → Import" page. Ids are stable (derived from names), so importing again
with overwrite replaces the objects instead of duplicating them.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from alerting.index.protocol import DEFAULT_PREFIX
from yuqing.errors import YuqingError

if TYPE_CHECKING:
    from yuqing.config import Config

# Objects are written in the 8.x export format; Kibana 8.x and 9.x migrate them on import.
CORE_MIGRATION_VERSION = "8.8.0"
_NS = uuid.UUID("5d0c1a4e-2f3b-4c58-9a57-7975716e6701")
INDEX_REF = "kibanaSavedObjectMeta.searchSourceJSON.index"
SEARCH_COLUMNS = ["title", "schools", "category", "severity", "status", "sensitivity", "site", "url"]


def _dumps(value: Any, **kwargs: Any) -> str:
    # Compact, like Kibana's own exports; ensure_ascii off keeps Chinese titles readable.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), **kwargs)


def _id(kind: str, name: str) -> str:
    return str(uuid.uuid5(_NS, f"{kind}:{name}"))


def _source(query: str = "", with_index: bool = True) -> str:
    src: dict[str, Any] = {"query": {"query": query, "language": "kuery"}, "filter": []}
    if with_index:
        src["highlightAll"] = True
        src["indexRefName"] = INDEX_REF
    return _dumps(src)


def _data_view(alias: str) -> dict[str, Any]:
    return {
        "id": alias, "type": "index-pattern", "typeMigrationVersion": "8.0.0",
        "coreMigrationVersion": CORE_MIGRATION_VERSION, "managed": False, "references": [],
        "attributes": {"title": alias, "name": "舆情帖子", "timeFieldName": "published_at",
                       "fields": "[]", "fieldAttrs": "{}", "fieldFormatMap": "{}", "runtimeFieldMap": "{}",
                       "sourceFilters": "[]", "typeMeta": "{}", "allowNoIndex": True},
    }


def _search(alias: str, title: str, query: str, description: str, today: bool = False) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "title": title, "description": description, "columns": SEARCH_COLUMNS,
        "sort": [["published_at", "desc"]], "grid": {}, "hideChart": False, "isTextBasedQuery": False,
        "kibanaSavedObjectMeta": {"searchSourceJSON": _source(query)},
        "timeRestore": today,
    }
    if today:
        attrs["timeRange"] = {"from": "now/d", "to": "now"}
        attrs["refreshInterval"] = {"pause": False, "value": 60000}
    return {"id": _id("search", title), "type": "search", "typeMigrationVersion": "8.0.0",
            "coreMigrationVersion": CORE_MIGRATION_VERSION, "managed": False, "attributes": attrs,
            "references": [{"id": alias, "name": INDEX_REF, "type": "index-pattern"}]}


def _terms(agg_id: str, field: str, size: int, label: str, schema: str) -> dict[str, Any]:
    return {"id": agg_id, "enabled": True, "type": "terms", "schema": schema,
            "params": {"field": field, "size": size, "order": "desc", "orderBy": "1", "customLabel": label,
                       "otherBucket": False, "missingBucket": False}}


_COUNT = {"id": "1", "enabled": True, "type": "count", "schema": "metric", "params": {"customLabel": "帖子数"}}


def _vis(alias: str, title: str, vis_type: str, aggs: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    state = {"title": title, "type": vis_type, "aggs": [_COUNT, *aggs], "params": params}
    return {"id": _id("visualization", title), "type": "visualization", "typeMigrationVersion": "8.5.0",
            "coreMigrationVersion": CORE_MIGRATION_VERSION, "managed": False,
            "attributes": {"title": title, "description": "", "version": 1, "uiStateJSON": "{}",
                           "visState": _dumps(state),
                           "kibanaSavedObjectMeta": {"searchSourceJSON": _source()}},
            "references": [{"id": alias, "name": INDEX_REF, "type": "index-pattern"}]}


def _bar_params(horizontal: bool = False) -> dict[str, Any]:
    cat_pos, val_pos = ("left", "bottom") if horizontal else ("bottom", "left")
    return {"type": "horizontal_bar" if horizontal else "histogram", "addTooltip": True, "addLegend": True,
            "legendPosition": "right", "isVislibVis": True, "detailedTooltip": True,
            "categoryAxes": [{"id": "CategoryAxis-1", "type": "category", "position": cat_pos,
                              "show": True, "labels": {"show": True, "truncate": 100}, "title": {}}],
            "valueAxes": [{"id": "ValueAxis-1", "name": "LeftAxis-1", "type": "value",
                           "position": val_pos, "show": True,
                           "labels": {"show": True}, "title": {"text": "帖子数"}}],
            "seriesParams": [{"data": {"id": "1", "label": "帖子数"}, "show": True, "type": "histogram",
                              "mode": "stacked", "valueAxis": "ValueAxis-1"}]}


def saved_objects(cfg: Config | None = None, alias: str | None = None) -> list[dict[str, Any]]:
    """The data view, saved searches and dashboard, data view first (references resolve in order).
    ``alias`` defaults to the configured ``es_index_prefix``."""
    alias = alias or (cfg.storage.es_index_prefix if cfg else DEFAULT_PREFIX)
    objects: list[dict[str, Any]] = [_data_view(alias)]
    objects.append(_search(alias, "今日预警", "not status : \"none\"", "今天有预警的帖子(任一状态)", today=True))
    objects.append(_search(alias, "高敏感未处理", "sensitivity >= 0.8 and status : (\"new\" or \"triaged\")",
                           "敏感度 ≥ 0.8 且预警尚待研判或已研判未处置"))
    for school in (cfg.schools if cfg else []):
        objects.append(_search(alias, f"学校:{school.name}", f"schools : \"{school.id}\"",
                               f"{school.name}({school.id})的全部帖子"))
    day = {"id": "2", "enabled": True, "type": "date_histogram", "schema": "segment",
           "params": {"field": "published_at", "interval": "d", "min_doc_count": 1, "extended_bounds": {},
                      "customLabel": "发布日期"}}
    charts = [
        _vis(alias, "每日帖子量", "histogram", [day], _bar_params()),
        _vis(alias, "各学校帖子量", "horizontal_bar", [_terms("2", "schools", 50, "学校", "segment")],
             _bar_params(horizontal=True)),
        _vis(alias, "类别与级别", "histogram", [_terms("2", "category", 10, "类别", "segment"),
                                                _terms("3", "severity", 5, "级别", "group")], _bar_params()),
        _vis(alias, "每日敏感帖子(按级别)", "histogram", [day, _terms("3", "severity", 5, "级别", "group")],
             _bar_params()),
    ]
    objects.extend(charts)
    panels, refs = [], []
    for i, chart in enumerate(charts):
        pid = str(i + 1)
        panels.append({"version": CORE_MIGRATION_VERSION, "type": "visualization", "panelIndex": pid,
                       "gridData": {"x": (i % 2) * 24, "y": (i // 2) * 15, "w": 24, "h": 15, "i": pid},
                       "embeddableConfig": {}, "panelRefName": f"panel_{pid}"})
        refs.append({"name": f"{pid}:panel_{pid}", "type": "visualization", "id": chart["id"]})
    objects.append({
        "id": _id("dashboard", "舆情总览"), "type": "dashboard", "typeMigrationVersion": "8.9.0",
        "coreMigrationVersion": CORE_MIGRATION_VERSION, "managed": False, "references": refs,
        "attributes": {"title": "舆情总览", "description": "帖子量按天、学校、类别与级别", "version": 1,
                       "panelsJSON": _dumps(panels),
                       "optionsJSON": _dumps({"useMargins": True, "syncColors": False, "hidePanelTitles": False}),
                       "timeRestore": True, "timeFrom": "now-30d", "timeTo": "now",
                       "refreshInterval": {"pause": False, "value": 300000},
                       "kibanaSavedObjectMeta": {"searchSourceJSON": _source(with_index=False)}},
    })
    return objects


def to_ndjson(objects: list[dict[str, Any]]) -> str:
    lines = [_dumps(o, sort_keys=True) for o in objects]
    summary = {"excludedObjects": [], "excludedObjectsCount": 0, "exportedCount": len(objects),
               "missingRefCount": 0, "missingReferences": []}
    lines.append(_dumps(summary, sort_keys=True))
    return "\n".join(lines) + "\n"


def export_ndjson(cfg: Config, out: Path, alias: str | None = None) -> int:
    objects = saved_objects(cfg, alias)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(to_ndjson(objects), encoding="utf-8")
    return len(objects)


@dataclass
class ImportResult:
    imported: int
    response: dict[str, Any]


def import_to_kibana(cfg: Config, url: str, api_key: str | None = None, space: str = "",
                     alias: str | None = None, timeout: float = 30.0, verify: bool | str = True) -> ImportResult:
    """POST the objects to ``/api/saved_objects/_import?overwrite=true`` as Kibana expects it:
    multipart/form-data with one ``file`` part, the ``kbn-xsrf`` header, optional ``ApiKey`` auth."""
    body = to_ndjson(saved_objects(cfg, alias)).encode("utf-8")
    base = url.rstrip("/") + (f"/s/{space}" if space else "")
    headers = {"kbn-xsrf": "true"}
    if api_key:
        headers["Authorization"] = f"ApiKey {api_key}"
    try:
        resp = httpx.post(f"{base}/api/saved_objects/_import", params={"overwrite": "true"}, headers=headers,
                          files={"file": ("yuqing-saved-objects.ndjson", body, "application/ndjson")},
                          timeout=timeout, verify=verify)
    except httpx.HTTPError as exc:
        raise YuqingError(f"无法连接 Kibana {url}:{exc}") from exc
    if resp.status_code in (401, 403):
        raise YuqingError(f"Kibana 拒绝了请求(HTTP {resp.status_code}):请检查 API key 及其权限")
    try:
        data = resp.json()
    except ValueError:
        data = {}
    if resp.status_code != 200 or not data.get("success", False):
        errors = data.get("errors") or data.get("message") or resp.text[:300]
        raise YuqingError(f"Kibana 导入失败(HTTP {resp.status_code}):{errors}")
    return ImportResult(int(data.get("successCount", 0)), data)
