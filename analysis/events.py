"""Events: near-duplicates and reposts grouped into one story, incrementally, with stable ids.

How a post finds its event, in order:
1. a reply or comment joins its thread's event (``Post.thread_id``), a repost its original's
   (``Post.extra["retweet_of"]``: the original's URL, as the Weibo page object records it, or its post
   id), when that post was grouped by this grouper;
2. otherwise its text is compared with the known events: MinHash (one-permutation hashing into 128
   bins, densified by rotation, so one hash per shingle instead of 128) over character 3-grams of the
   normalised text (repost markers ``//@user:``, hashtags' ``#``, links, emoticons, punctuation and spaces
   removed), candidates from LSH banding, accepted at an estimated Jaccard similarity ≥ ``threshold``
   (or ≥ LOOSE with one text mostly inside the other: a repost with a comment and the poster's lines).
   When the caller passes each post's Analysis, an event about other schools of ours only is not a
   candidate: the same template about two schools is two stories.
3. otherwise, when the caller passes the post's Analysis and it is sensitive, about our schools and on a
   keyword topic, it joins the latest event of the same school, category and topic seen in the last
   STORY_WINDOW: one incident retold in different words by several outlets is one story for the
   working group (after a restart, ``load_stories`` tells the grouper what the store knows). A post on no
   topic has nothing but its school and category to go by, and those alone would merge every incident of
   a school in three days (a lab leak and, hours later, a dormitory fire): it joins only by its text;
4. otherwise it starts a new event whose id is derived from the post id (so re-running is stable).

Texts too short to compare ("转发微博", "顶") never match by text: a short repost with no link to its
original is its own event.

Signatures are what the events table keeps of an event's first post (events.signature, 512 characters):
its number of shingles and 8 bits of each of its 128 MinHash values (of a mix of the full value, so that
a densified bin's rotation counts), as 260 hex digits. ``load`` rebuilds the known events from them and
indexes them by LSH over the same bands as in-process events; a post joins a loaded event on the same
rule as an in-process one (estimated Jaccard ≥ ``threshold``, or the containment rule, for which the
shingle count is stored). Values that differ in full agree in 8 bits once in 256, which lifts the
estimate by at most 0.004 (left in: see ``_best_loaded``). The unattended service rebuilds its grouper
from the store every cycle, so this is how it groups: with 100,000 loaded events, 96.6 % of copies at J = 0.5
get the in-process decision, and no fewer join (bench/bench_event_restart.py; docs/analysis.md).
Events stored before migration 0002 have 32 hex digits, the low 2 bits of the first 64 values. They are
still read, and compared with every post at a bar that rises with their number, so that unrelated events
(J ≈ 0.1) give a false match for fewer than 1 post in 100: a copy at J = 0.5 clears it 3 times in 4
against 1,000 such events and 1 time in 3 against 100,000. They age out of the 30-day window.
Posts indexed in this process are compared on 16 bits of each of their 128 values (of a mix of the full
value; values that differ agree once in 65,536). A batch's candidates are searched for all its posts at
once before one pass assigns them in order (see EventGrouper). MinHash, the searches of indexed posts and of
the batch's own, and the indexing of its posts are compiled (analysis/_event_kernel.pyx, through
analysis/kernels.py); the numpy code they replaced is analysis/events_reference.py, which the tests pin them to.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import numpy as np

from analysis import kernels
from yuqing.model import Analysis, Category, Post, post_id_for

PERMS = 128
SIG_BITS = 8  # bits of each MinHash value in a stored signature
SIZE_DIGITS = 4  # the shingle count, first in a stored signature (capped at 0xFFFF)
SIGNATURE_CHARS = SIZE_DIGITS + PERMS * SIG_BITS // 4  # 260 hex digits
LEGACY_CHARS = 32  # signatures stored before migration 0002: 2 bits of the first 64 values
LEGACY_VALUES = 64
FALSE_MATCH_BUDGET = 0.01  # expected false matches per post against all loaded events
UNRELATED_J = 0.1  # similarity of unrelated posts about the same county (shared place names, 学生, 家长)
BANDS, ROWS = 20, 3  # LSH over the first 60 full-precision values: P(candidate) ≈ 0.92 at J = 0.5
SHINGLE = 3
MIN_CHARS = 12  # normalised texts shorter than this are not compared
DEFAULT_THRESHOLD = 0.5
MAX_VERIFY = 8  # candidates verified per post, those sharing the most LSH bands
MAX_BUCKET = 8  # posts kept per LSH bucket
REDUNDANT = 0.9  # a post this similar to an indexed one is not indexed itself
STRONG = 0.65  # a member less similar than this to the indexed post it matched is not indexed
STORY_WINDOW = timedelta(hours=72)  # same school, category and topic, this close in time: one story
LOOSE, CONTAINED = 0.3, 0.7  # below the threshold, a text this much inside another is still a copy

_MASK32 = np.uint64(0xFFFFFFFF)
_BIN_SHIFT = np.uint64(64 - 7)  # the top 7 bits of a shingle's hash pick one of 128 bins
_EMPTY = np.uint64(1 << 40)
_ROTATION = np.uint64(1 << 32)  # added per bin of distance when an empty bin borrows its neighbour's value
_SHIFTS = (np.arange(32, dtype=np.uint64) * np.uint64(2))
_TOP_BYTE = np.uint64(64 - SIG_BITS)
_BAND_SALT = np.arange(BANDS, dtype=np.uint64) * np.uint64(0xD6E8FEB86659FD93)  # one key space for all bands
_LOW_BITS = np.uint64(0x5555555555555555)

_TABLE_SIZE = 0x10000  # the BMP by table; above it, the CJK extension planes are kept and the rest dropped
_CJK_EXT = (0x20000, 0x40000)
_DROP = np.uint32(0xFFFFFFFF)  # a code point normalisation removes


@functools.lru_cache(maxsize=1)
def _table() -> np.ndarray:
    """Per BMP code point: its lowercase form when kept (a letter or digit), else _DROP; NUL (which
    separates texts in a batch) maps to itself. Built once."""
    table = np.full(_TABLE_SIZE, _DROP, dtype=np.uint32)
    for c in range(1, _TABLE_SIZE):
        ch = chr(c)
        if ch.isalnum():
            lo = ch.lower()
            table[c] = ord(lo) if len(lo) == 1 else c
    table[0] = 0
    return table


def _mix(key: np.ndarray) -> np.ndarray:
    """A stable 64-bit mix of exact shingle keys (Python's hash() is salted per process)."""
    h = key * np.uint64(0x9E3779B97F4A7C15)
    h ^= h >> np.uint64(29)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(32)
    return h


def normalise(text: str) -> str:
    """The text as compared: repost markers, links, emoticons, punctuation and spaces removed, lowercase."""
    return kernels.normalised_text(text, _table())


def minhash_many(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """MinHash rows (n x 128, uint64) of many texts at once, and their normalised lengths. One-permutation
    hashing: each shingle's hash goes to one of 128 bins and a bin keeps its minimum (one hash per
    shingle, not 128), then empty bins are densified. Compiled (analysis/_event_kernel.pyx): one C pass
    per text, bit-identical to the numpy reference (analysis/events_reference.py) and ~5 times faster."""
    return kernels.minhash_many(texts if isinstance(texts, list) else list(texts), _table())


def minhash(text: str) -> np.ndarray:
    """The 128 MinHash values of one text (see minhash_many)."""
    return minhash_many([text])[0][0]


def stored_values(mhs: np.ndarray) -> np.ndarray:
    """The 8-bit values a stored signature keeps of MinHash rows (n x 128, uint8): the top byte of a mix of
    each value, so that the rotation a densified bin carries in its high bits counts, as it does in process."""
    return (_mix(mhs) >> _TOP_BYTE).astype(np.uint8)


def signatures_of(
    mhs: np.ndarray, sizes: np.ndarray | list[int] | None = None, stored: np.ndarray | None = None
) -> list[str]:
    """The stored form of MinHash rows: each text's shingle count (4 hex digits; 0 when not given, which
    turns the containment rule off for that event) and its 128 stored values (256 hex digits; ``stored``
    when the caller has computed them)."""
    n = len(mhs)
    packed = np.empty((n, 2 + PERMS), dtype=np.uint8)
    count = np.clip(np.asarray(sizes if sizes is not None else np.zeros(n), dtype=np.int64), 0, 0xFFFF)
    packed[:, 0], packed[:, 1] = count >> 8, count & 0xFF
    packed[:, 2:] = stored_values(mhs) if stored is None else stored
    text = packed.tobytes().hex()
    return [text[i : i + SIGNATURE_CHARS] for i in range(0, n * SIGNATURE_CHARS, SIGNATURE_CHARS)]


def signature_of(mh: np.ndarray, size: int = 0) -> str:
    return signatures_of(mh.reshape(1, -1), [size])[0]


def _legacy_words(mhs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two 64-bit words of the pre-0002 signature: the low 2 bits of the first 64 values."""
    low = mhs[:, :LEGACY_VALUES] & np.uint64(3)
    lo = np.bitwise_or.reduce(low[:, :32] << _SHIFTS, axis=1)
    hi = np.bitwise_or.reduce(low[:, 32:] << _SHIFTS, axis=1)
    return hi, lo


def legacy_signatures_of(mhs: np.ndarray) -> list[str]:
    """Signatures as stored before migration 0002 (32 hex digits); ``load`` still reads them."""
    hi, lo = _legacy_words(mhs)
    return [f"{a:016x}{b:016x}" for a, b in zip(hi.tolist(), lo.tolist(), strict=True)]


def _band_key_array(values: np.ndarray) -> np.ndarray:
    """One 64-bit key per LSH band (ROWS values each) per row (n x BANDS, uint64)."""
    v = values[:, : BANDS * ROWS].astype(np.uint64).reshape(len(values), BANDS, ROWS)
    key = v[:, :, 0] * np.uint64(0x9E3779B97F4A7C15)
    for r in range(1, ROWS):
        key = (key ^ v[:, :, r]) * np.uint64(0xBF58476D1CE4E5B9)
    return key ^ (key >> np.uint64(31))


def _stored_band_keys(values: np.ndarray) -> np.ndarray:
    """Band keys of stored values, each band's salted into one key space (one sorted array serves all)."""
    return _band_key_array(values) + _BAND_SALT


def _stored_rows(signatures: list[str]) -> tuple[np.ndarray, list[int]]:
    """Stored signatures (SIGNATURE_CHARS long) as rows of 130 bytes, and the indices of those that parsed:
    one hex decode for all of them, one by one only when some signature is damaged."""
    width = SIGNATURE_CHARS // 2
    try:
        raw = bytes.fromhex("".join(signatures))
        if len(raw) == width * len(signatures):  # fromhex skips spaces: a count that differs is damage
            return np.frombuffer(raw, dtype=np.uint8).reshape(len(signatures), width), list(range(len(signatures)))
    except ValueError:
        pass
    good: list[int] = []
    parts: list[bytes] = []
    for i, sig in enumerate(signatures):
        try:
            row = bytes.fromhex(sig)
        except ValueError:
            continue
        if len(row) == width:
            good.append(i)
            parts.append(row)
    return np.frombuffer(b"".join(parts), dtype=np.uint8).reshape(len(good), width), good


def _agreeing(x: np.ndarray) -> np.ndarray:
    """Number of equal 2-bit values in XORed words: a value agrees when both its bits are zero."""
    return np.bitwise_count(~(x | (x >> np.uint64(1))) & _LOW_BITS)


@functools.lru_cache(maxsize=64)
def _legacy_bar(n: int) -> int:
    """Agreeing 2-bit values (of 64) a pre-0002 loaded event needs: the false-match budget spread over ``n`` events."""
    p = UNRELATED_J + (1 - UNRELATED_J) / 4
    tail = 0.0  # P(agree >= t) for an unrelated event, summed from the top
    for t in range(LEGACY_VALUES, -1, -1):
        term = math.comb(LEGACY_VALUES, t) * p**t * (1 - p) ** (LEGACY_VALUES - t)
        if n * (tail + term) > FALSE_MATCH_BUDGET:
            return t + 1
        tail += term
    return 0


def event_id_for(post_id: str) -> str:
    return hashlib.sha256(f"event:{post_id}".encode()).hexdigest()[:16]


def _accepted(count: np.ndarray, a: np.ndarray, b: np.ndarray, threshold: float) -> np.ndarray:
    """Which numbers of agreeing values (of PERMS) make the same story: estimated Jaccard ≥ threshold, or
    one text mostly contained in the other (a repost with a comment and the poster's own lines):
    containment ≥ CONTAINED at a Jaccard of at least LOOSE. ``a`` and ``b`` are the texts' shingle counts."""
    j = count / PERMS
    shared = j / (1.0 + j) * (a + b)
    return (j >= threshold) | ((j >= LOOSE) & (shared >= CONTAINED * np.maximum(1, np.minimum(a, b))))


def _agreeing_values(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per row, how many of the PERMS values agree: the comparison's bytes read 8 at a time and their
    bits counted (a third of the time of summing booleans)."""
    equal = np.ascontiguousarray(a == b)
    return np.add.reduce(np.bitwise_count(equal.view(np.uint64)), axis=1, dtype=np.intp)


def _rank_in_runs(values: np.ndarray) -> np.ndarray:
    """For a sorted array, each element's place in its run of equal values (0 for the first)."""
    at = np.arange(len(values))
    starts = np.concatenate([[True], values[1:] != values[:-1]])
    return at - np.maximum.accumulate(np.where(starts, at, 0))


def _distinct_counts(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of a sorted array and how often each occurs."""
    last = np.flatnonzero(np.concatenate([values[1:] != values[:-1], [True]]))
    return values[last], np.diff(last, prepend=-1)


def _top_pairs(post: np.ndarray, cand: np.ndarray, seen: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (post, candidate) pairs from LSH hits, keeping per post the ``limit`` candidates that share
    the most bands with it (ties: the one found first, ``seen`` being each hit's place, below 256, in its
    post's hits): band agreement already ranks similarity, so only those are verified. Returned grouped
    by post, best ranked first (all of a post's candidates, when it has no more than ``limit``, by number).
    Sorts of one packed integer each (posts below 2**23, candidates below 2**32): np.sort of int64 is many
    times faster than np.unique, lexsort or a stable argsort."""
    hits = np.sort(post.astype(np.int64) << 40 | cand.astype(np.int64) << 8 | seen)
    pair = hits >> 8
    first = np.flatnonzero(np.concatenate([[True], pair[1:] != pair[:-1]]))
    counts = np.diff(first, append=len(pair))
    found, pair = hits[first] & 0xFF, pair[first]
    p = pair >> 32
    if not len(p) or int(_rank_in_runs(p).max()) < limit:
        return p, pair & 0xFFFFFFFF
    # per post: most shared bands first, then first found; the pair's index rides in the low bits
    bits = max(1, len(pair).bit_length())
    ranked = np.sort(p << (13 + bits) | (BANDS - np.minimum(counts, BANDS)) << (8 + bits) | found << bits
                     | np.arange(len(pair)))
    keep = ranked[_rank_in_runs(ranked >> (13 + bits)) < limit] & ((1 << bits) - 1)
    return p[keep], pair[keep] & 0xFFFFFFFF


def _accepted_lists(out: list[list], post: np.ndarray, cand: np.ndarray, count: np.ndarray, ok: np.ndarray
                    ) -> list[list]:
    """Per post of the batch (``out``, filled), its accepted candidates as (similarity, candidate), most
    similar first (ties: in the order given)."""
    if ok.any():
        at = np.flatnonzero(ok)
        key = np.sort(post[at].astype(np.int64) << 40 | (PERMS - count[at]).astype(np.int64) << 24 | np.arange(len(at)))
        at = at[key & 0xFFFFFF]
        for p, j, c in zip(post[at].tolist(), (count[at] / PERMS).tolist(), cand[at].tolist(), strict=True):
            out[p].append((j, c))
    return out


class _KeyTable:
    """A hash table from 64-bit keys to consecutive numbers (0, 1, 2, …: LSH bucket numbers), kept as numpy
    arrays that the compiled searches read and fill (open addressing, linear probing, at most half full;
    analysis/_event_kernel.pyx). A dict costs a Python int and a call per key: for the 20 band keys of every
    post of a batch that was a tenth of the grouping time. A slot is empty while its number is -1."""

    def __init__(self, capacity: int = 1 << 12) -> None:
        self._keys = np.zeros(capacity, dtype=np.uint64)
        self._values = np.full(capacity, -1, dtype=np.int64)
        self._shift = np.uint64(64 - (capacity.bit_length() - 1))
        self.size = 0

    def reserve(self, more: int) -> None:
        """Room for ``more`` new keys with the table at most half full."""
        if 2 * (self.size + more) > len(self._keys):
            self._grow(2 * (self.size + more))

    def _grow(self, need: int) -> None:
        capacity = len(self._keys)
        while capacity < need:
            capacity *= 2
        used = self._values >= 0
        keys, values = self._keys[used], self._values[used]
        self._keys = np.zeros(capacity, dtype=np.uint64)
        self._values = np.full(capacity, -1, dtype=np.int64)
        self._shift = np.uint64(64 - (capacity.bit_length() - 1))
        self._put(keys, values)

    def _put(self, keys: np.ndarray, numbers: np.ndarray) -> None:
        """Place distinct keys that are not in the table."""
        kernels.table_put(self._keys, self._values, int(self._shift), keys, numbers)


_NO_SCHOOLS: frozenset[str] = frozenset()
_NONE = Category.none


@dataclass(slots=True)
class EventAssignment:
    event_id: str
    signature: str
    is_new: bool


class EventGrouper:
    """Assigns posts to events, remembering what it has seen; ``load`` adds recent events from the store.

    A batch is matched in three vectorised steps before one pass decides post by post: candidates from
    the posts indexed before the batch (LSH buckets), from earlier posts of the same batch (shared band
    keys), and from loaded events (sorted band keys); each verified by counting agreeing values, and kept
    when accepted. The pass only picks, in order, the best accepted candidate that is indexed and not about
    other schools, so the result is what comparing post by post gives (bar the candidates past MAX_BUCKET
    of a band within one batch)."""

    def __init__(self, threshold: float = DEFAULT_THRESHOLD) -> None:
        self.threshold = threshold
        # posts indexed in this process: 16 bits of each MinHash value (of a mix of the full value, so the
        # rotation of a densified bin counts; different values agree once in 65,536, adding 0.002 agreeing
        # values of 128 on average: half the memory to gather than 32 bits), shingle count and event
        self._vals = np.zeros((1024, PERMS), dtype=np.uint16)
        self._sizes = np.zeros(1024, dtype=np.int64)
        self._idx_event: list[str] = []
        # LSH buckets: band key (salted per band) -> bucket number; a bucket's first MAX_BUCKET posts
        self._buckets = _KeyTable()
        self._slots = np.full((1024, MAX_BUCKET), -1, dtype=np.int32)
        self._fill = np.zeros(1024, dtype=np.int32)
        self._post_event: dict[str, str] = {}
        self._stories: dict[tuple[str, str], tuple[str, datetime]] = {}  # (school, category:topic) -> event, time
        self._event_schools: dict[str, set[str]] = {}  # schools of the analysed posts of each event
        # loaded events: stored values, shingle counts, and their LSH band keys sorted (with the row of each)
        self._loaded_ids: list[str] = []
        self._loaded_values = np.zeros((0, PERMS), dtype=np.uint8)
        self._loaded_size = np.zeros(0, dtype=np.int64)
        self._loaded_keys = np.zeros(0, dtype=np.uint64)
        self._loaded_rows = np.zeros(0, dtype=np.int32)
        # events stored before migration 0002: their 2-bit signatures as two uint64 words each
        self._legacy_ids: list[str] = []
        self._legacy_hi = np.zeros(0, dtype=np.uint64)
        self._legacy_lo = np.zeros(0, dtype=np.uint64)
        self._legacy_bar = LEGACY_VALUES + 1

    # -- known events ---------------------------------------------------------------------------

    def load(self, known: Iterable[tuple[str, str]]) -> None:
        """Recent events (id, signature) that new posts may join: signatures of this module (260 hex digits)
        or of before migration 0002 (32); others, and damaged ones, are skipped."""
        ids: list[str] = []
        sigs: list[str] = []
        legacy_ids: list[str] = []
        his: list[int] = []
        los: list[int] = []
        for event_id, signature in known:
            if len(signature) == SIGNATURE_CHARS:
                ids.append(event_id)
                sigs.append(signature)
            elif len(signature) == LEGACY_CHARS:
                try:
                    value = int(signature, 16)
                except ValueError:
                    continue
                legacy_ids.append(event_id)
                his.append(value >> 64)
                los.append(value & 0xFFFFFFFFFFFFFFFF)
        if sigs:
            rows, good = _stored_rows(sigs)
            self._loaded_ids.extend(ids[i] for i in good)
            values = rows[:, 2:]
            self._loaded_values = np.concatenate([self._loaded_values, values])
            size = rows[:, 0].astype(np.int64) << 8 | rows[:, 1]
            self._loaded_size = np.concatenate([self._loaded_size, size])
            # One sorted array of every band's keys: a post's 20 keys are found by two binary searches.
            # Not a stable sort (3 times the cost): which MAX_BUCKET rows of a crowded bucket are looked at
            # made no measurable difference (bench/bench_event_restart.py).
            keys = _stored_band_keys(self._loaded_values).ravel()
            order = np.argsort(keys)
            self._loaded_keys = keys[order]
            self._loaded_rows = (order // BANDS).astype(np.int32)
        if legacy_ids:
            self._legacy_ids.extend(legacy_ids)
            self._legacy_hi = np.concatenate([self._legacy_hi, np.array(his, dtype=np.uint64)])
            self._legacy_lo = np.concatenate([self._legacy_lo, np.array(los, dtype=np.uint64)])
            self._legacy_bar = _legacy_bar(len(self._legacy_ids))

    def load_stories(self, rows: Iterable[tuple[str, list[str], list[str], str, datetime]]) -> None:
        """What the store knows of recent analysed posts: (event id, schools, topics, category, time).
        Lets new posts join an incident's event across restarts (the story rule) and keeps stories of
        different schools apart for loaded events too."""
        fixed = [(e, sc, tp, cat, w if w.tzinfo else w.replace(tzinfo=timezone.utc)) for e, sc, tp, cat, w in rows]
        for event_id, schools, topics, category, when in sorted(fixed, key=lambda r: r[4]):
            if schools:
                self._event_schools.setdefault(event_id, set()).update(schools)
            if category != Category.none.value and schools:
                for school in schools:
                    for topic in topics:
                        self._stories[(school, f"{category}:{topic}")] = (event_id, when)

    @property
    def event_count(self) -> int:
        return len(set(self._post_event.values()) | set(self._loaded_ids) | set(self._legacy_ids))

    # -- assignment -----------------------------------------------------------------------------

    def _linked_event(self, post: Post) -> str | None:
        keys = [post.thread_id]
        retweet = post.extra.get("retweet_of") if post.extra else None
        if isinstance(retweet, str) and retweet:
            # the crawler records the original's URL; a post's id is derived from its URL
            keys.append(post_id_for(retweet) if "://" in retweet else retweet)
        for key in keys:
            if key and key in self._post_event:
                return self._post_event[key]
        return None

    def _other_schools(self, event_id: str, schools: frozenset[str]) -> bool:
        """The event is about other schools of ours only: the same words about a different school (one
        press-release template, one complaint copied for several schools) are a different story."""
        theirs = self._event_schools.get(event_id)
        return bool(schools and theirs and schools.isdisjoint(theirs))

    def _indexed_candidates(self, rows: np.ndarray, keys: np.ndarray, vals: np.ndarray, sizes: np.ndarray,
                            n: int) -> tuple[list[list], np.ndarray]:
        """Accepted posts indexed before this batch, per post (rows: the batch's comparable posts), and
        which of their band keys hit a full bucket (no later post is kept there): for each post, the posts
        in the buckets of its band keys, the MAX_VERIFY sharing the most bands verified on their values
        (compiled: analysis/_event_kernel.pyx; the numpy version is analysis/events_reference.py)."""
        if not self._buckets.size or not len(rows):
            return [[] for _ in range(n)], np.zeros(keys.shape, dtype=bool)
        table = self._buckets
        return kernels.indexed_candidates(
            keys, rows, table._keys, table._values, int(table._shift), self._slots, self._fill, self._vals,
            self._sizes, vals, sizes, self.threshold, LOOSE, CONTAINED, MAX_VERIFY, n)

    def _batch_candidates(self, rows: np.ndarray, keys: np.ndarray, open_: np.ndarray, vals: np.ndarray,
                          sizes: np.ndarray, step: np.ndarray, n: int) -> list[list]:
        """Accepted earlier posts of the same batch (``step``: each post's place in the order of
        assignment), per post: of those sharing a band key with it among the key's first MAX_BUCKET posts
        of the batch, where the bucket before the batch was not full (``open_``), the MAX_VERIFY sharing
        the most bands (as for indexed posts). The pass then keeps those that were indexed. One sort here,
        the rest compiled (analysis/_event_kernel.pyx; the numpy version is analysis/events_reference.py)."""
        if len(rows) < 2:
            return [[] for _ in range(n)]
        # the band keys with each post's step packed into their low bits, sorted: grouped by key, in order
        # of assignment within a key (two keys that differ only in those bits group as one, which only adds
        # candidates, all verified)
        bits = max(1, (n - 1).bit_length())
        shift = np.uint64(bits)
        packed = np.sort((keys[open_] >> shift << shift)
                         | np.broadcast_to(step[rows][:, None], keys.shape)[open_].astype(np.uint64))
        return kernels.batch_candidates(packed, bits, np.argsort(step), MAX_BUCKET, vals, sizes, self.threshold,
                                        LOOSE, CONTAINED, MAX_VERIFY, BANDS)

    def _loaded_candidates(self, rows: np.ndarray, stored: np.ndarray, sizes: np.ndarray, n: int) -> list[list]:
        """Accepted loaded events, per post: among those sharing an LSH band (up to MAX_BUCKET per band
        key), the MAX_VERIFY sharing the most bands, compared on their stored 8-bit values (unrelated
        values agree once in 256: left in, it lifts the estimate by at most 0.004; taken out, a pair exactly
        at the threshold in process would mostly fall below it here). A stored count of 0 (unknown)
        counts as the post's own for the containment rule."""
        if not len(self._loaded_ids) or not len(rows):
            return [[] for _ in range(n)]
        keys = _stored_band_keys(stored[rows]).ravel()
        left = np.searchsorted(self._loaded_keys, keys, side="left")
        right = np.searchsorted(self._loaded_keys, keys, side="right")
        lens = np.minimum(right - left, MAX_BUCKET)
        total = int(lens.sum())
        if not total:
            return [[] for _ in range(n)]
        post = np.repeat(np.repeat(rows, BANDS), lens)
        within = np.arange(total) - np.repeat(np.cumsum(lens) - lens, lens)  # place in its band's hits
        seen = np.repeat(np.tile(np.arange(BANDS) * MAX_BUCKET, len(rows)), lens) + within
        post, cand = _top_pairs(post, self._loaded_rows[within + np.repeat(left, lens)], seen, MAX_VERIFY)
        agree = _agreeing_values(self._loaded_values[cand], stored[post])
        theirs = self._loaded_size[cand]
        ok = _accepted(agree, sizes[post], np.where(theirs > 0, theirs, sizes[post]), self.threshold)
        return _accepted_lists([[] for _ in range(n)], post, cand, agree, ok)

    def _loaded_event(self, accepted: list, legacy: tuple[int, int] | None, schools: frozenset[str]) -> str | None:
        """The most similar accepted loaded event not about other schools only; else a pre-0002 event that
        clears the bar for their number (compared with every one of them)."""
        for _, c in accepted:
            if not self._other_schools(self._loaded_ids[c], schools):
                return self._loaded_ids[c]
        if legacy is None or not self._legacy_ids:
            return None
        hi, lo = legacy
        agreeing = _agreeing(self._legacy_hi ^ np.uint64(hi)) + _agreeing(self._legacy_lo ^ np.uint64(lo))
        i = int(np.argmax(agreeing))
        if int(agreeing[i]) < self._legacy_bar or self._other_schools(self._legacy_ids[i], schools):
            return None
        return self._legacy_ids[i]

    def _index_batch(self, rows: list[int], keys: np.ndarray, vals: np.ndarray, sizes: np.ndarray,
                     events: list[str]) -> None:
        """Index the batch's posts ``rows`` (in the order they were indexed): their values, and a place in
        each of their LSH buckets while it holds fewer than MAX_BUCKET posts (a crowded bucket is a common
        phrase, not a story: enough members already stand for it). Compiled: analysis/_event_kernel.pyx
        (the numpy version is analysis/events_reference.py)."""
        first = len(self._idx_event)
        need = first + len(rows)
        if need > len(self._vals):
            grow = max(need, 2 * len(self._vals))
            self._vals = np.concatenate([self._vals, np.zeros((grow - len(self._vals), PERMS), dtype=np.uint16)])
            self._sizes = np.concatenate([self._sizes, np.zeros(grow - len(self._sizes), dtype=np.int64)])
        self._vals[first:need] = vals[rows]
        self._sizes[first:need] = sizes[rows]
        self._idx_event.extend(events)
        new = np.ascontiguousarray(keys[rows])
        table = self._buckets
        table.reserve(new.size)
        most = table.size + new.size  # buckets after this batch, at most
        if most > len(self._fill):
            grow = max(most, 2 * len(self._fill))
            more = np.full((grow - len(self._slots), MAX_BUCKET), -1, dtype=np.int32)
            self._slots = np.concatenate([self._slots, more])
            self._fill = np.concatenate([self._fill, np.zeros(grow - len(self._fill), dtype=np.int32)])
        table.size = kernels.index_members(new, first, table._keys, table._values, int(table._shift), table.size,
                                           self._slots, self._fill)

    def assign(self, post: Post, analysis: Analysis | None = None) -> EventAssignment:
        return self.assign_many([post], None if analysis is None else [analysis])[0]

    def assign_many(self, posts: list[Post], analyses: list[Analysis] | None = None) -> list[EventAssignment]:
        """Assignments in input order; MinHash and candidate search are batched, and a thread or retweeted
        original in the batch is assigned before the posts that refer to it. ``analyses`` (same order),
        when given, keep stories of different schools apart and let sensitive posts about one school and
        topic join up."""
        if not posts:
            return []
        n = len(posts)
        analyses_: list[Analysis | None] = [None] * n if analyses is None else list(analyses)
        mhs, lengths = minhash_many([p.text() for p in posts])
        comparable = lengths >= MIN_CHARS
        short = np.flatnonzero(~comparable).tolist()
        if short:
            # Short texts get a signature of their own (text plus post id): nothing will match it later.
            mhs[short] = minhash_many([f"{posts[i].text()} {posts[i].id}" for i in short])[0]
        sizes = np.maximum(0, lengths - SHINGLE + 1)
        mixed = _mix(mhs)
        stored = (mixed >> _TOP_BYTE).astype(np.uint8)
        vals = (mixed >> np.uint64(48)).astype(np.uint16)
        sigs = signatures_of(mhs, sizes, stored)
        order = self._parents_first(posts)
        step = np.empty(n, dtype=np.int64)
        step[order] = np.arange(n)
        rows = np.flatnonzero(comparable)
        keys = _band_key_array(mhs[rows]) + _BAND_SALT
        indexed, full = self._indexed_candidates(rows, keys, vals, sizes, n)
        in_batch = self._batch_candidates(rows, keys, ~full, vals, sizes, step, n)
        loaded = self._loaded_candidates(rows, stored, sizes, n)
        legacy: list[tuple[int, int] | None] = [None] * n
        if self._legacy_ids:
            hi, lo = _legacy_words(mhs)
            legacy = list(zip(hi.tolist(), lo.tolist(), strict=True))
        batch_index = [-1] * n  # index number of the batch's posts indexed so far
        to_index: list[int] = []
        index_events: list[str] = []
        comparable_ = comparable.tolist()
        out: list[EventAssignment | None] = [None] * n
        post_event = self._post_event
        for i in order:
            post, analysis = posts[i], analyses_[i]
            known = post_event.get(post.id)
            if known is not None:  # the same post again: the same answer
                out[i] = EventAssignment(known, sigs[i], False)
                continue
            event_id = self._linked_event(post) if post.thread_id or post.extra else None
            index = False
            if event_id is None and comparable_[i]:
                schools = frozenset(analysis.schools) if analysis is not None and analysis.schools else _NO_SCHOOLS
                best, best_j = None, 0.0
                for j, c in indexed[i]:
                    if not schools or not self._other_schools(self._idx_event[c], schools):
                        best, best_j = self._idx_event[c], j
                        break
                for j, c in in_batch[i]:
                    if j <= best_j:
                        break
                    k = batch_index[c]
                    if k >= 0 and (not schools or not self._other_schools(index_events[k], schools)):
                        best, best_j = index_events[k], j
                        break
                if best is None:
                    event_id = self._loaded_event(loaded[i], legacy[i], schools)
                else:
                    event_id = best
                # Indexed: an event's first post, and members that are close but not copies. A near-copy adds
                # nothing; a loose member would let the event creep, post by post, into other stories.
                index = event_id is None or (event_id == best and STRONG <= best_j < REDUNDANT)
            if analysis is None and event_id is not None and not index:  # nothing more to remember
                post_event[post.id] = event_id
                out[i] = EventAssignment(event_id, sigs[i], False)
                continue
            event_id, is_new = self._conclude(post, analysis, event_id)
            if index:
                batch_index[i] = len(to_index)
                to_index.append(i)
                index_events.append(event_id)
            out[i] = EventAssignment(event_id, sigs[i], is_new)
        if to_index:
            # rows of ``keys`` are the comparable posts; indexed posts are comparable
            where = np.searchsorted(rows, to_index)
            self._index_batch(where.tolist(), keys, vals[rows], sizes[rows], index_events)
        return [a for a in out if a is not None]

    @staticmethod
    def _parents_first(posts: list[Post]) -> list[int]:
        """Indices with every thread or retweeted original before the posts that refer to it, when both
        are in the batch (a crawl stores a thread and its replies with one time, in id order)."""
        if not any(p.thread_id or p.extra for p in posts):
            return list(range(len(posts)))
        ids = {p.id for p in posts}

        def refers(p: Post) -> bool:
            retweet = p.extra.get("retweet_of") if p.extra else None
            if isinstance(retweet, str) and "://" in retweet:
                retweet = post_id_for(retweet)
            return any(ref in ids and ref != p.id for ref in (p.thread_id, retweet) if ref)

        return sorted(range(len(posts)), key=lambda i: refers(posts[i]))

    @staticmethod
    def _story_keys(analysis: Analysis | None) -> list[tuple[str, str]]:
        if analysis is None or not analysis.schools or not analysis.topics:  # (module docstring, step 3)
            return []
        category = analysis.category
        if category is _NONE:
            return []
        # the category too: a question about canteen prices is not the food-poisoning incident (a StrEnum
        # formats as its value; the enum's .value property costs more than the rest of this)
        prefix = f"{category}:"
        return [(school, prefix + topic) for school in analysis.schools for topic in analysis.topics]

    def _story_event(self, keys: list[tuple[str, str]], when: datetime) -> str | None:
        best: tuple[datetime, str] | None = None
        for key in keys:
            hit = self._stories.get(key)
            if hit is not None and abs(when - hit[1]) <= STORY_WINDOW and (best is None or hit[1] > best[0]):
                best = (hit[1], hit[0])
        return best[1] if best else None

    def _conclude(self, post: Post, analysis: Analysis | None, event_id: str | None) -> tuple[str, bool]:
        """The post's event (a story of its school, category and topic when nothing matched, else a new
        one), remembered with the schools and stories it brings."""
        story_keys = self._story_keys(analysis)
        when = post.published_at or post.crawled_at
        if event_id is None and story_keys:
            event_id = self._story_event(story_keys, when)
        is_new = event_id is None
        event_id = event_id or event_id_for(post.id)
        self._post_event[post.id] = event_id
        if analysis is not None and analysis.schools:
            known = self._event_schools.get(event_id)
            if known is None:
                self._event_schools[event_id] = set(analysis.schools)
            else:
                known.update(analysis.schools)
        for key in story_keys:
            last = self._stories.get(key)
            if last is None or last[1] <= when or last[0] == event_id:
                self._stories[key] = (event_id, when if last is None else max(when, last[1]))
        return event_id, is_new
