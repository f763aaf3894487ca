"""`yuqing config check` and load_config: every problem with file, line and what is wrong."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from yuqing.cli import app
from yuqing.config import load_config
from yuqing.errors import ConfigError

runner = CliRunner()


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _line(path: Path, needle: str) -> int:
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return i
    raise AssertionError(needle)


def _check(config_dir: Path) -> tuple[int, str]:
    result = runner.invoke(app, ["config", "check", "--config", str(config_dir)])
    return result.exit_code, result.output


def test_sample_config_is_valid(config_dir: Path) -> None:
    code, out = _check(config_dir)
    assert code == 0, out
    assert "配置正确: 示例县,10 所学校,7 个来源" in out
    cfg = load_config(config_dir)
    assert len(cfg.schools) >= 8
    assert {s.type for s in cfg.sources} == {
        "rss", "news_list", "news_search", "tieba", "discuz", "weibo_search", "weibo_page"
    }


def test_missing_field_names_file_line_and_field(config_dir: Path) -> None:
    schools = config_dir / "schools.yaml"
    _edit(schools, "    name: 示例县第二中学\n", "")
    code, out = _check(config_dir)
    assert code == 2
    line = _line(schools, "id: county-no2-high")
    assert f"{schools}:{line} [schools.1.name]: 缺少必填字段" in out
    assert "配置有 1 个问题。" in out


def test_bad_url(config_dir: Path) -> None:
    sources = config_dir / "sources.yaml"
    _edit(sources, '"${YUQING_DEMO_URL:-http://127.0.0.1:8800}/news/rss.xml"', '"ftp//news.example/rss"')
    code, out = _check(config_dir)
    assert code == 2
    line = _line(sources, "ftp//news.example/rss")
    assert f"{sources}:{line} [sources.0.urls.0]: 不是有效的网址: 'ftp//news.example/rss'" in out


def test_duplicate_school_name_points_at_both_lines(config_dir: Path) -> None:
    schools = config_dir / "schools.yaml"
    _edit(schools, "name: 示例县第二中学", "name: 示例县第一中学")
    code, out = _check(config_dir)
    assert code == 2
    first = _line(schools, "name: 示例县第一中学")
    lines = [i for i, ln in enumerate(schools.read_text(encoding="utf-8").splitlines(), 1) if "示例县第一中学" in ln]
    assert f"{schools}:{lines[1]} [schools.1.name]: 学校名称重复: '示例县第一中学'(与第 {first} 行相同)" in out


def test_bad_yaml_syntax(config_dir: Path) -> None:
    keywords = config_dir / "keywords.yaml"
    _edit(keywords, "red_lines: [死亡,", "red_lines: [死亡, {,")
    code, out = _check(config_dir)
    assert code == 2
    assert re.search(rf"{re.escape(str(keywords))}:\d+: YAML 语法错误", out), out


def test_duplicate_yaml_key(config_dir: Path) -> None:
    county = config_dir / "county.yaml"
    _edit(county, "retention_days: 180\n", "retention_days: 180\nretention_days: 90\n")
    code, out = _check(config_dir)
    assert code == 2
    assert f"{county}:{_line(county, 'retention_days: 90')}: YAML 语法错误: 重复的键 'retention_days'" in out


def test_several_problems_are_all_reported(config_dir: Path) -> None:
    _edit(config_dir / "schools.yaml", "level: 高中", "level: 大学")
    _edit(config_dir / "alerts.yaml", "immediate_to: [working_group, leaders]", "immediate_to: [working_group, bosses]")
    _edit(config_dir / "county.yaml", "retention_days: 180", "retention_days: -5\nretention_dayz: 3")
    with pytest.raises(ConfigError) as err:
        load_config(config_dir)
    text = str(err.value)
    assert "schools.0.level: 取值无效 '大学'" in text.replace("[", "").replace("]", "")
    assert "retention_dayz" in text and "未知字段" in text
    assert "retention_days" in text and "取值超出范围" in text
    # cross-file checks run only once each file is valid on its own
    assert "bosses" not in text


def test_unknown_recipient_group(config_dir: Path) -> None:
    alerts = config_dir / "alerts.yaml"
    _edit(alerts, "immediate_to: [working_group, leaders]", "immediate_to: [working_group, bosses]")
    code, out = _check(config_dir)
    assert code == 2
    assert f"{alerts}:{_line(alerts, 'immediate_to:')} [immediate_to.1]: 未定义的收件人组 'bosses'" in out


def test_secret_in_yaml_is_refused_and_never_printed(config_dir: Path) -> None:
    alerts = config_dir / "alerts.yaml"
    _edit(alerts, "  security: none\n", "  security: none\n  password: hunter2-very-secret\n")
    code, out = _check(config_dir)
    assert code == 2
    assert "hunter2-very-secret" not in out
    assert f"{alerts}:{_line(alerts, 'password:')} [smtp.password]: 配置文件中不能写密钥或密码(password)" in out


def test_environment_variables_fill_values(config_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YUQING_DEMO_URL", "http://127.0.0.1:9999")
    cfg = load_config(config_dir)
    assert cfg.source("demo-news-rss").urls == ["http://127.0.0.1:9999/news/rss.xml"]
    _edit(config_dir / "storage.yaml", "data_dir:", "index_url: ${YUQING_NO_SUCH_VAR}\ndata_dir:")
    with pytest.raises(ConfigError, match="环境变量 YUQING_NO_SUCH_VAR 未设置"):
        load_config(config_dir)


def test_bad_regex_in_topic(config_dir: Path) -> None:
    keywords = config_dir / "keywords.yaml"
    _edit(keywords, "/被.{0,4}打/", "/被(打/")
    code, out = _check(config_dir)
    assert code == 2
    assert f"{keywords}:{_line(keywords, '/被(打/')} [topics.1.expression]: 正则表达式无效 /被(打/" in out


def test_missing_directory() -> None:
    code, out = _check(Path("/nonexistent/yuqing-config"))
    assert code == 2
    assert "配置目录不存在" in out
