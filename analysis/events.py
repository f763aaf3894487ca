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

Signatures fit the events.signature column (32 characters): the low 2 bits of the first 64 MinHash
values (b-bit MinHash), as 32 hex digits. ``load`` rebuilds the known events from them. Two 2-bit values
agree with probability J + (1 − J)/4, so agreement estimates J, but coarsely; and a post is compared with
every loaded event, so the bar for a loaded event rises with their number: it is set so that, against
unrelated events (J ≈ 0.1), a false match happens for fewer than 1 post in 100. With 1,000 loaded events
a copy at J = 0.5 still matches 3 times in 4; with 100,000, about 1 in 3 (a 64-character signature
column would fix that; docs/analysis.md). Events created in this process keep their full 128 32-bit
values too, indexed by LSH, and are compared at ``threshold`` directly.
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
SIG_VALUES = 64  # the stored signature: 64 values x 2 bits = 128 bits = 32 hex digits
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


def signatures_of(mhs: np.ndarray) -> list[str]:
    """The stored form of MinHash rows: the low 2 bits of the first 64 values, packed into 32 hex digits."""
    low = mhs[:, :SIG_VALUES] & np.uint64(3)
    lo = np.bitwise_or.reduce(low[:, :32] << _SHIFTS, axis=1).tolist()
    hi = np.bitwise_or.reduce(low[:, 32:] << _SHIFTS, axis=1).tolist()
    return [f"{a:016x}{b:016x}" for a, b in zip(hi, lo, strict=True)]


def signature_of(mh: np.ndarray) -> str:
    return signatures_of(mh.reshape(1, -1))[0]


def _band_keys(mhs: np.ndarray) -> list[list[int]]:
    """One 64-bit key per LSH band (ROWS values each) per row, as Python ints for dict lookups."""
    v = mhs[:, : BANDS * ROWS].reshape(len(mhs), BANDS, ROWS)
    key = v[:, :, 0] * np.uint64(0x9E3779B97F4A7C15)
    for r in range(1, ROWS):
        key = (key ^ v[:, :, r]) * np.uint64(0xBF58476D1CE4E5B9)
    return (key ^ (key >> np.uint64(31))).tolist()


def _agreeing(x: np.ndarray) -> np.ndarray:
    """Number of equal 2-bit values in XORed words: a value agrees when both its bits are zero."""
    return np.bitwise_count(~(x | (x >> np.uint64(1))) & _LOW_BITS)


@functools.lru_cache(maxsize=64)
def _loaded_bar(n: int) -> int:
    """Agreeing values (of 64) a loaded event needs: the false-match budget spread over ``n`` events."""
    p = UNRELATED_J + (1 - UNRELATED_J) / 4
    tail = 0.0  # P(agree >= t) for an unrelated event, summed from the top
    for t in range(SIG_VALUES, -1, -1):
        term = math.comb(SIG_VALUES, t) * p**t * (1 - p) ** (SIG_VALUES - t)
        if n * (tail + term) > FALSE_MATCH_BUDGET:
            return t + 1
        tail += term
    return 0


def _bits_of(signature: str) -> tuple[int, int]:
    value = int(signature, 16)
    return value >> 64, value & 0xFFFFFFFFFFFFFFFF


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
        # loaded events: their 2-bit signatures as two uint64 words each
        self._loaded_ids: list[str] = []
        self._loaded_hi = np.zeros(0, dtype=np.uint64)
        self._loaded_lo = np.zeros(0, dtype=np.uint64)
        self._bar = SIG_VALUES + 1

    # -- known events ---------------------------------------------------------------------------

    def load(self, known: Iterable[tuple[str, str]]) -> None:
        """Recent events (id, signature) that new posts may join; signatures of another form are skipped."""
        ids, his, los = [], [], []
        for event_id, signature in known:
            if len(signature) != 32:
                continue
            try:
                hi, lo = _bits_of(signature)
            except ValueError:
                continue
            ids.append(event_id)
            his.append(hi)
            los.append(lo)
        self._loaded_ids.extend(ids)
        self._loaded_hi = np.concatenate([self._loaded_hi, np.array(his, dtype=np.uint64)])
        self._loaded_lo = np.concatenate([self._loaded_lo, np.array(los, dtype=np.uint64)])
        self._bar = _loaded_bar(len(self._loaded_ids))

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
        return len(set(self._post_event.values()) | set(self._loaded_ids))

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
        top = list(set(chain.from_iterable(found)))
        if len(top) > MAX_VERIFY:
            # Verify the few posts that share the most bands: band agreement already ranks similarity.
            top = [idx for idx, _ in Counter(chain.from_iterable(found)).most_common(MAX_VERIFY)]
        sims = (self._mh[top] == mh).mean(axis=1)
        best, best_j = None, 0.0
        for i, j in zip(top, sims.tolist(), strict=True):
            if j > best_j and self._same_story(j, size, self._size[i]):
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

    def _best_loaded(self, signature: str, schools: frozenset[str] = frozenset()) -> str | None:
        """The most similar loaded event if it clears the bar for their number (and is not about other
        schools only, when load_stories told their schools)."""
        if not self._loaded_ids:
            return None
        hi, lo = _bits_of(signature)
        agree = _agreeing(self._loaded_hi ^ np.uint64(hi)) + _agreeing(self._loaded_lo ^ np.uint64(lo))
        i = int(np.argmax(agree))
        if int(agree[i]) < self._bar:
            return None
        theirs = self._event_schools.get(self._loaded_ids[i])
        return None if schools and theirs and schools.isdisjoint(theirs) else self._loaded_ids[i]

    def _index(self, mh: np.ndarray, size: int, keys: list[int], event_id: str) -> None:
        idx = len(self._size)
        if idx == len(self._mh):
            self._mh = np.concatenate([self._mh, np.zeros_like(self._mh)])
        self._mh[idx] = mh
        self._size.append(size)
        self._mh_event.append(event_id)
        for band, key in zip(self._buckets, keys, strict=True):
            bucket = band.setdefault(key, [])
            # A crowded bucket is a common phrase, not a story: enough members already stand for it.
            if len(bucket) < MAX_BUCKET:
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
        sigs = signatures_of(mhs)
        keys = _band_keys(mhs)
        sizes = (lengths - SHINGLE + 1).tolist()
        out: list[EventAssignment | None] = [None] * len(posts)
        for i in self._parents_first(posts):
            out[i] = self._assign(posts[i], mhs[i], sigs[i], keys[i], sizes[i], comparable[i], analyses_[i])
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
        analysis: Analysis | None = None,
    ) -> EventAssignment:
        known = self._post_event.get(post.id)
        if known is not None:  # the same post again: the same answer
            return EventAssignment(known, signature, False)
        event_id = self._linked_event(post)
        index = False
        if event_id is None and comparable:
            schools = frozenset(analysis.schools) if analysis is not None else frozenset()
            best, best_j = self._best_in_process(mh, size, keys, schools)
            event_id = best if best is not None else self._best_loaded(signature, schools)
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
