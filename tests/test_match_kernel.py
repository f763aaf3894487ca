"""The compiled matching kernel (analysis/_match_kernel.pyx) against what it replaced: ``Automaton.spans`` finds
what ``re.finditer`` of the patterns as one alternation (longest first) finds, ``Automaton.found`` what a
substring test per pattern finds, and ``join_cjk_spaces`` what the str.split() version of analysis/schools.py
gave; on real texts and edge cases."""

from __future__ import annotations

import csv
import math
import random
import re

import numpy as np
import pytest

from analysis.kernels import Automaton, join_cjk_spaces
from analysis.schools import SchoolMatcher
from tests.conftest import shared_path
from yuqing.config import Config
from yuqing.demo.content import DemoCorpus, corpus_posts, scale_posts

PIECES = ["一中", "县一中", "示例", "县", " ", "\n", "\u3000", "\t", "示例县第一中学", "第", "中", "邻县", "河西县",
          "a", "1", "实验小学", "城关镇", "我市", "本县", "午", "𠀀", "😀", "示例县实验小学", "", "ab", "\0"]


def reference_join(text: str) -> str:
    """analysis.schools._join_cjk_spaces before the kernel: whitespace runs between two CJK characters dropped."""
    def cjk(ch: str) -> bool:
        return "\u4e00" <= ch <= "\u9fff"

    chunks = text.split()
    if len(chunks) < 2:
        return text
    end = text.find(chunks[0])
    parts = [text[:end]]
    for chunk, after in zip(chunks, chunks[1:], strict=False):
        end += len(chunk)
        start = text.find(after, end)
        parts.append(chunk)
        if not (cjk(chunk[-1]) and cjk(after[0])):
            parts.append(text[end:start])
        end = start
    parts.append(text[end:])
    return "".join(parts)


def soup(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(PIECES) for _ in range(rng.randrange(0, 25))) for _ in range(n)]


def real_texts(demo_corpus: DemoCorpus) -> list[str]:
    return [p.text() for p in corpus_posts(demo_corpus)] + [p.text() for p in scale_posts(1000, length=200)]


def assert_like_regex(patterns: list[str], texts: list[str]) -> None:
    ordered = sorted(dict.fromkeys(patterns), key=len, reverse=True)
    automaton = Automaton(ordered)
    regex = re.compile("|".join(map(re.escape, ordered)))
    for text in texts:
        want = [(m.start(), m.end(), m.group(0)) for m in regex.finditer(text)]
        assert [(a, b, ordered[k]) for a, b, k in automaton.spans(text)] == want, text
        mask = automaton.found(text)
        assert {p for i, p in enumerate(ordered) if mask >> i & 1} == {p for p in ordered if p in text}, text


def test_school_names_and_places_like_the_regex(cfg: Config, demo_corpus: DemoCorpus) -> None:
    matcher = SchoolMatcher.from_config(cfg)
    texts = real_texts(demo_corpus) + soup(3000, 1)
    assert_like_regex(list(matcher._names), [join_cjk_spaces(t) for t in texts])
    assert_like_regex(matcher.our_places + matcher.other_places, texts)


def test_nested_overlapping_and_many_patterns() -> None:
    # nested (一中 in 县一中 in 示例县一中), overlapping (县一 / 一中), a prefix of another, one character long,
    # beyond the BMP, and more than 64 patterns (the bitmask spans several words)
    patterns = ["示例县一中", "县一中", "一中", "县一", "中", "示例", "例县", "𠀀𠀁", "😀", "ab", "abc", "bc"]
    patterns += [f"词{i}" for i in range(100)]
    texts = soup(2000, 2) + ["示例县一中县一中一中", "abcabc", "𠀀𠀁😀", "词99词1词10", "", "中中中"]
    assert_like_regex(patterns, texts)
    automaton = Automaton(patterns)
    assert automaton.found("词99") >> patterns.index("词99") & 1
    assert automaton.found("") == 0 and automaton.spans("") == []


def test_real_sentences_like_the_regex(cfg: Config) -> None:
    with shared_path("datasets", "cold", "train.csv").open(encoding="utf-8-sig") as f:
        sentences = [row["TEXT"] for row in csv.DictReader(f)][:10000]
    words = sorted({s[i : i + k] for s in sentences[:200] for i in range(0, len(s), 5) for k in (1, 2, 3)
                    if s[i : i + k].strip()})
    assert len(words) > 500
    assert_like_regex(words, sentences[:2000])
    assert_like_regex(list(SchoolMatcher.from_config(cfg)._names), sentences)


def test_join_cjk_spaces_like_the_reference(demo_corpus: DemoCorpus) -> None:
    texts = real_texts(demo_corpus) + soup(5000, 3) + [
        "示例 县第一中学", "示例\u3000\n 县", " 示例 ", "a 示例", "示例 a", "示 例 县", "", " ", "示例\t\t", "😀 示例",
    ]
    for text in texts:
        assert join_cjk_spaces(text) == reference_join(text), repr(text)
    same = "没有空格的句子"
    assert join_cjk_spaces(same) is same


def test_rejects_empty_patterns() -> None:
    with pytest.raises(ValueError):
        Automaton(["一中", ""])


def test_total_sums_the_weights_of_the_regex_matches(demo_corpus: DemoCorpus) -> None:
    from analysis.lexicon import NEGATIVE, POSITIVE, LexiconScorer

    polarity = {t: 1 for t in POSITIVE} | {t: -1 for t in NEGATIVE}
    regex = re.compile("|".join(map(re.escape, sorted(polarity, key=len, reverse=True))))
    lexicon = LexiconScorer()
    texts = real_texts(demo_corpus) + soup(500, 4) + ["", "好好好", "不满意满意"]
    for text in texts:
        net = sum(polarity[t] for t in regex.findall(text))
        assert lexicon.sentiment(text) == math.tanh(net / 3.0), text
    automaton = Automaton(["a", "ab", "b"])
    assert automaton.total("ab" * 100 + "b" * 50, np.array([1, 10, 100], dtype=np.int64)) == 6000  # > 32 hits
    assert automaton.total("abab b", np.array([1, 10, 100], dtype=np.int64)) == 120
    with pytest.raises(ValueError):
        automaton.total("ab", np.array([1], dtype=np.int64))
