"""School matching: names, aliases, short forms with context, other counties' same-named schools."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analysis.schools import SchoolMatcher, evaluate_matching
from yuqing.config import Config, load_config

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "analysis" / "data" / "matching"


@pytest.fixture(scope="module")
def sample_cfg() -> Config:
    return load_config(ROOT / "config")


@pytest.fixture(scope="module")
def matcher(sample_cfg: Config) -> SchoolMatcher:
    return SchoolMatcher.from_config(sample_cfg)


@pytest.mark.parametrize("name", ["matching.jsonl", "holdout.jsonl"])
def test_labelled_sets_meet_the_targets(sample_cfg: Config, name: str) -> None:
    report = evaluate_matching(sample_cfg, DATA / name)
    assert report.precision >= 0.97 and report.recall >= 0.95, report.errors[:10]


def test_the_labelled_set_is_large_and_tricky() -> None:
    items = [json.loads(line) for line in (DATA / "matching.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(items) >= 300
    assert sum(1 for i in items if not i["schools"]) >= 100  # negatives: other counties, no context
    assert sum(1 for i in items if i["scoped"]) >= 20
    assert len({(i["text"], i["scoped"]) for i in items}) == len(items)  # no repeated case


def test_names_and_aliases_count_alone(matcher: SchoolMatcher) -> None:
    assert matcher.match("示例县第一中学食堂饭菜变质") == ["county-no1-high"]
    assert matcher.match("给示例二中的老师点赞") == ["county-no2-high"]
    assert matcher.match("南岭学校校车停运") == ["nanling-school"]


def test_short_forms_need_context_or_a_scoped_source(matcher: SchoolMatcher) -> None:
    assert matcher.match("一中今天放假吗") == []
    assert matcher.match("一中今天放假吗", scoped_to_county=True) == ["county-no1-high"]
    assert matcher.match("示例县的一中今天放假吗") == ["county-no1-high"]
    assert matcher.match("东山镇的孩子都去县二中读书") == ["county-no2-high"]  # township context


def test_other_counties_schools_are_rejected(matcher: SchoolMatcher) -> None:
    assert matcher.match("邻县一中打架了，示例县家长担心") == []
    assert matcher.match("邻县一中打架了", scoped_to_county=True) == []
    assert matcher.match("平阳县实验小学和示例县实小联合办学") == ["county-experimental-primary"]
    assert matcher.match("我市一中开学了，示例县教育局到场") == []
    assert matcher.match("临川县第一中学、示例县第一中学联考") == ["county-no1-high"]


def test_short_forms_inside_longer_words_are_not_schools(matcher: SchoolMatcher) -> None:
    for text in ("示例县初二中午放学", "周一中午示例县下雨", "示例县统一中考", "示例县十一中", "二中全会，示例县学习"):
        assert matcher.match(text) == [], text


def test_order_of_first_mention_and_no_duplicates(matcher: SchoolMatcher) -> None:
    text = "示例县二中门口很堵，示例县一中也是，二中最堵"
    assert matcher.match(text) == ["county-no2-high", "county-no1-high"]


def test_default_sets_and_the_printed_report(sample_cfg: Config) -> None:
    report = evaluate_matching(sample_cfg)
    assert report.n == 356 and "精确率" in str(report) and "召回率" in str(report)


def test_report_lists_the_errors(sample_cfg: Config, tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    rows = [
        {"text": "示例县第一中学", "schools": ["county-no1-high"]},
        {"text": "一中", "schools": ["county-no1-high"]},  # a wrong label: no context
        {"text": "邻县", "schools": []},
    ]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    report = evaluate_matching(sample_cfg, path)
    assert report.n == 3 and report.precision == 1.0 and report.recall == 0.5
    assert [e["line"] for e in report.errors] == [2]
    assert "第 2 行" in str(report)
