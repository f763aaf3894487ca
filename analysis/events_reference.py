"""The numpy versions of what analysis/_event_kernel.pyx does, kept as the reference the kernel is pinned
against: MinHash signatures (normalise, strip markers, 3-gram shingles, one-permutation hashing into 128 bins,
densification) and the searches of the posts indexed before a batch and of the batch's own earlier posts
(EventGrouper._indexed_candidates, _batch_candidates).

tests/test_event_kernel.py checks that the kernel gives bit-identical signatures and normalised lengths, and
the same candidates in the same order, on real texts and edge cases; the product never imports this module.
Stored signatures and event ids depend on these values: a change to either implementation must change both.
"""

from __future__ import annotations

import re

import numpy as np

from analysis.events import (
    _BIN_SHIFT,
    _CJK_EXT,
    _DROP,
    _EMPTY,
    _MASK32,
    _ROTATION,
    _TABLE_SIZE,
    MAX_BUCKET,
    MAX_VERIFY,
    PERMS,
    SHINGLE,
    EventGrouper,
    _accepted,
    _accepted_lists,
    _agreeing_values,
    _mix,
    _rank_in_runs,
    _table,
    _top_pairs,
)

MINHASH_CHUNK = 128  # texts hashed together (~27,000 code points: each array fits in a CPU's L2 cache)
_MARKERS = re.compile(r"//@[^:：\s]{1,30}[:：]|https?://\S+|\[[^\[\]]{1,8}\]")


def _strip_markers(text: str) -> str:
    if "\0" in text:  # NUL separates the texts of a batch
        text = text.replace("\0", "")
    if "//@" in text or "http" in text or "[" in text:
        return _MARKERS.sub("", text)
    return text


def _normalised_codes(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The normalised texts as one array of code points (uint32) separated by 0, and each text's length.
    Vectorised: str.translate or a regex over every post costs more than the MinHash itself."""
    table = _table()
    raw = np.frombuffer(("\0".join(map(_strip_markers, texts)) + "\0").encode("utf-32-le"), dtype=np.uint32)
    if int(raw.max()) < _TABLE_SIZE:
        mapped = table[raw]
    else:  # above the BMP: the CJK extension planes are kept as they are, the rest dropped
        bmp = raw < _TABLE_SIZE
        ext = np.where((raw >= _CJK_EXT[0]) & (raw < _CJK_EXT[1]), raw, _DROP)
        mapped = np.where(bmp, table[np.where(bmp, raw, 0)], ext)
    codes = mapped[mapped != _DROP]
    lengths = np.diff(np.flatnonzero(codes == 0), prepend=-1) - 1
    return codes, lengths


def normalise(text: str) -> str:
    """The text as compared: repost markers, links, emoticons, punctuation and spaces removed, lowercase."""
    codes, _ = _normalised_codes([text])
    return codes[:-1].astype(np.uint32).tobytes().decode("utf-32-le")


def _shingle_keys(codes: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every character 3-gram of every text as one exact 63-bit key (code points are below 2**21),
    with the index of its text, from the 0-separated normalised code points."""
    z = codes == 0
    keep = ~(z[:-2] | z[1:-1] | z[2:])  # no separator inside
    c = codes.astype(np.uint64)
    keys = (c[:-2] << np.uint64(42)) | (c[1:-1] << np.uint64(21)) | c[2:]
    rows = np.repeat(np.arange(len(lengths)), np.maximum(lengths - (SHINGLE - 1), 0))
    return keys[keep], rows


def _densify(mins: np.ndarray) -> np.ndarray:
    """Rows of bins: an empty bin takes the next non-empty bin's value (circularly) plus an offset per
    bin of distance (Shrivastava & Li, 2014), so that two texts agree on it only by the same borrowing.
    On the flat array: each empty bin finds its donor by one binary search among the non-empty bins."""
    flat = mins.ravel()
    empty = np.flatnonzero(flat == _EMPTY)
    if not len(empty):
        return mins
    full = np.flatnonzero(flat != _EMPTY)
    row_start = empty - empty % PERMS
    at = np.searchsorted(full, empty)
    donor = full[np.minimum(at, len(full) - 1)] if len(full) else row_start
    wrap = (at >= len(full)) | (donor >= row_start + PERMS)  # none after it in its row: the row's first
    if wrap.any():
        first = np.searchsorted(full, row_start[wrap])
        first_donor = full[np.minimum(first, max(len(full) - 1, 0))] if len(full) else row_start[wrap]
        ok = (first < len(full)) & (first_donor < row_start[wrap] + PERMS)
        donor[wrap] = np.where(ok, first_donor + PERMS, empty[wrap])  # no shingle at all: stays empty
    out = flat.copy()
    real = donor - PERMS * (donor >= row_start + PERMS)
    out[empty] = np.where(donor == empty, _EMPTY, flat[real] + (donor - empty).astype(np.uint64) * _ROTATION)
    return out.reshape(mins.shape)


def minhash_many(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """MinHash rows (n x 128, uint64) of many texts at once, and their normalised lengths. One-permutation
    hashing: each shingle's hash goes to one of 128 bins and a bin keeps its minimum (one hash per
    shingle, not 128), then empty bins are densified. Batched because per-call numpy overhead dominates
    for 200-character posts, in chunks of MINHASH_CHUNK texts so that a chunk's arrays stay in the CPU
    cache (a third faster than 500 texts at once)."""
    out = np.empty((len(texts), PERMS), dtype=np.uint64)
    lengths = np.empty(len(texts), dtype=np.intp)
    for i in range(0, len(texts), MINHASH_CHUNK):
        chunk = texts[i : i + MINHASH_CHUNK]
        codes, lengths[i : i + len(chunk)] = _normalised_codes(chunk)
        keys, rows = _shingle_keys(codes, lengths[i : i + len(chunk)])
        h = _mix(keys)
        mins = np.full(len(chunk) * PERMS, _EMPTY, dtype=np.uint64)
        np.minimum.at(mins, rows * PERMS + (h >> _BIN_SHIFT).astype(np.intp), h & _MASK32)
        out[i : i + len(chunk)] = _densify(mins.reshape(len(chunk), PERMS))
    return out, lengths


def minhash(text: str) -> np.ndarray:
    """The 128 MinHash values of one text (see minhash_many)."""
    return minhash_many([text])[0][0]


def indexed_candidates(self: EventGrouper, rows: np.ndarray, keys: np.ndarray, vals: np.ndarray, sizes: np.ndarray,
                       n: int) -> tuple[list[list], np.ndarray]:
    """Accepted posts indexed before this batch, per post (rows: the batch's comparable posts), and
    which of their band keys hit a full bucket (no later post is kept there)."""
    out: list[list] = [[] for _ in range(n)]
    full = np.zeros(keys.shape, dtype=bool)
    if not self._buckets.size:
        return out, full
    bucket = self._buckets.get(keys.ravel()).reshape(keys.shape)
    hit = bucket >= 0
    full[hit] = self._fill[bucket[hit]] >= MAX_BUCKET
    members = self._slots[bucket[hit]]  # (hits, MAX_BUCKET), in band order then bucket order
    post_of, band_of = np.nonzero(hit)
    there = members >= 0
    post = np.repeat(rows[post_of], MAX_BUCKET).reshape(members.shape)[there]
    seen = (band_of[:, None] * MAX_BUCKET + np.arange(MAX_BUCKET))[there]
    cand = members[there]
    if not len(cand):
        return out, full
    post, cand = _top_pairs(post, cand, seen, MAX_VERIFY)
    agree = _agreeing_values(self._vals[cand], vals[post])
    ok = _accepted(agree, sizes[post], self._sizes[cand], self.threshold)
    return _accepted_lists(out, post, cand, agree, ok), full


def batch_candidates(self: EventGrouper, rows: np.ndarray, keys: np.ndarray, open_: np.ndarray, vals: np.ndarray,
                 sizes: np.ndarray, step: np.ndarray, n: int) -> list[list]:
    """Accepted earlier posts of the same batch (``step``: each post's place in the order of
    assignment), per post: of those sharing a band key with it among the key's first MAX_BUCKET posts
    of the batch, where the bucket before the batch was not full (``open_``), the MAX_VERIFY sharing
    the most bands (as for indexed posts). The pass then keeps those that were indexed."""
    out: list[list] = [[] for _ in range(n)]
    if len(rows) < 2:
        return out
    # one sort of the band keys with each post's step packed into their low bits: grouped by key, in
    # order of assignment within a key (two keys that differ only in those bits group as one, which
    # only adds candidates, all verified)
    bits = np.uint64(max(1, (n - 1).bit_length()))
    packed = np.sort((keys[open_] >> bits << bits) | np.broadcast_to(step[rows][:, None], keys.shape)[open_]
                     .astype(np.uint64))
    who = np.argsort(step)[(packed & ((np.uint64(1) << bits) - np.uint64(1))).astype(np.intp)]
    rank = _rank_in_runs(packed >> bits)
    start = np.arange(len(rank)) - rank
    later: list[np.ndarray] = []
    earlier: list[np.ndarray] = []
    for t in range(MAX_BUCKET):
        sel = np.flatnonzero(rank > t)
        if not len(sel):
            break
        later.append(who[sel])
        earlier.append(who[start[sel] + t])
    if not later:
        return out
    later_, earlier_ = np.concatenate(later), np.concatenate(earlier)
    keep = later_ != earlier_  # a post twice in a merged group
    post, cand = _top_pairs(later_[keep], earlier_[keep], np.zeros(int(keep.sum()), dtype=np.int64),
                            MAX_VERIFY)  # (ties: the earlier post)
    agree = _agreeing_values(vals[cand], vals[post])
    ok = _accepted(agree, sizes[post], sizes[cand], self.threshold)
    return _accepted_lists([[] for _ in range(n)], post, cand, agree, ok)
