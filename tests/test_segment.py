"""The segmenter: the county's words stay whole, and the fast backend (rjieba) gives exactly jieba's
words with the same user dictionary, on a large real corpus (COLD) and on the demo corpus."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from analysis.segment import Segmenter, user_words
from tests.conftest import shared_path
from yuqing.config import Config, load_config

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def sample_cfg() -> Config:
    return load_config(ROOT / "config")


@pytest.fixture(scope="module")
def both(sample_cfg: Config) -> tuple[Segmenter, Segmenter]:
    return Segmenter.from_config(sample_cfg, "jieba"), Segmenter.from_config(sample_cfg, "rjieba")


def test_user_dictionary_comes_from_the_config(sample_cfg: Config) -> None:
    words = user_words(sample_cfg)
    for w in ("示例县第一中学", "示例县一中", "县一中", "城关镇", "营养餐", "食物中毒", "有偿补课"):
        assert w in words
    assert len(words) == len(set(words))


@pytest.mark.parametrize("backend", ["jieba", "rjieba"])
def test_school_names_and_config_words_stay_whole(both: tuple[Segmenter, Segmenter], backend: str) -> None:
    seg = both[0] if backend == "jieba" else both[1]
    words = seg.cut("示例县第一中学食堂的营养餐变质了，县一中的家长在问有偿补课的事")
    for w in ("示例县第一中学", "营养餐", "县一中", "有偿补课"):
        assert w in words, words
    assert seg.backend == backend


def test_whitespace_is_dropped_and_cut_many_matches_cut(both: tuple[Segmenter, Segmenter]) -> None:
    _, fast = both
    texts = ["  示例县 一中\t放假了 \n", "", "abc 123 示例县"]
    assert all(not w.isspace() for w in fast.cut(texts[0]))
    assert fast.cut_many(texts) == [fast.cut(t) for t in texts]
    assert fast.cut("") == []


def test_auto_backend_is_the_fast_one(sample_cfg: Config) -> None:
    assert Segmenter.from_config(sample_cfg).backend == "rjieba"
    with pytest.raises(ValueError):
        Segmenter([], backend="nltk")  # type: ignore[arg-type]


def test_parity_with_jieba_on_the_demo_corpus(both: tuple[Segmenter, Segmenter], demo_corpus) -> None:  # noqa: ANN001
    from yuqing.demo.content import corpus_posts

    texts = [p.text() for p in corpus_posts(demo_corpus)]
    ref, fast = both
    assert fast.cut_many(texts) == ref.cut_many(texts)


@pytest.mark.shared
@pytest.mark.slow
def test_parity_with_jieba_on_cold(both: tuple[Segmenter, Segmenter]) -> None:
    """Every one of COLD's 25,726 training texts (1.2 M characters of real Weibo/Zhihu comments)."""
    path = shared_path("datasets", "cold", "train.csv")
    with path.open(encoding="utf-8-sig") as f:
        texts = [row["TEXT"] for row in csv.DictReader(f)]
    assert len(texts) > 25_000
    ref, fast = both
    expected = ref.cut_many(texts)
    got = fast.cut_many(texts)
    mismatches = [t for t, a, b in zip(texts, expected, got, strict=True) if a != b]
    assert not mismatches, f"{len(mismatches)} texts differ, e.g. {mismatches[:3]}"
