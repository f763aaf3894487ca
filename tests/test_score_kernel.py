"""The compiled scoring kernel (analysis/_score_kernel.pyx) gives exactly what the numpy reference gives: the same
sums, scales and class scores (bit for bit) and the same explanation terms and values, on real texts and on
the edge cases; and without the compiled module the classifier refuses to start instead of running slower."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from analysis.classifier import CATEGORIES, Classifier
from analysis.explain import explain as reference_explain
from analysis.features import tokenize
from tests.conftest import shared_path

ROOT = Path(__file__).resolve().parent.parent

EDGE = [
    "",  # empty
    "，。！？……——“”（）",  # punctuation only
    "!!!???...",
    "𠮷野家的食堂😡😡学生🙂被打了𠀋",  # beyond the BMP, alone and next to letters
    "ＡＢＣ１２３全角ａｂｃ，城东中学收费ＸＹＺ",  # full-width letters and digits
    "\x00中\x00学\x00",  # NULs (the reference's separator)
    "a",
    "食堂食堂食堂食堂收费收费收费",  # repeated terms
    "Wi-Fi 2024年 ABC abc 学校 COVID-19",  # ASCII words whose case and digits normalisation changes
]


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return Classifier.load()


def reference(clf: Classifier, texts: list[str], tokens: list[list[str]], top: int,
              which: np.ndarray | None = None) -> tuple[Any, np.ndarray, list[list[tuple[str, float]]]]:
    """The numpy path: entries, CSR sums, numpy's pull per text (or the one given), contributions, terms."""
    scorer = clf._scorer
    e = scorer.entries(texts, tokens)
    sums = scorer.sums(e)
    if which is None:
        which = np.argmax(clf._scores(sums)["category"][:, : len(CATEGORIES) - 1], axis=1)
    chars, words = scorer.contributions(e, sums, which)
    return sums, which, reference_explain(e, chars, words, clf._vocabulary, clf.features.n_char, top)


def assert_same(clf: Classifier, texts: list[str], tokens: list[list[str]], top: int = 8) -> None:
    ref_sums, ref_which, ref_terms = reference(clf, texts, tokens, top)
    batch, c, w, which, terms = clf._kernel.judge(texts, tokens, top)
    sums = clf._scorer.sums_of(c, w)
    for name in ("c_scale", "w_scale", "out"):
        assert np.array_equal(getattr(sums, name), getattr(ref_sums, name)), name
    assert np.array_equal(which, ref_which)
    for i, (got, want) in enumerate(zip(terms, ref_terms, strict=True)):
        assert got == want, (i, texts[i][:80])
    assert clf.judge(texts, tokens, explain=top).explanation == ref_terms


def real_texts() -> list[str]:
    from yuqing.config import load_config
    from yuqing.demo.content import build_corpus, corpus_posts, scale_posts

    posts = corpus_posts(build_corpus(load_config(ROOT / "config")))
    return [p.text() for p in posts] + [p.text() for p in scale_posts(300, length=200)]


def test_kernel_equals_numpy_on_demo_and_bench_posts(clf: Classifier) -> None:
    texts = real_texts()
    tokens = [tokenize(t) for t in texts]
    for top in (8, 40):
        for i in range(0, len(texts), 500):  # the Analyzer's batches
            assert_same(clf, texts[i : i + 500], tokens[i : i + 500], top)


def test_kernel_equals_numpy_on_real_people_posts(clf: Classifier) -> None:
    """COLD (short Weibo/forum comments on race, region, gender) and SWSR (Weibo comments): real writing."""
    texts: list[str] = []
    with shared_path("datasets", "cold", "dev.csv").open(encoding="utf-8-sig") as f:
        texts += [row["TEXT"] for row, _ in zip(csv.DictReader(f), range(2500), strict=False)]
    with shared_path("datasets", "swsr", "SexComment.csv").open(encoding="utf-8-sig") as f:
        texts += [row["comment_text"] for row, _ in zip(csv.DictReader(f), range(1500), strict=False)]
    tokens = [tokenize(t) for t in texts]
    for i in range(0, len(texts), 1000):
        assert_same(clf, texts[i : i + 1000], tokens[i : i + 1000])


def test_kernel_edge_cases(clf: Classifier) -> None:
    tokens = [tokenize(t) for t in EDGE]
    assert_same(clf, EDGE, tokens, 40)
    for text, toks in zip(EDGE, tokens, strict=True):  # a batch of one
        assert_same(clf, [text], [toks], 40)
    # tokens the vocabulary lacks (and tokens that are not the text's own words) count for nothing
    odd = [["没见过的词甲乙", "zzqx", "", " "] + toks for toks in tokens]
    assert_same(clf, EDGE, odd, 40)
    # no texts at all
    assert_same(clf, [], [], 8)
    assert clf.judge([], []).explanation == [] and clf.scores([])["category"].shape == (0, 5)


def test_tokens_as_any_sequence(clf: Classifier) -> None:
    texts = real_texts()[:20]
    tokens = [tokenize(t) for t in texts]
    assert clf.judge(texts, tokens).explanation == clf.judge(texts, [tuple(t) for t in tokens]).explanation
    with pytest.raises(ValueError):
        clf._kernel.judge(texts, tokens[:-1], 8)


def test_explaining_again_along_another_pull(clf: Classifier) -> None:
    """``explain`` (the path for texts whose kernel pull differs from the probabilities' one) along any pull,
    and quiet posts (explain_floor) get no terms."""
    texts = real_texts()[:200] + EDGE
    tokens = [tokenize(t) for t in texts]
    batch, c, w, which, _ = clf._kernel.judge(texts, tokens, 8)
    sums = clf._scorer.sums_of(c, w)
    other = (which + 1) % (len(CATEGORIES) - 1)
    rows = np.arange(0, len(texts), 3, dtype=np.int64)
    got = clf._kernel.explain(batch, rows, other, sums.c_scale, sums.w_scale, 8)
    want = reference(clf, texts, tokens, 8, which=other)[2]
    assert got == [want[r] for r in rows.tolist()]
    floor = float(np.median(clf.scores(texts, tokens)["sensitivity"]))
    quiet = clf.scores(texts, tokens)["sensitivity"] < floor
    judged = clf.judge(texts, tokens, explain_floor=floor).explanation
    full = clf.judge(texts, tokens).explanation
    assert [t for t, q in zip(judged, quiet.tolist(), strict=True) if q] == [[]] * int(quiet.sum())
    assert [t for t, q in zip(judged, quiet.tolist(), strict=True) if not q] == [
        t for t, q in zip(full, quiet.tolist(), strict=True) if not q]


def test_without_the_compiled_kernel_the_classifier_refuses(monkeypatch: pytest.MonkeyPatch) -> None:
    """No silent fallback (neither to numpy nor, through load_classifier, to the lexicon)."""
    import analysis.scoring as scoring
    from analysis.analyzer import load_classifier

    monkeypatch.setattr(scoring, "_score_kernel", None)
    monkeypatch.setattr(scoring, "_KERNEL_ERROR", ImportError("No module named 'analysis._score_kernel'"))
    with pytest.raises(scoring.KernelMissing, match="make install"):
        Classifier.load()
    with pytest.raises(scoring.KernelMissing, match="make install"):
        load_classifier(None)


def test_token_memo_past_its_largest_size(clf: Classifier) -> None:
    """The C memo of short tokens grows, then empties itself when full (it only caches a function of the
    token): the rows stay right throughout, vocabulary words and new tokens alike."""
    words = [w for w in clf.features.words if 1 <= len(w) <= 4][:3000]
    fresh = [chr(0x4E00 + i // 160) + chr(0x4E00 + i % 160) + "乙丙" for i in range(140_000)]  # unseen
    per_text = 2000
    tokens = [(fresh[i : i + per_text] + words)[::-1] for i in range(0, len(fresh), per_text)]
    texts = ["学校" for _ in tokens]
    assert_same(clf, texts, tokens, 8)
    assert_same(clf, texts, tokens, 8)  # again, from the refilled memo
