"""Kibana saved objects: the NDJSON checked against the documented export format and our
mapping, and the import call checked by a local endpoint that validates the request the way
Kibana's saved-objects import API does (method, path, query, headers, multipart body)."""

from __future__ import annotations

import email.parser
import email.policy
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from typer.testing import CliRunner

from alerting.index.elasticsearch import MAPPINGS
from alerting.index.kibana import INDEX_REF, import_to_kibana, saved_objects, to_ndjson
from yuqing.cli import app
from yuqing.config import Config
from yuqing.errors import YuqingError

JSON_STRING_ATTRS = ("visState", "panelsJSON", "optionsJSON", "uiStateJSON", "fields", "fieldAttrs",
                     "fieldFormatMap", "runtimeFieldMap", "sourceFilters", "typeMeta")
TYPES = {"index-pattern", "search", "visualization", "dashboard"}


def _lines(text: str) -> list[dict[str, Any]]:
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def test_ndjson_follows_the_saved_objects_export_format(cfg: Config) -> None:
    lines = _lines(to_ndjson(saved_objects(cfg)))
    *objects, summary = lines
    assert summary == {"excludedObjects": [], "excludedObjectsCount": 0, "exportedCount": len(objects),
                       "missingRefCount": 0, "missingReferences": []}
    ids = {(o["type"], o["id"]) for o in objects}
    assert len(ids) == len(objects), "duplicate type/id"
    for o in objects:
        assert set(o) >= {"id", "type", "attributes", "references", "coreMigrationVersion", "typeMigrationVersion"}
        assert o["type"] in TYPES and o["attributes"]["title"]
        for name in JSON_STRING_ATTRS:
            if name in o["attributes"]:
                assert isinstance(o["attributes"][name], str)
                json.loads(o["attributes"][name])
        for ref in o["references"]:
            assert (ref["type"], ref["id"]) in ids, f"{o['id']} refers to a missing {ref}"
        meta = o["attributes"].get("kibanaSavedObjectMeta")
        if meta:
            source = json.loads(meta["searchSourceJSON"])
            assert source["query"]["language"] == "kuery"
            if "indexRefName" in source:
                assert source["indexRefName"] in {r["name"] for r in o["references"]}


def test_objects_fit_the_index_mapping(cfg: Config) -> None:
    objects = saved_objects(cfg)
    props = MAPPINGS["properties"]
    (view,) = [o for o in objects if o["type"] == "index-pattern"]
    assert view["id"] == view["attributes"]["title"] == "yuqing-posts"
    assert props[view["attributes"]["timeFieldName"]]["type"] == "date"
    searches = {o["attributes"]["title"]: o for o in objects if o["type"] == "search"}
    assert {"今日预警", "高敏感未处理"} <= set(searches)
    assert {f"学校:{s.name}" for s in cfg.schools} <= set(searches)
    assert len(searches) == 2 + len(cfg.schools)
    for s in searches.values():
        assert all(c in props for c in s["attributes"]["columns"])
        assert s["attributes"]["sort"] == [["published_at", "desc"]]
    assert searches["今日预警"]["attributes"]["timeRange"] == {"from": "now/d", "to": "now"}
    school = cfg.schools[0]
    assert f'schools : "{school.id}"' in searches[f"学校:{school.name}"]["attributes"]["kibanaSavedObjectMeta"][
        "searchSourceJSON"].replace('\\"', '"')
    charts = [o for o in objects if o["type"] == "visualization"]
    fields = set()
    for c in charts:
        state = json.loads(c["attributes"]["visState"])
        for agg in state["aggs"]:
            if "field" in agg["params"]:
                fields.add(agg["params"]["field"])
                # Terms and histograms need aggregatable fields: keywords and dates, never text.
                assert props[agg["params"]["field"]]["type"] in {"keyword", "date"}
        assert c["references"] == [{"id": "yuqing-posts", "name": INDEX_REF, "type": "index-pattern"}]
    assert {"published_at", "schools", "category", "severity"} <= fields
    (dash,) = [o for o in objects if o["type"] == "dashboard"]
    panels = json.loads(dash["attributes"]["panelsJSON"])
    assert len(panels) == len(charts)
    refs = {r["name"]: r["id"] for r in dash["references"]}
    for p in panels:
        assert refs[f"{p['panelIndex']}:{p['panelRefName']}"] in {c["id"] for c in charts}


def test_ids_are_stable(cfg: Config) -> None:
    assert to_ndjson(saved_objects(cfg)) == to_ndjson(saved_objects(cfg))


def test_cli_export_writes_the_file(config_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "kibana.ndjson"
    result = CliRunner().invoke(app, ["kibana", "export", "--out", str(out), "--config", str(config_dir)])
    assert result.exit_code == 0, result.output
    assert "已写入" in result.output
    assert len(_lines(out.read_text(encoding="utf-8"))) > 5


# -- the import endpoint -----------------------------------------------------------------------
@dataclass
class FakeKibana:
    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    reply: tuple[int, dict[str, Any]] | None = None


class _Handler(BaseHTTPRequestHandler):
    kibana: FakeKibana

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        parts = urlsplit(self.path)
        problems = []
        if not parts.path.endswith("/api/saved_objects/_import"):
            problems.append(f"path {parts.path}")
        if parse_qs(parts.query) != {"overwrite": ["true"]}:
            problems.append(f"query {parts.query}")
        if not self.headers.get("kbn-xsrf"):
            problems.append("no kbn-xsrf header")  # Kibana answers 400 without it
        ctype = self.headers.get("Content-Type", "")
        if not ctype.startswith("multipart/form-data; boundary="):
            problems.append(f"content type {ctype}")
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {ctype}\r\n\r\n".encode() + body)
        files = [p for p in msg.iter_parts() if p.get_param("name", header="content-disposition") == "file"]
        if len(files) != 1 or not str(files[0].get_filename()).endswith(".ndjson"):
            problems.append("multipart body must have one 'file' part with a .ndjson file name")
        content = files[0].get_payload(decode=True).decode("utf-8") if files else ""
        self.kibana.requests.append({"path": parts.path, "auth": self.headers.get("Authorization"),
                                     "content": content, "problems": problems})
        status, data = self.kibana.reply or (
            (400, {"statusCode": 400, "error": "Bad Request", "message": "; ".join(problems)}) if problems else
            (200, {"success": True, "successCount": len(content.splitlines()) - 1, "successResults": []}))
        raw = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


@pytest.fixture
def kibana() -> Iterator[FakeKibana]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    fake = FakeKibana(url=f"http://127.0.0.1:{server.server_address[1]}")
    _Handler.kibana = fake
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def test_import_posts_exactly_what_kibana_expects(cfg: Config, kibana: FakeKibana) -> None:
    result = import_to_kibana(cfg, kibana.url, api_key="c2VjcmV0OmtleQ==")
    (req,) = kibana.requests
    assert req["problems"] == []
    assert req["path"] == "/api/saved_objects/_import"
    assert req["auth"] == "ApiKey c2VjcmV0OmtleQ=="
    assert req["content"] == to_ndjson(saved_objects(cfg))
    assert result.imported == len(saved_objects(cfg))


def test_import_into_a_space_without_api_key(cfg: Config, kibana: FakeKibana) -> None:
    import_to_kibana(cfg, kibana.url + "/", space="jiaoyu")
    (req,) = kibana.requests
    assert req["path"] == "/s/jiaoyu/api/saved_objects/_import" and req["auth"] is None and not req["problems"]


@pytest.mark.parametrize("reply, words", [
    ((401, {"statusCode": 401, "error": "Unauthorized"}), "API key"),
    ((200, {"success": False, "successCount": 0, "errors": [{"id": "x", "error": {"type": "conflict"}}]}), "导入失败"),
])
def test_import_failures_are_clear(cfg: Config, kibana: FakeKibana, reply: tuple[int, dict[str, Any]],
                                   words: str) -> None:
    kibana.reply = reply
    with pytest.raises(YuqingError, match=words):
        import_to_kibana(cfg, kibana.url)


def test_import_to_nowhere_is_a_clear_error(cfg: Config) -> None:
    with pytest.raises(YuqingError, match="无法连接 Kibana"):
        import_to_kibana(cfg, "http://127.0.0.1:9", timeout=2)


def test_cli_import(config_dir: Path, kibana: FakeKibana, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIBANA_API_KEY", "a2V5")
    result = CliRunner().invoke(app, ["kibana", "import", "--url", kibana.url, "--config", str(config_dir)])
    assert result.exit_code == 0, result.output
    assert "Kibana 已导入" in result.output and kibana.requests[0]["auth"] == "ApiKey a2V5"


def test_the_configured_prefix_names_the_data_view(config_dir: Path) -> None:
    from yuqing.config import load_config

    storage = config_dir / "storage.yaml"
    storage.write_text(storage.read_text(encoding="utf-8") + "es_index_prefix: county-b-posts\n", encoding="utf-8")
    objects = saved_objects(load_config(config_dir))
    assert objects[0]["id"] == objects[0]["attributes"]["title"] == "county-b-posts"
    assert all(r["id"] == "county-b-posts" for o in objects for r in o["references"] if r["type"] == "index-pattern")
