"""The Analyzer and `yuqing analyze`: schools, relevance, category, severity, explanation, topics."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from analysis.analyzer import Analyzer
from analysis.keywords import TopicMatcher
from analysis.schools import SchoolMatcher
from analysis.segment import Segmenter
from yuqing.config import Config, load_config
from yuqing.demo.content import ANCHORS, DemoCorpus, corpus_posts
from yuqing.model import Category, Post, PostKind, Severity, post_id_for

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def sample_cfg() -> Config:
    return load_config(ROOT / "config")


@pytest.fixture(scope="module")
def lexicon(sample_cfg: Config) -> Analyzer:
    """The baseline without a model file: deterministic, for the rules around the classifier."""
    return Analyzer(
        sample_cfg,
        Segmenter.from_config(sample_cfg),
        SchoolMatcher.from_config(sample_cfg),
        TopicMatcher.from_config(sample_cfg),
        classifier=None,
    )


@pytest.fixture(scope="module")
def shipped(sample_cfg: Config) -> Analyzer:
    return Analyzer.from_config(sample_cfg)


def post(text: str, n: int = 1, **kw: object) -> Post:
    url = f"http://127.0.0.1/a/{n}"
    return Post(id=post_id_for(url), url=url, content=text, **kw)  # type: ignore[arg-type]


def test_relevance_is_a_matched_school_of_ours(lexicon: Analyzer) -> None:
    a = lexicon.analyze(post("示例县第一中学食堂饭菜变质，多名学生食物中毒住院"))
    assert a.schools == ["county-no1-high"] and a.relevant
    other = lexicon.analyze(post("邻县第一中学食堂饭菜变质，多名学生食物中毒住院"))
    assert other.schools == [] and not other.relevant
    # sensitivity judges the text itself, whoever it is about
    assert other.category is Category.incident and other.sensitivity >= 0.5


def test_scope_comes_from_the_source(lexicon: Analyzer) -> None:
    text = "一中食堂饭菜变质，多名学生呕吐住院"
    assert lexicon.analyze(post(text, source="demo-tieba")).schools == ["county-no1-high"]  # scoped source
    assert lexicon.analyze(post(text, source="demo-weibo-search")).schools == []
    assert lexicon.analyze(post(text, source="demo-weibo-search"), scoped_to_county=True).schools == [
        "county-no1-high"
    ]


def test_severity_explanation_topics_model(lexicon: Analyzer) -> None:
    a = lexicon.analyze(post("示例县第一中学食堂饭菜变质，多名学生食物中毒住院"))
    assert a.severity is not None and a.severity.rank >= Severity.III.rank  # 食物中毒 is a red line
    assert a.explanation and all(isinstance(t, str) and w != 0 for t, w in a.explanation)
    assert "食品安全" in a.topics
    assert a.model.startswith("lexicon@")
    calm = lexicon.analyze(post("示例县第一中学举行秋季运动会，全校师生参加，活动圆满结束"))
    assert calm.category is Category.none and calm.severity is None and calm.sensitivity < 0.5


def test_replies_are_judged_on_their_own_words(lexicon: Analyzer) -> None:
    title = "示例县第一中学食堂出事了，十几个学生食物中毒住院"
    reply = post("沙发", 2, kind=PostKind.reply, title=title, floor=2)
    a = lexicon.analyze(reply)
    assert a.category is Category.none and a.schools == []
    thread = lexicon.analyze(post("如题，家长们都急疯了", 3, kind=PostKind.thread, title=title))
    assert thread.schools == ["county-no1-high"] and thread.category is Category.incident


def test_batch_keeps_order_and_equals_single(lexicon: Analyzer, demo_corpus: DemoCorpus) -> None:
    posts = corpus_posts(demo_corpus)[:80]
    batch = lexicon.analyze_many(posts)
    assert [a.id for a in batch] == [p.id for p in posts]
    assert batch[5] == lexicon.analyze(posts[5])
    assert lexicon.analyze_many([]) == []


def test_demo_anchor_stories(shipped: Analyzer, demo_corpus: DemoCorpus) -> None:
    """What the demo's end-to-end test expects of the warnings, per post, with the shipped model."""
    posts = [p for p in corpus_posts(demo_corpus) if p.extra["truth"]["anchor"] in ANCHORS]
    results = shipped.analyze_many(posts)
    for name, anchor in ANCHORS.items():
        if name == "XSS":
            continue
        copies = [(p, a) for p, a in zip(posts, results, strict=True) if p.extra["truth"]["anchor"] == name]
        assert copies, name
        if not anchor.relevant:
            assert not any(a.relevant for _, a in copies), name
            continue
        assert any(a.category is anchor.category for _, a in copies), (name, [a.category for _, a in copies])
        assert any(set(anchor.schools) <= set(a.schools) for _, a in copies), name


def run_cli(args: list[str], stdin: str, cfg_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "yuqing.cli", "analyze", "--config", str(cfg_dir), *args],
        input=stdin, capture_output=True, text=True, cwd=ROOT, timeout=120,
    )


def test_cli_answers_valid_lines_in_order_and_reports_bad_ones(config_dir: Path) -> None:
    lines = [
        json.dumps({"id": "p1", "content": "示例县第一中学食堂饭菜变质，多名学生食物中毒住院"}, ensure_ascii=False),
        "{not json",
        json.dumps({"id": "p2"}),
        "",
        json.dumps({"id": "p3", "content": "一中今天放假", "source": "demo-tieba", "title": "放假",
                    "metrics": {"reposts": 3, "likes": 10}, "published_at": "2026-11-24T08:00:00+08:00"},
                   ensure_ascii=False),
        json.dumps({"id": "p4", "content": "正文", "published_at": "2026-11-24 08:00"}),  # no time zone
    ]
    done = run_cli([], "\n".join(lines) + "\n", config_dir)
    assert done.returncode == 1, done.stderr
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert [o["id"] for o in out] == ["p1", "p3"]
    assert out[0]["schools"] == ["county-no1-high"] and out[0]["relevant"] is True
    assert out[1]["schools"] == ["county-no1-high"]  # demo-tieba is scoped to the county
    expected_keys = {"id", "schools", "relevant", "sensitivity", "category", "severity", "sentiment",
                     "explanation", "model"}
    assert expected_keys <= set(out[0])
    assert "第 2 行" in done.stderr and "第 3 行" in done.stderr and "第 6 行" in done.stderr
    assert "content" in done.stderr and "共 3 行有错误" in done.stderr


def test_cli_all_good_exits_zero_and_missing_model_is_an_error(config_dir: Path, tmp_path: Path) -> None:
    good = json.dumps({"id": "x", "content": "示例县今天下雪了"}, ensure_ascii=False) + "\n"
    done = run_cli(["--no-events"], good, config_dir)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["event_id"] is None
    missing = run_cli(["--model", str(tmp_path / "none.skops")], good, config_dir)
    assert missing.returncode != 0 and "模型" in missing.stderr and not missing.stdout
    broken = tmp_path / "broken.skops"
    broken.write_text("not a model", encoding="utf-8")
    bad = run_cli(["--model", str(broken)], good, config_dir)
    assert bad.returncode != 0 and "模型文件无法使用" in bad.stderr and "Traceback" not in bad.stderr


def test_analysis_objects_are_those_model_construct_builds(shipped: Analyzer) -> None:
    """The Analyzer sets an Analysis' state directly (a tenth of the per-post time): the same object."""
    from analysis.analyzer import _construct_analysis
    from yuqing.model import Analysis

    [a] = shipped.analyze_many([post("城东中学食堂饭菜发霉，学生呕吐住院")])
    values = {name: getattr(a, name) for name in Analysis.model_fields}
    b = Analysis.model_construct(**values)
    c = _construct_analysis(dict(values))
    for built in (a, c):
        assert built == b
        assert built.model_fields_set == b.model_fields_set
        assert built.model_dump() == b.model_dump()
        assert built.to_interface() == b.to_interface()
    a.event_id = "e1"  # assignable like any model instance; its own field set
    assert a.event_id == "e1" and c.event_id is None


def test_categories_reach_down_to_the_sensitive_period_threshold(sample_cfg: Config, demo_corpus: DemoCorpus) -> None:
    """During a sensitive period the rules alert from a lower sensitivity; posts between that bar and the
    model's own cut must carry a category, or their events could never raise a warning."""
    from analysis.analyzer import load_classifier

    th = sample_cfg.alerts.thresholds
    period_bar = 0.05
    low = sample_cfg.model_copy(update={"alerts": sample_cfg.alerts.model_copy(
        update={"thresholds": th.model_copy(update={"sensitive_period_sensitivity": period_bar})})})
    model_cut = load_classifier(None).threshold
    assert period_bar < model_cut
    results = Analyzer.from_config(low).analyze_many(corpus_posts(demo_corpus))
    between = [a for a in results if period_bar <= a.sensitivity < model_cut]
    assert between, "no demo post scores between the two bars"
    assert all(a.category is not Category.none for a in between)
    assert all(a.category is Category.none for a in results if a.sensitivity < period_bar)
