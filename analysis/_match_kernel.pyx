# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled string matching for school names, places, topic words and red lines (analysis/schools.py,
analysis/keywords.py, analysis/analyzer.py).

``Automaton`` is an Aho-Corasick automaton over code points: its trie edges live in one open-addressing
hash table keyed by (state, code point), so memory grows with the patterns, not with an alphabet. A scan
is one pass over the text in C; what Python sees is one small result per text (a bitmask of the patterns
that occur, or the spans a regex alternation would find), not one object per hit as with pyahocorasick's
iterator or ``re.finditer``. ``join_cjk_spaces`` is analysis.schools' rule for spaces inside a name.
"""

import numpy as np

from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memcpy

from analysis._pyunicode cimport (
    PyUnicode_4BYTE_KIND,
    PyUnicode_DATA,
    PyUnicode_FromKindAndData,
    PyUnicode_GET_LENGTH,
    PyUnicode_KIND,
    PyUnicode_READ,
    Py_UNICODE_ISSPACE,
)

cdef uint64_t KEY_MULT = 0x9E3779B97F4A7C15
cdef uint64_t NO_KEY = 0xFFFFFFFFFFFFFFFF


cdef struct Hit:
    Py_ssize_t start
    Py_ssize_t end
    int32_t pattern


cdef struct Hits:
    # one call's hits: on the stack while few (most texts), else on the heap (no state shared between calls,
    # so concurrent scans with one automaton stay correct)
    Hit *data
    Py_ssize_t cap
    Hit local[32]


cdef inline void hits_init(Hits *h) noexcept nogil:
    h.data = h.local
    h.cap = 32


cdef inline void hits_free(Hits *h) noexcept nogil:
    if h.data != h.local:
        free(h.data)
    h.data = h.local


cdef int hits_grow(Hits *h) except -1:
    cdef Hit *bigger
    if h.data == h.local:
        bigger = <Hit *>malloc(2 * h.cap * sizeof(Hit))
        if bigger != NULL:
            memcpy(bigger, h.local, h.cap * sizeof(Hit))
    else:
        bigger = <Hit *>realloc(h.data, 2 * h.cap * sizeof(Hit))
    if bigger == NULL:
        raise MemoryError()
    h.data = bigger
    h.cap *= 2
    return 0


cdef class Automaton:
    """Aho-Corasick over ``patterns`` (non-empty strings; duplicates keep their first index)."""
    cdef uint64_t[::1] _keys  # (state << 21 | code point) of each trie edge; NO_KEY where a slot is free
    cdef int32_t[::1] _next
    cdef int _shift
    cdef uint64_t _mask
    cdef int32_t[::1] _fail
    cdef int32_t[::1] _out_start  # outputs of state s: _out[_out_start[s]:_out_start[s + 1]], longest first
    cdef int32_t[::1] _out
    cdef int32_t[::1] _length  # of each pattern, in code points
    cdef unsigned char[::1] _used  # a bit per BMP code point that occurs in some pattern: any other resets
    cdef readonly int count

    def __init__(self, patterns):
        patterns = list(patterns)
        self.count = len(patterns)
        goto = [{}]  # per state: code point -> state
        ends = [[]]  # patterns ending exactly at a state
        for index, pattern in enumerate(patterns):
            if not isinstance(pattern, str) or not pattern:
                raise ValueError(f"pattern {index} must be a non-empty string")
            state = 0
            for ch in pattern:
                nxt = goto[state].get(ord(ch))
                if nxt is None:
                    nxt = len(goto)
                    goto[state][ord(ch)] = nxt
                    goto.append({})
                    ends.append([])
                state = nxt
            if not ends[state]:
                ends[state].append(index)
        # failure links and each state's outputs (its own, then its failure chain's: longest first), breadth first
        fail = [0] * len(goto)
        outputs = [list(e) for e in ends]
        queue = list(goto[0].values())
        head = 0
        while head < len(queue):
            state = queue[head]
            head += 1
            outputs[state] = outputs[state] + outputs[fail[state]] if fail[state] else outputs[state]
            for c, nxt in goto[state].items():
                f = fail[state]
                while f and c not in goto[f]:
                    f = fail[f]
                fail[nxt] = goto[f][c] if c in goto[f] and goto[f][c] != nxt else 0
                queue.append(nxt)
        edges = [(s << 21 | c, nxt) for s, table in enumerate(goto) for c, nxt in table.items()]
        size = 16
        while size < 2 * len(edges) + 2:
            size *= 2
        keys = np.full(size, NO_KEY, dtype=np.uint64)
        values = np.zeros(size, dtype=np.int32)
        self._shift = 64 - (size.bit_length() - 1)
        self._mask = size - 1
        for key, nxt in edges:
            slot = ((key * KEY_MULT) & 0xFFFFFFFFFFFFFFFF) >> self._shift
            while keys[slot] != NO_KEY:
                slot = (slot + 1) & self._mask
            keys[slot] = key
            values[slot] = nxt
        self._keys = keys
        self._next = values
        self._fail = np.array(fail, dtype=np.int32)
        self._out_start = np.cumsum([0] + [len(o) for o in outputs], dtype=np.int64).astype(np.int32)
        self._out = np.array([p for o in outputs for p in o] or [0], dtype=np.int32)
        used = np.zeros(0x10000 // 8, dtype=np.uint8)
        for pattern in patterns:
            for ch in pattern:
                if ord(ch) < 0x10000:
                    used[ord(ch) >> 3] |= 1 << (ord(ch) & 7)
        self._used = used
        self._length = np.array([len(p) for p in patterns] or [0], dtype=np.int32)

    cdef inline int32_t _step(self, int32_t state, Py_UCS4 c) noexcept nogil:
        cdef uint64_t key, slot, k
        cdef uint32_t u = <uint32_t>c
        if u < 0x10000 and not (self._used[u >> 3] >> (u & 7)) & 1:
            return 0  # no pattern has it: no edge on it anywhere, down to the root
        while True:
            key = (<uint64_t>state << 21) | <uint64_t>c
            slot = (key * KEY_MULT) >> self._shift
            while True:
                k = self._keys[slot]
                if k == key:
                    return self._next[slot]
                if k == NO_KEY:
                    break
                slot = (slot + 1) & self._mask
            if state == 0:
                return 0
            state = self._fail[state]

    def found(self, str text):
        """The patterns that occur in ``text`` (overlapping and nested ones included) as a bitmask: bit i
        for patterns[i]."""
        cdef Py_ssize_t n = PyUnicode_GET_LENGTH(text), i
        cdef int kind = PyUnicode_KIND(text)
        cdef void *data = PyUnicode_DATA(text)
        cdef int32_t state = 0, o
        cdef uint64_t small = 0
        cdef int words = (self.count + 63) // 64
        cdef uint64_t *bits
        if self.count <= 64:
            for i in range(n):
                state = self._step(state, PyUnicode_READ(kind, data, i))
                for o in range(self._out_start[state], self._out_start[state + 1]):
                    small |= (<uint64_t>1) << self._out[o]
            return small
        bits = <uint64_t *>malloc(words * sizeof(uint64_t))
        if bits == NULL:
            raise MemoryError()
        try:
            for i in range(words):
                bits[i] = 0
            for i in range(n):
                state = self._step(state, PyUnicode_READ(kind, data, i))
                for o in range(self._out_start[state], self._out_start[state + 1]):
                    bits[self._out[o] >> 6] |= (<uint64_t>1) << (self._out[o] & 63)
            result = 0
            for i in range(words - 1, -1, -1):
                result = (result << 64) | bits[i]
            return result
        finally:
            free(bits)

    cdef Py_ssize_t _leftmost_longest(self, str text, Hits *hits) except -1:
        """The spans of ``spans`` into ``hits``; returns their number."""
        cdef Py_ssize_t n = PyUnicode_GET_LENGTH(text), i, count = 0, j, kept = 0, last_end = 0
        cdef int kind = PyUnicode_KIND(text)
        cdef void *data = PyUnicode_DATA(text)
        cdef int32_t state = 0, o, p
        cdef Hit hit
        for i in range(n):
            state = self._step(state, PyUnicode_READ(kind, data, i))
            for o in range(self._out_start[state], self._out_start[state + 1]):
                if count == hits.cap:
                    hits_grow(hits)
                p = self._out[o]
                hits.data[count].start = i + 1 - self._length[p]
                hits.data[count].end = i + 1
                hits.data[count].pattern = p
                count += 1
        # hits come by end; order them by start, longest first (few per text: insertion sort)
        for i in range(1, count):
            hit = hits.data[i]
            j = i - 1
            while j >= 0 and (hits.data[j].start > hit.start
                              or (hits.data[j].start == hit.start and hits.data[j].end < hit.end)):
                hits.data[j + 1] = hits.data[j]
                j -= 1
            hits.data[j + 1] = hit
        for i in range(count):  # then leftmost first, skipping what overlaps a kept one
            if hits.data[i].start >= last_end:
                hits.data[kept] = hits.data[i]
                last_end = hits.data[i].end
                kept += 1
        return kept

    def spans(self, str text):
        """What ``re.finditer`` of the patterns as one alternation, longest first, finds: non-overlapping
        (start, end, pattern index), leftmost first and at each start the longest pattern."""
        cdef Hits hits
        cdef Py_ssize_t count, i
        hits_init(&hits)
        try:
            count = self._leftmost_longest(text, &hits)
            return [(hits.data[i].start, hits.data[i].end, hits.data[i].pattern) for i in range(count)]
        finally:
            hits_free(&hits)

    def total(self, str text, const int64_t[::1] weights):
        """The sum of ``weights[pattern]`` over ``spans(text)`` (what a findall and a dict lookup per
        match summed, without a Python object per match)."""
        cdef Hits hits
        cdef Py_ssize_t count, i
        cdef int64_t net = 0
        if weights.shape[0] < self.count:
            raise ValueError("one weight per pattern")
        hits_init(&hits)
        try:
            count = self._leftmost_longest(text, &hits)
            for i in range(count):
                net += weights[hits.data[i].pattern]
            return net
        finally:
            hits_free(&hits)


cdef inline bint cjk(Py_UCS4 c) noexcept nogil:
    return 0x4E00 <= c <= 0x9FFF


def join_cjk_spaces(str text):
    """The text without the runs of whitespace that stand between two CJK characters (the same object
    when there are none)."""
    cdef Py_ssize_t n = PyUnicode_GET_LENGTH(text), i, j, m = 0
    cdef int kind = PyUnicode_KIND(text)
    cdef void *data = PyUnicode_DATA(text)
    cdef Py_UCS4 c
    cdef Py_UCS4 *buf = NULL
    cdef bint changed = False
    i = 0
    while i < n:
        c = PyUnicode_READ(kind, data, i)
        if Py_UNICODE_ISSPACE(c) and i > 0 and cjk(PyUnicode_READ(kind, data, i - 1)):
            j = i + 1
            while j < n and Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, j)):
                j += 1
            if j < n and cjk(PyUnicode_READ(kind, data, j)):
                if buf == NULL:
                    buf = <Py_UCS4 *>malloc(n * sizeof(Py_UCS4))
                    if buf == NULL:
                        raise MemoryError()
                    for m in range(i):
                        buf[m] = PyUnicode_READ(kind, data, m)
                    m = i
                changed = True
                i = j
                continue
        if buf != NULL:
            buf[m] = c
            m += 1
        i += 1
    if not changed:
        return text
    try:
        return PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, buf, m)
    finally:
        free(buf)
