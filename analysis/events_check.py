"""Checking event grouping at scale: a seeded corpus of stories retold as reposts and edited copies, and
pairwise precision/recall of a grouping against it. Used by tests/test_events.py and bench/bench_analysis.py.

Each story is an original text (a few real sentences joined, ~200 characters); its copies are what the
same story looks like on other sites: the exact text elsewhere, a Weibo repost with a comment and a
``//@user:`` chain, a forum repost "转自微博：…" with a line of the poster's own, a copy with a few
characters changed, a truncated copy with a hashtag, punctuation and spacing changed.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from yuqing.model import Metrics, Post, post_id_for

_COMMENTS = ("太过分了", "转发一下", "希望早日查清", "真的假的？", "心疼孩子", "关注", "顶上去", "教育局管管吧")
_OWN_LINES = ("我家孩子也在那个学校。", "有知道内情的吗？", "这事必须有个说法！", "求扩散。", "等官方通报吧。")
_NICKS = ("张三", "示例生活圈", "一个普通家长", "城关老李", "路人甲", "小城故事")
_TAGS = ("#示例县#", "#关注#", "#扩散#", "#校园#")


def _edit(rng: random.Random, text: str, rate: float) -> str:
    chars = list(text)
    for _ in range(max(1, int(len(chars) * rate))):
        i = rng.randrange(len(chars))
        op = rng.random()
        if op < 0.4:
            chars[i] = rng.choice("的了是在有我他这个们")
        elif op < 0.7:
            chars.insert(i, rng.choice("啊呢吧嘛"))
        elif len(chars) > 20:
            del chars[i]
    return "".join(chars)


def _copy(rng: random.Random, text: str, kind: int) -> str:
    if kind == 0:
        return text
    if kind == 1:
        return f"{rng.choice(_COMMENTS)}//@{rng.choice(_NICKS)}: {text}"
    if kind == 2:
        return f"转自微博：{text}{rng.choice(_OWN_LINES)}"
    if kind == 3:
        return _edit(rng, text, 0.04)
    if kind == 4:
        cut = int(len(text) * rng.uniform(0.7, 0.9))
        return f"{rng.choice(_TAGS)} {text[:cut]}…全文"
    return text.replace("，", ", ").replace("。", ". ").replace("！", "! ")


@dataclass
class StoryCorpus:
    posts: list[Post]
    story_of: dict[str, int]  # post id -> story number


def story_corpus(
    sentences: Sequence[str], stories: int, copies: int, seed: int = 7, length: int = 200
) -> StoryCorpus:
    """``stories`` originals of about ``length`` characters from ``sentences``, each with ``copies`` more
    versions (so stories * (copies + 1) posts), shuffled as if crawled from many sites over time."""
    rng = random.Random(seed)
    now = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)
    pool = [s for s in sentences if len(s) >= 8]
    order: list[str] = []
    rows: list[tuple[int, str, int]] = []
    for story in range(stories):
        text = ""
        while len(text) < length:
            # Without replacement while the pool lasts, so that stories share no sentence by chance.
            if not order:
                order = pool[:]
                rng.shuffle(order)
            text += order.pop()
        text = text[: length + 20]
        rows.append((story, text, 0))
        for c in range(copies):
            rows.append((story, _copy(rng, text, rng.randrange(6)), c + 1))
    rng.shuffle(rows)
    posts: list[Post] = []
    story_of: dict[str, int] = {}
    for i, (story, text, _) in enumerate(rows):
        url = f"http://127.0.0.1/stories/{seed}/{i}"
        pid = post_id_for(url)
        story_of[pid] = story
        posts.append(
            Post(
                id=pid, url=url, source="bench", site=f"site{i % 10}.example", content=text,
                published_at=now + timedelta(seconds=i), metrics=Metrics(reposts=i % 7),
            )
        )
    return StoryCorpus(posts, story_of)


@dataclass
class GroupingQuality:
    precision: float  # of post pairs put in one event, the share that are one story
    recall: float  # of post pairs of one story, the share put in one event
    events: int
    stories: int

    def __str__(self) -> str:
        return (f"pairwise precision {self.precision:.4f}, recall {self.recall:.4f} "
                f"({self.events} events for {self.stories} stories)")


def grouping_quality(event_of: dict[str, str], story_of: dict[str, int]) -> GroupingQuality:
    def pairs(counts: Counter[object]) -> int:
        return sum(n * (n - 1) // 2 for n in counts.values())

    ids = [pid for pid in event_of if pid in story_of]
    both = pairs(Counter((event_of[p], story_of[p]) for p in ids))
    predicted = pairs(Counter(event_of[p] for p in ids))
    true = pairs(Counter(story_of[p] for p in ids))
    return GroupingQuality(
        precision=both / predicted if predicted else 1.0,
        recall=both / true if true else 1.0,
        events=len({event_of[p] for p in ids}),
        stories=len({story_of[p] for p in ids}),
    )
