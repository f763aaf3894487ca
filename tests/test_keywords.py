"""The topic grammar monitors write in keywords.yaml: any-of words, +must, !must-not, /regex/, | clauses."""

from __future__ import annotations

import pytest

from analysis.keywords import TopicMatcher, TopicSyntaxError, parse, plain_terms


def matches(expression: str, text: str) -> bool:
    return bool(TopicMatcher([("t", expression)]).match(text))


def test_any_of_the_plain_words() -> None:
    assert matches("食堂 饭菜 营养餐", "孩子说营养餐不好吃")
    assert not matches("食堂 饭菜 营养餐", "今天下雨了")


def test_exclusion_wins() -> None:
    assert matches("食堂 饭菜 !招聘", "食堂饭菜变质")
    assert not matches("食堂 饭菜 !招聘", "食堂招聘厨师")


def test_must_have_with_alternatives_and_clauses() -> None:
    expr = "收费 补课费 资料费 +钱 | 乱收费 强制收费"
    assert matches(expr, "补课费要交多少钱")
    assert not matches(expr, "补课费的通知")  # +钱 missing in the first clause
    assert matches(expr, "学校乱收费")  # the second clause alone
    assert not matches(expr, "今天天气很好")


def test_regular_expressions_including_bars_inside() -> None:
    assert matches("欺凌 /被.{0,4}打/", "孩子在学校被同学打了")
    assert matches("招生 /(小升初|中考)/", "今年中考政策")
    assert not matches("招生 /(小升初|中考)/", "高考")
    assert matches("+/\\d+元/ 收费", "每人收费180元")
    assert not matches("+/\\d+元/ 收费", "收费标准")
    assert not matches("食堂 !/招聘|承包/", "食堂承包商")


def test_only_exclusions_make_no_topic() -> None:
    assert parse("!招聘") == []
    assert not matches("!招聘", "任何文字")


def test_bad_expressions_are_reported_in_chinese() -> None:
    with pytest.raises(TopicSyntaxError, match="正则表达式无效"):
        parse("/([/")
    with pytest.raises(TopicSyntaxError, match="无法解析"):
        parse("食堂 /未闭合")


def test_a_bad_topic_names_itself() -> None:
    from yuqing.errors import InputError

    with pytest.raises(InputError, match="专题 '坏专题'"):
        TopicMatcher([("好专题", "食堂"), ("坏专题", "食堂 /未闭合")])


def test_plain_terms_feed_the_dictionary() -> None:
    assert plain_terms("收费 +钱 !招聘 /被.打/ | 乱收费") == ["收费", "钱", "乱收费"]


def test_sample_config_topics(cfg) -> None:  # noqa: ANN001
    topics = TopicMatcher.from_config(cfg)
    assert topics.match("示例县一中食堂饭菜发霉，学生食物中毒") == ["食品安全"]
    assert topics.match("食堂饭菜变质，校车又出事了") == ["食品安全", "安全事故"]  # config order
    assert topics.match("示例县一中食堂招聘厨师") == []
    assert topics.match("孩子被同学打了") == ["校园欺凌"]
    assert "乱收费" in topics.match("学校强制收费")
    assert topics.match("小升初划片的问题") == ["招生入学"]


def test_overlapping_and_nested_words_are_all_found() -> None:
    topics = TopicMatcher([("a", "+收费 +费用"), ("b", "+补课 +补课费"), ("c", "收费 !费用")])
    assert topics.match("学校收费用途不明，补课费也要交") == ["a", "b"]
