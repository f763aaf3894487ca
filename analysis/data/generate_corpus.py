"""Seeded generator of the in-domain labelled corpus: ``python -m analysis.data.generate_corpus``.

Writes analysis/data/corpus/in_domain.jsonl (committed; training reads the file, not this script).
Each line: {"id", "text", "category", "sensitive", "register", "group", "source"}.

How the corpus avoids teaching style instead of substance:
- every category appears in every register (weibo, forum, news, message_board) and in short and long
  forms: the register and the padding (context sentences, openers, hashtags, news paragraphs) are drawn
  independently of the label;
- hard negatives are labelled ``none``: ordinary news about canteens and fees, praise, rumour rebuttals
  (which use the words of rumours), safety education that names accidents, peers' everyday questions,
  students' moaning, stories of other counties;
- ``group`` names the hand-written core a post was built from, so evaluation can hold out whole cores
  (training.split_by_group) and measure generalisation to substance it never saw, not recall of templates.
The labels follow LABELLING.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path

from analysis.data import corpus_material as M

SEED = 20261130
DEFAULT_SIZE = 6000
CORPUS_PATH = Path(__file__).parent / "corpus" / "in_domain.jsonl"

# none is the largest class (most posts need nothing) but every class has enough examples to learn from
CATEGORY_WEIGHTS = {"none": 0.45, "inquiry": 0.16, "incident": 0.15, "fabrication": 0.12, "suggestion": 0.12}
REGISTER_WEIGHTS = {"weibo": 0.32, "forum": 0.30, "news": 0.18, "message_board": 0.20}
CORES = {
    "inquiry": M.INQUIRY,
    "incident": M.INCIDENT,
    "fabrication": M.FABRICATION,
    "suggestion": M.SUGGESTION,
    "none": M.NONE + M.NONE_MORE + M.MORE_NONE,
}
CORES["suggestion"] += M.MORE_SUGGESTION
CORES["fabrication"] += M.MORE_FABRICATION
for _category, _block in M.FOURTH.items():
    CORES[_category] += _block
for _category, _block in M.FIFTH.items():
    CORES[_category] += _block
# Headline-only news items and Weibo shares of a headline: the shortest form real posts take
HEADLINE_SHARE = 0.45  # of news-register posts drawn from a headline core (the rest: full cores)
HEADLINE_ONLY = 0.2  # of news-register posts from a full core that keep only the title
LONG_LETTER = 0.3  # of message-board letters from a full core written as a long, multi-paragraph letter
POLITE = 0.3  # of message-board letters and forum posts wrapped in polite, hesitant phrases


@dataclass(frozen=True)
class Core:
    group: str
    title: str
    body: str


def _lines(block: str) -> list[str]:
    return [line.strip() for line in block.splitlines() if line.strip()]


def load_cores() -> dict[str, list[Core]]:
    out: dict[str, list[Core]] = {}
    for category, block in CORES.items():
        cores = []
        for i, line in enumerate(_lines(block)):
            title, _, body = line.partition("|") if "|" in line else ("", "", line)
            cores.append(Core(f"{category}-{i:02d}", title, body))
        for i, line in enumerate(_lines(M.MORE.get(category, ""))):
            title, _, body = line.partition("|")
            cores.append(Core(f"{category}-more-{i:02d}", title, body))
        for i, line in enumerate(_lines(M.NEWS[category])):
            title, _, body = line.partition("|")
            cores.append(Core(f"{category}-news-{i:02d}", title, body))
        for i, line in enumerate(_lines(M.SHORT[category])):
            cores.append(Core(f"{category}-short-{i:02d}", "", line))
        for i, line in enumerate(_lines(M.SHORT_FIFTH[category])):
            cores.append(Core(f"{category}-short-5{i:02d}", "", line))
        for i, line in enumerate(_lines(M.HEADLINES[category])):
            cores.append(Core(f"{category}-headline-{i:02d}", line, ""))
        out[category] = cores
    return out


class _Filler:
    """Fills the placeholders of one post consistently (one county, one school, one teacher)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        county = rng.choice(M.COUNTIES)
        town = rng.choice(M.TOWNS)
        full, short = rng.choice(M.SCHOOL_PATTERNS)
        cs = county[:-1] if county[-1] in "县区" else county
        self.values = {
            "c": county,
            "t": town,
            "s": full.format(c=county, t=town, cs=cs),
            "a": short.format(c=county, t=town, cs=cs if rng.random() < 0.5 else "县"),
            "g": rng.choice(M.GRADES),
            "n": str(rng.randint(2, 9)),
            "m": str(rng.choice([50, 80, 120, 180, 200, 260, 300, 450, 600, 800, 1200, 2000])),
            "T": rng.choice(M.TEACHERS) + "老师",
            "d": f"{rng.randint(1, 12)}月{rng.randint(1, 28)}日",
            "o": rng.choice([c for c in M.COUNTIES if c != county]),
            "r": rng.choice(M.REPORTERS),
            "r2": rng.choice(M.REPORTERS),
        }
        # sometimes a post names no school at all, just "学校" / "孩子学校" (common in real posts)
        if rng.random() < 0.15:
            self.values["s"] = self.values["a"] = rng.choice(["学校", "孩子学校", "我们学校", "这所学校"])

    def __call__(self, text: str) -> str:
        return text.format(**self.values)


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _body_variant(rng: random.Random, body: str) -> str:
    """Drop or keep sentences so that one core yields texts of different lengths."""
    parts = [p for p in body.replace("？", "？|").replace("。", "。|").replace("！", "！|").split("|") if p]
    if len(parts) > 2 and rng.random() < 0.35:
        keep = rng.randint(2, len(parts))
        parts = parts[:keep]
    return "".join(parts)


def _context(rng: random.Random, fill: _Filler, k_max: int) -> str:
    k = rng.randint(0, k_max)
    return "".join(fill(s) for s in rng.sample(_lines(M.CONTEXT), k=k))


def _flavour(rng: random.Random, body: str, category: str, fill: _Filler) -> str:
    """Rumour phrasing around some fabrication posts; look-alike phrasing around some of the others."""
    if category == "fabrication" and rng.random() < 0.4:
        return fill(rng.choice(M.FAB_PREFIXES)) + body + fill(rng.choice(M.FAB_SUFFIXES))
    if category != "fabrication" and rng.random() < 0.12:
        return fill(rng.choice(M.LOOKALIKE_PREFIXES)) + body + fill(rng.choice(M.LOOKALIKE_SUFFIXES))
    return body


def render(rng: random.Random, core: Core, register: str) -> str:
    """One post of the given register around a core."""
    fill = _Filler(rng)
    kind = core.group.split("-")[1]
    if kind == "headline":
        return _render_headline(rng, fill(core.title), register, fill)
    body = _flavour(rng, fill(_body_variant(rng, core.body)), core.group.split("-")[0], fill)
    title = fill(core.title) if core.title else ""
    short = kind == "short"
    if register == "weibo":
        parts = []
        if rng.random() < 0.35:
            parts.append(fill(rng.choice(M.WEIBO_TAGS)))
        if not short and rng.random() < 0.3:
            parts.append(_context(rng, fill, 1))
        parts.append(body)
        if rng.random() < 0.3:
            parts.append(rng.choice(M.EMOTICONS))
        if rng.random() < 0.2:
            parts.append(" " + fill(rng.choice(M.WEIBO_MENTIONS)))
        text = "".join(parts)
        if rng.random() < 0.12:  # a repost with a one-line comment in front
            text = f"{rng.choice(['转发微博', '扩散', '关注一下', '唉', '真的假的'])}//@{rng.choice(M.NICKS)}:{text}"
        return text
    if register == "forum":
        opener, closer = rng.choice(M.FORUM_OPENERS), rng.choice(M.FORUM_CLOSERS)
        if not short and rng.random() < POLITE:
            opener, closer = rng.choice(M.POLITE_GREETINGS), rng.choice(M.POLITE_CLOSERS)
        if closer and body[-1:] in "。！？":
            body = body[:-1]
        text = f"{opener}{_context(rng, fill, 0 if short else 2)}{body}{closer}"
        return f"{title}\n{text}" if title and rng.random() < 0.85 else text
    if register == "news":
        if title and rng.random() < HEADLINE_ONLY:
            return title
        lead = fill(rng.choice(M.NEWS_LEADS))
        paragraphs = [lead + body]
        extra = rng.sample(_lines(M.NEWS_CONTEXT), k=rng.randint(0, 3))
        paragraphs.extend(fill(p) for p in extra)
        head = title or body[:18]
        return head + "\n" + "\n".join(paragraphs)
    # message_board: a citizen's letter on a government board
    greeting, closer = rng.choice(M.MESSAGE_GREETINGS), rng.choice(M.MESSAGE_CLOSERS)
    if not short and rng.random() < LONG_LETTER:
        text = _long_letter(rng, body, fill)
    else:
        if not short and rng.random() < POLITE:
            greeting, closer = rng.choice(M.POLITE_GREETINGS), rng.choice(M.POLITE_CLOSERS)
        text = f"{greeting}{_context(rng, fill, 0 if short else 3)}{body}{closer}"
    if title and rng.random() < 0.7:
        return f"留言标题：{title}\n留言内容：{text}"
    return text


def _render_headline(rng: random.Random, headline: str, register: str, fill: _Filler) -> str:
    """A headline core: the bare title on a news site, or a Weibo share of it."""
    if register == "weibo":
        text = f"【{headline}】"
        if rng.random() < 0.4:
            text = fill(rng.choice(M.WEIBO_TAGS)) + text
        if rng.random() < 0.3:
            text += rng.choice(["详情见链接", "网页链接", "（来源：{c}融媒体中心）".format(**fill.values), ""])
        return text
    return headline if rng.random() < 0.7 else f"{headline}_{fill('{c}')}新闻网"


def _long_letter(rng: random.Random, body: str, fill: _Filler) -> str:
    """A long message-board letter: greeting, who writes, context, the substance, hedges, thanks, signature."""
    head = rng.choice(["尊敬的领导：", "尊敬的教育局领导：", "尊敬的县长：", "各位领导："]) + "\n您好！"
    intro = fill(rng.choice(M.SELF_INTROS)) + fill(rng.choice(M.LETTER_HEDGES))
    context = "".join(fill(c) for c in rng.sample(_lines(M.CONTEXT), k=rng.randint(1, 3)))
    background = [fill(p) for p in rng.sample(_lines(M.LETTER_BACKGROUNDS), k=rng.randint(1, 2))]
    ending = fill(rng.choice(M.LETTER_ENDINGS))
    if rng.random() < 0.5:
        ending = fill(rng.choice(M.LETTER_HEDGES)) + ending
    parts = [head, intro + context, *background, body, ending]
    sign = fill(rng.choice(M.LETTER_SIGNATURES))
    if sign:
        parts.append(sign)
    return "\n".join(parts)


def generate(size: int = DEFAULT_SIZE, seed: int = SEED) -> list[dict[str, object]]:
    rng = random.Random(seed)
    cores = load_cores()
    seen: set[str] = set()
    out: list[dict[str, object]] = []
    attempts = 0
    while len(out) < size and attempts < size * 20:
        attempts += 1
        category = _pick(rng, CATEGORY_WEIGHTS)
        register = _pick(rng, REGISTER_WEIGHTS)
        pool = cores[category]
        # short cores fit comment-like registers; news and letters are built from full cores; headlines
        # are news items or Weibo shares
        headlines = [c for c in pool if "-headline-" in c.group]
        if register == "news" and rng.random() < HEADLINE_SHARE:
            pool = headlines
        elif register in ("news", "message_board"):
            pool = [c for c in pool if "-short-" not in c.group and "-headline-" not in c.group]
        elif register == "forum":
            pool = [c for c in pool if "-headline-" not in c.group]
        elif rng.random() > 0.15:  # weibo: now and then a shared headline
            pool = [c for c in pool if "-headline-" not in c.group]
        core = rng.choice(pool)
        text = render(rng, core, register)
        if text in seen:
            continue
        seen.add(text)
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
        out.append(
            {
                "id": f"gen-{digest}",
                "text": text,
                "category": category,
                "sensitive": category != "none",
                "register": register,
                "group": core.group,
                "source": f"generated by analysis/data/generate_corpus.py (seed {seed}) from core {core.group}",
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=DEFAULT_SIZE)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, default=CORPUS_PATH)
    args = parser.parse_args()
    rows = generate(args.size, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} items → {args.out}")


if __name__ == "__main__":
    main()
