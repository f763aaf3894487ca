"""Compiled loops for analysis/events.py (numba): MinHash of a batch of normalised texts in one pass.

Numpy needed some twenty passes over a batch's code points (keys, mix, bins, minimum, densify), each
allocating an array; one compiled loop per text does the same arithmetic in registers. The results are
bit for bit those of the numpy formulation this replaced (tests/test_events.py checks stored values).
Compiled on first use and cached beside this file (numba ``cache=True``).
"""

from __future__ import annotations

import numba
import numpy as np

PERMS = 128
EMPTY = np.uint64(1 << 40)  # a bin no shingle fell into
_MASK32 = np.uint64(0xFFFFFFFF)
_ROTATION = np.uint64(1 << 32)


@numba.njit(cache=True, nogil=True)
def minhash_rows(codes: np.ndarray, starts: np.ndarray, lengths: np.ndarray, out: np.ndarray) -> None:
    """Fill ``out`` (texts x 128, uint64): one-permutation MinHash of each text's character 3-grams, each
    an exact 63-bit key (code points below 2**21) mixed to 64 bits, whose top 7 bits pick the bin and
    low 32 bits are the value; then each empty bin takes the next non-empty bin's value (circularly)
    plus 2**32 per bin of distance. A text with no 3-gram keeps all bins EMPTY."""
    m1 = np.uint64(0x9E3779B97F4A7C15)
    m2 = np.uint64(0xBF58476D1CE4E5B9)
    for t in range(len(lengths)):
        row = out[t]
        for b in range(PERMS):
            row[b] = EMPTY
        start = starts[t]
        for i in range(start, start + lengths[t] - 2):
            h = (np.uint64(codes[i]) << np.uint64(42)) | (np.uint64(codes[i + 1]) << np.uint64(21)) | np.uint64(
                codes[i + 2]
            )
            h *= m1
            h ^= h >> np.uint64(29)
            h *= m2
            h ^= h >> np.uint64(32)
            b = h >> np.uint64(57)
            v = h & _MASK32
            if v < row[b]:
                row[b] = v
        first = -1
        for b in range(PERMS):
            if row[b] != EMPTY:
                first = b
                break
        if first < 0:
            continue
        donor = first + PERMS  # the next non-empty bin at or after b, on the row laid out twice
        for b in range(PERMS - 1, -1, -1):
            if row[b] != EMPTY:
                donor = b
            else:
                row[b] = row[donor - PERMS if donor >= PERMS else donor] + np.uint64(donor - b) * _ROTATION


# -- LSH buckets: an open-addressing table from band keys to bucket numbers --------------------------------


@numba.njit(cache=True, nogil=True, inline="always")
def _find(tkeys: np.ndarray, tvals: np.ndarray, key: np.uint64) -> int:
    """The slot holding ``key``, or the empty slot where it would go (linear probing; the table's size
    is a power of two and it is never full)."""
    mask = len(tkeys) - 1
    slot = int((key * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(32)) & mask
    while tvals[slot] >= 0 and tkeys[slot] != key:
        slot = (slot + 1) & mask
    return slot


@numba.njit(cache=True, nogil=True)
def rehash(tkeys: np.ndarray, tvals: np.ndarray, new_keys: np.ndarray, new_vals: np.ndarray) -> None:
    """Move every entry of one table into a larger, empty one."""
    for i in range(len(tkeys)):
        if tvals[i] >= 0:
            slot = _find(new_keys, new_vals, tkeys[i])
            new_keys[slot] = tkeys[i]
            new_vals[slot] = tvals[i]


@numba.njit(cache=True, nogil=True)
def index_posts(keys: np.ndarray, first: int, tkeys: np.ndarray, tvals: np.ndarray, size: int,
                slots: np.ndarray, fill: np.ndarray) -> int:
    """Put posts ``first``, ``first + 1``, … (rows of ``keys``: their band keys) in their LSH buckets,
    each while it holds fewer than its capacity (slots' width); returns the new number of buckets.
    The caller has made room: the table at most half full after, slots and fill long enough."""
    cap = slots.shape[1]
    for i in range(keys.shape[0]):
        for b in range(keys.shape[1]):
            slot = _find(tkeys, tvals, keys[i, b])
            if tvals[slot] < 0:
                tkeys[slot] = keys[i, b]
                tvals[slot] = size
                size += 1
            bucket = tvals[slot]
            if fill[bucket] < cap:
                slots[bucket, fill[bucket]] = first + i
                fill[bucket] += 1
    return size


# -- candidates of a batch ------------------------------------------------------------------------------


@numba.njit(cache=True, nogil=True, inline="always")
def _agreeing(a: np.ndarray, b: np.ndarray) -> int:
    n = 0
    for k in range(len(a)):
        if a[k] == b[k]:
            n += 1
    return n


@numba.njit(cache=True, nogil=True, inline="always")
def _accepted(count: int, a: int, b: int, threshold: float, loose: float, contained: float) -> bool:
    """Estimated Jaccard ≥ threshold, or ≥ loose with one text mostly (≥ contained) inside the other."""
    j = count / PERMS
    if j >= threshold:
        return True
    if j < loose:
        return False
    return j / (1.0 + j) * (a + b) >= contained * max(1, min(a, b))


@numba.njit(cache=True, nogil=True)
def _distinct(hits: np.ndarray, k: int, bands: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct candidates of ``hits[:k]`` (candidate * 256 + place found), with how many bands each
    shared and where it was first found, by candidate number."""
    packed = np.sort(hits[:k])
    cand = np.empty(k, dtype=np.int64)
    count = np.zeros(k, dtype=np.int64)
    seen = np.empty(k, dtype=np.int64)
    d = -1
    for x in packed:
        c = x >> 8
        if d < 0 or cand[d] != c:
            d += 1
            cand[d] = c
            seen[d] = x & 255
        count[d] += 1
    return cand[: d + 1], np.minimum(count[: d + 1], bands), seen[: d + 1]


@numba.njit(cache=True, nogil=True)
def batch_candidates(keys: np.ndarray, sequence: np.ndarray, tkeys: np.ndarray, tvals: np.ndarray,
                     slots: np.ndarray, fill: np.ndarray, ivals: np.ndarray, isizes: np.ndarray,
                     bvals: np.ndarray, bsizes: np.ndarray, limit: int,
                     threshold: float, loose: float, contained: float) -> tuple[np.ndarray, ...]:
    """Accepted candidates of each post of a batch (rows of ``keys``, ``bvals``, ``bsizes``; visited in
    the order of assignment, ``sequence``), as two lists in CSR form, most agreeing values first:
    - posts indexed before the batch: those sharing a band's bucket with it, the ``limit`` sharing the
      most bands (ties: first found) verified;
    - earlier posts of the batch: those among the first (slots' width) posts of the batch with one of
      its band keys, where the bucket before the batch was not full; all verified.
    Returns (start, candidate, agreeing values) for each list: post r's are [start[r], start[r + 1])."""
    m, bands = keys.shape
    cap = slots.shape[1]
    pre_cand = np.empty(m * limit, dtype=np.int64)
    pre_count = np.empty(m * limit, dtype=np.int64)
    pre_n = np.zeros(m + 1, dtype=np.int64)
    in_cand = np.empty(m * bands * cap, dtype=np.int64)
    in_count = np.empty(m * bands * cap, dtype=np.int64)
    in_n = np.zeros(m + 1, dtype=np.int64)
    # band keys of the batch: a table of its own, each key's first posts
    size = 1
    while size < 2 * m * bands:
        size *= 2
    gkeys = np.zeros(size, dtype=np.uint64)
    gvals = np.full(size, -1, dtype=np.int64)
    gmembers = np.empty((m * bands, cap), dtype=np.int64)
    gfill = np.zeros(m * bands, dtype=np.int64)
    groups = 0
    hits = np.empty(bands * cap, dtype=np.int64)
    pre_lists = np.empty((m, limit, 2), dtype=np.int64)
    pre_len = np.zeros(m, dtype=np.int64)
    in_lists = np.empty((m, bands * cap, 2), dtype=np.int64)
    in_len = np.zeros(m, dtype=np.int64)
    order_key = np.empty(bands * cap, dtype=np.int64)
    for r in sequence:
        # posts indexed before the batch
        k = 0
        in_k = 0
        open_band = np.ones(bands, dtype=np.bool_)
        for b in range(bands):
            slot = _find(tkeys, tvals, keys[r, b])
            bucket = tvals[slot]
            if bucket >= 0:
                if fill[bucket] >= cap:
                    open_band[b] = False
                for s in range(fill[bucket]):
                    hits[k] = slots[bucket, s] * 256 + b * cap + s
                    k += 1
        if k:
            cand, count, seen = _distinct(hits, k, bands)
            d = len(cand)
            if d > limit:
                for i in range(d):
                    order_key[i] = ((bands - count[i]) * 256 + seen[i]) * 65536 + i
                chosen = np.sort(order_key[:d])[:limit] & 65535
            else:
                chosen = np.arange(d)
            n = 0
            for rank in range(len(chosen)):
                c = cand[chosen[rank]]
                agree = _agreeing(ivals[c], bvals[r])
                if _accepted(agree, bsizes[r], isizes[c], threshold, loose, contained):
                    pre_lists[r, n, 0] = (PERMS - agree) * 65536 + rank
                    pre_lists[r, n, 1] = c
                    n += 1
            pre_len[r] = n
        # earlier posts of the batch sharing a band key
        for b in range(bands):
            if not open_band[b]:
                continue
            slot = _find(gkeys, gvals, keys[r, b])
            if gvals[slot] < 0:
                gkeys[slot] = keys[r, b]
                gvals[slot] = groups
                groups += 1
            g = gvals[slot]
            for s in range(gfill[g]):
                hits[in_k] = gmembers[g, s] * 256 + b * cap + s
                in_k += 1
            if gfill[g] < cap:
                gmembers[g, gfill[g]] = r
                gfill[g] += 1
        if in_k:
            cand, count, seen = _distinct(hits, in_k, bands)
            n = 0
            for i in range(len(cand)):
                c = cand[i]
                agree = _agreeing(bvals[c], bvals[r])
                if _accepted(agree, bsizes[r], bsizes[c], threshold, loose, contained):
                    in_lists[r, n, 0] = (PERMS - agree) * 65536 + i
                    in_lists[r, n, 1] = c
                    n += 1
            in_len[r] = n
    # CSR, each post's list by most agreeing values, then rank
    for r in range(m):
        pre_n[r + 1] = pre_n[r] + pre_len[r]
        in_n[r + 1] = in_n[r] + in_len[r]
        if pre_len[r]:
            order = np.argsort(pre_lists[r, : pre_len[r], 0])
            for i in range(pre_len[r]):
                pre_cand[pre_n[r] + i] = pre_lists[r, order[i], 1]
                pre_count[pre_n[r] + i] = PERMS - (pre_lists[r, order[i], 0] >> 16)
        if in_len[r]:
            order = np.argsort(in_lists[r, : in_len[r], 0])
            for i in range(in_len[r]):
                in_cand[in_n[r] + i] = in_lists[r, order[i], 1]
                in_count[in_n[r] + i] = PERMS - (in_lists[r, order[i], 0] >> 16)
    return pre_n, pre_cand[: pre_n[m]], pre_count[: pre_n[m]], in_n, in_cand[: in_n[m]], in_count[: in_n[m]]
