"""Linear scores of a batch straight from its hashed n-grams and word ids, without a TF-IDF matrix.

Everything the classifier computes before its stacker's softmax is linear in the TF-IDF features
(analysis.features): a feature's value is idf(term) × scale(row, block), with one L2 scale per row for the
character block and one for the word block. So every output is

    out[row] = c_scale[row] · Σ_char-entries idf·W  +  w_scale[row] · Σ_word-entries idf·W  +  b

and c_scale (w_scale) is 1/√(Σ idf²) over the same entries. One table, built at load time, holds per feature
[idf², idf·W_1 … idf·W_m]: a batch is scored by summing table rows per (row, block) — one sparse × dense product
in C per block, whose CSR row pointers are simply where each text starts, so nothing is sorted or filtered.
A second table holds idf × each explanation pull (a class's weights minus those of ``none``): an entry's share
of a row's log-odds is one gathered value × the row's scale, vectorised over the batch.

The hashing reproduces analysis.features.char_ngram_hashes bit for bit; n-grams that would cross a text
boundary point at an all-zero extra row instead of being dropped (they add nothing either way).

Two implementations of the same sums: the compiled kernel (analysis/_score_kernel.pyx over this scorer's
``layout``, built by analysis.explain.score_kernel), which the classifier uses, and the numpy one
(``entries`` + ``sums`` + ``contributions``), kept as the reference the kernel is pinned against
(tests/test_score_kernel.py). The kernel is required: without it (a checkout whose extensions were never
built) ``load_kernel`` raises KernelMissing instead of anything running slower.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import chain, repeat
from typing import Any

import numpy as np
import scipy.sparse as sp

from analysis.features import _MULT, _SALT, TextFeatures, _mix, _normalise_codepoints, normalise
from analysis.kernels import KernelMissing as KernelMissing  # (re-exported: what load_kernel raises)
from analysis.kernels import missing

try:
    from analysis import _score_kernel
except ImportError as _exc:  # raised when a scorer is built (KernelMissing), not at import: see load_kernel
    _score_kernel = None
    _KERNEL_ERROR: ImportError | None = _exc
else:
    _KERNEL_ERROR = None


def load_kernel() -> Any:
    """The compiled kernel module; KernelMissing (analysis.kernels) if it was never built."""
    if _score_kernel is None:
        raise missing("analysis._score_kernel", _KERNEL_ERROR or ImportError())
    return _score_kernel


@dataclass
class Entries:
    """The feature entries of a batch, positioned so that each text's entries are contiguous.

    ``char_ids[n-1][p]``: the bucket of the n-gram starting at position p of the joined batch (texts joined
    by one separator; the zero row where it crosses a separator). Text i's positions are
    ``starts[i] … starts[i] + lengths[i]`` (its separator included; ``raw`` has char_n - 1 more at the end).
    ``word_ids``: vocabulary columns (offset by n_char; the zero row for unknown words), text i's at
    ``word_ptr[i]:word_ptr[i+1]``.
    """

    texts: Sequence[str]
    raw: np.ndarray  # the joined batch's code points as written (uint32, padded), to name n-grams
    lengths: np.ndarray
    starts: np.ndarray
    char_ids: list[np.ndarray]
    word_ids: np.ndarray
    word_ptr: np.ndarray

    @property
    def n_docs(self) -> int:
        return len(self.texts)

    @property
    def char_ptr(self) -> np.ndarray:
        return np.append(self.starts, self.starts[-1] + self.lengths[-1] + 1) if len(self.starts) else np.zeros(1)

    @cached_property
    def char_doc(self) -> np.ndarray:
        """The text of every joined position."""
        return np.repeat(np.arange(self.n_docs), self.lengths + 1)

    @cached_property
    def word_doc(self) -> np.ndarray:
        return np.repeat(np.arange(self.n_docs), np.diff(self.word_ptr))


@dataclass
class Sums:
    """Per text: the two block scales and the linear outputs (n_docs × m, intercepts included)."""

    c_scale: np.ndarray
    w_scale: np.ndarray
    out: np.ndarray


class LinearScorer:
    """``weights`` (m × n_features) and ``intercept`` (m): the linear outputs; ``pulls`` (p × n_features):
    the per-term directions explanations are measured along."""

    def __init__(self, features: TextFeatures, weights: np.ndarray, intercept: np.ndarray, pulls: np.ndarray) -> None:
        if features.char_idf is None or features.word_idf is None:
            raise RuntimeError("TextFeatures is not fitted")
        self.features = features
        idf = np.concatenate([features.char_idf, features.word_idf])
        n = features.n_features
        self.zero = n  # the all-zero row: crossing n-grams, unknown words
        self.n_out = weights.shape[0]
        self.n_pulls = pulls.shape[0]
        # One table, a row per feature: [idf², idf·W_1 … idf·W_m, padding | idf·pull_1 … idf·pull_p, padding],
        # each half a whole number of 64-byte cache lines and the table aligned: the compiled kernel reads one
        # line per entry for the sums and the next one (fetched along with it) for the explanation's pulls.
        # float64: a float32 table (half the memory) moved sensitivities by up to 1e-6 through the sums
        self.width = 1 + self.n_out
        self.pull_at = -(-self.width // 8) * 8
        layout = _aligned_zeros((n + 1, self.pull_at + -(-self.n_pulls // 8) * 8))
        layout[:n, 0] = idf * idf
        layout[:n, 1 : self.width] = (weights * idf).T
        layout[:n, self.pull_at : self.pull_at + self.n_pulls] = (pulls * idf).T
        self.layout = layout
        self.table = layout[:, : self.width]  # views for the numpy reference
        self.pull = layout[:, self.pull_at : self.pull_at + self.n_pulls]
        self._ones = np.ones(0)
        self.intercept = np.asarray(intercept, dtype=np.float64)
        self._lookup: dict[str, int] = {}  # raw token → table row (its own memo: TextFeatures' holds columns)

    def _new_word(self, token: str) -> int:
        """A token the compiled kernel's memo (``_lookup``) lacks: its normalised form's table row (the zero
        row if unknown), memoised."""
        col = self.features._word_index.get(normalise(token), -1)
        row = self._lookup[token] = self.zero if col < 0 else col + self.features.n_char
        return row

    def bound_memo(self) -> None:
        """Empty the token memo once it is large (endless streams of new words)."""
        if len(self._lookup) > 500_000:
            self._lookup.clear()

    def sums_of(self, c: np.ndarray, w: np.ndarray) -> Sums:
        """Sums from the per-text sums of table rows over char n-grams (c) and words (w), n × (1 + m)."""
        c_scale, w_scale = _scale(c[:, 0]), _scale(w[:, 0])
        out = c_scale[:, None] * c[:, 1:] + w_scale[:, None] * w[:, 1:] + self.intercept
        return Sums(c_scale, w_scale, out)

    # --- the numpy reference: the entries of a batch -------------------------------------------------------
    def entries(self, texts: Sequence[str], tokens: Sequence[Sequence[str]]) -> Entries:
        f = self.features
        n_docs = len(texts)
        lengths = np.fromiter(map(len, texts), dtype=np.int64, count=n_docs)
        starts = np.zeros(n_docs, dtype=np.int64)
        if n_docs > 1:
            np.cumsum(lengths[:-1] + 1, out=starts[1:])
        total = int(lengths.sum()) + n_docs
        # a separator after every text, and char_n - 1 more so that every n-gram array has ``total`` entries
        joined = "\x00".join(texts) + "\x00" * f.char_n
        raw = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
        cps = _BMP_NORMAL[np.minimum(raw, 0xFFFF)]  # one gather instead of four passes (the BMP's table)
        beyond = raw > 0xFFFF
        if beyond.any():  # only BMP code points change under normalisation
            cps[beyond] = raw[beyond]
        sep = cps == 0
        mask_bits = np.uint64((1 << f.char_bits) - 1)
        char_ids: list[np.ndarray] = []
        acc, bad = cps, sep
        with np.errstate(over="ignore"):
            for n in range(1, f.char_n + 1):
                if n > 1:
                    acc = acc[:-1] * _MULT + cps[n - 1 :]
                    bad = bad[:-1] | sep[n - 1 :]
                # int32 ids and row pointers: scipy would otherwise copy them into int32 for every product
                h = (_mix(acc[:total] ^ _SALT[min(n - 1, 2)] * np.uint64(n)) & mask_bits).astype(np.int32)
                h[bad[:total]] = self.zero
                char_ids.append(h)
        word_ids, word_ptr = self._word_ids(tokens)
        return Entries(texts, raw, lengths, starts, char_ids, word_ids, word_ptr)

    def _word_ids(self, tokens: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
        """Table rows of all tokens, flat, and the row pointers. A memo maps a raw token to the row of its
        normalised form, so normalisation runs once per distinct token, not per occurrence."""
        self.bound_memo()
        lookup = self._lookup
        counts = np.fromiter(map(len, tokens), dtype=np.int32, count=len(tokens))
        # straight from the token lists into an int32 array: no list of Python ints, no list of tokens
        ids = np.fromiter(map(lookup.get, chain.from_iterable(tokens), repeat(_NEW)), dtype=np.int32,
                          count=int(counts.sum()))
        new = np.flatnonzero(ids == _NEW)
        if len(new):
            # the batch's new tokens: looked up once each, then placed
            flat = list(chain.from_iterable(tokens))
            for w in set(map(flat.__getitem__, new.tolist())):
                self._new_word(w)
            ids[new] = np.fromiter(map(lookup.__getitem__, map(flat.__getitem__, new.tolist())), dtype=np.int32,
                                   count=len(new))
        ptr = np.zeros(len(tokens) + 1, dtype=np.int32)
        np.cumsum(counts, out=ptr[1:])
        return ids, ptr

    # --- scores ------------------------------------------------------------------------------------------
    def sums(self, e: Entries) -> Sums:
        n_docs, width = e.n_docs, self.table.shape[0]
        if n_docs == 0:
            return Sums(np.zeros(0), np.zeros(0), np.zeros((0, self.n_out)))
        # the char n-grams as one CSR matrix with a row per (n, text): row pointers are the texts' starts
        k = len(e.char_ids)
        total = len(e.char_ids[0])
        base = e.char_ptr
        indptr = np.concatenate([base[:-1] + i * total for i in range(k)] + [[k * total]]).astype(np.int32)
        char_ids = np.concatenate(e.char_ids)
        chars = sp.csr_matrix((self._ones_for(len(char_ids)), char_ids, indptr), shape=(k * n_docs, width))
        c = (chars @ self.table).reshape(k, n_docs, -1).sum(axis=0)
        words = sp.csr_matrix((self._ones_for(len(e.word_ids)), e.word_ids, e.word_ptr), shape=(n_docs, width))
        w = words @ self.table
        return self.sums_of(c, w)

    def _ones_for(self, n: int) -> np.ndarray:
        """Entry values: each entry counts once (one array, grown as batches need)."""
        if len(self._ones) < n:
            self._ones = np.ones(max(n, 2 * len(self._ones)))
        return self._ones[:n]

    def contributions(self, e: Entries, s: Sums, which: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
        """Every entry's share of pull ``which[row]`` of its row: per n-gram order (joined positions), words."""
        # each row's pull and scale laid out over its positions (np.repeat: a sequential write, not a gather)
        reps = e.lengths + 1
        c_which = np.repeat(which, reps)
        c_scale = np.repeat(s.c_scale, reps)
        chars = [self.pull[ids, c_which] * c_scale for ids in e.char_ids]
        w_counts = np.diff(e.word_ptr)
        words = self.pull[e.word_ids, np.repeat(which, w_counts)] * np.repeat(s.w_scale, w_counts)
        return chars, words


_NEW = -1  # a token the memo does not know yet (table rows are never negative)

# _normalise_codepoints over the whole BMP (code points past it never change), as a table
_BMP_NORMAL = _normalise_codepoints(np.arange(0x10000, dtype=np.uint64))


def _aligned_zeros(shape: tuple[int, int], align: int = 128) -> np.ndarray:
    """A zeroed float64 C array whose data starts at a multiple of ``align`` bytes."""
    size = shape[0] * shape[1]
    raw = np.zeros(size + align // 8, dtype=np.float64)
    skip = (-raw.ctypes.data % align) // 8
    return raw[skip : skip + size].reshape(shape)


def _scale(sq_sums: np.ndarray) -> np.ndarray:
    """1 / √(Σ idf²) per row; 0 for rows without any known term."""
    with np.errstate(divide="ignore"):
        return np.where(sq_sums > 0, 1.0 / np.sqrt(np.maximum(sq_sums, 1e-300)), 0.0)
