"""The compiled event kernel (analysis/_event_kernel.pyx) against the numpy reference it replaced: the same
MinHash values and normalised lengths, bit for bit, on real texts and on the edge cases (stored signatures
and event ids depend on them); the same candidates from the posts indexed before a batch, in the same order."""

from __future__ import annotations

import copy
import csv
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from analysis import events_reference as reference
from analysis.events import MIN_CHARS, EventGrouper, minhash_many, normalise
from analysis.events_check import story_corpus
from tests.conftest import shared_path
from yuqing.demo.content import DemoCorpus, corpus_posts, scale_posts
from yuqing.model import Post

EDGE_CASES = [
    "",
    "a",
    "短文本",
    "转发微博",
    "十一个字的短文本刚刚好么",  # around MIN_CHARS
    "😀😀😀🎉",  # emoji only: everything dropped
    "//@张三: //@李四：http://t.cn/abc [哈哈][doge]",  # markers, links and emoticons only
    "//@:没有名字的标记",
    "//@" + "名" * 30 + ":三十个字的名字",
    "//@" + "名" * 31 + ":三十一个字的名字不是标记",
    "//@有 空格:不是标记",
    "https:// 空格后不是链接",
    "httpss://x 不是链接 http://a.cn/中文路径 之后",
    "HTTP://大写不算链接",
    "[]][[哈]]表情",
    "[哈哈哈哈哈哈哈哈]八个字 [哈哈哈哈哈哈哈哈哈]九个字",
    "𠀀𠀁𠀂𠀃扩展区汉字 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𐍈",  # beyond the BMP: CJK extension planes kept, the rest dropped
    "a\0b\0c\0d\0e\0f\0g\0h\0i\0j\0k\0l\0m",  # NUL separated the reference's texts
    "ÀÉÎ İstanbul ǅ ＡＢＣ１２３ Ⅻ",  # case folding with a two-character lowercase, full-width
    "ab\u3000cd\u00a0ef\u2028gh\tij\nkl",
    "示例县第一中学" * 200,  # long and repetitive: few distinct shingles
]


def assert_same(texts: list[str]) -> None:
    got, got_len = minhash_many(texts)
    want, want_len = reference.minhash_many(texts)
    assert got.dtype == want.dtype == np.uint64 and got.shape == want.shape == (len(texts), 128)
    bad = np.flatnonzero((got != want).any(axis=1) | (got_len != want_len))
    assert not len(bad), [texts[i][:60] for i in bad[:5]]


def test_edge_cases_match_the_reference() -> None:
    assert_same(EDGE_CASES)
    for text in EDGE_CASES:
        assert normalise(text) == reference.normalise(text)
        assert_same([text])  # alone as in a batch
    assert_same([])


def test_edge_case_values() -> None:
    mhs, lengths = minhash_many(["", "😀😀😀🎉", "//@张三: http://t.cn/abc [哈哈]", "𠀀𠀁𠀂"])
    assert lengths.tolist() == [0, 0, 0, 3]
    assert (mhs[:3] == 1 << 40).all()  # no shingle: every bin stays empty
    assert (mhs[3] < 1 << 40).all()  # one shingle, densified into every bin
    assert len(set((mhs[3] & 0xFFFFFFFF).tolist())) == 1
    assert normalise("Ａb//@某人:转发 http://x.cn [哈哈]微博") == "ａb转发微博"  # lowercase only
    assert MIN_CHARS == 12


def test_demo_and_bench_posts_match_the_reference(demo_corpus: DemoCorpus) -> None:
    posts = corpus_posts(demo_corpus)
    texts = [p.text() for p in posts] + [p.text() for p in scale_posts(1000, length=200)]
    assert_same(texts)


def test_real_weibo_and_forum_sentences_match_the_reference() -> None:
    with shared_path("datasets", "cold", "train.csv").open(encoding="utf-8-sig") as f:
        sentences = [row["TEXT"] for row in csv.DictReader(f)][:20000]
    assert_same(sentences)


def test_random_marker_soup_matches_the_reference() -> None:
    """Texts made of the pieces the marker rules look at, in random order: every rule's borders."""
    pieces = ["//@", "@", "/", ":", "：", " ", "\u3000", "http", "s", "://", "[", "]", "哈", "a", "A", "1", "\0",
              "😀", "𠀀", "。", "！", "x" * 8, "名" * 29, "\n", "İ"]
    rng = random.Random(7)
    texts = ["".join(rng.choice(pieces) for _ in range(rng.randrange(0, 40))) for _ in range(3000)]
    assert_same(texts)
    for text in texts[:500]:
        assert normalise(text) == reference.normalise(text)


def test_rejects_what_is_not_text() -> None:
    with pytest.raises(TypeError):
        minhash_many(["ok", b"bytes"])  # type: ignore[list-item]


def assert_same_index(a: EventGrouper, b: EventGrouper) -> None:
    """The same indexed posts and LSH buckets (bucket numbers, members, fill); the tables' layouts may differ
    (the kernel makes room before a batch, the reference as it goes)."""
    n, size = len(a._idx_event), a._buckets.size
    assert a._idx_event == b._idx_event and size == b._buckets.size
    assert (a._vals[:n] == b._vals[:n]).all() and (a._sizes[:n] == b._sizes[:n]).all()
    used = a._buckets._values >= 0
    keys, numbers = a._buckets._keys[used], a._buckets._values[used]
    assert sorted(numbers.tolist()) == list(range(size))
    assert (reference.numpy_table(b._buckets).get(keys) == numbers).all()
    assert (a._slots[:size] == b._slots[:size]).all() and (a._fill[:size] == b._fill[:size]).all()


def check_searches(monkeypatch: pytest.MonkeyPatch, batches: list[list[Post]]) -> tuple[int, int, int]:
    """Group the batches with the kernels, checking at every batch that the numpy reference finds the same
    candidates in the same order (indexed posts, the batch's own earlier posts) and the same full buckets,
    and indexes the batch's posts into the same buckets;
    returns (accepted indexed, accepted in-batch, full band keys). Both of the reference's orders occur: by
    number when no post of the batch has more than MAX_VERIFY candidates (single posts mostly), ranked by
    shared bands otherwise (crowded buckets)."""
    indexed, in_batch = EventGrouper._indexed_candidates, EventGrouper._batch_candidates
    index = EventGrouper._index_batch
    seen = [0, 0, 0]

    def both_indexed(self: EventGrouper, rows: np.ndarray, keys: np.ndarray, vals: np.ndarray, sizes: np.ndarray,
                     n: int) -> tuple[list[list], np.ndarray]:
        got = indexed(self, rows, keys, vals, sizes, n)
        want = reference.indexed_candidates(self, rows, keys, vals, sizes, n)
        assert got[0] == want[0]
        assert got[1].dtype == want[1].dtype and (got[1] == want[1]).all()
        seen[0] += sum(map(len, got[0]))
        seen[2] += int(got[1].sum())
        return got

    def both_in_batch(self: EventGrouper, rows: np.ndarray, keys: np.ndarray, open_: np.ndarray, vals: np.ndarray,
                      sizes: np.ndarray, step: np.ndarray, n: int) -> list[list]:
        got = in_batch(self, rows, keys, open_, vals, sizes, step, n)
        assert got == reference.batch_candidates(self, rows, keys, open_, vals, sizes, step, n)
        seen[1] += sum(map(len, got))
        return got

    def both_index(self: EventGrouper, rows: list[int], keys: np.ndarray, vals: np.ndarray, sizes: np.ndarray,
                   events: list[str]) -> None:
        other = copy.deepcopy(self)
        index(self, rows, keys, vals, sizes, events)
        reference.index_batch(other, rows, keys, vals, sizes, events)
        assert_same_index(self, other)

    monkeypatch.setattr(EventGrouper, "_indexed_candidates", both_indexed)
    monkeypatch.setattr(EventGrouper, "_batch_candidates", both_in_batch)
    monkeypatch.setattr(EventGrouper, "_index_batch", both_index)
    grouper = EventGrouper()
    for batch in batches:
        grouper.assign_many(batch)
    return seen[0], seen[1], seen[2]


def test_searches_match_the_reference_on_bench_posts(monkeypatch: pytest.MonkeyPatch) -> None:
    posts = scale_posts(3000, length=200)  # sentences of a few demo stories mixed: crowded buckets
    batches = [posts[i : i + 500] for i in range(0, 2000, 500)] + [[p] for p in posts[2000:2300]]
    batches += [posts[i : i + 7] for i in range(2300, 3000, 7)]
    indexed, in_batch, full = check_searches(monkeypatch, batches)
    assert indexed > 1000 and in_batch > 500 and full > 0


def test_searches_match_the_reference_on_real_stories(monkeypatch: pytest.MonkeyPatch) -> None:
    with shared_path("datasets", "cold", "train.csv").open(encoding="utf-8-sig") as f:
        sentences = [row["TEXT"] for row in csv.DictReader(f)][:2000]
    corpus = story_corpus(sentences, stories=400, copies=4, seed=5)
    posts = corpus.posts
    batches = [posts[i : i + 250] for i in range(0, len(posts), 250)] + [[p] for p in posts[:50]]
    indexed, in_batch, _ = check_searches(monkeypatch, batches)
    assert indexed > 500 and in_batch > 500


def test_a_missing_kernel_says_to_build_it() -> None:
    """Without the compiled module (a checkout never built), importing the analysis fails and says what to run."""
    code = (
        "import sys\n"
        "sys.modules['analysis._event_kernel'] = None  # as if never built\n"
        "try:\n"
        "    import analysis.events\n"
        "except Exception as exc:  # KernelMissing (a YuqingError, shown without a traceback)\n"
        "    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True,
                         cwd=Path(__file__).resolve().parent.parent)
    assert "make install" in out.stdout and "analysis/_*.pyx" in out.stdout
