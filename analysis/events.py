"""Events: near-duplicates and reposts grouped into one story, incrementally, with stable ids.

How a post finds its event, in order:
1. a reply or comment joins its thread's event (``Post.thread_id``), a repost its original's
   (``Post.extra["retweet_of"]``, a post id), when that post was grouped by this grouper;
2. otherwise its text is compared with the known events: MinHash over character 3-grams of the
   normalised text (repost markers ``//@user:``, hashtags' ``#``, links, emoticons, punctuation and spaces
   removed), candidates from LSH banding, accepted at an estimated Jaccard similarity ≥ ``threshold``;
3. otherwise it starts a new event whose id is derived from the post id (so re-running is stable).

Texts too short to compare ("转发微博", "顶") never match by text: a short repost with no link to its
original is its own event.

Signatures fit the events.signature column (32 characters): the low 2 bits of the first 64 MinHash
values (b-bit MinHash), as 32 hex digits. ``load`` rebuilds the known events from them. Two 2-bit values
agree with probability J + (1 − J)/4, so agreement estimates J, but coarsely; and a post is compared with
every loaded event, so the bar for a loaded event rises with their number: it is set so that, against
unrelated events (J ≈ 0.1), a false match happens for fewer than 1 post in 100. With 1,000 loaded events
a copy at J = 0.5 still matches 3 times in 4; with 100,000, about 1 in 3 (a longer signature column would
fix that; see the module notes in the report). Events created in this process keep their full 128 32-bit
values too, indexed by LSH, and are compared at ``threshold`` directly.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from yuqing.model import Post

PERMS = 128
SIG_VALUES, SIG_BITS = 64, 2  # the stored signature: 64 values x 2 bits = 128 bits = 32 hex digits
FALSE_MATCH_BUDGET = 0.01  # expected false matches per post against all loaded events
UNRELATED_J = 0.1  # similarity of unrelated posts about the same county (shared place names, 学生, 家长)
BANDS, ROWS = 20, 3  # LSH over the first 60 full-precision values: P(candidate) ≈ 0.92 at J = 0.5
SHINGLE = 3
MIN_CHARS = 12  # normalised texts shorter than this are not compared
DEFAULT_THRESHOLD = 0.35

_MASK32 = np.uint64(0xFFFFFFFF)
_rng = np.random.default_rng(20261124)  # fixed: signatures must be the same in every process
_A = (_rng.integers(1, 2**63, size=PERMS, dtype=np.uint64) | np.uint64(1)).reshape(PERMS, 1)
_B = _rng.integers(0, 2**63, size=PERMS, dtype=np.uint64).reshape(PERMS, 1)
_SHIFTS = (np.arange(32, dtype=np.uint64) * np.uint64(2))
_LOW_BITS = np.uint64(0x5555555555555555)

_STRIP = re.compile(
    r"//@[^:：\s]{1,30}[:：]|https?://\S+|\[[^\[\]]{1,8}\]|[\s\W_]+",
)


def normalise(text: str) -> str:
    """The text as compared: markers, links, emoticons, punctuation and spaces removed, lowercase."""
    return _STRIP.sub("", text).lower()


def _shingle_hashes(norm: str) -> np.ndarray:
    """Stable 64-bit hashes of the character 3-grams (vectorised: Python's hash() is salted per process)."""
    codes = np.frombuffer(norm.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    if len(codes) < SHINGLE:
        codes = np.concatenate([codes, np.zeros(SHINGLE - len(codes), dtype=np.uint64)])
    h = codes[: len(codes) - 2] * np.uint64(0x9E3779B97F4A7C15)
    h ^= codes[1 : len(codes) - 1] * np.uint64(0xC2B2AE3D27D4EB4F)
    h ^= codes[2:] * np.uint64(0x165667B19E3779F9)
    # fmix64 (MurmurHash3's finaliser) spreads the bits
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xFF51AFD7ED558CCD)
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xC4CEB2F63A495A31)
    h ^= h >> np.uint64(33)
    return np.unique(h)


def minhash(norm: str) -> np.ndarray:
    """128 32-bit MinHash values (uint64 array) of the text's 3-gram set."""
    h = _shingle_hashes(norm).reshape(1, -1)
    return (((_A * h + _B) >> np.uint64(32)) & _MASK32).min(axis=1)


def signature_of(mh: np.ndarray) -> str:
    """The stored form: the low 2 bits of the first 64 values, packed into 32 hex digits."""
    low = mh[:SIG_VALUES] & np.uint64(3)
    lo = int(np.bitwise_or.reduce(low[:32] << _SHIFTS))
    hi = int(np.bitwise_or.reduce(low[32:] << _SHIFTS))
    return f"{hi:016x}{lo:016x}"


def _agreeing(x: np.ndarray) -> np.ndarray:
    """Number of equal 2-bit values in XORed words: a value agrees when both its bits are zero."""
    return np.bitwise_count(~(x | (x >> np.uint64(1))) & _LOW_BITS)


def loaded_bar(n: int) -> int:
    """Agreeing values (of 64) a loaded event needs: the false-match budget spread over ``n`` events."""
    from scipy.stats import binom

    p = UNRELATED_J + (1 - UNRELATED_J) / 4
    for t in range(SIG_VALUES + 1):
        if n * float(binom.sf(t - 1, SIG_VALUES, p)) <= FALSE_MATCH_BUDGET:
            return t
    return SIG_VALUES + 1


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
    def __init__(self, threshold: float = DEFAULT_THRESHOLD) -> None:
        self.threshold = threshold
        self._buckets: list[dict[bytes, list[int]]] = [{} for _ in range(BANDS)]
        self._mh: list[np.ndarray] = []  # full MinHash of each indexed post (this process)
        self._mh_event: list[str] = []
        self._post_event: dict[str, str] = {}
        # loaded events: their 1-bit signatures as two uint64 words each
        self._loaded_ids: list[str] = []
        self._loaded_hi = np.zeros(0, dtype=np.uint64)
        self._loaded_lo = np.zeros(0, dtype=np.uint64)
        self._bar = SIG_VALUES + 1

    # -- known events ---------------------------------------------------------------------------

    def load(self, known: Iterable[tuple[str, str]]) -> None:
        """Recent events (id, signature) that new posts may join."""
        ids, his, los = [], [], []
        for event_id, signature in known:
            try:
                hi, lo = _bits_of(signature)
            except ValueError:
                continue  # a signature of another scheme: the event is not a candidate
            if len(signature) != 32:
                continue
            ids.append(event_id)
            his.append(hi)
            los.append(lo)
        self._loaded_ids.extend(ids)
        self._loaded_hi = np.concatenate([self._loaded_hi, np.array(his, dtype=np.uint64)])
        self._loaded_lo = np.concatenate([self._loaded_lo, np.array(los, dtype=np.uint64)])
        self._bar = loaded_bar(len(self._loaded_ids))

    def __len__(self) -> int:
        return len(set(self._mh_event)) + len(self._loaded_ids)

    # -- assignment -----------------------------------------------------------------------------

    def _linked_event(self, post: Post) -> str | None:
        for key in (post.thread_id, post.extra.get("retweet_of") if post.extra else None):
            if key and key in self._post_event:
                return self._post_event[key]
        return None

    def _band_keys(self, mh: np.ndarray) -> list[bytes]:
        raw = mh[: BANDS * ROWS].astype(np.uint32).tobytes()
        step = ROWS * 4
        return [raw[i * step : (i + 1) * step] for i in range(BANDS)]

    def _best_in_process(self, mh: np.ndarray, keys: list[bytes]) -> tuple[str | None, float]:
        candidates: set[int] = set()
        for band, key in zip(self._buckets, keys, strict=True):
            hit = band.get(key)
            if hit:
                candidates.update(hit)
        best, best_j = None, 0.0
        for idx in candidates:
            j = float(np.count_nonzero(self._mh[idx] == mh)) / PERMS
            if j > best_j:
                best, best_j = self._mh_event[idx], j
        return best, best_j

    def _best_loaded(self, signature: str) -> tuple[str | None, float]:
        """The most similar loaded event if it clears the bar, with its estimated Jaccard similarity."""
        if not self._loaded_ids:
            return None, 0.0
        hi, lo = _bits_of(signature)
        agree = _agreeing(self._loaded_hi ^ np.uint64(hi)) + _agreeing(self._loaded_lo ^ np.uint64(lo))
        i = int(np.argmax(agree))
        if int(agree[i]) < self._bar:
            return None, 0.0
        j = (float(agree[i]) / SIG_VALUES - 0.25) / 0.75
        return self._loaded_ids[i], j

    def _index(self, mh: np.ndarray, keys: list[bytes], event_id: str) -> None:
        idx = len(self._mh)
        self._mh.append(mh)
        self._mh_event.append(event_id)
        for band, key in zip(self._buckets, keys, strict=True):
            band.setdefault(key, []).append(idx)

    def assign(self, post: Post) -> EventAssignment:
        known = self._post_event.get(post.id)
        norm = normalise(post.text())
        comparable = len(norm) >= MIN_CHARS
        # Short texts get a signature of their own (text plus post id): nothing will match it later.
        mh = minhash(norm if comparable else f"{norm}\x00{post.id}")
        signature = signature_of(mh)
        if known is not None:  # the same post again: same answer
            return EventAssignment(known, signature, False)
        event_id = self._linked_event(post)
        if event_id is None and comparable:
            keys = self._band_keys(mh)
            best, best_j = self._best_in_process(mh, keys)
            if best is not None and best_j >= self.threshold:
                event_id = best
            else:
                event_id, _ = self._best_loaded(signature)
            self._post_event[post.id] = event_id or event_id_for(post.id)
            self._index(mh, keys, self._post_event[post.id])
        else:
            self._post_event[post.id] = event_id or event_id_for(post.id)
        is_new = event_id is None
        return EventAssignment(self._post_event[post.id], signature, is_new)
