# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled kernel of the classifier's hot path (analysis/scoring.py, analysis/explain.py): a batch's linear
sums and its explanation terms, each text one pass over its code points and tokens.

Bit-identical to the numpy reference (``LinearScorer.entries`` + ``sums`` + ``contributions`` and
``analysis.explain.explain``; pinned by tests/test_score_kernel.py). ``ScoreKernel.judge``, per text:

- words: each token's table row from the memo (raw token → row; a miss calls back into Python once),
  summed in token order from 0.0;
- char n-grams: code points normalised through the BMP table (past the BMP unchanged), hashed exactly as
  analysis.features.char_ngram_hashes does (uint64 arithmetic wraps as numpy's does), each order's rows
  summed in position order from 0.0 and the orders added in turn — the float sums of the reference's CSR
  product and ``sum(axis=0)``. N-grams that hold a NUL (the reference's separator) add nothing, like its
  all-zero row;
- explanation terms, while the text's table rows are still in the caches: the pull of its likeliest class
  by its logits (the caller checks it against the probabilities and has ``explain`` redo a text where they
  differ), every entry's share (one gathered value × the text's scale), the candidates (positive, at least
  EXPLAIN_SHARE of the strongest entry; none if a share is NaN), the shown ones (a letter, not only function
  characters or a function word; words by the vocabulary's flags, ASCII-ish ones only when the lower-cased
  text contains them), shares summed per term string from 0.0 in entry order (unigrams by position,
  bigrams, trigrams, words), the top ones by total with ties in first-seen order, values rounded as Python's
  ``round(v, 4)``. Only the kept terms become Python strings.
"""

import numpy as np

from cpython.dict cimport PyDict_GetItem
from cpython.object cimport PyObject
from libc.math cimport fabs, floor, isfinite, rint, sqrt
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t
from libc.stdlib cimport calloc, free, malloc, qsort
from libc.string cimport memset

from analysis._pyunicode cimport (
    PyUnicode_DATA,
    PyUnicode_GET_LENGTH,
    PyUnicode_KIND,
    PyUnicode_READ,
    PyUnicode_Substring,
    Py_UNICODE_ISALPHA,
)

cdef uint64_t MULT = 0x9E3779B97F4A7C15
cdef enum:
    MAX_ORDER = 8  # n-gram orders the kernel supports (the shipped features stop at 3)
    LANES = 8  # a table row's sums part: one cache line of doubles (1 + the outputs, padded)
    SHORT = 4  # tokens up to this long are memoised in C (most words are; longer ones in the dict)
    KNOWN_FIRST = 1 << 12  # the C memo's first and largest number of slots (32 bytes each)
    KNOWN_MOST = 1 << 18  # 8 MB: emptied past 131,072 distinct short tokens
    BITS = 21  # code points fit in 21 bits: three of them pack into one int64 key
    ALPHA = 1
    STOP = 2


cdef inline uint64_t mix(uint64_t h) noexcept nogil:
    """analysis.features._mix of one value."""
    h = h ^ (h >> 29)
    h = h * MULT
    return h ^ (h >> 32)


cdef class Batch:
    """A batch's entries as the kernel found them: per text its n-gram rows by order and position (the zero
    row where an n-gram holds a NUL or passes the text's end), and its tokens' rows."""

    cdef readonly list texts
    cdef readonly object starts  # int64 (n + 1): text i's positions are starts[i] … starts[i+1]
    cdef readonly object char_ids  # int32 (char_n × total)
    cdef readonly object word_ids  # int32, all tokens
    cdef readonly object word_ptr  # int64 (n + 1)


cdef struct Group:
    int64_t key
    double total
    Py_ssize_t first  # the candidate that named it: ties rank in first-seen order
    Py_ssize_t pos  # n-gram: its position in the text; word: its vocabulary column
    int order  # n-gram order; 0 for a word
    uint64_t slot  # where the group table holds it


cdef struct Known:
    uint64_t h  # the token's hash (never 0: 0 marks an empty slot)
    int32_t row
    int32_t length
    Py_UCS4 cp[SHORT]


cdef struct Scratch:
    uint32_t *norm  # a text's normalised code points
    double *sums  # per order: the text's sum of table rows
    double *shares  # a text's entries' shares
    int32_t *cands  # the candidates among them
    Group *groups
    int32_t *slots  # open addressing: key → group (-1 empty)
    uint64_t cap_mask


cdef int by_rank(const void *a, const void *b) noexcept nogil:
    cdef const Group *x = <const Group *>a
    cdef const Group *y = <const Group *>b
    if x.total > y.total:
        return -1
    if x.total < y.total:
        return 1
    return -1 if x.first < y.first else (1 if x.first > y.first else 0)


cdef inline double block_scale(double sq) noexcept nogil:
    """analysis.scoring._scale of one sum: 1 / √(Σ idf²), 0 when there is no known term."""
    if sq > 0.0:
        return 1.0 / sqrt(sq if sq > 1e-300 else 1e-300)
    return 0.0


cdef class ScoreKernel:
    """A batch's sums and explanation terms; built once per Classifier (analysis.explain.score_kernel).

    ``table``: per feature row (the last one all zero) ``[idf², output_1 … output_m | pull_1 … pull_p]`` with
    the pulls from column ``pull_at``: a row's stride is a multiple of 64 bytes and the table is aligned, so
    the sums read one cache line per entry and the explanation's pulls the next one.
    """

    cdef const double[:, ::1] table
    cdef int width, pull_at, n_pulls, n_classes
    cdef const double[::1] intercept
    cdef const uint32_t[::1] normal
    cdef uint64_t salts[MAX_ORDER]
    cdef uint64_t mask
    cdef int char_n
    cdef int32_t zero, n_char
    cdef dict lookup
    cdef object new_word
    cdef Known *known  # raw token → row for short tokens: one probe of one cache line, no string compare
    cdef uint64_t known_mask
    cdef Py_ssize_t known_used
    cdef const uint8_t[::1] classes
    cdef const int64_t[::1] stop_keys
    cdef list words
    cdef const uint8_t[::1] shown
    cdef const uint8_t[::1] check
    cdef const int64_t[::1] word_keys
    cdef double share
    cdef object py_round

    def __init__(self, table, int width, int pull_at, int n_pulls, int n_classes, intercept, normal,
                 int char_bits, salts, int zero, int n_char, dict lookup, new_word,
                 classes, stop_keys, list words, shown, check, double share):
        """``width``: 1 + the outputs, of which the first ``n_classes`` are the class scores the pulls belong
        to (pull k: class k against the last class); ``intercept``: the outputs'; ``normal``: uint32 map of the
        BMP; ``salts``: the xor salt of each n-gram order (already × n); ``lookup``: raw token → table row,
        filled by ``new_word(token) -> row``; ``classes``: uint8 per BMP code point (1 letter, 2 function
        character); ``stop_keys``: sorted packed function words; ``words``, ``shown``, ``check``: the vocabulary
        (analysis.explain.Vocabulary); ``share``: EXPLAIN_SHARE."""
        if not 1 <= len(salts) <= MAX_ORDER:
            raise ValueError(f"{len(salts)} n-gram orders")
        if len(normal) != 0x10000 or len(classes) != 0x10000:
            raise ValueError("the normalisation table and the character classes cover the BMP")
        if not (len(words) == len(shown) == len(check)):
            raise ValueError("vocabulary arrays differ in length")
        if not (width <= LANES <= pull_at and pull_at + n_pulls <= table.shape[1] and n_pulls == n_classes - 1
                and len(intercept) == width - 1 and n_classes < width):
            raise ValueError("table layout")
        self.table = table
        self.width, self.pull_at, self.n_pulls, self.n_classes = width, pull_at, n_pulls, n_classes
        self.intercept = intercept
        self.normal = normal
        self.char_n = len(salts)
        for k in range(self.char_n):
            self.salts[k] = <uint64_t>salts[k]
        self.mask = ((<uint64_t>1) << char_bits) - 1
        self.zero, self.n_char = zero, n_char
        self.lookup = lookup
        self.new_word = new_word
        self.classes = classes
        self.stop_keys = stop_keys
        self.words = words
        self.shown = shown
        self.check = check
        keys = np.empty(len(words), dtype=np.int64)
        for col, word in enumerate(words):
            # a word's key is its code points packed as an n-gram's would be, so that a word and the same
            # characters as an n-gram are one term; longer words (or with a NUL: never an n-gram) by column
            if 1 <= len(word) <= 3 and "\x00" not in word:
                keys[col] = pack_str(word)
            else:
                keys[col] = -(col + 1)
        self.word_keys = keys
        self.share = share
        self.py_round = round
        self.known = <Known *>calloc(KNOWN_FIRST, sizeof(Known))
        if self.known == NULL:
            raise MemoryError()
        self.known_mask = KNOWN_FIRST - 1
        self.known_used = 0

    def __dealloc__(self):
        free(self.known)

    # --- the token memo -------------------------------------------------------------------------------------
    # The dict (``lookup``) costs ~25 ns a token: a fresh token's hash, then a probe of its index, its entry,
    # the key and the key's characters, each likely a cache miss in a memo of 10⁵ words. Short tokens are
    # looked up here first: a cheap hash of the code points and one 32-byte slot holding them. The memo
    # only caches a function of the token (the model's row for it), so emptying it when full loses nothing.
    cdef inline int32_t known_row(self, object tok) noexcept:
        """The row of a short token memoised in C, or -1."""
        cdef Py_ssize_t length = PyUnicode_GET_LENGTH(tok), j
        if length == 0 or length > SHORT:
            return -1
        cdef int kind = PyUnicode_KIND(tok)
        cdef void *data = PyUnicode_DATA(tok)
        cdef Py_UCS4 cp[SHORT]
        cdef uint64_t h = <uint64_t>length
        for j in range(length):
            cp[j] = PyUnicode_READ(kind, data, j)
            h = (h ^ <uint64_t>cp[j]) * MULT
        h = mix(h) | 1
        cdef uint64_t slot = h & self.known_mask
        cdef Known *k
        while True:
            k = &self.known[slot]
            if k.h == 0:
                return -1
            if k.h == h and k.length == length:
                for j in range(length):
                    if k.cp[j] != cp[j]:
                        break
                else:
                    return k.row
            slot = (slot + 1) & self.known_mask

    cdef int remember(self, object tok, int32_t row) except -1:
        """Memoise a short token's row (after the dict's answer; a no-op for other tokens)."""
        cdef Py_ssize_t length = PyUnicode_GET_LENGTH(tok), j
        if length == 0 or length > SHORT:
            return 0
        if 2 * (self.known_used + 1) > <Py_ssize_t>(self.known_mask + 1):
            self.grow()
        cdef int kind = PyUnicode_KIND(tok)
        cdef void *data = PyUnicode_DATA(tok)
        cdef Py_UCS4 cp[SHORT]
        cdef uint64_t h = <uint64_t>length
        for j in range(length):
            cp[j] = PyUnicode_READ(kind, data, j)
            h = (h ^ <uint64_t>cp[j]) * MULT
        h = mix(h) | 1
        cdef uint64_t slot = h & self.known_mask
        while self.known[slot].h != 0:
            if self.known[slot].h == h and self.known[slot].length == length:
                for j in range(length):
                    if self.known[slot].cp[j] != cp[j]:
                        break
                else:
                    return 0  # there already
            slot = (slot + 1) & self.known_mask
        self.known[slot].h = h
        self.known[slot].row = row
        self.known[slot].length = <int32_t>length
        for j in range(length):
            self.known[slot].cp[j] = cp[j]
        self.known_used += 1
        return 0

    cdef int grow(self) except -1:
        """Twice the slots, or (at the largest size) an empty memo."""
        cdef uint64_t cap = self.known_mask + 1, new_cap = cap * 2, j, slot
        cdef Known *old = self.known
        if new_cap > KNOWN_MOST:
            memset(self.known, 0, cap * sizeof(Known))
            self.known_used = 0
            return 0
        cdef Known *new = <Known *>calloc(new_cap, sizeof(Known))
        if new == NULL:
            raise MemoryError()
        for j in range(cap):
            if old[j].h != 0:
                slot = old[j].h & (new_cap - 1)
                while new[slot].h != 0:
                    slot = (slot + 1) & (new_cap - 1)
                new[slot] = old[j]
        self.known = new
        self.known_mask = new_cap - 1
        free(old)
        return 0

    # --- scratch space, per call (a new word's callback runs Python code: another thread may enter) -------
    cdef int scratch(self, Scratch *s, Py_ssize_t longest_text, Py_ssize_t longest_entries) except -1:
        cdef uint64_t cap = 16
        while cap < <uint64_t>(2 * (longest_entries + 1)):
            cap <<= 1
        s.cap_mask = cap - 1
        s.norm = <uint32_t *>malloc((longest_text + 1) * sizeof(uint32_t))
        s.sums = <double *>malloc(self.char_n * LANES * sizeof(double))
        s.shares = <double *>malloc((longest_entries + 1) * sizeof(double))
        s.groups = <Group *>malloc((longest_entries + 1) * sizeof(Group))
        s.cands = <int32_t *>malloc((longest_entries + 1) * sizeof(int32_t))
        s.slots = <int32_t *>malloc(cap * sizeof(int32_t))
        if (s.norm == NULL or s.sums == NULL or s.shares == NULL or s.groups == NULL or s.slots == NULL
                or s.cands == NULL):
            release(s)
            raise MemoryError()
        memset(s.slots, 0xFF, cap * sizeof(int32_t))  # -1: empty
        return 0

    # --- sums, and the explanation terms in the same pass -------------------------------------------------
    def judge(self, list texts, list tokens, int top):
        """(Batch, char sums, word sums, which, terms). The sums are float64 (n × width), intercepts and
        scales not applied. ``which``: per text its likeliest of the first n_classes - 1 outputs by the
        kernel's own scales and logits (first on ties), the pull its ``terms`` (top ``top`` per text; None when
        ``top`` is 0) are measured along — the caller checks it against its probabilities (``explain``)."""
        cdef Py_ssize_t n = len(texts), i, p, j, k, total = 0, longest = 0, length, n_tokens = 0, entries = 0
        if len(tokens) != n:
            raise ValueError(f"{len(tokens)} token lists for {n} texts")
        cdef int width = self.width, char_n = self.char_n, kind, n_classes = self.n_classes, best_k
        starts_arr = np.zeros(n + 1, dtype=np.int64)
        word_ptr_arr = np.zeros(n + 1, dtype=np.int64)
        cdef int64_t[::1] starts = starts_arr
        cdef int64_t[::1] word_ptr = word_ptr_arr
        token_lists = [t if type(t) is list else list(t) for t in tokens]
        for i in range(n):
            text = texts[i]
            if not isinstance(text, str):
                raise TypeError(f"text {i} is {type(text).__name__}, not str")
            length = PyUnicode_GET_LENGTH(text)
            total += length
            starts[i + 1] = total
            n_tokens += len(<list>token_lists[i])
            word_ptr[i + 1] = n_tokens
            longest = max(longest, length)
            entries = max(entries, char_n * length + word_ptr[i + 1] - word_ptr[i])
        ids_arr = np.empty((char_n, total), dtype=np.int32)
        word_ids_arr = np.empty(n_tokens, dtype=np.int32)
        c_arr = np.zeros((n, width), dtype=np.float64)
        w_arr = np.zeros((n, width), dtype=np.float64)
        which_arr = np.zeros(n, dtype=np.int64)
        cdef int32_t[:, ::1] ids = ids_arr
        cdef int32_t[::1] word_ids = word_ids_arr
        cdef double[:, ::1] c = c_arr
        cdef double[:, ::1] w = w_arr
        cdef int64_t[::1] which = which_arr
        cdef const double[:, ::1] table = self.table
        cdef const uint32_t[::1] normal = self.normal
        cdef const double[::1] intercept = self.intercept
        cdef int32_t zero = self.zero, row
        cdef uint64_t h, mask = self.mask
        cdef uint32_t cp
        cdef void *data
        cdef const double *trow
        cdef double *acc
        cdef double a0, a1, a2, a3, a4, a5, a6, a7
        cdef const int32_t *pos
        cdef const double *base = &table[0, 0]
        cdef Py_ssize_t stride = table.shape[1]
        cdef double c_sc, w_sc, logit, best
        cdef dict lookup = self.lookup
        cdef PyObject *hit
        cdef list toks
        cdef list out = [] if top > 0 else None
        cdef Scratch s
        self.scratch(&s, longest, entries)
        try:
            for i in range(n):
                # words: each token's row from the memo (its misses call back into Python)
                toks = <list>token_lists[i]
                j = word_ptr[i]
                for tok in toks:
                    if not isinstance(tok, str):
                        raise TypeError(f"token {tok!r} of text {i} is not str")
                    row = self.known_row(tok)
                    if row < 0:
                        hit = PyDict_GetItem(lookup, tok)
                        if hit == NULL:
                            row = self.new_word(tok)
                        else:
                            row = <int32_t><object>hit
                        self.remember(tok, row)
                    word_ids[j] = row
                    j += 1
                # char n-grams
                text = texts[i]
                length = starts[i + 1] - starts[i]
                kind = PyUnicode_KIND(text)
                data = PyUnicode_DATA(text)
                for p in range(length):
                    cp = PyUnicode_READ(kind, data, p)
                    s.norm[p] = normal[cp] if cp < 0x10000 else cp
                # every n-gram's row first (a separate pass: hashing and adding in one loop was 0.6 µs/post slower)
                for p in range(length):
                    h = 0
                    for k in range(char_n):
                        if p + k >= length or s.norm[p + k] == 0:  # past the end, or a NUL: the zero row
                            while k < char_n:
                                ids[k, starts[i] + p] = zero
                                k += 1
                            break
                        h = h * MULT + s.norm[p + k]
                        row = <int32_t>(mix(h ^ self.salts[k]) & mask)
                        ids[k, starts[i] + p] = row
                # then the sums: per order, in position order from 0.0 (the reference's CSR product)
                a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = 0.0
                for j in range(word_ptr[i], word_ptr[i + 1]):
                    row = word_ids[j]
                    if row != zero:
                        trow = base + <Py_ssize_t>row * stride
                        a0 += trow[0]
                        a1 += trow[1]
                        a2 += trow[2]
                        a3 += trow[3]
                        a4 += trow[4]
                        a5 += trow[5]
                        a6 += trow[6]
                        a7 += trow[7]
                acc = s.sums  # (the char sums' space, free until then)
                acc[0], acc[1], acc[2], acc[3], acc[4], acc[5], acc[6], acc[7] = a0, a1, a2, a3, a4, a5, a6, a7
                for k in range(width):
                    w[i, k] = acc[k]
                for k in range(char_n):
                    # a whole cache line in eight registers (the padding adds 0.0): a loop over a local array
                    # kept the sums in memory, every addition waiting on the store of the one before
                    a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = 0.0
                    pos = &ids[k, starts[i]]
                    for p in range(length):
                        row = pos[p]
                        if row != zero:
                            trow = base + <Py_ssize_t>row * stride
                            a0 += trow[0]
                            a1 += trow[1]
                            a2 += trow[2]
                            a3 += trow[3]
                            a4 += trow[4]
                            a5 += trow[5]
                            a6 += trow[6]
                            a7 += trow[7]
                    acc = s.sums + k * LANES
                    acc[0], acc[1], acc[2], acc[3], acc[4], acc[5], acc[6], acc[7] = a0, a1, a2, a3, a4, a5, a6, a7
                # the orders added in turn, as numpy's sum over the first axis of (char_n, n, width)
                for j in range(width):
                    c[i, j] = s.sums[j]
                for k in range(1, char_n):
                    for j in range(width):
                        c[i, j] = c[i, j] + s.sums[k * LANES + j]
                if top <= 0:
                    continue
                # the pull: the likeliest sensitive class by the logits (numpy's expression, term for term)
                c_sc, w_sc = block_scale(c[i, 0]), block_scale(w[i, 0])
                best_k = 0
                for k in range(n_classes - 1):
                    logit = c_sc * c[i, 1 + k] + w_sc * w[i, 1 + k] + intercept[k]
                    if k == 0 or logit > best:
                        best, best_k = logit, k
                which[i] = best_k
                out.append(self.explain_text(&s, text, &ids[0, 0], total, starts[i], length,
                                             &word_ids[0] if n_tokens else NULL, word_ptr[i], word_ptr[i + 1],
                                             best_k, c_sc, w_sc, top))
        finally:
            release(&s)
        batch = Batch()
        batch.texts = texts
        batch.starts = starts_arr
        batch.char_ids = ids_arr
        batch.word_ids = word_ids_arr
        batch.word_ptr = word_ptr_arr
        return batch, c_arr, w_arr, which_arr, out

    def explain(self, Batch batch, rows, which, c_scale, w_scale, int top):
        """Top ``top`` terms of texts ``rows`` (int64) of a batch, along pull ``which[row]`` with the scales
        given (per text of the batch; 0 for both: no terms)."""
        cdef const int64_t[::1] rows_v = rows
        cdef const int64_t[::1] which_v = which
        cdef const double[::1] cs = c_scale
        cdef const double[::1] ws = w_scale
        cdef const int64_t[::1] starts = batch.starts
        cdef const int32_t[:, ::1] ids = batch.char_ids
        cdef const int32_t[::1] word_ids = batch.word_ids
        cdef const int64_t[::1] word_ptr = batch.word_ptr
        cdef list texts = batch.texts
        cdef Py_ssize_t n = len(texts), r, i, longest = 0, entries = 0
        cdef int char_n = ids.shape[0]
        if which_v.shape[0] != n or cs.shape[0] != n or ws.shape[0] != n:
            raise ValueError("one pull and two scales per text")
        for r in range(rows_v.shape[0]):
            i = rows_v[r]
            if not 0 <= i < n:
                raise IndexError(f"row {i} of {n}")
            longest = max(longest, starts[i + 1] - starts[i])
            entries = max(entries, char_n * (starts[i + 1] - starts[i]) + word_ptr[i + 1] - word_ptr[i])
        cdef list out = []
        cdef Scratch s
        self.scratch(&s, longest, entries)
        try:
            for r in range(rows_v.shape[0]):
                i = rows_v[r]
                out.append(self.explain_text(&s, texts[i], &ids[0, 0] if ids.shape[1] else NULL, ids.shape[1],
                                             starts[i], starts[i + 1] - starts[i],
                                             &word_ids[0] if word_ids.shape[0] else NULL, word_ptr[i],
                                             word_ptr[i + 1], which_v[i], cs[i], ws[i], top))
        finally:
            release(&s)
        return out

    cdef list explain_text(self, Scratch *s, object text, const int32_t *ids, Py_ssize_t total, Py_ssize_t start,
                           Py_ssize_t length, const int32_t *word_ids, Py_ssize_t w_start, Py_ssize_t w_end,
                           int64_t wh, double c_sc, double w_sc, int top):
        """One text's terms: its entries' shares along pull ``wh`` (n-gram order k at position p is
        ``ids[k * total + start + p]``), the candidates, summed per term, the top ones rounded."""
        cdef list terms = []
        if top <= 0 or (c_sc == 0.0 and w_sc == 0.0):  # every share 0 (or NaN: no candidate either way)
            return terms
        cdef const double[:, ::1] table = self.table
        cdef int char_n = self.char_n, col_at = self.pull_at + <int>wh, order, kind
        cdef int32_t zero = self.zero, n_char = self.n_char, row
        cdef Py_ssize_t m = 0, k, p, j, n_entries, n_chars = char_n * length, n_groups = 0, g, n_cands, c
        cdef double share, best = 0.0, floor_
        cdef bint nan = False
        cdef int64_t key
        cdef uint64_t slot
        cdef void *data
        cdef object lowered = None
        cdef Group held
        # every entry's share, and the strongest (0 at least: the reference's separator entry)
        for k in range(char_n):
            for p in range(length):
                row = ids[k * total + start + p]
                share = 0.0 if row == zero else table[row, col_at] * c_sc
                s.shares[m] = share
                m += 1
                if share > best:
                    best = share
                elif share != share:
                    nan = True
        for j in range(w_start, w_end):
            row = word_ids[j]
            share = 0.0 if row == zero else table[row, col_at] * w_sc
            s.shares[m] = share
            m += 1
            if share > best:
                best = share
            elif share != share:
                nan = True
        n_entries = m
        if nan or best <= 0.0:
            return terms
        floor_ = best * self.share  # > 0: a share at or above it is positive (and none is NaN)
        kind = PyUnicode_KIND(text)
        data = PyUnicode_DATA(text)
        # the candidates' indices, without a branch per entry (a few percent are: the branch mispredicted)
        n_cands = 0
        for m in range(n_entries):
            s.cands[n_cands] = <int32_t>m
            n_cands += s.shares[m] >= floor_
        for c in range(n_cands):
            m = s.cands[c]
            share = s.shares[m]
            if m < n_chars:
                order = <int>(m // length) + 1
                p = m % length
                if not self.shown_ngram(kind, data, p, order, &key):
                    continue
            else:
                order = 0
                p = word_ids[w_start + m - n_chars] - n_char  # the vocabulary column
                if not self.shown[p]:
                    continue
                if self.check[p]:
                    if lowered is None:
                        lowered = text.lower()
                    if self.words[p] not in lowered:
                        continue
                key = self.word_keys[p]
            slot = mix(<uint64_t>key) & s.cap_mask
            while s.slots[slot] >= 0 and s.groups[s.slots[slot]].key != key:
                slot = (slot + 1) & s.cap_mask
            if s.slots[slot] >= 0:
                s.groups[s.slots[slot]].total += share
            else:
                s.slots[slot] = <int32_t>n_groups
                s.groups[n_groups].key = key
                s.groups[n_groups].total = 0.0
                s.groups[n_groups].total += share
                s.groups[n_groups].first = m
                s.groups[n_groups].pos = p
                s.groups[n_groups].order = order
                s.groups[n_groups].slot = slot
                n_groups += 1
        for g in range(n_groups):  # empty the slots this text used
            s.slots[s.groups[g].slot] = -1
        if n_groups <= 24:  # the usual handful: insertion sort (glibc's qsort allocates and merges)
            for g in range(1, n_groups):
                held = s.groups[g]
                j = g
                while j > 0 and by_rank(&held, &s.groups[j - 1]) < 0:
                    s.groups[j] = s.groups[j - 1]
                    j -= 1
                s.groups[j] = held
        else:
            qsort(s.groups, n_groups, sizeof(Group), by_rank)
        for g in range(min(n_groups, top)):
            if s.groups[g].order:
                term = PyUnicode_Substring(text, s.groups[g].pos, s.groups[g].pos + s.groups[g].order)
            else:
                term = self.words[s.groups[g].pos]
            terms.append((term, self.round4(s.groups[g].total)))
        return terms

    cdef bint shown_ngram(self, int kind, void *data, Py_ssize_t p, int order, int64_t *key) noexcept:
        """Whether the n-gram at p may be shown (analysis.explain._shown for its characters); its packed key."""
        cdef int64_t packed = 0, core = 0
        cdef Py_UCS4 ch
        cdef uint8_t cls
        cdef bint any_alpha = False, only_stop = True
        cdef int j
        for j in range(order):
            ch = PyUnicode_READ(kind, data, p + j)
            packed = (packed << BITS) | <int64_t>ch
            if ch < 0x10000:
                cls = self.classes[ch]
            else:
                cls = ALPHA if Py_UNICODE_ISALPHA(ch) else 0
            if cls & ALPHA:
                any_alpha = True
                core = (core << BITS) | <int64_t>ch
                if not (cls & STOP):
                    only_stop = False
        key[0] = packed
        if not any_alpha or only_stop:
            return False
        # a function word (binary search over the sorted keys)
        cdef Py_ssize_t lo = 0, hi = self.stop_keys.shape[0], mid
        while lo < hi:
            mid = (lo + hi) >> 1
            if self.stop_keys[mid] < core:
                lo = mid + 1
            else:
                hi = mid
        return not (lo < self.stop_keys.shape[0] and self.stop_keys[lo] == core)

    cdef object round4(self, double v):
        """round(v, 4) as Python computes it: the nearest integer to v·10⁴ over 10⁴ is the same float unless
        v·10⁴ is within a hair of a half (or too large to keep every digit); those go to Python's round."""
        cdef double scaled = v * 1e4
        if not isfinite(scaled) or fabs(scaled - floor(scaled) - 0.5) < 1e-6 or fabs(v) >= 1e9:
            return self.py_round(v, 4)
        return rint(scaled) / 1e4


cdef void release(Scratch *s) noexcept:
    free(s.norm)
    free(s.sums)
    free(s.shares)
    free(s.groups)
    free(s.slots)
    free(s.cands)
    s.norm, s.sums, s.shares, s.groups, s.slots, s.cands = NULL, NULL, NULL, NULL, NULL, NULL


def pack_str(str term):
    """A term of up to three code points packed into one int64 (analysis.explain._pack)."""
    cdef int64_t key = 0
    cdef Py_UCS4 ch
    for ch in term:
        key = (key << BITS) | <int64_t>ch
    return key
