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
3. otherwise, when the caller passes the post's Analysis and it is sensitive and about our schools, it
   joins the latest event of the same school, category and keyword topic seen in the last
   STORY_WINDOW: one incident retold in different words by several outlets is one story for the
   working group (after a restart, ``load_stories`` tells the grouper what the store knows);
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
Events created in this process keep their full 128 32-bit values too, and are compared on those.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from itertools import chain

import numpy as np

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
_BIN_INDEX = np.arange(PERMS)
_SHIFTS = (np.arange(32, dtype=np.uint64) * np.uint64(2))
_TOP_BYTE = np.uint64(64 - SIG_BITS)
_BAND_SALT = np.arange(BANDS, dtype=np.uint64) * np.uint64(0xD6E8FEB86659FD93)  # one key space for all bands
_LOW_BITS = np.uint64(0x5555555555555555)

_MARKERS = re.compile(r"//@[^:：\s]{1,30}[:：]|https?://\S+|\[[^\[\]]{1,8}\]")
_TABLE_SIZE = 0x10000  # the BMP by table; above it, the CJK extension planes are kept and the rest dropped
_CJK_EXT = (0x20000, 0x40000)


@functools.lru_cache(maxsize=1)
def _tables() -> tuple[np.ndarray, np.ndarray]:
    """Per BMP code point: kept (a letter or digit) and its lowercase form; built once."""
    chars = [chr(c) for c in range(_TABLE_SIZE)]
    keep = np.fromiter((ch.isalnum() for ch in chars), dtype=bool, count=_TABLE_SIZE)
    keep[0] = True  # NUL separates texts in a batch
    lower = np.fromiter(
        (ord(lo) if len(lo := ch.lower()) == 1 else ord(ch) for ch in chars), dtype=np.uint64, count=_TABLE_SIZE
    )
    return keep, lower


def _strip_markers(text: str) -> str:
    if "//@" in text or "http" in text or "[" in text:
        return _MARKERS.sub("", text)
    return text


def _normalised_codes(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The normalised texts as one array of code points separated by 0, and each text's length.
    Vectorised: str.translate or a regex over every post costs more than the MinHash itself."""
    keep, lower = _tables()
    raw = np.frombuffer(("\0".join(map(_strip_markers, texts)) + "\0").encode("utf-32-le"), dtype=np.uint32)
    bmp = raw < _TABLE_SIZE
    kept = np.where(bmp, keep[np.where(bmp, raw, 0)], (raw >= _CJK_EXT[0]) & (raw < _CJK_EXT[1]))
    raw = raw[kept]
    codes = np.where(raw < _TABLE_SIZE, lower[np.where(raw < _TABLE_SIZE, raw, 0)], raw.astype(np.uint64))
    sep = codes == 0
    lengths = np.diff(np.concatenate([[-1], np.flatnonzero(sep)])) - 1
    return codes, lengths


def normalise(text: str) -> str:
    """The text as compared: repost markers, links, emoticons, punctuation and spaces removed, lowercase."""
    codes, _ = _normalised_codes([text])
    return codes[:-1].astype(np.uint32).tobytes().decode("utf-32-le")


def _mix(key: np.ndarray) -> np.ndarray:
    """A stable 64-bit mix of exact shingle keys (Python's hash() is salted per process)."""
    h = key * np.uint64(0x9E3779B97F4A7C15)
    h ^= h >> np.uint64(29)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(32)
    return h


def _shingle_keys(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every character 3-gram of every text as one exact 63-bit key (code points are below 2**21),
    with the index of its text, from the 0-separated normalised code points."""
    c = np.concatenate([codes, np.zeros(1, dtype=np.uint64)])
    text_of = np.cumsum(c == 0)[:-2]  # separators before each position = index of its text
    a, b, d = c[:-2], c[1:-1], c[2:]
    keep = (a != 0) & (b != 0) & (d != 0)
    keys = (a << np.uint64(42)) | (b << np.uint64(21)) | d
    return keys[keep], text_of[keep]


def _densify(mins: np.ndarray) -> np.ndarray:
    """Rows of bins: an empty bin takes the next non-empty bin's value (circularly) plus an offset per
    bin of distance (Shrivastava & Li, 2014), so that two texts agree on it only by the same borrowing."""
    empty = mins == _EMPTY
    if not empty.any():
        return mins
    n = len(mins)
    cols = np.arange(2 * PERMS)
    # next non-empty column at or after each column, on the row laid out twice (for the wrap-around)
    marks = np.where(np.concatenate([empty, empty], axis=1), 4 * PERMS, cols)
    nxt = np.minimum.accumulate(marks[:, ::-1], axis=1)[:, ::-1][:, :PERMS]
    nxt = np.where(nxt >= 2 * PERMS, _BIN_INDEX, nxt)  # a row with no shingle at all stays as it is
    src = nxt % PERMS
    dist = (nxt - _BIN_INDEX).astype(np.uint64)
    return mins[np.arange(n)[:, None], src] + dist * _ROTATION


def minhash_many(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """MinHash rows (n x 128, uint64) of many texts at once, and their normalised lengths. One-permutation
    hashing: each shingle's hash goes to one of 128 bins and a bin keeps its minimum (one hash per
    shingle, not 128), then empty bins are densified. Batched because per-call numpy overhead dominates
    for 200-character posts."""
    if not texts:
        return np.zeros((0, PERMS), dtype=np.uint64), np.zeros(0, dtype=np.intp)
    codes, lengths = _normalised_codes(texts)
    keys, rows = _shingle_keys(codes)
    h = _mix(keys)
    mins = np.full(len(texts) * PERMS, _EMPTY, dtype=np.uint64)
    np.minimum.at(mins, rows.astype(np.intp) * PERMS + (h >> _BIN_SHIFT).astype(np.intp), h & _MASK32)
    return _densify(mins.reshape(len(texts), PERMS)), lengths


def minhash(text: str) -> np.ndarray:
    """The 128 MinHash values of one text (see minhash_many)."""
    return minhash_many([text])[0][0]


def stored_values(mhs: np.ndarray) -> np.ndarray:
    """The 8-bit values a stored signature keeps of MinHash rows (n x 128, uint8): the top byte of a mix of
    each value, so that the rotation a densified bin carries in its high bits counts, as it does in process."""
    return (_mix(mhs) >> _TOP_BYTE).astype(np.uint8)


def signatures_of(mhs: np.ndarray, sizes: np.ndarray | list[int] | None = None) -> list[str]:
    """The stored form of MinHash rows: each text's shingle count (4 hex digits; 0 when not given, which
    turns the containment rule off for that event) and its 128 stored values (256 hex digits)."""
    n = len(mhs)
    packed = np.empty((n, 2 + PERMS), dtype=np.uint8)
    count = np.clip(np.asarray(sizes if sizes is not None else np.zeros(n), dtype=np.int64), 0, 0xFFFF)
    packed[:, 0], packed[:, 1] = count >> 8, count & 0xFF
    packed[:, 2:] = stored_values(mhs)
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


def _band_keys(mhs: np.ndarray) -> list[list[int]]:
    """The in-process band keys of full MinHash rows, as Python ints for dict lookups."""
    return _band_key_array(mhs).tolist()


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


@dataclass
class EventAssignment:
    event_id: str
    signature: str
    is_new: bool


class EventGrouper:
    """Assigns posts to events, remembering what it has seen; ``load`` adds recent events from the store."""

    def __init__(self, threshold: float = DEFAULT_THRESHOLD) -> None:
        self.threshold = threshold
        self._buckets: list[dict[int, list[int]]] = [{} for _ in range(BANDS)]
        self._mh = np.zeros((1024, PERMS), dtype=np.uint64)  # full MinHash of each indexed post (this process)
        self._size: list[int] = []  # its number of shingles
        self._mh_event: list[str] = []
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
                    for topic in topics or [""]:
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

    def _best_in_process(
        self, mh: np.ndarray, size: int, keys: list[int], schools: frozenset[str] = frozenset()
    ) -> tuple[str | None, float]:
        """The event of the most similar indexed post that counts as the same story, with its similarity.
        The same words about different schools of ours (one press-release template, one complaint copied
        for several schools) are different stories: an event about other schools only is no candidate."""
        found = [hit for hit in map(dict.get, self._buckets, keys) if hit]
        if not found:
            return None, 0.0
        flat = list(chain.from_iterable(found))
        top = list(set(flat))
        if len(top) > MAX_VERIFY:
            # Verify the few posts that share the most bands: band agreement already ranks similarity.
            # (most_common's order, ties first seen first, by one stable sort instead of a heap.)
            counts = Counter(flat)
            top = sorted(counts, key=counts.__getitem__, reverse=True)[:MAX_VERIFY]
        # agreeing values / PERMS, as mean() gives it (exact: a power of two), without mean()'s overhead
        # (take: a quarter cheaper than fancy indexing for a few rows)
        sims = np.add.reduce(self._mh.take(top, axis=0) == mh, axis=1, dtype=np.intp) / PERMS
        best, best_j = None, 0.0
        threshold = self.threshold
        for i, j in zip(top, sims.tolist(), strict=True):
            if j > best_j and (j >= threshold or self._same_story(j, size, self._size[i])):
                theirs = self._event_schools.get(self._mh_event[i])
                if schools and theirs and schools.isdisjoint(theirs):
                    continue
                best, best_j = self._mh_event[i], j
        return best, best_j

    def _same_story(self, j: float, a: int, b: int) -> bool:
        """Similar enough (Jaccard ≥ threshold), or one text mostly contained in the other (a repost with
        a comment and the poster's own lines): containment ≥ CONTAINED at a Jaccard of at least LOOSE."""
        if j >= self.threshold:
            return True
        if j < LOOSE:
            return False
        shared = j / (1.0 + j) * (a + b)
        return shared / max(1, min(a, b)) >= CONTAINED

    def _best_loaded(
        self, values: np.ndarray, band_keys: np.ndarray, size: int, legacy: tuple[int, int] | None,
        schools: frozenset[str] = frozenset(),
    ) -> str | None:
        """The loaded event a post joins: among those sharing an LSH band with it, the most similar that
        counts as the same story by the in-process rule (and is not about other schools only, when
        load_stories told their schools); else a pre-0002 event that clears the bar for their number."""
        if len(self._loaded_ids):
            left = np.searchsorted(self._loaded_keys, band_keys, side="left").tolist()
            right = np.searchsorted(self._loaded_keys, band_keys, side="right").tolist()
            found = [self._loaded_rows[lo : min(hi, lo + MAX_BUCKET)].tolist()
                     for lo, hi in zip(left, right, strict=True) if hi > lo]
            if found:
                top = list(set(chain.from_iterable(found)))
                if len(top) > MAX_VERIFY:
                    top = [row for row, _ in Counter(chain.from_iterable(found)).most_common(MAX_VERIFY)]
                # Unrelated 8-bit values agree once in 256: left in, it lifts the estimate by at most 0.004;
                # taken out, a pair exactly at the threshold in process would mostly fall below it here.
                sims = (self._loaded_values[top] == values).mean(axis=1).tolist()
                best, best_j = None, 0.0
                for row, j in zip(top, sims, strict=True):
                    if j > best_j and self._same_story(j, size, int(self._loaded_size[row]) or size):
                        event_id = self._loaded_ids[row]
                        theirs = self._event_schools.get(event_id)
                        if schools and theirs and schools.isdisjoint(theirs):
                            continue
                        best, best_j = event_id, j
                if best is not None:
                    return best
        if not self._legacy_ids or legacy is None:
            return None
        hi, lo = legacy
        agreeing = _agreeing(self._legacy_hi ^ np.uint64(hi)) + _agreeing(self._legacy_lo ^ np.uint64(lo))
        i = int(np.argmax(agreeing))
        if int(agreeing[i]) < self._legacy_bar:
            return None
        theirs = self._event_schools.get(self._legacy_ids[i])
        return None if schools and theirs and schools.isdisjoint(theirs) else self._legacy_ids[i]

    def _index(self, mh: np.ndarray, size: int, keys: list[int], event_id: str) -> None:
        idx = len(self._size)
        if idx == len(self._mh):
            self._mh = np.concatenate([self._mh, np.zeros_like(self._mh)])
        self._mh[idx] = mh
        self._size.append(size)
        self._mh_event.append(event_id)
        for band, key in zip(self._buckets, keys, strict=True):
            bucket = band.get(key)
            if bucket is None:
                band[key] = [idx]
            # A crowded bucket is a common phrase, not a story: enough members already stand for it.
            elif len(bucket) < MAX_BUCKET:
                bucket.append(idx)

    def assign(self, post: Post, analysis: Analysis | None = None) -> EventAssignment:
        return self.assign_many([post], None if analysis is None else [analysis])[0]

    def assign_many(self, posts: list[Post], analyses: list[Analysis] | None = None) -> list[EventAssignment]:
        """Assignments in input order; MinHash is batched, and a thread or retweeted original in the batch
        is assigned before the posts that refer to it. ``analyses`` (same order), when given, keep stories
        of different schools apart and let sensitive posts about one school and topic join up."""
        if not posts:
            return []
        if analyses is None:
            analyses_: list[Analysis | None] = [None] * len(posts)
        else:
            analyses_ = list(analyses)
        mhs, lengths = minhash_many([p.text() for p in posts])
        comparable = (lengths >= MIN_CHARS).tolist()
        short = [i for i, ok in enumerate(comparable) if not ok]
        if short:
            # Short texts get a signature of their own (text plus post id): nothing will match it later.
            mhs[short] = minhash_many([f"{posts[i].text()} {posts[i].id}" for i in short])[0]
        sizes = np.maximum(0, lengths - SHINGLE + 1)
        values = stored_values(mhs)
        sigs = signatures_of(mhs, sizes)
        keys = _band_keys(mhs)
        stored_keys = _stored_band_keys(values)
        legacy: list[tuple[int, int] | None] = [None] * len(posts)
        if self._legacy_ids:
            hi, lo = _legacy_words(mhs)
            legacy = list(zip(hi.tolist(), lo.tolist(), strict=True))
        out: list[EventAssignment | None] = [None] * len(posts)
        for i in self._parents_first(posts):
            out[i] = self._assign(
                posts[i], mhs[i], sigs[i], keys[i], int(sizes[i]), comparable[i], analyses_[i],
                (values[i], stored_keys[i], legacy[i]),
            )
        return [a for a in out if a is not None]

    @staticmethod
    def _parents_first(posts: list[Post]) -> list[int]:
        """Indices with every thread or retweeted original before the posts that refer to it, when both
        are in the batch (a crawl stores a thread and its replies with one time, in id order)."""
        ids = {p.id for p in posts}

        def refers(p: Post) -> bool:
            retweet = p.extra.get("retweet_of") if p.extra else None
            if isinstance(retweet, str) and "://" in retweet:
                retweet = post_id_for(retweet)
            return any(ref in ids and ref != p.id for ref in (p.thread_id, retweet) if ref)

        return sorted(range(len(posts)), key=lambda i: refers(posts[i]))

    @staticmethod
    def _story_keys(analysis: Analysis | None) -> list[tuple[str, str]]:
        if analysis is None or analysis.category is Category.none or not analysis.schools:
            return []
        # the category too: a question about canteen prices is not the food-poisoning incident
        category = analysis.category.value
        return [(school, f"{category}:{topic}") for school in analysis.schools for topic in analysis.topics or [""]]

    def _story_event(self, keys: list[tuple[str, str]], when: datetime) -> str | None:
        best: tuple[datetime, str] | None = None
        for key in keys:
            hit = self._stories.get(key)
            if hit is not None and abs(when - hit[1]) <= STORY_WINDOW and (best is None or hit[1] > best[0]):
                best = (hit[1], hit[0])
        return best[1] if best else None

    def _assign(
        self, post: Post, mh: np.ndarray, signature: str, keys: list[int], size: int, comparable: bool,
        analysis: Analysis | None, stored: tuple[np.ndarray, np.ndarray, tuple[int, int] | None],
    ) -> EventAssignment:
        known = self._post_event.get(post.id)
        if known is not None:  # the same post again: the same answer
            return EventAssignment(known, signature, False)
        event_id = self._linked_event(post)
        index = False
        if event_id is None and comparable:
            schools = frozenset(analysis.schools) if analysis is not None else frozenset()
            best, best_j = self._best_in_process(mh, size, keys, schools)
            event_id = best if best is not None else self._best_loaded(*stored[:2], size, stored[2], schools)
            # Indexed: an event's first post, and members that are close but not copies. A near-copy adds
            # nothing; a loose member would let the event creep, post by post, into other stories.
            index = event_id is None or (event_id == best and STRONG <= best_j < REDUNDANT)
        story_keys = self._story_keys(analysis)
        when = post.published_at or post.crawled_at
        if event_id is None and story_keys:
            event_id = self._story_event(story_keys, when)
        is_new = event_id is None
        event_id = event_id or event_id_for(post.id)
        if index:
            self._index(mh, size, keys, event_id)
        self._post_event[post.id] = event_id
        if analysis is not None and analysis.schools:
            self._event_schools.setdefault(event_id, set()).update(analysis.schools)
        for key in story_keys:
            last = self._stories.get(key)
            if last is None or last[1] <= when or last[0] == event_id:
                self._stories[key] = (event_id, when if last is None else max(when, last[1]))
        return EventAssignment(event_id, signature, is_new)
