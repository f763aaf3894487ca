"""The shipped classifier: loads safely, predicts the five categories on clear posts, explains itself."""

from __future__ import annotations

import zipfile
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from analysis.classifier import CATEGORIES, Classifier, default_model_path
from analysis.features import TextFeatures, normalise, tokenize
from yuqing.model import Category

CLEAR = {
    Category.inquiry: "请问教育局：城东中学开学每个学生收两百元资料费，没有收据也没有公示，这笔钱有没有文件依据？"
    "不交会不会影响孩子？请尽快答复。",
    Category.incident: "刚刚城东中学食堂出事了，中午吃完饭二十多个学生上吐下泻，救护车来了好几辆，"
    "学生都被送到县医院输液，家长们都赶过去了。",
    Category.fabrication: "内部消息！城东中学校长贪了几百万，老师全是关系户，一群人渣，学校死了学生还花钱封口，"
    "千真万确，大家转疯它！",
    Category.suggestion: "建议城东中学增加课后服务的兴趣课程，比如书法、篮球和科学实验，同时公开课程安排，"
    "希望学校和教育局能够采纳。",
    Category.none: "城东中学举行第十届秋季田径运动会，全校师生齐聚操场，同学们在比赛中奋勇争先，赛出了风格。",
}


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return Classifier.load()


def test_shipped_model_is_small_and_versioned(clf: Classifier) -> None:
    path = default_model_path()
    assert path.stat().st_size < 50 * 1024 * 1024
    assert clf.version.startswith("yuqing-clf ")
    assert (path.parent / "MODEL_CARD.md").read_text(encoding="utf-8").startswith(f"# Model card: {clf.version}")


@pytest.mark.parametrize("category", list(CLEAR))
def test_clear_examples_get_their_category(clf: Classifier, category: Category) -> None:
    [p] = clf.predict([CLEAR[category]])
    assert p.category is category, (p.category, p.probs)
    if category is Category.none:
        assert p.sensitivity < clf.threshold
    else:
        assert p.sensitivity >= clf.threshold


def test_probabilities_and_explanations(clf: Classifier) -> None:
    texts = list(CLEAR.values())
    preds = clf.predict(texts)
    for text, p in zip(texts, preds, strict=True):
        assert set(p.probs) == set(CATEGORIES)
        assert sum(p.probs.values()) == pytest.approx(1.0, abs=1e-4)
        assert 0.0 <= p.sensitivity <= 1.0
        assert p.probs["none"] == pytest.approx(1.0 - p.sensitivity, abs=1e-4)
        assert p.explanation, text
        for term, weight in p.explanation:
            assert term.lower() in text.lower() and weight > 0
    # the terms of a sensitive post are the ones that pushed it
    incident = preds[1].explanation
    assert incident[0][1] >= incident[-1][1]


def test_given_tokens_and_own_tokens_agree(clf: Classifier) -> None:
    texts = list(CLEAR.values())
    own = clf.predict(texts)
    given = clf.predict(texts, [tokenize(t) for t in texts])
    assert [p.category for p in own] == [p.category for p in given]
    assert np.allclose([p.sensitivity for p in own], [p.sensitivity for p in given])
    assert clf.predict([]) == []


def test_batch_equals_single(clf: Classifier) -> None:
    texts = list(CLEAR.values()) + ["", "ＡＢＣ１２３ 全角", "🙂😡 emoji 帖子"]
    batch = clf.scores(texts)["sensitivity"]
    single = [clf.scores([t])["sensitivity"][0] for t in texts]
    assert np.allclose(batch, single)


def test_missing_model_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        Classifier.load(tmp_path / "absent.skops")


def test_untrusted_types_are_refused(tmp_path: Path) -> None:
    import skops.io as sio

    bad = tmp_path / "bad.skops"
    sio.dump({"format": 2, "payload": Fraction(1, 3)}, bad, compression=zipfile.ZIP_DEFLATED)
    with pytest.raises(ValueError, match="不受信任"):
        Classifier.load(bad)


def test_features_normalise_and_hash_stably() -> None:
    assert normalise("ＡＢＣ１２３ Ab9") == "abc000 ab0"
    texts = ["学校食堂收费", "学校运动会", "食堂饭菜"]
    f = TextFeatures(char_bits=16).fit(texts, [["学校", "食堂", "收费"], ["学校", "运动会"], ["食堂", "饭菜"]])
    assert f.words == ["学校", "食堂"]  # words seen in at least two texts
    x1 = f.transform(["学校食堂收费"], [["学校", "食堂", "收费"]]).toarray()
    x2 = f.transform(["学校食堂收费", "别的"], [["学校", "食堂", "收费"], ["别的"]]).toarray()[:1]
    assert np.allclose(x1, x2)
    assert np.linalg.norm(x1) == pytest.approx(np.sqrt(2), rel=1e-6)  # two blocks, each L2-normalised


def test_explain_floor_skips_quiet_posts(clf: Classifier) -> None:
    texts = [CLEAR[Category.none], CLEAR[Category.incident]]
    quiet, loud = clf.predict(texts, explain_floor=clf.threshold)
    assert quiet.explanation == [] and loud.explanation
    assert [p.sensitivity for p in clf.predict(texts, explain=0)] == [quiet.sensitivity, loud.sensitivity]


def test_one_table_scores_equal_scikit_learn(clf: Classifier) -> None:
    """The load-time weight table gives what the TF-IDF matrix and the three heads + stacker give."""
    from yuqing.demo.content import scale_posts

    texts = list(CLEAR.values()) + ["", "ＡＢＣ１２３ 全角", "🙂😡 emoji 帖子", "\x00中\x00", "a"]
    texts += [p.text() for p in scale_posts(60, length=200)]
    tokens = [tokenize(t) for t in texts]
    fast, slow = clf.scores(texts, tokens), clf.reference_scores(texts, tokens)
    for key in ("sensitivity", "attack", "category"):
        assert np.allclose(fast[key], slow[key], rtol=0, atol=1e-9), key
    assert clf.scores([])["category"].shape == (0, 5)


def test_explanations_name_meaningful_terms(clf: Classifier) -> None:
    from analysis.explain import explain_stopped

    for term in ("的", "了", "是", "说", "个", "我们", "这个", "也是", "了，", "2020", "，。", "🙂", "已经", "没有"):
        assert explain_stopped(term), term
    for term in ("食堂", "学生", "收费", "被打", "听说", "为什么", "转发", "a", "救护车"):
        assert not explain_stopped(term), term
    texts = list(CLEAR.values()) + ["说了是的，我们也是这个意思，学生都被打了，食堂的饭菜发霉了"]
    for p in clf.predict(texts, explain=40):
        assert p.explanation
        assert not [t for t, _ in p.explanation if explain_stopped(t)], p.explanation
    # the last text's explanation still names the content words, never the function words around them
    last = [t for t, _ in clf.predict(texts[-1:], explain=40)[0].explanation]
    assert not {"的", "了", "是", "说", "我们"} & set(last)


def test_explanation_values_round_like_python() -> None:
    """The batch explainer rounds shares in numpy: the same floats as round(v, 4), halves included."""
    from analysis.explain import _round4

    rng = np.random.default_rng(7)
    values = np.concatenate([
        rng.random(20_000) * 3, rng.random(2_000) * 1e-4, (np.arange(20_000) + 0.5) / 1e4,
        np.array([0.0, 0.00005, 0.00015, 0.12345, 2.71825, 1e9 + 0.123456, 1e12 / 3]),
    ])
    assert _round4(values) == [round(v, 4) for v in values.tolist()]


def test_batch_explainer_keeps_rows_apart(clf: Classifier) -> None:
    """Terms are summed and ranked for the whole batch at once: each text gets what it gets alone (rows never
    mix, even when they share terms), largest first; a NaN share (a damaged model) empties its row only.
    test_analysis_parity.py checks the terms against a slow, obvious explainer."""
    from analysis import explain as ex
    from yuqing.demo.content import scale_posts

    def explain(texts: list[str], top: int, damage: bool = False) -> list[list[tuple[str, float]]]:
        scorer = clf._scorer
        e = scorer.entries(texts, [tokenize(t) for t in texts])
        sums = scorer.sums(e)
        which = np.argmax(clf._scores(sums)["category"][:, :4], axis=1)
        chars, words = scorer.contributions(e, sums, which)
        if damage:
            chars[0][0] = np.nan
        return ex.explain(e, chars, words, clf._vocabulary, clf.features.n_char, top)

    texts = list(CLEAR.values()) + [p.text() for p in scale_posts(30, length=200)]
    batch = explain(texts, 40)
    assert sum(map(len, batch)) > 5 * len(texts)
    for text, terms in zip(texts, batch, strict=True):
        assert terms == explain([text], 40)[0]
        assert [v for _, v in terms] == sorted((v for _, v in terms), reverse=True)
    damaged = explain(texts, 40, damage=True)
    assert damaged[0] == [] and damaged[1:] == batch[1:]
