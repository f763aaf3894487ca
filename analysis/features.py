"""Text → sparse feature matrix, fast: hashed character n-grams plus a fitted word vocabulary.

Why not sklearn's TfidfVectorizer: its analyzer builds every n-gram as a Python string, one document at a
time, and that loop costs more than everything else in the analysis. Here the character n-grams of a whole
batch are hashed at once with numpy over the texts' code points, and word tokens are looked up in a plain
dict. The matrix is built directly in CSR order (no sort): repeated n-grams simply appear as repeated
entries of a row, which a linear model sums exactly like a term count.

Feature value of a term in a document: idf(term) / norm(document), where the norm is the root of the sum
of squared idf over the document's terms (an L2 normalisation that counts a repeated term once per
occurrence). Character and word blocks are normalised separately and weighted equally.

Tokenisation sits behind ``tokenize`` so that training and prediction use the same segmenter.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

# --- tokenisation ------------------------------------------------------------------------------------

_cut = None


def tokenize(text: str) -> list[str]:
    """Words of one text: the same segmenter for training and for predictions without given tokens.

    analysis.segment's Segmenter (rjieba, HMM off: the Analyzer's own settings) without the county's user
    dictionary: the classifier should learn how people write about schools, not our schools' names, so
    names splitting into pieces here is harmless. The Analyzer passes its own tokens (with the user
    dictionary); words the vocabulary lacks simply count for nothing.
    """
    global _cut
    if _cut is None:
        try:
            from analysis.segment import Segmenter

            cut: Callable[[str], list[str]] = Segmenter().cut
        except ImportError:  # pragma: no cover - segment.py is part of analysis; jieba's words as fallback
            import jieba

            jieba.setLogLevel(60)
            cut = lambda t: list(jieba.lcut(t, HMM=False))  # noqa: E731
        _cut = cut
    return _cut(text)


# --- normalisation -----------------------------------------------------------------------------------

# One mapping, applied two ways (str.translate for single strings, numpy over a batch's code points):
# full-width ASCII → half-width, upper → lower case, every digit → 0 (a fee of 180 or 260 yuan reads
# the same), the ideographic space → a space. Cheaper than NFKC, which costs more than the hashing.
_MAP: dict[int, int] = {0x3000: 0x20}
for _c in range(0xFF01, 0xFF5F):
    _MAP[_c] = _c - 0xFEE0
for _c in range(0x41, 0x5B):
    _MAP[_c] = _c + 0x20
for _src, _dst in list(_MAP.items()):
    if 0x41 <= _dst <= 0x5A:
        _MAP[_src] = _dst + 0x20
for _c in range(0x30, 0x3A):
    _MAP[_c] = 0x30
for _src, _dst in list(_MAP.items()):
    if 0x30 <= _dst <= 0x39:
        _MAP[_src] = 0x30
_TRANSLATE = {k: chr(v) for k, v in _MAP.items()}


def normalise(text: str) -> str:
    """Full-width → half-width, lower case, every digit → 0 (the same as _normalise_codepoints)."""
    return text.translate(_TRANSLATE)


def _normalise_codepoints(cps: np.ndarray) -> np.ndarray:
    fullwidth = (cps >= 0xFF01) & (cps <= 0xFF5E)
    cps = np.where(fullwidth, cps - 0xFEE0, cps)
    cps = np.where(cps == 0x3000, 0x20, cps)
    cps = np.where((cps >= 0x41) & (cps <= 0x5A), cps + 0x20, cps)
    return np.where((cps >= 0x30) & (cps <= 0x39), 0x30, cps)


# --- hashing -----------------------------------------------------------------------------------------

_MULT = np.uint64(0x9E3779B97F4A7C15)  # golden-ratio multiplier: spreads code-point combinations
_SALT = (np.uint64(0x51ED27), np.uint64(0x2545F4914F6CDD1D), np.uint64(0x27BB2EE687B0B0FD))
_SEP = 0  # code point that joins the texts of a batch; n-grams that contain it are dropped


def _mix(h: np.ndarray) -> np.ndarray:
    """A cheap avalanche step (xor-shift-multiply) so that the low bits depend on every input bit."""
    h = h ^ (h >> np.uint64(29))
    h = h * _MULT
    return h ^ (h >> np.uint64(32))


def char_ngram_hashes(texts: Sequence[str], n_max: int, n_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """Hashed character 1..n_max-grams of every text: (bucket ids, count of n-grams per text).

    The buckets of text i come before those of text i+1, so the counts give the CSR row pointers.
    """
    if not texts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    joined = "\x00".join(texts) + "\x00"
    cps = _normalise_codepoints(np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64))
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    # doc index of every position (separator positions belong to the text before them)
    doc = np.repeat(np.arange(len(texts), dtype=np.int64), lengths + 1)
    mask_bits = np.uint64((1 << n_bits) - 1)
    valid_sep = cps != _SEP
    parts_h: list[np.ndarray] = []
    parts_doc: list[np.ndarray] = []
    acc = cps.copy()
    valid = valid_sep.copy()
    with np.errstate(over="ignore"):
        for n in range(1, n_max + 1):
            if n > 1:
                # n-gram starting at i = (n-1)-gram at i combined with the code point at i+n-1
                acc = acc[:-1] * _MULT + cps[n - 1 :]
                valid = valid[:-1] & valid_sep[n - 1 :]
            h = _mix(acc ^ _SALT[min(n - 1, 2)] * np.uint64(n)) & mask_bits
            parts_h.append(h[valid])
            parts_doc.append(doc[: len(valid)][valid])
    all_h = np.concatenate(parts_h)
    all_doc = np.concatenate(parts_doc)
    order = np.argsort(all_doc, kind="stable")  # group by document (stable: cheap on nearly-sorted runs)
    return all_h[order].astype(np.int64), np.bincount(all_doc, minlength=len(texts))


# --- the vectoriser ----------------------------------------------------------------------------------


@dataclass
class TextFeatures:
    """Hashed char n-grams (2**char_bits columns) followed by the word vocabulary's columns."""

    char_bits: int = 18
    char_n: int = 3
    min_word_df: int = 2
    max_words: int = 60000
    words: list[str] = field(default_factory=list)
    char_idf: np.ndarray | None = None
    word_idf: np.ndarray | None = None
    _word_index: dict[str, int] = field(default_factory=dict, repr=False)
    _lookup: dict[str, int] = field(default_factory=dict, repr=False)

    @property
    def n_char(self) -> int:
        return 1 << self.char_bits

    @property
    def n_features(self) -> int:
        return self.n_char + len(self.words)

    # fitting
    def fit(self, texts: Sequence[str], tokens: Sequence[Sequence[str]] | None = None) -> TextFeatures:
        toks = _tokens_for(texts, tokens)
        n_docs = len(texts)
        h, counts = char_ngram_hashes(texts, self.char_n, self.char_bits)
        rows = np.repeat(np.arange(n_docs), counts)
        pairs = np.unique(rows * self.n_char + h)
        df = np.bincount(pairs % self.n_char, minlength=self.n_char)
        self.char_idf = _idf(df, n_docs)
        word_df: Counter[str] = Counter()
        for doc_tokens in toks:
            word_df.update({normalise(w) for w in doc_tokens if w.strip()})
        kept = sorted(
            (w for w, c in word_df.items() if c >= self.min_word_df), key=lambda w: (-word_df[w], w)
        )[: self.max_words]
        self.words = sorted(kept)
        self.restore()
        self.word_idf = _idf(np.array([word_df[w] for w in self.words], dtype=np.int64), n_docs)
        return self

    def restore(self) -> TextFeatures:
        """Rebuild the word index after loading (only the word list is stored)."""
        self._word_index = {w: i for i, w in enumerate(self.words)}
        self._lookup = {}
        return self

    def _word_ids(self, toks: Iterable[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
        """Vocabulary ids of all tokens (row-grouped) and the number per document.

        Tokens may come raw from the caller's segmenter: a memo maps each raw token to the id of its
        normalised form, so the (slow) normalisation runs once per distinct token, not per occurrence.
        """
        lookup = self._lookup
        if len(lookup) > 500_000:  # bound the memo on endless streams of new words
            lookup.clear()
        counts: list[int] = []
        flat: list[int | None] = []
        get = lookup.get
        for doc in toks:
            ids = list(map(get, doc))
            if None in ids:
                for j, w in enumerate(doc):
                    if ids[j] is None:
                        ids[j] = lookup[w] = self._word_index.get(normalise(w), -1)
            flat.extend(ids)
            counts.append(len(ids))
        all_ids = np.array(flat, dtype=np.int64)
        per_doc = np.array(counts, dtype=np.int64)
        known = all_ids >= 0
        if not known.all():
            rows = np.repeat(np.arange(len(per_doc)), per_doc)
            per_doc = np.bincount(rows[known], minlength=len(per_doc)).astype(np.int64)
            all_ids = all_ids[known]
        return all_ids, per_doc

    # transforming
    def transform(self, texts: Sequence[str], tokens: Sequence[Sequence[str]] | None = None) -> sp.csr_matrix:
        if self.char_idf is None or self.word_idf is None:
            raise RuntimeError("TextFeatures is not fitted")
        toks = _tokens_for(texts, tokens)
        n_docs = len(texts)
        h, c_counts = char_ngram_hashes(texts, self.char_n, self.char_bits)
        w_ids, w_counts = self._word_ids(toks)
        c_data = self.char_idf[h]
        w_data = self.word_idf[w_ids]
        c_scale = _row_scale(c_data, c_counts)
        w_scale = _row_scale(w_data, w_counts)
        c_data = c_data * np.repeat(c_scale, c_counts)
        w_data = w_data * np.repeat(w_scale, w_counts)
        # interleave the two blocks row by row: chars of row r, then words of row r. Row r starts at
        # c_ptr[r] + w_ptr[r], so char entry k of the batch lands at k + w_ptr[row(k)] and word entry k
        # at k + c_ptr[row(k) + 1].
        c_ptr = np.concatenate(([0], np.cumsum(c_counts)))
        w_ptr = np.concatenate(([0], np.cumsum(w_counts)))
        indptr = c_ptr + w_ptr
        indices = np.empty(int(indptr[-1]), dtype=np.int32)
        data = np.empty(int(indptr[-1]), dtype=np.float64)
        c_pos = np.arange(len(h)) + np.repeat(w_ptr[:-1], c_counts)
        w_pos = np.arange(len(w_ids)) + np.repeat(c_ptr[1:], w_counts)
        indices[c_pos] = h
        data[c_pos] = c_data
        indices[w_pos] = w_ids + self.n_char
        data[w_pos] = w_data
        return sp.csr_matrix((data, indices, indptr), shape=(n_docs, self.n_features))

    # persistence: plain values only, so that the model file holds no custom class
    def to_state(self) -> dict[str, object]:
        return {
            "char_bits": self.char_bits,
            "char_n": self.char_n,
            "min_word_df": self.min_word_df,
            "max_words": self.max_words,
            "words": np.array(self.words, dtype=np.str_),
            "char_idf": self.char_idf,
            "word_idf": self.word_idf,
        }

    @classmethod
    def from_state(cls, state: dict[str, object]) -> TextFeatures:
        words = state["words"]
        assert isinstance(words, np.ndarray)
        return cls(
            char_bits=int(state["char_bits"]),  # type: ignore[call-overload]
            char_n=int(state["char_n"]),  # type: ignore[call-overload]
            min_word_df=int(state["min_word_df"]),  # type: ignore[call-overload]
            max_words=int(state["max_words"]),  # type: ignore[call-overload]
            words=[str(w) for w in words.tolist()],
            char_idf=np.asarray(state["char_idf"], dtype=np.float64),
            word_idf=np.asarray(state["word_idf"], dtype=np.float64),
        ).restore()


def _tokens_for(texts: Sequence[str], tokens: Sequence[Sequence[str]] | None) -> Sequence[Sequence[str]]:
    if tokens is None:
        return [tokenize(t) for t in texts]
    if len(tokens) != len(texts):
        raise ValueError(f"{len(tokens)} token lists for {len(texts)} texts")
    return tokens


def _idf(df: np.ndarray, n_docs: int) -> np.ndarray:
    """Smoothed idf; terms never seen in training get 0, so they add nothing."""
    idf = np.log((1.0 + n_docs) / (1.0 + df)) + 1.0
    idf[df == 0] = 0.0
    return idf


def _row_scale(data: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """1 / sqrt(sum of squares) per row of a row-grouped data vector; 0 for empty rows."""
    if len(data) == 0:
        return np.zeros(len(counts))
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    sums = np.zeros(len(counts))
    nonempty = counts > 0
    sums[nonempty] = np.add.reduceat(data * data, starts[nonempty])
    with np.errstate(divide="ignore"):
        scale = np.where(sums > 0, 1.0 / np.sqrt(np.maximum(sums, 1e-300)), 0.0)
    return scale
