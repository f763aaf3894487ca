"""Seeded demo content about the sample county: one generator for the demo, the tests and bench/.

Every item carries its ground truth (schools, relevance, category, platform, URL path), so tests can
assert what the pipeline should conclude about it. ``ANCHORS`` are fixed stories the end-to-end tests
look for by a needle (a phrase that occurs in every copy of the story); everything else is generated
from hand-written templates with a seeded ``random.Random``, so a seed (and a ``now``) gives the same
corpus every time.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from yuqing.demo.material import (
    ARTICLE_CONTEXT,
    BOARD_RULES,
    CHATTER,
    CLOSERS,
    COMMENTS_CALM,
    COMMENTS_UPSET,
    EMOTICONS,
    EXT_MEDIA,
    FEES_BODY,
    FEES_TITLE,
    FOOD_NEWS,
    FOOD_NEWS_TITLE,
    FOOD_TIEBA,
    FOOD_TIEBA_TITLE,
    FOOD_WEIBO,
    GOV_DEPTS,
    GOV_TITLES,
    LEVEL_GROUP,
    MEDIA,
    NICKS,
    OPENERS,
    ORDINARY,
    OTHER_BODY,
    OTHER_PLACE_TEMPLATES,
    OTHER_TITLE,
    OTHER_WEIBO,
    PRAISE,
    REPLIES_CHATTER,
    REPLIES_DOUBT,
    REPLIES_FRIENDLY,
    REPLIES_SUPPORT,
    REPORTERS,
    RUMOUR_WEIBO,
    SAMPLE_SCHOOLS,
    SENSITIVE,
    SUGGESTION_BODY,
    SUGGESTION_TITLE,
    TAGS,
    TEACHERS,
    WEIBO_NAMES,
    SchoolRef,
    Template,
)
from yuqing.model import Category, Metrics, Post, PostKind, post_id_for, utcnow

if TYPE_CHECKING:
    from yuqing.config import Config

SHANGHAI = timezone(timedelta(hours=8))
PLATFORMS = ("news", "gov", "ext", "tieba", "discuz", "weibo")
DEFAULT_SEED = 20261124


# --- the data model of the demo -----------------------------------------------------------------


@dataclass
class Reply:
    """One reply (floor >= 2) in a forum thread, with its own ground truth."""

    floor: int
    author: str
    text: str
    published_at: datetime
    category: Category = Category.none
    relevant: bool = False
    schools: tuple[str, ...] = ()


@dataclass
class DemoItem:
    """One piece of demo content as a platform shows it, plus the truth about it."""

    key: str  # unique within the corpus, e.g. "weibo-12"
    platform: str  # one of PLATFORMS
    number: int  # article number / thread id / weibo id, unique per platform
    title: str
    text: str
    author: str
    published_at: datetime  # aware UTC
    schools: tuple[str, ...] = ()
    relevant: bool = False
    category: Category = Category.none
    replies: list[Reply] = field(default_factory=list)
    reposts: int = 0
    comments: int = 0
    likes: int = 0
    views: int = 0
    story: str | None = None  # items with the same story tell the same story (near-duplicates)
    anchor: str | None = None  # name in ANCHORS when this item is an anchor copy
    media: str = ""  # publishing outlet for articles (来源)
    encoding: str = "utf-8"  # "gbk", "big5" or "utf-8-meta-gb2312" for the encoding test pages
    retweet_of: str | None = None  # key of the retweeted weibo item
    topic: bool = False  # shown on the JavaScript-rendered Weibo topic page
    deleted: bool = False  # listed but the post itself answers 404 (deleted by its author)
    pinned: bool = False  # a forum's pinned thread (置顶), listed first

    @property
    def sensitive(self) -> bool:
        return self.category is not Category.none

    @property
    def path(self) -> str:
        """Where the demo sites serve this item (relative to the base URL)."""
        if self.platform == "news":
            return "/news/art/big5.html" if self.encoding == "big5" else f"/news/art/{self.number}.html"
        if self.platform == "gov":
            return f"/gov/art/{self.number}.html"
        if self.platform == "ext":
            return f"/ext/{self.number}.html"
        if self.platform == "tieba":
            return f"/tieba/p/{self.number}"
        if self.platform == "discuz":
            return f"/bbs/forum.php?mod=viewthread&tid={self.number}"
        return f"/weibo/status/{self.number}"

    @property
    def bid(self) -> str:
        """Weibo's short id (base62 of the mid in groups of seven digits), as in m.weibo.cn/status/<bid>."""
        return mid_to_bid(str(self.number))


@dataclass(frozen=True)
class Anchor:
    """A fixed story the end-to-end tests assert on."""

    name: str
    needle: str  # occurs in the title or text of every copy of the story
    category: Category
    schools: tuple[str, ...]
    platforms: tuple[str, ...]
    relevant: bool = True
    severe: bool = False


@dataclass
class DemoCorpus:
    seed: int
    now: datetime
    items: list[DemoItem]
    county: str = "示例县"
    tieba_board: str = "示例"
    forum_name: str = "示例论坛"
    _index: dict[tuple[str, int], DemoItem] = field(default_factory=dict, repr=False, compare=False)
    _indexed: int = field(default=-1, repr=False, compare=False)

    def by_platform(self, platform: str) -> list[DemoItem]:
        """Items of one platform, newest first (the order lists and feeds show)."""
        return sorted(
            (i for i in self.items if i.platform == platform), key=lambda i: (i.published_at, i.number), reverse=True
        )

    def get(self, key: str) -> DemoItem:
        for item in self.items:
            if item.key == key:
                return item
        raise KeyError(key)

    def find(self, platform: str, number: int) -> DemoItem | None:
        """The item a URL names; an index rebuilt when items were added (the sites look up every request)."""
        if self._indexed != len(self.items):
            self._index = {(i.platform, i.number): i for i in self.items}
            self._indexed = len(self.items)
        return self._index.get((platform, number))

    def with_needle(self, needle: str) -> list[DemoItem]:
        return [i for i in self.items if needle in i.title or needle in i.text]

    def anchor_items(self, name: str) -> list[DemoItem]:
        return [i for i in self.items if i.anchor == name]

    def new_item(self, platform: str, text: str, title: str = "", author: str = "热心网友", **truth: Any) -> DemoItem:
        """A fresh item numbered after the existing ones, published now (for tests that add posts live)."""
        if platform not in PLATFORMS:
            raise ValueError(f"unknown platform {platform!r}; expected one of {PLATFORMS}")
        numbers = [i.number for i in self.items if i.platform == platform] or [_FIRST_NUMBER[platform]]
        step = 7919 if platform == "weibo" else 1
        item = DemoItem(
            key=f"{platform}-live-{len(self.items)}",
            platform=platform,
            number=max(numbers) + step,
            title=title,
            text=text,
            author=author,
            published_at=utcnow(),
        )
        return replace(item, **truth)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for item in self.items:
            out[item.platform] = out.get(item.platform, 0) + 1
        return out


_FIRST_NUMBER = {"news": 1, "gov": 1, "ext": 1, "tieba": 9100200301, "discuz": 3101, "weibo": 5031207745312001}

_B62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _base62(n: int) -> str:
    out = ""
    while n:
        n, r = divmod(n, 62)
        out = _B62[r] + out
    return out or "0"


def mid_to_bid(mid: str) -> str:
    """Weibo's mid → bid: 7-digit groups from the right, each in base62 (inner groups padded to 4)."""
    groups = []
    end = len(mid)
    while end > 0:
        start = max(0, end - 7)
        chunk = _base62(int(mid[start:end]))
        groups.append(chunk.rjust(4, "0") if start > 0 else chunk)
        end = start
    return "".join(reversed(groups))


# --- the anchors: fixed text, asserted on by the end-to-end tests ------------------------------------

ANCHORS: dict[str, Anchor] = {
    "FOOD_POISONING": Anchor(
        "FOOD_POISONING",
        "示例县第一中学食堂",
        Category.incident,
        ("county-no1-high",),
        ("weibo", "tieba", "news"),
        severe=True,
    ),
    "FEES_INQUIRY": Anchor(
        "FEES_INQUIRY", "示例县实验小学开学收资料费", Category.inquiry, ("county-experimental-primary",), ("discuz",)
    ),
    "RUMOUR": Anchor("RUMOUR", "示例县第二中学数学老师王某某", Category.fabrication, ("county-no2-high",), ("weibo",)),
    "SUGGESTION": Anchor(
        "SUGGESTION", "关于完善东山镇中学课后服务的几点建议", Category.suggestion, ("dongshan-middle",), ("discuz",)
    ),
    "OTHER_COUNTY": Anchor("OTHER_COUNTY", "邻县第一中学", Category.incident, (), ("ext", "weibo"), relevant=False),
    "XSS": Anchor("XSS", "<script>alert(1)</script>", Category.inquiry, ("county-no1-high",), ("discuz",)),
}

XSS_TITLE = "示例县第一中学<script>alert(1)</script>晚自习强制收费？"
XSS_BODY = (
    "示例县第一中学高二年级晚自习每月强制收费200元，不交就不让上晚自习<img src=x onerror=alert(2)>，"
    '这合理吗？家长们可以看看这个通知 <a href="javascript:alert(3)">点击查看通知原文</a> 。'
    "想问教育局：晚自习收费有没有文件依据？请尽快答复。"
)


# --- generation ------------------------------------------------------------------------------------


def _schools_from_config(cfg: Config | None) -> list[SchoolRef]:
    if cfg is None:
        return list(SAMPLE_SCHOOLS)
    out = []
    for s in cfg.schools:
        alias = s.aliases[0] if s.aliases else s.name
        short = s.short_forms[-1] if s.short_forms else alias
        out.append(SchoolRef(s.id, s.name, alias, short, s.township, LEVEL_GROUP.get(s.level, "pri")))
    return out


class _Builder:
    """Builds the corpus; one instance per build_corpus call (holds the RNG and counters)."""

    def __init__(self, seed: int, now: datetime, schools: list[SchoolRef], county: str, others: list[str]) -> None:
        self.rng = random.Random(seed)
        self.now = now
        self.schools = schools
        self.county = county
        self.others = others or ["邻县", "临川县", "河西县"]
        self.items: list[DemoItem] = []
        self.per_platform: dict[str, int] = {}
        self.next_number = dict(_FIRST_NUMBER)

    # small helpers
    def ago(self, low_hours: float, high_hours: float) -> datetime:
        return self.now - timedelta(minutes=self.rng.randint(int(low_hours * 60), int(high_hours * 60)))

    def number(self, platform: str) -> int:
        n = self.next_number[platform]
        self.next_number[platform] = n + (
            self.rng.randint(1000, 90000)
            if platform == "weibo"
            else self.rng.randint(3, 400)
            if platform in ("tieba", "discuz")
            else 1
        )
        return n

    def fill(self, text: str, school: SchoolRef | None = None, **extra: str) -> str:
        s = school or self.rng.choice(self.schools)
        values = {
            "name": s.name,
            "alias": s.alias,
            "short": s.short,
            "town": s.town or self.county,
            "county": self.county,
            "n": str(self.rng.randint(2, 12)),
            "m": str(self.rng.choice([120, 260, 380, 600, 800])),
            "d": self._date(),
            "year": str(self.now.astimezone(SHANGHAI).year),
            "teacher": self.rng.choice(TEACHERS),
            "other": self.rng.choice(self.others),
        }
        values.update(extra)
        return text.format(**values)

    def _date(self) -> str:
        day = (self.now - timedelta(days=self.rng.randint(1, 9))).astimezone(SHANGHAI)
        return f"{day.month}月{day.day}日"

    def voice(self, text: str, upset: bool = True) -> str:
        """A poster's own words around a template: openers and closers as people type them."""
        if upset:
            opener, closer = self.rng.choice(OPENERS), self.rng.choice(CLOSERS)
        else:
            opener, closer = (
                self.rng.choice(["", "", "分享一下：", "哈哈，"]),
                self.rng.choice(["", "", "～", "！", "，赞"]),
            )
        if closer and text[-1:] in "。！？!?":
            text = text[:-1]
        return f"{opener}{text}{closer}"

    def mentions(self, text: str, school: SchoolRef) -> bool:
        return any(n in text for n in (school.name, school.alias, school.short))

    def school_for(self, template: Template) -> SchoolRef:
        fitting = [s for s in self.schools if not template.groups or s.group in template.groups.split()]
        return self.rng.choice(fitting or self.schools)

    def add(
        self,
        platform: str,
        title: str,
        text: str,
        *,
        number: int | None = None,
        author: str | None = None,
        published_at: datetime | None = None,
        **truth: Any,
    ) -> DemoItem:
        self.per_platform[platform] = self.per_platform.get(platform, 0) + 1
        item = DemoItem(
            key=f"{platform}-{self.per_platform[platform]}",
            platform=platform,
            number=number or self.number(platform),
            title=title,
            text=text,
            author=author or self.author(platform),
            published_at=published_at or self.ago(1, 230),
            **truth,
        )
        if platform == "weibo" and not (item.reposts or item.comments or item.likes):
            item.reposts, item.comments, item.likes = self.engagement(item.category)
        if platform in ("news", "gov", "ext") and not item.views:
            item.views = self.rng.randint(80, 6000)
        self.items.append(item)
        return item

    def author(self, platform: str) -> str:
        if platform == "weibo":
            return self.rng.choice(WEIBO_NAMES)
        if platform in ("news", "ext"):
            return self.rng.choice(REPORTERS)
        if platform == "gov":
            return self.rng.choice(GOV_DEPTS)
        return self.rng.choice(NICKS)

    def engagement(self, category: Category) -> tuple[int, int, int]:
        hot = category in (Category.incident, Category.fabrication)
        scale = 40 if hot else 6
        return (self.rng.randint(0, scale * 10), self.rng.randint(0, scale * 5), self.rng.randint(1, scale * 20))

    def replies(self, item: DemoItem, count: int, sensitive: bool, doubt: bool = False) -> None:
        pool = (
            (REPLIES_DOUBT + REPLIES_CHATTER)
            if doubt
            else (REPLIES_SUPPORT + REPLIES_CHATTER)
            if sensitive
            else (REPLIES_CHATTER + REPLIES_FRIENDLY)
        )
        t = item.published_at
        for floor in range(2, count + 2):
            t = min(self.now, t + timedelta(minutes=self.rng.randint(3, 600)))
            item.replies.append(Reply(floor, self.rng.choice(NICKS), self.rng.choice(pool), t))
        item.comments = count

    def article_body(self, lead: str, school: SchoolRef | None, paragraphs: int) -> str:
        """A news-style article: the lead plus context paragraphs, as paragraphs separated by newlines."""
        chosen = self.rng.sample(ARTICLE_CONTEXT, k=min(paragraphs, len(ARTICLE_CONTEXT)))
        return "\n".join([lead, *(self.fill(p, school) for p in chosen)])


def _near_copy(rng: random.Random, text: str) -> str:
    """A near-duplicate: the same story with small edits, as reposts and rewrites make."""
    edits: list[Callable[[str], str]] = [
        lambda t: t.replace("！", "!").replace("，", ",", 1),
        lambda t: "转：" + t,
        lambda t: t + "（转自网络）",
        lambda t: t.replace("学生", "孩子", 1),
        lambda t: t.replace("听说", "据说", 1),
    ]
    for edit in rng.sample(edits, k=2):
        text = edit(text)
    return text


def build_corpus(
    cfg: Config | None = None, seed: int = DEFAULT_SEED, now: datetime | None = None, scale: int = 0
) -> DemoCorpus:
    """The demo corpus for the configured county (the sample 示例县 when cfg is None).

    ``now`` defaults to the current hour (not minute) so that two demo runs a few minutes apart see the
    same publish times. ``scale`` adds that many generated items (half government articles behind the
    paged list, a quarter Tieba threads, a quarter Discuz! threads, each thread with 2-15 replies) for
    crawl benchmarks; the default corpus is unchanged by it.
    """
    if now is None:
        now = utcnow().replace(minute=0, second=0, microsecond=0)
    now = now.astimezone(timezone.utc)
    county = cfg.county.name if cfg else "示例县"
    others = list(cfg.county.other_places) if cfg else ["邻县", "临川县", "北湖区", "河西县", "江南市"]
    b = _Builder(seed, now, _schools_from_config(cfg), county, others)
    _anchors(b)
    _news(b)
    _gov(b)
    _ext(b)
    _tieba(b)
    _discuz(b)
    _weibo(b)
    _weibo_extras(b)
    if scale:
        _scale(b, scale)
    board = (cfg.county.short_name if cfg and cfg.county.short_name else county.rstrip("县区市")) or county
    return DemoCorpus(seed=seed, now=now, items=b.items, county=county, tieba_board=board, forum_name=f"{board}论坛")


def _anchors(b: _Builder) -> None:
    fp = ANCHORS["FOOD_POISONING"]
    truth: dict[str, Any] = dict(
        schools=fp.schools, relevant=True, category=fp.category, story="food-poisoning", anchor=fp.name
    )
    t0 = b.now - timedelta(hours=5)
    first = b.add(
        "weibo",
        "",
        FOOD_WEIBO,
        published_at=t0,
        reposts=1320,
        comments=468,
        likes=2210,
        author="示例县同城",
        topic=True,
        **truth,
    )
    b.add(
        "weibo",
        "",
        "太吓人了，希望孩子们都没事 //@示例生活圈:示例县第一中学食堂必须彻查",
        published_at=t0 + timedelta(minutes=40),
        retweet_of=first.key,
        reposts=86,
        comments=12,
        likes=140,
        author="一个普通家长",
        **truth,
    )
    tb = b.add("tieba", FOOD_TIEBA_TITLE, FOOD_TIEBA, published_at=t0 + timedelta(minutes=25), **truth)
    tb.replies = [
        Reply(2, "城关老李", "我侄子也在里面，现在在县医院输液，说是中午吃完就开始吐", t0 + timedelta(minutes=31)),
        Reply(3, "二中毕业生", "一中食堂早就该查了，饭菜一直很差", t0 + timedelta(minutes=44)),
        Reply(4, "宝妈在线", "学校到现在也没在家长群里说一句，太让人寒心了", t0 + timedelta(minutes=52)),
        Reply(5, "路过打酱油", "等官方通报吧，别传谣", t0 + timedelta(minutes=70)),
        Reply(6, "示例老乡", "县电视台已经去医院了，估计晚上有新闻", t0 + timedelta(minutes=95)),
    ]
    for r in tb.replies[:4]:
        r.category, r.relevant, r.schools = Category.incident, True, fp.schools
    tb.comments = len(tb.replies)
    b.add(
        "news",
        FOOD_NEWS_TITLE,
        "\n".join(FOOD_NEWS),
        published_at=t0 + timedelta(hours=3),
        media="示例日报",
        author="张晓燕",
        **truth,
    )

    fees = ANCHORS["FEES_INQUIRY"]
    th = b.add(
        "discuz",
        FEES_TITLE,
        FEES_BODY,
        schools=fees.schools,
        relevant=True,
        category=fees.category,
        anchor=fees.name,
        story="fees",
        published_at=b.now - timedelta(hours=30),
        author="家有小学生",
        views=1288,
    )
    th.replies = [
        Reply(
            2,
            "宝妈在线",
            "我们班也收了，180一分不少，也没给收据",
            th.published_at + timedelta(hours=1),
            Category.inquiry,
            True,
            fees.schools,
        ),
        Reply(3, "示例老乡", "可以打12345或者在县政府网站留言", th.published_at + timedelta(hours=2)),
        Reply(4, "路过打酱油", "资料是自愿订的吧，不想要可以不买", th.published_at + timedelta(hours=3)),
    ]
    th.comments = len(th.replies)

    rumour = ANCHORS["RUMOUR"]
    b.add(
        "weibo",
        "",
        RUMOUR_WEIBO,
        schools=rumour.schools,
        relevant=True,
        category=rumour.category,
        anchor=rumour.name,
        story="rumour",
        published_at=b.now - timedelta(hours=9),
        reposts=233,
        comments=97,
        likes=410,
        author="路人丙的日常",
        topic=True,
    )

    sug = ANCHORS["SUGGESTION"]
    th = b.add(
        "discuz",
        SUGGESTION_TITLE,
        SUGGESTION_BODY,
        schools=sug.schools,
        relevant=True,
        category=sug.category,
        anchor=sug.name,
        story="suggestion",
        published_at=b.now - timedelta(hours=50),
        author="东山的风",
        views=530,
    )
    th.replies = [
        Reply(
            2,
            "青石镇老师",
            "建议很中肯，老师补贴确实是关键",
            th.published_at + timedelta(hours=2),
            Category.suggestion,
            True,
            sug.schools,
        ),
        Reply(3, "微风不燥", "支持，希望教育局能看到", th.published_at + timedelta(hours=5)),
    ]
    th.comments = len(th.replies)

    other = ANCHORS["OTHER_COUNTY"]
    b.add(
        "ext",
        OTHER_TITLE,
        "\n".join(OTHER_BODY),
        relevant=False,
        category=other.category,
        anchor=other.name,
        story="other-county-fight",
        media="邻县新闻网",
        published_at=b.now - timedelta(hours=20),
    )
    b.add(
        "weibo",
        "",
        OTHER_WEIBO,
        relevant=False,
        category=other.category,
        anchor=other.name,
        story="other-county-fight",
        published_at=b.now - timedelta(hours=18),
        topic=True,
    )

    xss = ANCHORS["XSS"]
    th = b.add(
        "discuz",
        XSS_TITLE,
        XSS_BODY,
        schools=xss.schools,
        relevant=True,
        category=xss.category,
        anchor=xss.name,
        published_at=b.now - timedelta(hours=14),
        author="<b>夜猫子</b>",
    )
    th.replies = [Reply(2, "路过打酱油", '"><svg onload=alert(4)> 同问', th.published_at + timedelta(hours=1))]
    th.comments = 1


def _news(b: _Builder) -> None:
    """The county daily's RSS items: mostly ordinary school news, some follow-ups of sensitive stories."""
    for i in range(16):
        t = ORDINARY[i % len(ORDINARY)]
        school = b.school_for(t)
        body = b.article_body(b.fill(t.body, school), school, b.rng.randint(2, 6))
        b.add("news", b.fill(t.title, school), body, schools=(school.id,), relevant=True, media=b.rng.choice(MEDIA))
    # A long feature (about 1,500 characters).
    school = b.schools[0]
    paras = [b.fill(t.body, school) for t in ORDINARY] + [
        b.fill(p, school)
        for p in (
            "{name}现有教学班{n}十个，在校学生两千余人，教职工两百余人。学校先后获得省级文明校园、市级示范性高中等称号。",
            "走进{name}，整洁的校园、浓厚的学习氛围让人印象深刻。近年来学校投入资金改造了图书馆、实验室和学生宿舍。",
        )
    ]
    while sum(map(len, paras)) < 1500:
        paras.append(b.article_body(b.fill(b.rng.choice(ORDINARY).body, school), school, 4))
    body = "\n".join(paras)
    cut = body.rfind("。", 0, 1500) + 1  # end the feature on a full sentence, about 1,500 characters
    b.add(
        "news",
        f"办人民满意的教育——{school.name}发展纪实",
        body[:cut],
        schools=(school.id,),
        relevant=True,
        media="示例日报",
    )
    # The GBK page and the UTF-8 page that declares gb2312 (as the saved people.cn page does).
    s = b.schools[2 % len(b.schools)]
    b.add(
        "news",
        f"{s.name}举行冬季长跑启动仪式",
        b.article_body(
            f"为增强学生体质，{s.name}近日举行冬季长跑活动启动仪式，全校师生参加，示例县教育局有关负责同志出席。", s, 3
        ),
        schools=(s.id,),
        relevant=True,
        encoding="gbk",
        media="示例县融媒体中心",
    )
    s = b.schools[3 % len(b.schools)]
    b.add(
        "news",
        f"{s.name}开展“家长开放日”活动",
        b.article_body(f"{s.name}举办家长开放日，邀请家长走进课堂、走进食堂，与老师面对面交流孩子的成长。", s, 3),
        schools=(s.id,),
        relevant=True,
        encoding="utf-8-meta-gb2312",
        media="示例日报",
    )
    # A traditional-Chinese report from Hong Kong media about a same-named school elsewhere (Big5 bytes).
    b.add(
        "news",
        "臨川縣實驗小學學生赴港交流 體驗兩地校園生活",
        "臨川縣實驗小學師生一行三十人日前抵港，參觀本地小學並參與課堂活動。\n"
        "帶隊老師表示，交流活動讓學生開闊了眼界，兩地學校將繼續加強合作。",
        relevant=False,
        encoding="big5",
        media="香港教育新聞",
        author="陳家明",
        number=900,
    )
    # Follow-ups of sensitive stories, as the county daily would publish them.
    school = next((s for s in b.schools if s.group == "pri"), b.schools[0])
    b.add(
        "news",
        f"县教育局回应{school.alias}划片入学问题",
        b.article_body(
            f"针对近期家长反映的{school.name}学区划分问题，县教育局表示，今年学区调整依据新建小区入住情况进行，"
            "对家长反映的个别楼栋划片不一致的情况，将会同相关部门核实后予以答复。",
            school,
            2,
        ),
        schools=(school.id,),
        relevant=True,
        category=Category.inquiry,
        story="zoning",
        media="示例县融媒体中心",
    )


def _gov(b: _Builder) -> None:
    for i in range(21):
        title, body = GOV_TITLES[i % len(GOV_TITLES)]
        if i >= len(GOV_TITLES):
            t = ORDINARY[(i * 3) % len(ORDINARY)]
            school = b.school_for(t)
            b.add(
                "gov",
                b.fill(t.title, school),
                b.article_body(b.fill(t.body, school), school, 2),
                schools=(school.id,),
                relevant=True,
            )
            continue
        b.add("gov", b.fill(title), b.fill(body), relevant=False)


def _ext(b: _Builder) -> None:
    """Other media: same-named schools elsewhere, reprints of our stories, an article behind a deleted link."""
    for t in OTHER_PLACE_TEMPLATES:
        for other in b.rng.sample(b.others, k=2):
            b.add(
                "ext",
                b.fill(t.title, other=other),
                b.fill(t.body, other=other),
                relevant=False,
                category=t.category,
                media=b.rng.choice(EXT_MEDIA),
            )
    # A provincial paper reprints the food-poisoning story with edits (near-duplicate across sites).
    fp = ANCHORS["FOOD_POISONING"]
    b.add(
        "ext",
        "示例县一中十余名学生呕吐送医 原因正在调查",
        _near_copy(b.rng, FOOD_NEWS[0]) + "\n" + FOOD_NEWS[2],
        schools=fp.schools,
        relevant=True,
        category=fp.category,
        story="food-poisoning",
        anchor=fp.name,
        media="示例省法治报",
        published_at=b.now - timedelta(hours=1, minutes=30),
    )
    b.add(
        "ext",
        "示例县南岭学校开展防溺水宣传（已删除）",
        "该文章已被删除。",
        relevant=True,
        deleted=True,
        schools=tuple(s.id for s in b.schools if "南岭" in s.name)[:1],
        media="新闻晨报",
    )


def _forum_threads(b: _Builder, platform: str, count: int) -> None:
    # Sensitive templates are dealt from a shuffled deck so that every category turns up on every forum.
    deck = [t for t in SENSITIVE if t.category is not Category.none]
    b.rng.shuffle(deck)
    deck.sort(key=lambda t: t.category is Category.inquiry)  # inquiries are the most common; they go last
    dealt = 0
    for _ in range(count):
        roll = b.rng.random()
        if roll < 0.35:
            t = deck[dealt % len(deck)]
            dealt += 1
            school = b.school_for(t)
            # Forum posters use the short forms; the board is about the county, so that is enough context.
            title = b.fill(t.title, school, alias=b.rng.choice([school.alias, school.short]))
            body = b.voice(b.fill(t.body, school))
            item = b.add(platform, title, body, schools=(school.id,), relevant=True, category=t.category)
            b.replies(item, b.rng.randint(2, 15), True, doubt=t.category is Category.fabrication)
        elif roll < 0.45:
            school = b.rng.choice(b.schools)
            text = b.fill(b.rng.choice(CHATTER), school)
            # On a board about the county a short form is enough; a post naming no school is about none.
            truth: dict[str, Any] = (
                dict(schools=(school.id,), relevant=True) if b.mentions(text, school) else dict(relevant=False)
            )
            item = b.add(platform, text, text + (" 如题" if b.rng.random() < 0.5 else ""), **truth)
            b.replies(item, b.rng.randint(2, 8), False)
        elif roll < 0.55:
            t = b.rng.choice(OTHER_PLACE_TEMPLATES)
            other = b.rng.choice(b.others)
            item = b.add(
                platform, b.fill(t.title, other=other), b.fill(t.body, other=other), relevant=False, category=t.category
            )
            b.replies(item, b.rng.randint(2, 5), False)
        else:
            school = b.rng.choice(b.schools)
            text = b.voice(b.fill(b.rng.choice(PRAISE), school), upset=False)
            title = text[: b.rng.randint(10, 18)].rstrip("，。") + ("……" if b.rng.random() < 0.5 else "")
            item = b.add(platform, title, text, schools=(school.id,), relevant=True)
            b.replies(item, b.rng.randint(2, 10), False)


def _rules(b: _Builder, platform: str, title: str, text: str) -> None:
    """The board rules every forum pins on top: old, not about any school."""
    author = "吧务组" if platform == "tieba" else "admin"
    item = b.add(
        platform,
        title,
        text,
        author=author,
        relevant=False,
        pinned=True,
        published_at=b.now - timedelta(days=9, hours=3),
    )
    b.replies(item, 2, False)


def _tieba(b: _Builder) -> None:
    _rules(b, "tieba", f"【吧规】{b.county.rstrip('县')}吧发帖须知", BOARD_RULES)
    _forum_threads(b, "tieba", 15)
    # Neighbours talk about their own 一中 on our board too: a short form with another county's name.
    other = b.others[0]
    item = b.add(
        "tieba",
        f"{other}一中昨天又打架了",
        f"听{other}的同学说{other}一中昨天晚自习又有人打架，还叫了外面的人，老师拉都拉不开。",
        relevant=False,
        category=Category.incident,
    )
    b.replies(item, 4, False)
    # A near-duplicate of a Weibo story (the school-bus accident), a long thread over two pages, and a short one.
    school = next((s for s in b.schools if s.group == "mid"), b.schools[0])
    bus = b.fill(SENSITIVE[9].body, school)
    item = b.add(
        "tieba",
        f"{school.town}校车出事了！！",
        bus,
        schools=(school.id,),
        relevant=True,
        category=Category.incident,
        story="school-bus",
    )
    b.replies(item, 15, True)
    item.replies.extend(
        Reply(
            f,
            b.rng.choice(NICKS),
            b.rng.choice(REPLIES_SUPPORT + REPLIES_CHATTER),
            min(b.now, item.published_at + timedelta(hours=f)),
        )
        for f in range(17, 36)
    )
    item.comments = len(item.replies)
    short = b.add("tieba", "一中放假了吗", "一中放假了吗", schools=(b.schools[0].id,), relevant=True)
    b.replies(short, 3, False)


def _discuz(b: _Builder) -> None:
    _rules(b, "discuz", "【版规】教育交流版发帖规定", BOARD_RULES)
    _forum_threads(b, "discuz", 10)
    school = next((s for s in b.schools if s.group == "pri"), b.schools[0])
    zoning = b.fill(SENSITIVE[0].body, school)
    item = b.add(
        "discuz",
        f"{school.alias}划片入学问题，求解答",
        zoning,
        schools=(school.id,),
        relevant=True,
        category=Category.inquiry,
        story="zoning",
    )
    b.replies(item, 14, True)  # 15 floors: two pages at Discuz!'s ten posts per page


def _weibo_extras(b: _Builder) -> None:
    """Emoticons (shown by Weibo as <span class="url-icon"> images) and comments under many weibos."""
    for item in [i for i in b.items if i.platform == "weibo"]:
        personal = item.author not in ("示例县新闻速递", "示例教育观察") and item.anchor is None
        if personal and b.rng.random() < 0.3:
            item.text += b.rng.choice(EMOTICONS)
        if item.retweet_of or not (item.anchor or item.sensitive or b.rng.random() < 0.3):
            continue
        shown = item.comments
        pool = COMMENTS_UPSET + COMMENTS_CALM if item.sensitive else COMMENTS_CALM
        t = item.published_at
        for n in range(b.rng.randint(2, 12)):
            t = min(b.now, t + timedelta(minutes=b.rng.randint(1, 180)))
            text = b.rng.choice(pool) + (b.rng.choice(EMOTICONS) if b.rng.random() < 0.3 else "")
            item.replies.append(Reply(n + 2, b.rng.choice(WEIBO_NAMES + NICKS), text, t))
        item.comments = max(shown, len(item.replies))  # Weibo shows a count larger than the hot comments


def _weibo(b: _Builder) -> None:
    """60+ weibos: ordinary chatter and praise, sensitive posts with hashtags and @mentions, reposts, long text."""
    sensitive = [t for t in SENSITIVE if t.category is not Category.none]
    for i in range(62):
        roll = b.rng.random()
        school = b.rng.choice(b.schools)
        topic = b.rng.random() < 0.3
        if roll < 0.25:
            t = sensitive[(i * 7) % len(sensitive)]
            school = b.school_for(t)
            tag = b.fill(b.rng.choice(TAGS[t.category]), school)
            text = tag + b.voice(b.fill(t.body, school)) + (f" @{b.county}教育局" if b.rng.random() < 0.6 else "")
            b.add("weibo", "", text, schools=(school.id,), relevant=True, category=t.category, topic=topic)
        elif roll < 0.45:
            b.add(
                "weibo",
                "",
                b.voice(b.fill(b.rng.choice(PRAISE), school), upset=False),
                schools=(school.id,),
                relevant=True,
                topic=topic,
            )
        elif roll < 0.60:
            # Short forms without county context on an unscoped source: nobody can tell which 一中 is meant.
            ambiguous = [s for s in b.schools if s.short != s.alias] or b.schools
            b.add("weibo", "", b.fill(b.rng.choice(CHATTER), b.rng.choice(ambiguous)), relevant=False, topic=True)
        elif roll < 0.70:
            t = b.rng.choice(OTHER_PLACE_TEMPLATES)
            other = b.rng.choice(b.others)
            b.add(
                "weibo",
                "",
                f"#{other}教育# " + b.fill(t.body, other=other),
                relevant=False,
                category=t.category,
                topic=topic,
            )
        elif roll < 0.85:
            t = ORDINARY[i % len(ORDINARY)]
            school = b.school_for(t)
            # Official accounts post the whole news story: often longer than 140 characters (isLongText).
            body = b.article_body(b.fill(t.body, school), school, b.rng.randint(0, 3)).replace("\n", "")
            text = (
                f"【{b.fill(t.title, school)}】{body} " + b.rng.choice(["#示例县教育#", "#示例县新闻#", ""])
            ).strip()
            b.add("weibo", "", text, schools=(school.id,), relevant=True, author="示例县新闻速递", topic=topic)
        else:
            b.add(
                "weibo",
                "",
                b.rng.choice(
                    [
                        "今天天气真好，示例县的银杏叶都黄了",
                        "示例县的冬天来了，大家注意保暖",
                        "周末去东山镇爬山，风景不错",
                        "示例县城关镇新开了一家书店，环境很好",
                        "示例县今天好堵啊",
                    ]
                ),
                relevant=False,
                topic=topic,
            )
    # The newest few, minutes old: Weibo shows them as "N分钟前" (and fresh live posts as "刚刚").
    recent = [i for i in b.items if i.platform == "weibo" and i.anchor is None][-3:]
    for minutes, item in zip((3, 12, 27), recent, strict=True):
        item.published_at = b.now - timedelta(minutes=minutes)
    # Constructive suggestions are rarer than complaints but the bureau must see them too.
    for t in [t for t in SENSITIVE if t.category is Category.suggestion][:2]:
        school = b.school_for(t)
        b.add(
            "weibo",
            "",
            b.fill(t.body, school) + " @示例县教育局",
            schools=(school.id,),
            relevant=True,
            category=Category.suggestion,
            topic=True,
        )
    # Long text (isLongText): over 140 characters.
    school = b.schools[1 % len(b.schools)]
    long_text = "#示例县教育#" + "".join(b.fill(t.body, school) for t in ORDINARY[:4])
    b.add("weibo", "", long_text, schools=(school.id,), relevant=True, author="示例教育观察", topic=True)
    # The school-bus story on Weibo and a repost of it (near-duplicates of the Tieba thread).
    mid = next((s for s in b.schools if s.group == "mid"), b.schools[0])
    orig = b.add(
        "weibo",
        "",
        "#示例县校车事故# " + b.fill(SENSITIVE[9].body, mid),
        schools=(mid.id,),
        relevant=True,
        category=Category.incident,
        story="school-bus",
        topic=True,
    )
    b.add(
        "weibo",
        "",
        "转发微博",
        retweet_of=orig.key,
        schools=(mid.id,),
        relevant=True,
        category=Category.incident,
        story="school-bus",
    )
    b.add(
        "weibo",
        "",
        "//@示例县同城: 希望孩子们平安",
        retweet_of=orig.key,
        schools=(mid.id,),
        relevant=True,
        category=Category.incident,
        story="school-bus",
    )
    # The zoning question on Weibo too.
    pri = next((s for s in b.schools if s.group == "pri"), b.schools[0])
    b.add(
        "weibo",
        "",
        _near_copy(b.rng, b.fill(SENSITIVE[0].body, pri)) + " @示例县教育局",
        schools=(pri.id,),
        relevant=True,
        category=Category.inquiry,
        story="zoning",
    )


def _scale(b: _Builder, n: int) -> None:
    """n extra items for crawl benchmarks, made from the same templates (ground truth included)."""
    pieces = [*SENSITIVE, *ORDINARY, *ORDINARY]  # still mostly ordinary
    for k in range(n):
        t = pieces[k % len(pieces)]
        school = b.school_for(t)
        truth: dict[str, Any] = dict(schools=(school.id,), relevant=True, category=t.category)
        platform = "gov" if k % 4 < 2 else ("tieba" if k % 4 == 2 else "discuz")
        if platform == "gov":
            body = b.article_body(b.fill(t.body, school), school, b.rng.randint(1, 4))
            b.add("gov", b.fill(t.title, school), body, **truth)
        else:
            item = b.add(platform, b.fill(t.title, school), b.fill(t.body, school), **truth)
            b.replies(item, b.rng.randint(2, 15), t.category is not Category.none)


# --- benchmark material ------------------------------------------------------------------------------


def scale_posts(n: int, seed: int = DEFAULT_SEED, length: int = 200) -> list[Post]:
    """n varied posts of about ``length`` characters, built from the demo material (for bench/)."""
    rng = random.Random(seed)
    now = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)
    b = _Builder(seed, now, list(SAMPLE_SCHOOLS), "示例县", ["邻县", "临川县", "北湖区", "河西县", "江南市"])
    pieces = [*SENSITIVE, *ORDINARY, *OTHER_PLACE_TEMPLATES]
    kinds = [PostKind.weibo, PostKind.thread, PostKind.reply, PostKind.article]
    posts = []
    for i in range(n):
        text = ""
        title = ""
        while len(text) < length:
            t = rng.choice(pieces)
            school = b.school_for(t)
            title = title or b.fill(t.title, school)
            text += b.fill(t.body, school)
        text = text[: max(10, length)]
        url = f"http://127.0.0.1/bench/{seed}/{i}"
        kind = kinds[i % len(kinds)]
        posts.append(
            Post(
                id=post_id_for(url),
                url=url,
                source="bench",
                site="127.0.0.1",
                kind=kind,
                title=title,
                content=text,
                author=rng.choice(NICKS),
                published_at=now - timedelta(minutes=rng.randint(0, 14400)),
                metrics=Metrics(reposts=rng.randint(0, 50), comments=rng.randint(0, 30), likes=rng.randint(0, 200)),
            )
        )
    return posts


def iter_truth(corpus: DemoCorpus) -> Iterator[tuple[DemoItem, Reply | None]]:
    """Every item and every reply, for tests that check the ground truth of everything served."""
    for item in corpus.items:
        yield item, None
        for reply in item.replies:
            yield item, reply


def category_counts(items: Iterable[DemoItem]) -> dict[Category, int]:
    out: dict[Category, int] = {}
    for item in items:
        out[item.category] = out.get(item.category, 0) + 1
    return out


# The sample config's demo source for each platform (news articles only found by the search: the search).
DEMO_SOURCES = {
    "news": "demo-news-rss",
    "gov": "demo-gov-list",
    "ext": "demo-news-search",
    "tieba": "demo-tieba",
    "discuz": "demo-forum",
    "weibo": "demo-weibo-search",
}
_KINDS = {
    "news": PostKind.article,
    "gov": PostKind.article,
    "ext": PostKind.article,
    "tieba": PostKind.thread,
    "discuz": PostKind.thread,
    "weibo": PostKind.weibo,
}


def corpus_posts(corpus: DemoCorpus, base_url: str = "http://127.0.0.1:8800") -> list[Post]:
    """Every item and reply as a Post, the way a crawler of the demo sites would record it.

    For tests and benchmarks that need realistic posts without crawling. Ids follow ``post_id_for``:
    the page URL for articles, threads and weibos, URL plus floor for replies and comments. Each post's
    ``extra["truth"]`` holds the ground truth (category, schools, relevant, story, anchor).
    """
    from urllib.parse import urlsplit

    site = urlsplit(base_url).netloc
    posts: list[Post] = []
    for item in corpus.items:
        if item.deleted:
            continue
        url = base_url + item.path
        parent = post_id_for(url)
        truth = {
            "category": item.category.value,
            "schools": list(item.schools),
            "relevant": item.relevant,
            "story": item.story,
            "anchor": item.anchor,
        }
        posts.append(
            Post(
                id=parent,
                url=url,
                source=DEMO_SOURCES[item.platform],
                site=site,
                kind=_KINDS[item.platform],
                title=item.title,
                content=item.text,
                author=item.author,
                published_at=item.published_at,
                metrics=Metrics(
                    reposts=item.reposts or None,
                    comments=item.comments or None,
                    likes=item.likes or None,
                    views=item.views or None,
                ),
                floor=1 if item.platform in ("tieba", "discuz") else None,
                extra={"truth": truth},
            )
        )
        reply_kind = PostKind.comment if item.platform == "weibo" else PostKind.reply
        for r in item.replies:
            posts.append(
                Post(
                    id=post_id_for(url, r.floor),
                    url=url,
                    source=DEMO_SOURCES[item.platform],
                    site=site,
                    kind=reply_kind,
                    title=item.title,
                    content=r.text,
                    author=r.author,
                    published_at=r.published_at,
                    thread_id=parent,
                    floor=r.floor,
                    extra={
                        "truth": {
                            "category": r.category.value,
                            "schools": list(r.schools),
                            "relevant": r.relevant,
                            "story": item.story,
                            "anchor": None,
                        }
                    },
                )
            )
    return posts
