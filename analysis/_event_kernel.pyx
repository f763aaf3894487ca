# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled kernels of event grouping (analysis/events.py): MinHash signatures of many texts in one C loop.

Bit-identical to the numpy reference (analysis/minhash_reference.py, pinned by tests/test_event_kernel.py):
per text, NULs dropped, repost markers removed (the regex ``//@[^:：\\s]{1,30}[:：]|https?://\\S+|
\\[[^\\[\\]]{1,8}\\]``, applied left to right as re.sub does), code points mapped by the normalisation table
(lowercase letters and digits kept, the rest dropped; above the BMP the CJK extension planes kept), every
character 3-gram mixed into 64 bits, its top 7 bits picking one of 128 bins that keeps the minimum of its
low 32 bits, and empty bins densified by rotation (the next non-empty bin's value, circularly, plus 2**32
per bin of distance). The numpy version spent most of its time building and sorting arrays a text at a
time cannot avoid; here a text is one pass over its code points.
"""

import numpy as np

from libc.stdint cimport int32_t, int64_t, uint16_t, uint32_t, uint64_t
from libc.stdlib cimport calloc, free, malloc, qsort, realloc

from analysis._pyunicode cimport PyUnicode_DATA, PyUnicode_GET_LENGTH, PyUnicode_KIND, PyUnicode_READ, Py_UNICODE_ISSPACE

cdef enum:
    PERMS = 128
    SHINGLE = 3
cdef uint64_t LOW32 = 0xFFFFFFFF
cdef uint64_t EMPTY = (<uint64_t>1) << 40
cdef uint32_t DROP = 0xFFFFFFFF
cdef Py_UCS4 FULL_COLON = 0xFF1A  # ：


cdef inline uint64_t mix(uint64_t key) nogil:
    """analysis.events._mix of one key (uint64 arithmetic wraps as numpy's does)."""
    cdef uint64_t h = key * <uint64_t>0x9E3779B97F4A7C15
    h ^= h >> 29
    h *= <uint64_t>0xBF58476D1CE4E5B9
    h ^= h >> 32
    return h


cdef inline Py_ssize_t marker_end(const Py_UCS4 *s, Py_ssize_t n, Py_ssize_t i) nogil:
    """End of the repost marker, link or emoticon starting at ``i``, or -1: the alternatives of the
    reference regex in its order (each is decided without backtracking: the classes exclude the
    characters that end them)."""
    cdef Py_ssize_t k, pos, j
    cdef Py_UCS4 c = s[i]
    if c == u'/':  # //@user: (1–30 characters that are no colon or space, then : or ：)
        if i + 2 < n and s[i + 1] == u'/' and s[i + 2] == u'@':
            for k in range(31):
                pos = i + 3 + k
                if pos >= n:
                    return -1
                c = s[pos]
                if c == u':' or c == FULL_COLON:
                    return pos + 1 if k >= 1 else -1
                if Py_UNICODE_ISSPACE(c):
                    return -1
        return -1
    if c == u'h':  # https?://\S+
        if i + 3 < n and s[i + 1] == u't' and s[i + 2] == u't' and s[i + 3] == u'p':
            j = i + 4
            if j < n and s[j] == u's':
                j += 1
            if j + 3 < n and s[j] == u':' and s[j + 1] == u'/' and s[j + 2] == u'/' \
                    and not Py_UNICODE_ISSPACE(s[j + 3]):
                j += 4
                while j < n and not Py_UNICODE_ISSPACE(s[j]):
                    j += 1
                return j
        return -1
    if c == u'[':  # [emoticon]: 1–8 characters that are no bracket, then ]
        for k in range(9):
            pos = i + 1 + k
            if pos >= n:
                return -1
            c = s[pos]
            if c == u']':
                return pos + 1 if k >= 1 else -1
            if c == u'[':
                return -1
        return -1
    return -1


cdef class _Buffers:
    """Scratch arrays of code points, grown to the longest text seen (one allocation for a whole batch)."""
    cdef Py_UCS4 *raw
    cdef uint32_t *codes
    cdef Py_ssize_t size

    def __cinit__(self):
        self.size = 0
        self.raw = NULL
        self.codes = NULL

    cdef int reserve(self, Py_ssize_t n) except -1:
        cdef void *a
        cdef void *b
        if n <= self.size:
            return 0
        n = max(n, 2 * self.size, 1024)
        a = realloc(self.raw, n * sizeof(Py_UCS4))
        if a == NULL:
            raise MemoryError()
        self.raw = <Py_UCS4 *>a
        b = realloc(self.codes, n * sizeof(uint32_t))
        if b == NULL:
            raise MemoryError()
        self.codes = <uint32_t *>b
        self.size = n
        return 0

    def __dealloc__(self):
        free(self.raw)
        free(self.codes)


cdef Py_ssize_t normalised(object text, _Buffers buf, const uint32_t[::1] table) except -1:
    """The text's normalised code points into buf.codes; returns their number."""
    cdef Py_ssize_t n = PyUnicode_GET_LENGTH(text)
    cdef int kind = PyUnicode_KIND(text)
    cdef void *data = PyUnicode_DATA(text)
    cdef Py_ssize_t i, m = 0, out = 0, end
    cdef Py_UCS4 c
    cdef uint32_t mapped
    buf.reserve(n + 1)
    cdef Py_UCS4 *raw = buf.raw
    cdef uint32_t *codes = buf.codes
    with nogil:
        for i in range(n):
            c = PyUnicode_READ(kind, data, i)
            if c != 0:  # NUL separated the reference's texts: it is dropped first
                raw[m] = c
                m += 1
        i = 0
        while i < m:
            c = raw[i]
            if c == u'/' or c == u'h' or c == u'[':
                end = marker_end(raw, m, i)
                if end >= 0:
                    i = end
                    continue
            if c < 0x10000:
                mapped = table[c]
            elif 0x20000 <= c < 0x40000:
                mapped = c
            else:
                mapped = DROP
            if mapped != DROP:
                codes[out] = mapped
                out += 1
            i += 1
    return out


cdef void signature(const uint32_t *codes, Py_ssize_t length, uint64_t *row) noexcept nogil:
    """One-permutation MinHash of the 3-grams of ``codes`` into ``row`` (PERMS values), densified."""
    cdef Py_ssize_t t, b, d, p, first
    cdef uint64_t h, v, key
    for b in range(PERMS):
        row[b] = EMPTY
    for t in range(length - (SHINGLE - 1)):
        key = (<uint64_t>codes[t] << 42) | (<uint64_t>codes[t + 1] << 21) | <uint64_t>codes[t + 2]
        h = mix(key)
        b = <Py_ssize_t>(h >> 57)
        v = h & LOW32
        if v < row[b]:
            row[b] = v
    # densify: walking down from the last non-empty bin, each empty bin takes the value of the nearest
    # non-empty bin after it (circularly) plus 2**32 per bin of distance
    first = -1
    for b in range(PERMS - 1, -1, -1):
        if row[b] != EMPTY:
            first = b
            break
    if first < 0:
        return  # no shingle at all: every bin stays empty
    d = first  # the nearest non-empty bin after position p, in unwrapped positions (p may be negative)
    for p in range(first - 1, first - PERMS, -1):
        b = (p + PERMS) % PERMS
        if row[b] != EMPTY:  # a bin not yet densified (each bin is visited once)
            d = p
        else:
            row[b] = row[(d + PERMS) % PERMS] + (<uint64_t>(d - p) << 32)

def minhash_many(list texts, const uint32_t[::1] table):
    """MinHash rows (n x 128, uint64) of ``texts`` and their normalised lengths (intp), as
    analysis.events.minhash_many returns them; ``table`` is the BMP normalisation table (uint32, 65,536)."""
    cdef Py_ssize_t n = len(texts), i, length
    out = np.empty((n, PERMS), dtype=np.uint64)
    lengths = np.empty(n, dtype=np.intp)
    cdef uint64_t[:, ::1] rows = out
    cdef Py_ssize_t[::1] lengths_ = lengths
    cdef _Buffers buf = _Buffers()
    if table.shape[0] < 0x10000:
        raise ValueError("normalisation table must cover the BMP")
    for i in range(n):
        text = texts[i]
        if not isinstance(text, str):
            raise TypeError(f"text {i} is {type(text).__name__}, not str")
        length = normalised(text, buf, table)
        lengths_[i] = length
        signature(buf.codes, length, &rows[i, 0])
    return out, lengths


def normalised_text(str text, const uint32_t[::1] table):
    """The text as the MinHash sees it (analysis.events.normalise): markers removed, normalised."""
    cdef _Buffers buf = _Buffers()
    cdef Py_ssize_t i, length
    if table.shape[0] < 0x10000:
        raise ValueError("normalisation table must cover the BMP")
    length = normalised(text, buf, table)
    return "".join([chr(buf.codes[i]) for i in range(length)])


cdef struct Cand:
    int32_t member  # index number of an indexed post
    int32_t bands  # LSH bands it shares with the post
    int32_t found  # its first hit's place among the post's hits (band * max_bucket + slot)
    int32_t agree  # MinHash values that agree (of PERMS)
    int32_t order  # its place in the order the numpy version verified candidates in


cdef inline bint accepted(int32_t agree, int64_t a, int64_t b, double threshold, double loose,
                          double contained) noexcept nogil:
    """analysis.events._accepted for one pair, in the same float64 operations."""
    cdef double j = agree / <double>PERMS
    cdef double shared = j / (1.0 + j) * <double>(a + b)
    cdef int64_t least = a if a < b else b
    if least < 1:
        least = 1
    return j >= threshold or (j >= loose and shared >= contained * <double>least)


cdef Py_ssize_t verify(Cand *cands, Py_ssize_t count, bint ranked, Py_ssize_t limit, int32_t max_bands,
                       const uint16_t[:, ::1] theirs, const int64_t[::1] their_sizes, const uint16_t *mine,
                       int64_t my_size, double threshold, double loose, double contained) noexcept nogil:
    """One post's candidates, as analysis.events._top_pairs, _agreeing_values, _accepted and _accepted_lists
    treat them: ordered by shared bands then first hit (``ranked``, when some post of the batch has more
    than ``limit``) or by number, cut at ``limit``, verified, and the accepted ones moved to the front,
    most agreeing values first (ties: that order). Returns how many were accepted."""
    cdef Py_ssize_t k, t, c, s, perms = theirs.shape[1]
    cdef int32_t mine_bands, their_bands
    cdef Cand tmp
    for k in range(1, count):
        tmp = cands[k]
        mine_bands = tmp.bands if tmp.bands < max_bands else max_bands  # numpy ranked by min(count, BANDS)
        t = k - 1
        while t >= 0:
            their_bands = cands[t].bands if cands[t].bands < max_bands else max_bands
            if not ((ranked and (their_bands < mine_bands or (their_bands == mine_bands and cands[t].found > tmp.found)))
                    or (not ranked and cands[t].member > tmp.member)):
                break
            cands[t + 1] = cands[t]
            t -= 1
        cands[t + 1] = tmp
    if count > limit:
        count = limit
    cdef const uint16_t *row
    cdef int32_t agree
    k = 0
    for c in range(count):
        tmp = cands[c]
        row = &theirs[tmp.member, 0]
        agree = 0
        for s in range(perms):  # a plain loop over two rows: the compiler vectorises it
            agree += row[s] == mine[s]
        tmp.agree = agree
        if accepted(tmp.agree, my_size, their_sizes[tmp.member], threshold, loose, contained):
            tmp.order = <int32_t>c
            t = k - 1  # positions below k hold accepted ones; c >= k, so nothing unread is overwritten
            while t >= 0 and cands[t].agree < tmp.agree:
                cands[t + 1] = cands[t]
                t -= 1
            cands[t + 1] = tmp
            k += 1
    return k


cdef inline Py_ssize_t add_candidate(Cand *cands, Py_ssize_t count, int32_t member, int32_t found, int32_t *stamp,
                                     int32_t *where, int32_t epoch) noexcept nogil:
    """Count one LSH hit of ``member``: one more shared band, or a new candidate (``stamp[member] == epoch``
    marks the members already among this post's candidates, ``where`` their place). Returns the new count."""
    if stamp[member] == epoch:
        cands[where[member]].bands += 1
        return count
    stamp[member] = epoch
    where[member] = <int32_t>count
    cands[count].member = member
    cands[count].bands = 1
    cands[count].found = found
    return count + 1


cdef list accepted_lists(Cand *cands, Py_ssize_t per_post, Py_ssize_t *counts, const Py_ssize_t[::1] posts,
                         Py_ssize_t nposts, Py_ssize_t n):
    """Per post of the batch (n), its accepted candidates as (similarity, number)."""
    out = [[] for _ in range(n)]
    cdef Py_ssize_t r, c, start
    for r in range(nposts):
        start = r * per_post
        if counts[r]:
            out[posts[r]] = [(cands[start + c].agree / <double>PERMS, cands[start + c].member)
                             for c in range(counts[r])]
    return out


def indexed_candidates(const uint64_t[:, ::1] keys, const Py_ssize_t[::1] rows, const uint64_t[::1] table_keys,
                       const int64_t[::1] table_values, int shift, const int32_t[:, ::1] slots,
                       const int32_t[::1] fill, const uint16_t[:, ::1] idx_vals, const int64_t[::1] idx_sizes,
                       const uint16_t[:, ::1] vals, const int64_t[::1] sizes, double threshold, double loose,
                       double contained, Py_ssize_t limit, Py_ssize_t n):
    """EventGrouper._indexed_candidates: per post of the batch (n), its accepted indexed posts as
    (similarity, index number), most similar first; and which band keys hit a full bucket.

    ``keys`` are the band keys of the comparable posts ``rows``; the table (keys, values, shift) is the
    _KeyTable of band key -> bucket, ``slots``/``fill`` each bucket's members. The numpy version's orders are
    kept exactly (see ``verify``)."""
    cdef Py_ssize_t nrows = keys.shape[0], bands = keys.shape[1], width = slots.shape[1]
    cdef Py_ssize_t r, b, s, start, count
    cdef uint64_t key, mask = table_keys.shape[0] - 1, slot
    cdef int64_t bucket
    cdef int32_t member
    cdef bint ranked = False
    full = np.zeros((nrows, bands), dtype=np.bool_)
    cdef unsigned char[:, ::1] full_ = full.view(np.uint8)
    cdef Py_ssize_t per_post = bands * width
    cdef Cand *cands = <Cand *>malloc(max(1, nrows * per_post) * sizeof(Cand))
    cdef Py_ssize_t *counts = <Py_ssize_t *>malloc(max(1, nrows) * sizeof(Py_ssize_t))
    cdef int32_t *stamp = <int32_t *>calloc(max(1, idx_vals.shape[0]), sizeof(int32_t))
    cdef int32_t *where = <int32_t *>malloc(max(1, idx_vals.shape[0]) * sizeof(int32_t))
    try:
        if cands == NULL or counts == NULL or stamp == NULL or where == NULL:
            raise MemoryError()  # (what was allocated is freed below: free(NULL) does nothing)
        with nogil:
            for r in range(nrows):
                start = r * per_post
                count = 0
                for b in range(bands):
                    key = keys[r, b]
                    slot = (key * <uint64_t>0x9E3779B97F4A7C15) >> shift
                    bucket = -1
                    while table_values[slot] >= 0:
                        if table_keys[slot] == key:
                            bucket = table_values[slot]
                            break
                        slot = (slot + 1) & mask
                    if bucket < 0:
                        continue
                    full_[r, b] = fill[bucket] >= width
                    for s in range(width):
                        member = slots[bucket, s]
                        if member >= 0:
                            count = add_candidate(cands + start, count, member, <int32_t>(b * width + s), stamp,
                                                  where, <int32_t>(r + 1))
                counts[r] = count
                if count > limit:
                    ranked = True
            for r in range(nrows):
                counts[r] = verify(cands + r * per_post, counts[r], ranked, limit, <int32_t>bands, idx_vals, idx_sizes,
                                   &vals[rows[r], 0], sizes[rows[r]], threshold, loose, contained)
        return accepted_lists(cands, per_post, counts, rows, nrows, n), full
    finally:
        free(cands)
        free(counts)
        free(stamp)
        free(where)


def batch_candidates(const uint64_t[::1] packed, int bits, const Py_ssize_t[::1] who, Py_ssize_t bucket_size,
                     const uint16_t[:, ::1] vals, const int64_t[::1] sizes, double threshold, double loose,
                     double contained, Py_ssize_t limit, Py_ssize_t bands):
    """EventGrouper._batch_candidates after its sort: ``packed`` are the open band keys of the batch's
    comparable posts, low ``bits`` replaced by each post's step and sorted; ``who[step]`` is the post.
    A post's candidates are the first ``bucket_size`` entries of its run of equal keys that come before it
    (itself excluded, a pair found by several bands counted once per band), ordered and verified as the
    numpy version did (by number, or by shared bands then number; see ``verify``). Returns per post of the
    batch its accepted earlier posts as (similarity, post)."""
    cdef Py_ssize_t total = packed.shape[0], n = who.shape[0], i, t, run_start = 0, rank, later, earlier
    cdef Py_ssize_t npairs = 0, p, start
    cdef uint64_t low = ((<uint64_t>1) << bits) - 1
    cdef bint ranked = False
    cdef Py_ssize_t per_post = bands * bucket_size
    cdef Cand *cands = <Cand *>malloc(max(1, n * per_post) * sizeof(Cand))
    cdef Py_ssize_t *counts = <Py_ssize_t *>calloc(n + 1, sizeof(Py_ssize_t))
    cdef int32_t *pair_later = <int32_t *>malloc(max(1, total * bucket_size) * sizeof(int32_t))
    cdef int32_t *pair_earlier = <int32_t *>malloc(max(1, total * bucket_size) * sizeof(int32_t))
    cdef int32_t *by_post = <int32_t *>malloc(max(1, total * bucket_size) * sizeof(int32_t))
    cdef Py_ssize_t *first = <Py_ssize_t *>calloc(n + 1, sizeof(Py_ssize_t))
    cdef int32_t *stamp = <int32_t *>calloc(n + 1, sizeof(int32_t))
    cdef int32_t *where = <int32_t *>malloc((n + 1) * sizeof(int32_t))
    cdef Py_ssize_t[::1] posts = np.arange(n, dtype=np.intp)
    try:
        if (cands == NULL or counts == NULL or pair_later == NULL or pair_earlier == NULL or by_post == NULL
                or first == NULL or stamp == NULL or where == NULL):
            raise MemoryError()  # (what was allocated is freed below: free(NULL) does nothing)
        with nogil:
            # every (later, earlier) pair, in the order the numpy version generated them
            for i in range(total):
                if i and (packed[i] >> bits) != (packed[i - 1] >> bits):
                    run_start = i
                rank = i - run_start
                later = who[packed[i] & low]
                for t in range(rank if rank < bucket_size else bucket_size):
                    earlier = who[packed[run_start + t] & low]
                    if earlier != later:  # a post twice in a merged run
                        pair_later[npairs] = <int32_t>later
                        pair_earlier[npairs] = <int32_t>earlier
                        first[later + 1] += 1
                        npairs += 1
            # grouped by the later post (a counting sort), then each post's candidates counted
            for i in range(n):
                first[i + 1] += first[i]
            for p in range(npairs):
                later = pair_later[p]
                by_post[first[later] + counts[later]] = pair_earlier[p]
                counts[later] += 1
            for i in range(n):
                start = first[i]
                counts[i] = 0
                for p in range(start, first[i + 1]):
                    # ties among ranked candidates go to the lower number: found = the number
                    counts[i] = add_candidate(cands + i * per_post, counts[i], by_post[p], by_post[p], stamp, where,
                                              <int32_t>(i + 1))
                if counts[i] > limit:
                    ranked = True
            for i in range(n):
                if counts[i]:
                    counts[i] = verify(cands + i * per_post, counts[i], ranked, limit, <int32_t>bands, vals, sizes,
                                       &vals[i, 0], sizes[i], threshold, loose, contained)
        return accepted_lists(cands, per_post, counts, posts, n, n)
    finally:
        free(cands)
        free(counts)
        free(pair_later)
        free(pair_earlier)
        free(by_post)
        free(first)
        free(stamp)
        free(where)


cdef inline uint64_t table_slot(uint64_t key, int shift) noexcept nogil:
    return (key * <uint64_t>0x9E3779B97F4A7C15) >> shift


cdef int cmp_u64(const void *a, const void *b) noexcept nogil:
    cdef uint64_t x = (<const uint64_t *>a)[0], y = (<const uint64_t *>b)[0]
    return (x > y) - (x < y)


def table_put(uint64_t[::1] table_keys, int64_t[::1] table_values, int shift, const uint64_t[::1] keys,
              const int64_t[::1] numbers):
    """Place distinct keys that are not in the table (linear probing; the caller keeps it at most half full)."""
    cdef Py_ssize_t i
    cdef uint64_t slot, mask = table_keys.shape[0] - 1
    with nogil:
        for i in range(keys.shape[0]):
            slot = table_slot(keys[i], shift)
            while table_values[slot] >= 0:
                slot = (slot + 1) & mask
            table_keys[slot] = keys[i]
            table_values[slot] = numbers[i]


def index_members(const uint64_t[:, ::1] keys, Py_ssize_t first, uint64_t[::1] table_keys, int64_t[::1] table_values,
                  int shift, Py_ssize_t size, int32_t[:, ::1] slots, int32_t[::1] fill):
    """EventGrouper._index_batch's buckets: the posts numbered first, first + 1, … (rows of ``keys``, their band
    keys) join the bucket of each key while it holds fewer than slots.shape[1] members; keys not in the table
    get the next bucket numbers from ``size`` in the order of their values (as _KeyTable.add numbered them).
    The caller has made room: the table stays at most half full and ``slots``/``fill`` cover every new bucket.
    Returns the new number of buckets."""
    cdef Py_ssize_t nrows = keys.shape[0], bands = keys.shape[1], width = slots.shape[1], total = nrows * bands
    cdef Py_ssize_t i, r, b, fresh = 0
    cdef uint64_t slot, key, mask = table_keys.shape[0] - 1
    cdef int64_t number
    cdef int64_t *numbers = <int64_t *>malloc(max(1, total) * sizeof(int64_t))
    cdef uint64_t *new_keys = <uint64_t *>malloc(max(1, total) * sizeof(uint64_t))
    try:
        if numbers == NULL or new_keys == NULL:
            raise MemoryError()  # (what was allocated is freed below: free(NULL) does nothing)
        with nogil:
            for i in range(total):
                key = keys[i // bands, i % bands]
                slot = table_slot(key, shift)
                numbers[i] = -1
                while table_values[slot] >= 0:
                    if table_keys[slot] == key:
                        numbers[i] = table_values[slot]
                        break
                    slot = (slot + 1) & mask
                if numbers[i] < 0:
                    new_keys[fresh] = key
                    fresh += 1
            if fresh:
                qsort(new_keys, fresh, sizeof(uint64_t), cmp_u64)
                number = size
                for i in range(fresh):
                    if i and new_keys[i] == new_keys[i - 1]:
                        continue
                    slot = table_slot(new_keys[i], shift)
                    while table_values[slot] >= 0:
                        slot = (slot + 1) & mask
                    table_keys[slot] = new_keys[i]
                    table_values[slot] = number
                    number += 1
                size = number
                for i in range(total):
                    if numbers[i] < 0:
                        key = keys[i // bands, i % bands]
                        slot = table_slot(key, shift)
                        while table_keys[slot] != key or table_values[slot] < 0:
                            slot = (slot + 1) & mask
                        numbers[i] = table_values[slot]
            # members in the order they were numbered, each into its buckets while there is room
            for r in range(nrows):
                for b in range(bands):
                    number = numbers[r * bands + b]
                    if fill[number] < width:
                        slots[number, fill[number]] = <int32_t>(first + r)
                        fill[number] += 1
        return size
    finally:
        free(numbers)
        free(new_keys)
