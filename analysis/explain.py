"""Explanations: per text, the terms that pushed its score up the most, named from the text itself.

Input: every feature entry's share of the row's log-odds (analysis.scoring.LinearScorer.contributions).
Candidates are chosen for the whole batch at once — positive, and at least EXPLAIN_SHARE of the row's
strongest entry — and only they are named: a word column by its word (when the text contains it), a char
n-gram by the characters of the original text at its position (normalisation maps code point to code point).
Shares are summed per term string (a repeated n-gram; a word and the same characters as an n-gram), in the
order of the rows' entries (unigrams by position, bigrams, trigrams, then words), and the top few are kept.

A monitor reads these terms, so the ones that say nothing are not shown (they still count in the score):
terms without a letter (punctuation, digits, emoji) and function words — see ``explain_stopped``.

The classifier runs this in compiled code (``score_kernel``: analysis/_score_kernel.pyx, in the same pass
per text as the sums, naming only the kept terms); ``explain`` below is the numpy reference it is pinned against.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from itertools import chain, compress, count
from typing import Any

import numpy as np

from analysis.features import _SALT
from analysis.scoring import _BMP_NORMAL, Entries, LinearScorer, load_kernel

EXPLAIN_SHARE = 0.15  # entries weaker than this share of the row's strongest pull are never named

# Function characters: particles, pronouns, structural words, measure words, conjunctions, degree adverbs.
# A term made of these alone (的, 了, 是, 我们, 这个, 也是, 都很 …) is never shown.
EXPLAIN_STOP_CHARS = frozenset(
    "的了是在有和与及或也都就还又才而且但被把将对从向于以为之其这那哪些个位们我你您他她它咱啊吗呢吧呀哦嘛啦么着过得地很太更最挺一"
)
# Function words and empty verbs/adverbs that are not made of the characters above; shown only as part
# of a longer term (说 alone says nothing; 听说 and 说法 stay).
EXPLAIN_STOP_WORDS = frozenset(
    "说 要 会 能 去 来 到 上 下 让 给 不 没 人 子 等 做 看 想 好 多 大 小 后 前 中 时 年 月 日 号 次 种 样 啥 谁 "
    "没有 已经 可以 因为 所以 但是 而且 然后 如果 虽然 还是 就是 只是 不是 一下 一些 一样 这样 那样 这么 那么 "
    "这里 那里 时候 现在 真的 觉得 知道 大家 自己 什么".split()
)


def explain_stopped(term: str) -> bool:
    """Whether an explanation term is hidden from monitors: no letter at all, or its letters (punctuation
    and digits aside) are a function word or function characters only."""
    core = "".join(ch for ch in term if ch.isalpha())
    return not core or core in EXPLAIN_STOP_WORDS or all(ch in EXPLAIN_STOP_CHARS for ch in core)


# Whether a term may be shown, memoised (terms with a character beyond the BMP, and the vocabulary's words
# once): [^\W_] is exactly str.isalnum per character (sre's word class is Py_UNICODE_ISALNUM or "_").
_ALNUM = re.compile(r"[^\W_]")
_SHOWN: dict[str, bool] = {}


def _shown(term: str) -> bool:
    if len(_SHOWN) > 200_000:  # bound the memo on endless streams of new n-grams
        _SHOWN.clear()
    shown = _SHOWN[term] = _ALNUM.search(term) is not None and not explain_stopped(term)
    return shown


_ALPHA, _STOP = 1, 2
_BITS = 21  # code points fit in 21 bits: three of them pack exactly into one int64


@cache
def _bmp_classes() -> np.ndarray:
    """Per BMP code point: letter (str.isalpha) and function-character bits, for naming n-grams in bulk."""
    out = np.zeros(0x10000, dtype=np.uint8)
    for cp in range(1, 0x10000):
        ch = chr(cp)
        out[cp] = (_ALPHA if ch.isalpha() else 0) | (_STOP if ch in EXPLAIN_STOP_CHARS else 0)
    return out


def _pack(term: str) -> int:
    key = 0
    for ch in term:
        key = (key << _BITS) | ord(ch)
    return key


@cache
def _stop_keys() -> np.ndarray:
    return np.array(sorted(_pack(w) for w in EXPLAIN_STOP_WORDS if len(w) <= 3), dtype=np.int64)


def _shown_ngrams(cps: np.ndarray) -> np.ndarray:
    """``_shown`` for n-grams given as an (m × 3) array of code points (0 past the n-gram's end), vectorised
    for the BMP; rows with a code point beyond it are left to the caller (returned as False, flagged)."""
    classes = _bmp_classes()[np.minimum(cps, 0xFFFF)]
    classes[cps == 0] = 0
    alpha = (classes & _ALPHA) > 0
    only_stop = np.all(~alpha | ((classes & _STOP) > 0), axis=1)
    core = np.zeros(len(cps), dtype=np.int64)  # the letters of the n-gram, packed in order
    for j in range(cps.shape[1]):
        core = np.where(alpha[:, j], (core << _BITS) | cps[:, j].astype(np.int64), core)
    keys = _stop_keys()
    at = np.minimum(np.searchsorted(keys, core), len(keys) - 1)
    return alpha.any(axis=1) & ~only_stop & (keys[at] != core)


class Vocabulary:
    """The classifier's words with what explanations need to know about each, computed once per model."""

    def __init__(self, words: Sequence[str]) -> None:
        self.words = words
        self.shown = np.array([_shown(w) for w in words], dtype=bool)
        # A word is in a text's lower-cased form whenever one of its tokens is, unless normalisation or
        # lower-casing changed it (ASCII: case, digits, full-width forms; other letters with a lower case):
        # only those are looked up in the text.
        self.check = np.array([any(c.isascii() or c.lower() != c for c in w) for w in words], dtype=bool)


def score_kernel(scorer: LinearScorer, vocabulary: Vocabulary, n_classes: int) -> Any:
    """The compiled kernel of a scorer's batches (analysis/_score_kernel.pyx): ``judge(texts, tokens, top)``
    gives the sums ``scorer.sums(scorer.entries(...))`` gives and, for each text, the terms ``explain`` gives
    along the pull of its likeliest of the first ``n_classes - 1`` outputs."""
    f = scorer.features
    return load_kernel().ScoreKernel(
        scorer.layout, scorer.width, scorer.pull_at, scorer.n_pulls, n_classes, scorer.intercept,
        _BMP_NORMAL.astype(np.uint32), f.char_bits, [int(_SALT[min(k, 2)] * np.uint64(k + 1)) for k in range(f.char_n)],
        scorer.zero, f.n_char, scorer._lookup, scorer._new_word,
        _bmp_classes(), _stop_keys(), list(vocabulary.words), vocabulary.shown.view(np.uint8),
        vocabulary.check.view(np.uint8), EXPLAIN_SHARE,
    )


def explain(
    e: Entries, chars: Sequence[np.ndarray], words: np.ndarray, vocabulary: Vocabulary, n_char: int, top: int
) -> list[list[tuple[str, float]]]:
    """Top ``top`` terms per text. ``chars[n-1]``: the shares of the n-gram entries (joined positions),
    ``words``: the shares of the word entries (columns ``e.word_ids``)."""
    n = e.n_docs
    out: list[list[tuple[str, float]]] = [[] for _ in range(n)]
    if n == 0:
        return out
    # the row's strongest entry (crossing n-grams and unknown words add zeros: harmless, only positive
    # entries are candidates)
    row_max = np.maximum.reduceat(chars[0], e.starts)
    for c in chars[1:]:
        np.maximum(row_max, np.maximum.reduceat(c, e.starts), out=row_max)
    w_counts = np.diff(e.word_ptr)
    has_words = w_counts > 0
    if has_words.any():
        w_max = np.maximum.reduceat(words, e.word_ptr[:-1][has_words])
        row_max[has_words] = np.maximum(row_max[has_words], w_max)
    floor = row_max * EXPLAIN_SHARE
    texts = e.texts
    rows: list[np.ndarray] = []
    terms: list[list[str]] = []
    values: list[np.ndarray] = []
    # char n-grams: named from the batch's code points in bulk, unshown ones dropped before the loop
    cdoc = e.char_doc
    width = max(3, len(chars))
    floor_at = np.repeat(floor, e.lengths + 1)  # each joined position's row floor: compared, not gathered
    for order, c in enumerate(chars, start=1):
        pos = np.flatnonzero((c > 0) & (c >= floor_at))
        cps = np.zeros((len(pos), width), dtype=np.uint32)
        for j in range(order):
            cps[:, j] = e.raw[pos + j]
        named = cps.view(f"<U{width}").ravel()
        if order <= 3:
            shown = _shown_ngrams(cps)
            beyond = np.flatnonzero((cps > 0xFFFF).any(axis=1))
            for i, term in zip(beyond.tolist(), named[beyond].tolist(), strict=True):
                shown[i] = _shown(term)
        else:  # pragma: no cover - the shipped features stop at trigrams
            shown = np.array([_shown(t) for t in named.tolist()], dtype=bool)
        pos = pos[shown]
        rows.append(cdoc[pos])
        terms.append(named[shown].tolist())
        values.append(c[pos])
    # words: by their column; the few whose presence in the text is not implied by their token are checked
    pos = np.flatnonzero((words > 0) & (words >= np.repeat(floor, w_counts)))
    r = e.word_doc[pos]
    cols = e.word_ids[pos] - n_char
    keep = vocabulary.shown[cols]
    pos, r, cols = pos[keep], r[keep], cols[keep]
    vocab = vocabulary.words
    word_terms = list(map(vocab.__getitem__, cols.tolist()))
    absent = [i for i in np.flatnonzero(vocabulary.check[cols]).tolist()
              if word_terms[i] not in texts[int(r[i])].lower()]
    if absent:
        keep = np.ones(len(word_terms), dtype=bool)
        keep[absent] = False
        pos, r = pos[keep], r[keep]
        word_terms = list(compress(word_terms, keep.tolist()))
    rows.append(r)
    terms.append(word_terms)
    values.append(words[pos])
    # The candidates in the matrix's order: by row, and within a row unigrams (by position), bigrams, trigrams,
    # words — each part is in row order already, so a stable sort by row merges them.
    all_rows = np.concatenate(rows)
    by_row = np.argsort(all_rows, kind="stable")
    m = len(by_row)
    if not m:
        return out
    row_of = all_rows[by_row]
    names = list(map(list(chain.from_iterable(terms)).__getitem__, by_row.tolist()))
    # (a NaN share, from a damaged model, makes its row's floor NaN: that row has no candidates, none is NaN)
    shares = np.concatenate(values)[by_row]
    # Per row, shares summed per term string, in entry order, and the top ones — for the whole batch at
    # once (a row has ~15 candidates and ~11 terms: per-row Python cost more than the sums). Each (row,
    # term) is numbered by its first entry, so ties keep first-seen order; np.bincount adds each group's
    # shares in entry order from 0.0, the same float sums as adding them one by one.
    first = np.fromiter(map({}.setdefault, zip(row_of.tolist(), names, strict=True), count()), dtype=np.int64, count=m)
    totals = np.bincount(first, weights=shares, minlength=m)
    heads = np.flatnonzero(first == np.arange(m))  # each (row, term) once, in first-seen order
    head_rows = row_of[heads]
    ranked = heads[np.lexsort((heads, -totals[heads], head_rows))]  # per row: largest first, then first seen
    ranked_rows = row_of[ranked]
    at = np.arange(len(ranked))
    starts = np.concatenate(([True], ranked_rows[1:] != ranked_rows[:-1]))
    kept = ranked[at - np.maximum.accumulate(np.where(starts, at, 0)) < top]
    terms_kept = list(zip(map(names.__getitem__, kept.tolist()), _round4(totals[kept]), strict=True))
    bounds = np.searchsorted(row_of[kept], np.arange(n + 1))
    named_rows = np.flatnonzero(np.diff(bounds))
    for row, a, b in zip(named_rows.tolist(), bounds[named_rows].tolist(), bounds[named_rows + 1].tolist(),
                         strict=True):
        out[row] = terms_kept[a:b]
    return out


def _round4(values: np.ndarray) -> list[float]:
    """``round(v, 4)`` of each value (Python's: the exact value rounded half to even), mostly in numpy: the
    nearest integer to v·10⁴ divided by 10⁴ is the same float wherever v·10⁴, as computed, is not within
    a hair of a half — the few that are are rounded by Python (round() is ~0.3 µs a value)."""
    scaled = values * 1e4
    out = np.rint(scaled) / 1e4
    # (and values too large for v·10⁴ to keep every digit, which never occur as shares)
    near_half = (np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6) | (np.abs(values) >= 1e9)
    rounded = out.tolist()
    for i in np.flatnonzero(near_half | ~np.isfinite(scaled)).tolist():
        rounded[i] = round(float(values[i]), 4)
    return rounded
