"""`yuqing parse --type TYPE FILE`: posts as JSON Lines; errors in Chinese with the file name, exit 1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from yuqing.cli import app
from yuqing.model import Post

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


def parse(*args: str) -> tuple[int, list[dict], str]:
    result = runner.invoke(app, ["parse", *args])
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return result.exit_code, lines, result.stderr


@pytest.mark.shared
def test_thread_page_prints_one_post_per_floor(tmp_path: Path) -> None:
    from tests.conftest import shared_path

    page = shared_path("fixtures", "tieba", "tieba_thread_8057560733.html")
    code, lines, err = parse("--type", "tieba", str(page), "--url", "https://tieba.baidu.com/p/8057560733",
                             "--source", "demo-tieba", "--config", str(ROOT / "config"))
    assert code == 0, err
    posts = [Post.model_validate(line) for line in lines]
    assert [p.floor for p in posts] == [1, 2, 3, 6, 8, 9]
    assert all(p.source == "demo-tieba" and p.site == "tieba.baidu.com" for p in posts)
    assert "6 条帖子" in err


def test_links_and_options(tmp_path: Path) -> None:
    page = tmp_path / "list.html"
    page.write_text(
        '<html><body><ul><li><a href="/gov/art/1.html">示例县教育局发布通知公告</a><span>2026-11-29</span></li>'
        '<li><a href="/about.html">关于我们的网站介绍页面</a></li></ul>'
        '<a class="next" href="/gov/list_2.html">下一页</a></body></html>',
        encoding="utf-8",
    )
    code, lines, err = parse("-t", "news_list", str(page), "--url", "http://gov.example.cn/gov/list_1.html", "--links",
                             "-o", 'follow=["/gov/art/"]')
    assert code == 0, err
    assert lines == [
        {"link": "http://gov.example.cn/gov/art/1.html", "kind": "article", "title": "示例县教育局发布通知公告",
         "meta": {"published_raw": "2026-11-29", "published": "2026-11-28T16:00:00+00:00"}},
        {"link": "http://gov.example.cn/gov/list_2.html", "kind": "next", "title": "", "meta": {}},
    ]


def test_selector_override_from_the_command_line(tmp_path: Path) -> None:
    page = tmp_path / "a.html"
    page.write_text(
        "<html><head><title>标题</title></head><body><div class='x-body'>这是正文，县教育局回应家长关切的问题。</div>"
        "<div class='x-time'>2026-11-29 08:00</div></body></html>",
        encoding="utf-8",
    )
    code, lines, err = parse("-t", "news", str(page), "-o", "selectors.content=.x-body", "-o",
                             "selectors.published_at=.x-time")
    assert code == 0, err
    [post] = lines
    assert post["content"] == "这是正文，县教育局回应家长关切的问题。"
    assert post["published_at"] == "2026-11-29T00:00:00Z"


def test_parse_error_is_chinese_with_file_name_and_exit_1(tmp_path: Path) -> None:
    page = tmp_path / "redesigned.html"
    page.write_text("<html><body><div class='v2-list'>改版后的页面</div></body></html>", encoding="utf-8")
    code, lines, err = parse("--type", "tieba_list", str(page))
    assert code == 1 and lines == []
    assert str(page) in err and "找不到任何条目" in err


def test_unknown_type_and_missing_file(tmp_path: Path) -> None:
    page = tmp_path / "x.html"
    page.write_text("<html></html>", encoding="utf-8")
    result = runner.invoke(app, ["parse", "--type", "nope", str(page)])
    assert result.exit_code != 0 and "未知的页面类型" in str(result.exception or "") + result.stderr
    code, _, err = parse("--type", "news", str(tmp_path / "missing.html"))
    assert code == 1 and "文件不存在" in err
