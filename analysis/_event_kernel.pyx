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
from libc.stdlib cimport free, malloc, realloc

cdef extern from "Python.h":
    int PyUnicode_KIND(object o)
    void *PyUnicode_DATA(object o)
    Py_ssize_t PyUnicode_GET_LENGTH(object o)
    Py_UCS4 PyUnicode_READ(int kind, void *data, Py_ssize_t index) nogil
    bint Py_UNICODE_ISSPACE(Py_UCS4 ch) nogil

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
        if type(text) is not str:
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


def indexed_candidates(const uint64_t[:, ::1] keys, const Py_ssize_t[::1] rows, const uint64_t[::1] table_keys,
                       const int64_t[::1] table_values, int shift, const int32_t[:, ::1] slots,
                       const int32_t[::1] fill, const uint16_t[:, ::1] idx_vals, const int64_t[::1] idx_sizes,
                       const uint16_t[:, ::1] vals, const int64_t[::1] sizes, double threshold, double loose,
                       double contained, Py_ssize_t limit, Py_ssize_t n):
    """EventGrouper._indexed_candidates: per post of the batch (n), its accepted indexed posts as
    (similarity, index number), most similar first; and which band keys hit a full bucket.

    ``keys`` are the band keys of the comparable posts ``rows``; the table (keys, values, shift) is the
    _KeyTable of band key -> bucket, ``slots``/``fill`` each bucket's members. The numpy version's orders are
    kept exactly: when any post of the batch has more than ``limit`` candidates, every post's are ranked by
    shared bands then first hit and cut at ``limit``; otherwise they are taken by index number. Accepted
    ones are then sorted by agreeing values, ties in that order."""
    cdef Py_ssize_t nrows = keys.shape[0], bands = keys.shape[1], width = slots.shape[1]
    cdef Py_ssize_t r, b, s, k, c, t, start, count, total = 0, perms = idx_vals.shape[1]
    cdef uint64_t key, mask = table_keys.shape[0] - 1, slot
    cdef int64_t bucket
    cdef int32_t member
    cdef bint ranked = False
    cdef Cand tmp
    full = np.zeros((nrows, bands), dtype=np.bool_)
    cdef unsigned char[:, ::1] full_ = full.view(np.uint8)
    cdef Py_ssize_t per_post = bands * width
    cdef Cand *cands = <Cand *>malloc(max(1, nrows * per_post) * sizeof(Cand))
    cdef Py_ssize_t *counts = <Py_ssize_t *>malloc(max(1, nrows) * sizeof(Py_ssize_t))
    if cands == NULL or counts == NULL:
        free(cands)
        free(counts)
        raise MemoryError()
    out = [[] for _ in range(n)]
    try:
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
                        if member < 0:
                            continue
                        for c in range(count):
                            if cands[start + c].member == member:
                                cands[start + c].bands += 1
                                break
                        else:
                            cands[start + count].member = member
                            cands[start + count].bands = 1
                            cands[start + count].found = <int32_t>(b * width + s)
                            count += 1
                counts[r] = count
                if count > limit:
                    ranked = True
            for r in range(nrows):
                start = r * per_post
                count = counts[r]
                # the order the numpy version verified them in: by shared bands then first hit, or by number
                for k in range(1, count):
                    tmp = cands[start + k]
                    t = k - 1
                    while t >= 0 and (
                        (ranked and (cands[start + t].bands < tmp.bands
                                     or (cands[start + t].bands == tmp.bands and cands[start + t].found > tmp.found)))
                        or (not ranked and cands[start + t].member > tmp.member)
                    ):
                        cands[start + t + 1] = cands[start + t]
                        t -= 1
                    cands[start + t + 1] = tmp
                if count > limit:
                    count = limit
                # verify; keep the accepted ones, most agreeing values first (ties: that order)
                k = 0
                for c in range(count):
                    tmp = cands[start + c]
                    tmp.agree = 0
                    for s in range(perms):
                        tmp.agree += idx_vals[tmp.member, s] == vals[rows[r], s]
                    if accepted(tmp.agree, sizes[rows[r]], idx_sizes[tmp.member], threshold, loose, contained):
                        tmp.order = <int32_t>c
                        t = k - 1
                        while t >= 0 and cands[start + t].agree < tmp.agree:
                            cands[start + t + 1] = cands[start + t]
                            t -= 1
                        cands[start + t + 1] = tmp
                        k += 1
                counts[r] = k
        for r in range(nrows):
            start = r * per_post
            if counts[r]:
                out[rows[r]] = [(cands[start + c].agree / <double>PERMS, cands[start + c].member)
                                for c in range(counts[r])]
    finally:
        free(cands)
        free(counts)
    return out, full
