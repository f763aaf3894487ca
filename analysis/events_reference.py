"""The numpy versions of what analysis/_event_kernel.pyx does, kept as the reference the kernel is pinned
against: MinHash signatures (normalise, strip markers, 3-gram shingles, one-permutation hashing into 128 bins,
densification) and the searches of the posts indexed before a batch and of the batch's own earlier posts
(EventGrouper._indexed_candidates, _batch_candidates), and the indexing of a batch's posts in the LSH
buckets (EventGrouper._index_batch, _KeyTable).

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
    BANDS,
    MAX_BUCKET,
    MAX_VERIFY,
    PERMS,
    SHINGLE,
    EventGrouper,
    _accepted,
    _accepted_lists,
    _agreeing_values,
    _distinct_counts,
    _KeyTable,
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
    bucket = numpy_table(self._buckets).get(keys.ravel()).reshape(keys.shape)
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


class KeyTable(_KeyTable):
    """events._KeyTable with its numpy lookups and insertions: keys looked up and added for a whole array
    at once (open addressing, linear probing, at most half full); a slot is empty while its number is -1."""

    def _slots(self, keys: np.ndarray) -> np.ndarray:
        return ((keys * np.uint64(0x9E3779B97F4A7C15)) >> self._shift).astype(np.int64)

    def get(self, keys: np.ndarray) -> np.ndarray:
        """The number of each key, -1 where absent."""
        out = np.full(len(keys), -1, dtype=np.int64)
        todo = np.arange(len(keys))
        slot = self._slots(keys)
        mask = len(self._keys) - 1
        while len(todo):
            number = self._values[slot]
            hit = (self._keys[slot] == keys[todo]) & (number >= 0)
            out[todo[hit]] = number[hit]
            more = ~hit & (number >= 0)  # an empty slot ends the probe: absent
            todo, slot = todo[more], (slot[more] + 1) & mask
        return out

    def add(self, keys: np.ndarray) -> np.ndarray:
        """Numbers for keys; absent ones get the next numbers (in the order of their values)."""
        numbers = self.get(keys)
        new = np.flatnonzero(numbers < 0)
        if not len(new):
            return numbers
        fresh, _ = _distinct_counts(np.sort(keys[new]))
        number = self.size + np.arange(len(fresh))
        if 2 * (self.size + len(fresh)) > len(self._keys):
            self._grow(2 * (self.size + len(fresh)))
        self._put(fresh, number)
        self.size += len(fresh)
        numbers[new] = number[np.searchsorted(fresh, keys[new])]
        return numbers

    def _put(self, keys: np.ndarray, numbers: np.ndarray) -> None:
        """Place distinct keys that are not in the table."""
        slot = self._slots(keys)
        mask = len(self._keys) - 1
        while len(keys):
            free = self._values[slot] < 0
            # several keys may aim at one free slot: all write, one stays, and it is read back
            self._keys[slot[free]] = keys[free]
            won = free & (self._keys[slot] == keys)
            self._values[slot[won]] = numbers[won]
            # the others' slots are taken now: they probe on
            keys, numbers, slot = keys[~won], numbers[~won], (slot[~won] + 1) & mask


def index_batch(self: EventGrouper, rows: list[int], keys: np.ndarray, vals: np.ndarray, sizes: np.ndarray,
            events: list[str]) -> None:
    """Index the batch's posts ``rows`` (in the order they were indexed): their values, and a place in
    each of their LSH buckets while it holds fewer than MAX_BUCKET posts (a crowded bucket is a common
    phrase, not a story: enough members already stand for it)."""
    first = len(self._idx_event)
    need = first + len(rows)
    if need > len(self._vals):
        grow = max(need, 2 * len(self._vals))
        self._vals = np.concatenate([self._vals, np.zeros((grow - len(self._vals), PERMS), dtype=np.uint16)])
        self._sizes = np.concatenate([self._sizes, np.zeros(grow - len(self._sizes), dtype=np.int64)])
    self._vals[first:need] = vals[rows]
    self._sizes[first:need] = sizes[rows]
    self._idx_event.extend(events)
    bucket = numpy_table(self._buckets).add(keys[rows].ravel())
    if self._buckets.size > len(self._fill):
        grow = max(self._buckets.size, 2 * len(self._fill))
        more = np.full((grow - len(self._slots), MAX_BUCKET), -1, dtype=np.int32)
        self._slots = np.concatenate([self._slots, more])
        self._fill = np.concatenate([self._fill, np.zeros(grow - len(self._fill), dtype=np.int32)])
    # bucket and member packed in one integer: one sort puts each bucket's new members in the order
    # they were indexed
    placed = np.sort(bucket << 32 | np.repeat(np.arange(first, need, dtype=np.int64), BANDS))
    bucket, member = placed >> 32, (placed & 0xFFFFFFFF).astype(np.int32)
    place = self._fill[bucket] + _rank_in_runs(bucket)
    keep = place < MAX_BUCKET
    self._slots[bucket[keep], place[keep]] = member[keep]
    np.maximum.at(self._fill, bucket[keep], place[keep].astype(np.int32) + 1)


def numpy_table(table: _KeyTable) -> KeyTable:
    """The same table (the same arrays and size: what one changes, the other sees) with the numpy methods."""
    view = KeyTable.__new__(KeyTable)
    view.__dict__ = table.__dict__
    return view
