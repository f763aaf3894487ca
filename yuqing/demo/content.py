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

_FOOD_WEIBO = (
    "#示例县一中食物中毒# 今天中午示例县第一中学食堂吃完午饭，高一好几个班的学生开始呕吐、肚子疼，"
    "已经有十多名学生被送到县人民医院住院观察，家长们都急疯了！学校到现在没有任何说法，"
    "食堂饭菜到底有没有问题？孩子们还在输液，@示例县教育局 @示例县市场监管 请给个说法！"
)
_FOOD_TIEBA_TITLE = "县一中食堂出事了，十几个学生呕吐住院"
_FOOD_TIEBA = (  # copied over from Weibo with a few words of the poster's own: a near-duplicate
    "转自微博：今天中午示例县第一中学食堂吃完午饭，高一好几个班的学生开始呕吐、肚子疼，"
    "已经有十多名学生被送到县人民医院住院观察，家长们都急疯了！学校到现在没有任何说法，"
    "食堂饭菜到底有没有问题？我家孩子同学也在里面，听说是中午的土豆烧肉有问题。食堂是外包的吧？出了这么大的事谁来负责？"
)
_FOOD_NEWS_TITLE = "示例县第一中学多名学生出现呕吐症状 县卫健、市场监管部门已介入调查"
_FOOD_NEWS = [
    "本报讯 11月下旬某日午饭后，示例县第一中学食堂就餐的部分高一学生陆续出现呕吐、腹痛等症状，"
    "学校随即联系120将学生送往县人民医院诊治。截至发稿时，共有14名学生住院观察，生命体征平稳。",
    "记者从县教育局了解到，事件发生后县教育局、县卫健局和县市场监管局第一时间赶赴现场，"
    "对示例县第一中学食堂留样食品进行封存送检，食堂已暂停供餐，学生改由县职教中心食堂临时配送。",
    "县教育局相关负责人表示，将根据检测结果依法依规严肃处理，并在全县开展校园食品安全专项检查。"
    "事件原因正在进一步调查中，本报将持续关注。",
]
_RUMOUR_WEIBO = (
    "网传示例县第二中学数学老师王某某是黑社会老大的亲戚，收了家长几十万红包才给学生排座位，"
    "还说校长是他表哥所以学校一直包庇他。这种败类根本不配当老师！消息绝对可靠，大家转起来，"
    "让更多人看清他们的真面目！！#示例县二中#"
)
_FEES_TITLE = "示例县实验小学开学收资料费合理吗？"
_FEES_BODY = (
    "孩子在示例县实验小学上三年级，这学期开学班主任在家长群里通知每人交资料费180元，说是教辅资料和练习册，"
    "没有收据，也没说是自愿的。想问问教育局：示例县实验小学开学收资料费合规吗？义务教育阶段学校统一收资料费"
    "有没有文件依据？收费标准是多少？不交会不会影响孩子？请相关部门尽快给个答复，谢谢。"
)
_SUGGESTION_TITLE = "关于完善东山镇中学课后服务的几点建议"
_SUGGESTION_BODY = (
    "作为东山镇中学的一名学生家长，看到学校今年开展了课后服务，孩子的作业基本能在学校完成，非常感谢老师们的付出。"
    "结合家长群里大家的意见，提几点建议：一是建议增加体育、美术、科技等兴趣类课程，不要只是写作业；"
    "二是建议把结束时间延长到18点，方便双职工家庭接孩子；三是建议公开课后服务的收费标准和课程安排，接受家长监督；"
    "四是建议为参与课后服务的老师落实补贴，调动老师的积极性。希望教育局和学校能够采纳，把这件好事办得更好。"
)
_OTHER_TITLE = "邻县第一中学发生学生斗殴事件 视频在网上流传"
_OTHER_BODY = [
    "近日，一段邻县第一中学学生在宿舍楼下斗殴的视频在网上流传，视频中多名学生互相推搡、殴打，一名学生被打倒在地。",
    "邻县教育局通报称，事件发生在邻县第一中学男生宿舍区，涉事学生已被家长带回，受伤学生无生命危险。"
    "邻县公安局已介入调查，学校将依据校规对涉事学生作出处理。",
]
_OTHER_WEIBO = "邻县第一中学又打架了，视频里好几个人围着一个学生打，邻县教育局管不管？#邻县一中打架#"


# --- names, places, template pools ----------------------------------------------------------------

_NICKS = [
    "城关老李",
    "东山的风",
    "西河小王子",
    "学渣一枚",
    "爱吃辣条的猫",
    "南岭人在外地",
    "示例老乡",
    "一只小透明",
    "二中毕业生",
    "青石镇老师",
    "路过打酱油",
    "家有小学生",
    "宝妈在线",
    "追风少年2009",
    "老城区张姐",
    "北坪乡亲",
    "夜猫子",
    "忆往昔",
    "不想上班的打工人",
    "吃瓜群众甲",
    "微风不燥",
    "小城故事多",
    "就是个路人",
    "职教中心老学长",
]
_WEIBO_NAMES = [
    "示例生活圈",
    "示例县同城",
    "小城那些事儿",
    "示例县在线",
    "爱示例的阿花",
    "示例县吃货团",
    "城关的小陈",
    "东山镇姑娘",
    "示例教育观察",
    "一个普通家长",
    "示例县新闻速递",
    "今天也要加油鸭",
    "老周说事",
    "西河乡人",
    "星星点灯2018",
    "示例县头条",
    "晨跑的兔子",
    "路人丙的日常",
]
_REPORTERS = ["李明", "张晓燕", "王建国", "陈静", "刘洋", "赵丽", "孙浩然", "周芳"]
_MEDIA = ["示例日报", "示例县融媒体中心", "示例市晚报", "示例省教育新闻网", "示例县广播电视台"]
_EXT_MEDIA = ["邻县新闻网", "江南都市报", "河西在线", "北湖区融媒体", "临川县电视台", "示例省法治报", "新闻晨报"]
_GOV_DEPTS = ["示例县教育局", "示例县人民政府办公室", "示例县教育局基础教育股", "示例县教育局安全办"]

_LEVEL_GROUP = {
    "幼儿园": "kg",
    "小学": "pri",
    "初中": "mid",
    "九年一贯制": "mid",
    "高中": "high",
    "完全中学": "high",
    "职业学校": "voc",
    "特殊教育": "pri",
    "其他": "pri",
}


@dataclass(frozen=True)
class _School:
    id: str
    name: str
    alias: str
    short: str
    town: str
    group: str


# The sample county's schools, for scale_posts (which has no config); build_corpus uses the config's.
_SAMPLE_SCHOOLS = [  # as _schools_from_config derives them from config/schools.yaml (a test keeps them equal)
    _School("county-no1-high", "示例县第一中学", "示例县一中", "一中", "城关镇", "high"),
    _School("county-no2-high", "示例县第二中学", "示例县二中", "二中", "城关镇", "high"),
    _School("county-experimental-primary", "示例县实验小学", "示例实验小学", "实小", "城关镇", "pri"),
    _School("dongshan-middle", "示例县东山镇中学", "东山镇中学", "东山中学", "东山镇", "mid"),
    _School("xihe-central-primary", "示例县西河乡中心小学", "西河乡中心小学", "西河小学", "西河乡", "pri"),
    _School(
        "nanling-school", "示例县南岭镇九年一贯制学校", "南岭镇九年一贯制学校", "南岭镇九年一贯制学校", "南岭镇", "mid"
    ),
    _School("county-vocational", "示例县职业技术教育中心", "示例县职教中心", "职教中心", "城关镇", "voc"),
    _School("county-kindergarten", "示例县第一幼儿园", "示例县一幼", "一幼", "城关镇", "kg"),
    _School("beiping-primary", "示例县北坪乡小学", "北坪乡小学", "北坪乡小学", "北坪乡", "pri"),
    _School("qingshi-middle", "示例县青石镇初级中学", "青石镇初级中学", "青石镇初级中学", "青石镇", "mid"),
]


@dataclass(frozen=True)
class _T:
    """A template: category, the level groups it fits ('' = any), title and body with placeholders.

    Placeholders: {name} official name, {alias}, {short} short form, {town} township, {county},
    {n} a small number, {m} money, {d} a date like 11月20日.
    """

    category: Category
    groups: str
    title: str
    body: str


_SENSITIVE: list[_T] = [
    # inquiry 询问/置疑/诉求
    _T(
        Category.inquiry,
        "pri mid",
        "{alias}划片入学问题",
        "我家住在{town}新建的小区，按理应该划到{name}，今年报名却被告知不在学区内，要去十几公里外的学校。想问教育局今年的划片范围到底是怎么定的？为什么同一个小区前后两栋楼划得不一样？请给个明确答复。",
    ),
    _T(
        Category.inquiry,
        "high mid",
        "{alias}周末补课收费吗",
        "{name}初三（高三）周六全天都要到校补课，每个学期收补课费{m}元，说是自愿，不交的学生班主任会单独找。双减以后还能这样收费补课吗？请教育局核实一下。",
    ),
    _T(
        Category.inquiry,
        "",
        "问下{name}食堂的问题",
        "孩子在{name}住校，回家说食堂饭菜经常是凉的，菜里油很少，一顿饭要{n}块钱。想问问学校食堂是谁在承包？价格和饭菜标准有没有人监管？家长能不能去看看？",
    ),
    _T(
        Category.inquiry,
        "pri mid kg",
        "{alias}校车什么时候恢复",
        "{town}这边的校车停了快两周了，孩子每天要走四十分钟山路上学，天冷了路上也不安全。请问{name}的校车什么时候能恢复？停运的原因是什么？",
    ),
    _T(
        Category.inquiry,
        "",
        "{alias}的营养餐标准是多少",
        "听说国家营养改善计划每个学生每天有补助，可{name}的营养餐就是一盒牛奶加一个面包，好几天都是一样的。请问营养餐的标准是多少？钱都用在哪里了？",
    ),
    _T(
        Category.inquiry,
        "high voc",
        "{alias}强制学生买校服",
        "{name}今年又要求学生统一买新校服，一套{m}元，去年的校服还是新的。学校说是上面要求的，请问教育局有这个规定吗？能不能自愿购买？",
    ),
    _T(
        Category.inquiry,
        "pri kg",
        "{alias}放学时间太早了",
        "{name}下午三点半就放学，双职工家庭根本没法接。课后服务说是要报名排队，名额不够。请问什么时候能让所有想参加的孩子都能参加课后服务？",
    ),
    _T(
        Category.inquiry,
        "mid high",
        "{alias}学生手机被收了不还",
        "孩子带手机到{name}被老师收了，说要到学期末才还，手机里有家里联系用的东西。请问学校这样做有规定吗？家长去要也不给。",
    ),
    # incident 突发事件的传播/炒作
    _T(
        Category.incident,
        "mid high voc",
        "{alias}学生打架视频流出",
        "刚刷到一个视频，{name}几个学生在厕所围殴一个学生，还有人在旁边拍视频笑，被打的学生一直在求饶。学校有没有人管？这已经是欺凌了吧！视频都传疯了。",
    ),
    _T(
        Category.incident,
        "pri mid kg",
        "{town}校车出事了",
        "今天早上{town}往{name}方向的校车在弯道冲出路边，车上有十来个学生，听说有几个受伤送医院了，具体情况还不清楚。天这么冷路面结冰，校车还超载？",
    ),
    _T(
        Category.incident,
        "high mid",
        "{alias}有学生从楼上掉下来",
        "{name}教学楼下午拉了警戒线，救护车来了好几辆，听说有学生从四楼坠楼，现场好多人围观，学校在疏散学生。不知道孩子怎么样了，求平安。",
    ),
    _T(
        Category.incident,
        "",
        "{alias}老师体罚学生",
        "{name}一个班主任因为学生没交作业，让学生在走廊罚站一上午，还用尺子打手心，孩子手都肿了。家长去找学校，学校说老师也是为了孩子好。这样体罚学生合适吗？",
    ),
    _T(
        Category.incident,
        "pri kg",
        "{alias}孩子集体发烧",
        "{name}这两天好多孩子发烧请假，我家孩子班上一半没来，有家长说是诺如病毒。学校也没通知消毒停课，真担心。",
    ),
    # fabrication 捏造/歪曲/诽谤
    _T(
        Category.fabrication,
        "",
        "{alias}校长被抓了？",
        "听说{name}校长昨晚被纪委带走了，说是贪了几百万的基建款，学校账上的钱都被他转走了，千真万确！学校马上就要合并到县城，老师都要下岗了，大家赶紧转学！",
    ),
    _T(
        Category.fabrication,
        "",
        "曝光{alias}的黑幕",
        "{name}就是个黑窝，领导全是关系户，老师上课不讲下课开补习班骗钱，一个比一个恶心，这帮人渣早晚遭报应！知道内情的都来说说，转发让教育局看看！",
    ),
    _T(
        Category.fabrication,
        "high mid",
        "{alias}死了一个学生学校瞒报",
        "内部消息：{name}上周有学生在宿舍死了，学校花钱封口不让家长说，教育局也在帮着捂盖子！我亲戚就在学校上班，绝对真实。转疯它！",
    ),
    _T(
        Category.fabrication,
        "",
        "{alias}要停课了",
        "紧急通知：{name}发现多例传染病，明天起全校停课一个月，县里已经封锁消息了，家长们快去接孩子！（朋友圈看到的，大家转发）",
    ),
    # suggestion 积极建议
    _T(
        Category.suggestion,
        "pri mid",
        "对{alias}课后服务的建议",
        "建议{name}的课后服务增加阅读、书法和体育活动，让孩子在学校有更丰富的选择；同时希望学校公开课程安排，方便家长了解，也建议教育局给参与的老师适当补贴。",
    ),
    _T(
        Category.suggestion,
        "",
        "建议{alias}门口设置接送等候区",
        "{name}放学时门口非常拥堵，家长的电动车和汽车把路都堵死了，孩子穿行很危险。建议在学校门口划设接送等候区，安排交警和志愿者疏导，错峰放学。",
    ),
    _T(
        Category.suggestion,
        "mid high",
        "关于{alias}心理健康教育的建议",
        "现在学生的学习压力大，建议{name}配备专职心理老师，每学期开展心理健康讲座，设立心理咨询室，让有困难的孩子能找到人倾诉。也建议家校多沟通。",
    ),
    _T(
        Category.suggestion,
        "pri kg mid",
        "建议{town}学校增加冬季取暖设施",
        "{town}冬天很冷，{name}不少教室还没有取暖设备，孩子们手都冻裂了。建议教育局统筹安排，给乡镇学校的教室配备安全的取暖设施。",
    ),
]

_ORDINARY: list[_T] = [
    _T(
        Category.none,
        "",
        "{name}举行秋季运动会",
        "{d}，{name}第{n}届秋季田径运动会隆重开幕。全校师生齐聚操场，各班方阵精神饱满。比赛设有100米、400米接力、跳远、拔河等项目，同学们奋勇拼搏，赛出了风格、赛出了水平。",
    ),
    _T(
        Category.none,
        "",
        "{name}开展消防安全演练",
        "为提高师生安全意识和自救能力，{name}联合{town}消防中队开展消防安全疏散演练。警报响起后，师生用湿毛巾捂住口鼻，沿指定路线有序撤离，全程用时{n}分钟。",
    ),
    _T(
        Category.none,
        "",
        "{name}教师在全县优质课评比中获佳绩",
        "在近日举行的全县中小学优质课评比活动中，{name}{n}名教师获一等奖。近年来，学校坚持以赛促教，教师专业水平不断提升。",
    ),
    _T(
        Category.none,
        "high",
        "{name}召开高三年级家长会",
        "{d}下午，{name}召开高三年级家长会，校长向家长介绍了高考备考工作安排，班主任与家长就学生的学习和心理状况进行了交流。",
    ),
    _T(
        Category.none,
        "pri kg",
        "{name}开展“书香校园”阅读活动",
        "{name}启动“书香校园”读书月活动，开展亲子共读、好书推荐、读书手抄报评比等活动，营造浓厚的读书氛围。",
    ),
    _T(
        Category.none,
        "",
        "{name}组织学生参观红色教育基地",
        "{d}，{name}组织学生代表前往县革命纪念馆开展研学活动，同学们认真聆听讲解，深受教育。",
    ),
    _T(
        Category.none,
        "mid high",
        "{name}举办科技节",
        "{name}第{n}届校园科技节开幕，机器人展示、航模比赛、科学小实验等活动吸引了全校师生参与。",
    ),
    _T(
        Category.none,
        "voc",
        "{name}学生在全省技能大赛获奖",
        "在示例省职业院校技能大赛中，{name}学生获得汽车维修项目二等奖、电子商务项目三等奖，创历史最好成绩。",
    ),
    _T(
        Category.none,
        "kg pri",
        "{name}举办亲子运动会",
        "{name}举办冬季亲子运动会，孩子们和爸爸妈妈一起参加袋鼠跳、两人三足等游戏，现场欢声笑语。",
    ),
    _T(
        Category.none,
        "",
        "{name}开展教师读书分享会",
        "{name}开展教师读书分享会，{n}位老师分享了各自的读书心得，大家表示要把阅读收获运用到教学实践中。",
    ),
]

_CHATTER = [
    "{short}今天放假吗？",
    "{short}放假了吗",
    "有没有{short}的老乡，出来聊聊",
    "{short}的饭堂还是那么难吃吗哈哈",
    "怀念在{short}读书的日子，那时候的老师真好",
    "{short}门口那家炒粉还开着吗？",
    "明天去{short}开家长会，有一起的吗",
    "今天路过{short}，新教学楼盖好了，挺气派",
    "{short}今年招生怎么样？",
    "刚下晚自习，好累",
    "{short}的校服今年换款式了？",
    "求问{short}周末可以进去打球吗",
    "{short}附近有没有靠谱的午托",
    "今天{short}开运动会，儿子跑了第二名，开心",
    "{short}高三的娃们加油啊！",
    "有{short}的学长学姐吗，想问问住宿条件",
    "下雪了，{short}的操场好漂亮",
    "{short}那边堵车堵得厉害，绕路吧",
    "谁知道{short}图书馆周末开不开",
    "这周{short}家长会是几点？",
]
_PRAISE = [
    "给{alias}的{teacher}老师点个赞，孩子成绩进步了很多，每天晚上还在群里答疑到十点。",
    "今天去{alias}参加开放日，校园干净，老师认真负责，孩子在这里上学放心。",
    "{alias}的午餐越来越好了，今天有红烧鸡腿和青菜汤，孩子说好吃。",
    "感谢{alias}的老师们，孩子发烧在学校晕倒，班主任第一时间送医院还垫付了医药费。",
    "{county}今年新建的{alias}新校区投入使用了，设施很好，给教育局点赞。",
    "{alias}的{teacher}老师太负责了，孩子生病请假，老师专门打电话给他补课。",
    "{alias}这学期的课后服务开了篮球和书法，孩子每天都很期待。",
    "看到{alias}的孩子们在艺术节上的表演，真的很感动，老师们辛苦了！",
    "{alias}门口新装了红绿灯，还有老师和志愿者护学，接孩子安心多了。",
    "{alias}食堂开放日去看了，后厨很干净，有留样柜，饭菜也热乎。",
]
_OPENERS = ["", "", "", "说实话，", "有人知道吗？", "求助：", "真心问一下，", "吐槽一下，", "唉，", "急！"]
_CLOSERS = ["", "", "", "……", "！！", "，大家怎么看？", "，求扩散", "，坐等回复", "。在线等", "，顶上去"]
_TAGS = {
    Category.inquiry: ["#{alias}#", "#{county}教育#", "#家长心声#", ""],
    Category.incident: ["#{alias}#", "#{county}突发#", "#{county}身边事#", ""],
    Category.fabrication: ["#{alias}内幕#", "#扩散#", "#{county}爆料#", ""],
    Category.suggestion: ["#{county}教育#", "#我为教育献一策#", ""],
}
_TEACHERS = ["张", "李", "王", "刘", "陈", "杨", "黄", "吴"]
_REPLIES_SUPPORT = [
    "顶一下，希望有关部门重视",
    "同问，我家也是这种情况",
    "楼主说的是真的，我也听说了",
    "蹲一个后续",
    "教育局信箱可以反映一下",
    "支持楼主，这种事情必须说出来",
    "已经打过12345了，说会转给教育局",
    "我们班也交了",
    "别急，等学校通知吧",
    "这个问题存在好几年了",
]
_REPLIES_CHATTER = [
    "路过",
    "mark",
    "沙发",
    "前排围观",
    "哈哈哈哈",
    "楼主是哪个班的",
    "同校的举个手",
    "说得好",
    "有没有人知道具体情况",
    "顶",
    "不明真相",
    "帮顶",
]
_REPLIES_DOUBT = [
    "不要乱传谣言，等官方通报",
    "楼主有证据吗？没有证据别乱说",
    "我就是这个学校的，根本没这回事",
    "这种帖子一看就是瞎编的",
    "造谣是要负法律责任的",
]
_OTHER_PLACE_TEMPLATES = [
    _T(
        Category.incident,
        "",
        "{other}一中食堂饭菜发霉",
        "{other}一中食堂的米饭都发霉了还给学生吃，学生拍了照片发到网上，{other}教育局说正在调查。",
    ),
    _T(
        Category.none,
        "",
        "{other}实验小学举行运动会",
        "{other}实验小学近日举行第十届田径运动会，全校一千多名学生参加。",
    ),
    _T(
        Category.inquiry,
        "",
        "{other}二中补课收费",
        "{other}二中高三每月收补课费800元，家长反映到{other}教育局，目前还没有答复。",
    ),
    _T(
        Category.none,
        "",
        "{other}第一中学新校区开工",
        "{other}第一中学新校区项目近日开工建设，建成后可容纳学生三千人。",
    ),
]
_GOV_TITLES = [
    (
        "关于做好{year}年冬季校园安全工作的通知",
        "各乡镇中心学校、县直各学校：为切实做好冬季校园安全工作，现就有关事项通知如下：一、加强防火用电安全检查；二、做好校车安全管理，严禁超员超速；三、落实食品安全校长负责制和陪餐制度；四、加强学生防溺水、防滑倒安全教育。各校要高度重视，压实责任。",
    ),
    (
        "{county}{year}年义务教育阶段招生入学政策解读",
        "按照“免试、就近、划片”原则，县城区小学、初中按划定学区招生。适龄儿童少年凭户籍、房产或居住证明在学区内学校报名，随迁子女按规定享受同等待遇。各学校划片范围详见附件。",
    ),
    (
        "{county}教育局关于公布校外培训机构白名单的公告",
        "为规范校外培训行为，保障学生和家长合法权益，经审核，现将我县合规校外培训机构名单予以公布，请家长选择白名单内的机构，谨防上当受骗。",
    ),
    (
        "{county}召开全县教育系统安全生产工作会议",
        "{d}，{county}召开全县教育系统安全生产工作会议，安排部署冬季安全生产工作。会议要求各学校全面排查安全隐患，确保师生安全。",
    ),
    (
        "{county}教育局开展中小学食堂食品安全专项检查",
        "近日，县教育局联合县市场监管局对全县中小学食堂开展食品安全专项检查，重点检查食材采购索证索票、留样、从业人员健康证等情况，对发现的问题当场督促整改。",
    ),
    (
        "关于{year}年全县中小学教师招聘的公告",
        "根据工作需要，经县人民政府同意，面向社会公开招聘中小学教师{n}名，岗位详见附件，报名时间为{d}至月底。",
    ),
    (
        "{county}“双减”工作推进会召开",
        "会议总结了全县“双减”工作开展情况，要求各学校提升课后服务质量，严控作业总量，严禁违规补课。",
    ),
    (
        "{county}学生资助政策告家长书",
        "为保障家庭经济困难学生顺利完成学业，我县落实从学前教育到高中阶段的学生资助政策。如有疑问，请拨打县学生资助管理中心电话咨询。",
    ),
    (
        "{county}教育局对网民留言的答复",
        "网民您好！您反映的学校门口交通拥堵问题已收悉。县教育局已会同县公安局交警大队制定错峰放学方案，并在学校门口增设接送等候区。感谢您对教育工作的关心和支持。",
    ),
    (
        "{county}{year}年秋季学期开学工作检查情况通报",
        "开学前后，县教育局组成{n}个检查组，对全县学校开学准备、校园安全、食堂卫生等情况进行了检查，总体情况良好，对个别问题已督促整改到位。",
    ),
]


# --- generation ------------------------------------------------------------------------------------


def _schools_from_config(cfg: Config | None) -> list[_School]:
    if cfg is None:
        return list(_SAMPLE_SCHOOLS)
    out = []
    for s in cfg.schools:
        alias = s.aliases[0] if s.aliases else s.name
        short = s.short_forms[-1] if s.short_forms else alias
        out.append(_School(s.id, s.name, alias, short, s.township, _LEVEL_GROUP.get(s.level, "pri")))
    return out


class _Builder:
    """Builds the corpus; one instance per build_corpus call (holds the RNG and counters)."""

    def __init__(self, seed: int, now: datetime, schools: list[_School], county: str, others: list[str]) -> None:
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

    def fill(self, text: str, school: _School | None = None, **extra: str) -> str:
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
            "teacher": self.rng.choice(_TEACHERS),
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
            opener, closer = self.rng.choice(_OPENERS), self.rng.choice(_CLOSERS)
        else:
            opener, closer = (
                self.rng.choice(["", "", "分享一下：", "哈哈，"]),
                self.rng.choice(["", "", "～", "！", "，赞"]),
            )
        if closer and text[-1:] in "。！？!?":
            text = text[:-1]
        return f"{opener}{text}{closer}"

    def mentions(self, text: str, school: _School) -> bool:
        return any(n in text for n in (school.name, school.alias, school.short))

    def school_for(self, template: _T) -> _School:
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
            return self.rng.choice(_WEIBO_NAMES)
        if platform in ("news", "ext"):
            return self.rng.choice(_REPORTERS)
        if platform == "gov":
            return self.rng.choice(_GOV_DEPTS)
        return self.rng.choice(_NICKS)

    def engagement(self, category: Category) -> tuple[int, int, int]:
        hot = category in (Category.incident, Category.fabrication)
        scale = 40 if hot else 6
        return (self.rng.randint(0, scale * 10), self.rng.randint(0, scale * 5), self.rng.randint(1, scale * 20))

    def replies(self, item: DemoItem, count: int, sensitive: bool, doubt: bool = False) -> None:
        pool = (
            (_REPLIES_DOUBT + _REPLIES_CHATTER)
            if doubt
            else (_REPLIES_SUPPORT + _REPLIES_CHATTER)
            if sensitive
            else (_REPLIES_CHATTER + ["说得对", "学习了", "谢谢分享", "希望越来越好", "点赞"])
        )
        t = item.published_at
        for floor in range(2, count + 2):
            t = min(self.now, t + timedelta(minutes=self.rng.randint(3, 600)))
            item.replies.append(Reply(floor, self.rng.choice(_NICKS), self.rng.choice(pool), t))
        item.comments = count

    def article_body(self, lead: str, school: _School | None, paragraphs: int) -> str:
        """A news-style article: the lead plus context paragraphs, as paragraphs separated by newlines."""
        extra = [
            "据了解，近年来{county}持续加大教育投入，改善办学条件，全县义务教育学校标准化建设实现全覆盖。",
            "{name}始终坚持立德树人根本任务，注重学生全面发展，办学质量稳步提升，社会满意度逐年提高。",
            "活动中，{town}党委政府有关负责同志到场指导，对学校的做法给予充分肯定。",
            "学校负责人表示，下一步将继续深化教育教学改革，努力办好人民满意的教育。",
            "县教育局有关负责人介绍，全县现有各级各类学校{n}十余所，在校学生三万余人。",
            "家长代表纷纷表示，这样的活动既丰富了孩子们的校园生活，也拉近了家校之间的距离。",
            "此次活动进一步增强了师生的安全意识，为建设平安校园打下了坚实基础。",
            "据悉，该校将把此项活动作为常态化工作，每学期定期开展，形成长效机制。",
        ]
        chosen = self.rng.sample(extra, k=min(paragraphs, len(extra)))
        return "\n".join([lead, *(self.fill(p, school) for p in chosen)])

    def title_for_article(self, template: _T, school: _School) -> str:
        return self.fill(template.title, school)


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
        _FOOD_WEIBO,
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
    tb = b.add("tieba", _FOOD_TIEBA_TITLE, _FOOD_TIEBA, published_at=t0 + timedelta(minutes=25), **truth)
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
        _FOOD_NEWS_TITLE,
        "\n".join(_FOOD_NEWS),
        published_at=t0 + timedelta(hours=3),
        media="示例日报",
        author="张晓燕",
        **truth,
    )

    fees = ANCHORS["FEES_INQUIRY"]
    th = b.add(
        "discuz",
        _FEES_TITLE,
        _FEES_BODY,
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
        _RUMOUR_WEIBO,
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
        _SUGGESTION_TITLE,
        _SUGGESTION_BODY,
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
        _OTHER_TITLE,
        "\n".join(_OTHER_BODY),
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
        _OTHER_WEIBO,
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
        t = _ORDINARY[i % len(_ORDINARY)]
        school = b.school_for(t)
        body = b.article_body(b.fill(t.body, school), school, b.rng.randint(2, 6))
        b.add("news", b.fill(t.title, school), body, schools=(school.id,), relevant=True, media=b.rng.choice(_MEDIA))
    # A long feature (about 1,500 characters).
    school = b.schools[0]
    paras = [b.fill(t.body, school) for t in _ORDINARY] + [
        b.fill(p, school)
        for p in (
            "{name}现有教学班{n}十个，在校学生两千余人，教职工两百余人。学校先后获得省级文明校园、市级示范性高中等称号。",
            "走进{name}，整洁的校园、浓厚的学习氛围让人印象深刻。近年来学校投入资金改造了图书馆、实验室和学生宿舍。",
        )
    ]
    while sum(map(len, paras)) < 1500:
        paras.append(b.article_body(b.fill(b.rng.choice(_ORDINARY).body, school), school, 4))
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
        title, body = _GOV_TITLES[i % len(_GOV_TITLES)]
        if i >= len(_GOV_TITLES):
            t = _ORDINARY[(i * 3) % len(_ORDINARY)]
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
    for t in _OTHER_PLACE_TEMPLATES:
        for other in b.rng.sample(b.others, k=2):
            b.add(
                "ext",
                b.fill(t.title, other=other),
                b.fill(t.body, other=other),
                relevant=False,
                category=t.category,
                media=b.rng.choice(_EXT_MEDIA),
            )
    # A provincial paper reprints the food-poisoning story with edits (near-duplicate across sites).
    fp = ANCHORS["FOOD_POISONING"]
    b.add(
        "ext",
        "示例县一中十余名学生呕吐送医 原因正在调查",
        _near_copy(b.rng, _FOOD_NEWS[0]) + "\n" + _FOOD_NEWS[2],
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
    deck = [t for t in _SENSITIVE if t.category is not Category.none]
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
            text = b.fill(b.rng.choice(_CHATTER), school)
            # On a board about the county a short form is enough; a post naming no school is about none.
            truth: dict[str, Any] = (
                dict(schools=(school.id,), relevant=True) if b.mentions(text, school) else dict(relevant=False)
            )
            item = b.add(platform, text, text + (" 如题" if b.rng.random() < 0.5 else ""), **truth)
            b.replies(item, b.rng.randint(2, 8), False)
        elif roll < 0.55:
            t = b.rng.choice(_OTHER_PLACE_TEMPLATES)
            other = b.rng.choice(b.others)
            item = b.add(
                platform, b.fill(t.title, other=other), b.fill(t.body, other=other), relevant=False, category=t.category
            )
            b.replies(item, b.rng.randint(2, 5), False)
        else:
            school = b.rng.choice(b.schools)
            text = b.voice(b.fill(b.rng.choice(_PRAISE), school), upset=False)
            title = text[: b.rng.randint(10, 18)].rstrip("，。") + ("……" if b.rng.random() < 0.5 else "")
            item = b.add(platform, title, text, schools=(school.id,), relevant=True)
            b.replies(item, b.rng.randint(2, 10), False)


def _tieba(b: _Builder) -> None:
    _forum_threads(b, "tieba", 17)
    # A near-duplicate of a Weibo story (the school-bus accident), a long thread over two pages, and a short one.
    school = next((s for s in b.schools if s.group == "mid"), b.schools[0])
    bus = b.fill(_SENSITIVE[9].body, school)
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
            b.rng.choice(_NICKS),
            b.rng.choice(_REPLIES_SUPPORT + _REPLIES_CHATTER),
            min(b.now, item.published_at + timedelta(hours=f)),
        )
        for f in range(17, 36)
    )
    item.comments = len(item.replies)
    short = b.add("tieba", "一中放假了吗", "一中放假了吗", schools=(b.schools[0].id,), relevant=True)
    b.replies(short, 3, False)


def _discuz(b: _Builder) -> None:
    _forum_threads(b, "discuz", 11)
    school = next((s for s in b.schools if s.group == "pri"), b.schools[0])
    zoning = b.fill(_SENSITIVE[0].body, school)
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


_EMOTICONS = ["[怒]", "[泪]", "[赞]", "[心]", "[允悲]", "[doge]", "[吃惊]", "[哈哈]"]
_COMMENTS_UPSET = [
    "学校必须给个说法",
    "教育局管管吧",
    "转发了，希望有人重视",
    "太过分了",
    "同是家长，感同身受",
    "已经打12345反映了",
    "坐等官方回应",
    "这种事不是第一次了",
]
_COMMENTS_CALM = ["是真的吗？", "等通报吧，别信谣", "关注", "路过", "支持", "哈哈哈", "好的", "有道理"]


def _weibo_extras(b: _Builder) -> None:
    """Emoticons (shown by Weibo as <span class="url-icon"> images) and comments under many weibos."""
    for item in [i for i in b.items if i.platform == "weibo"]:
        personal = item.author not in ("示例县新闻速递", "示例教育观察") and item.anchor is None
        if personal and b.rng.random() < 0.3:
            item.text += b.rng.choice(_EMOTICONS)
        if item.retweet_of or not (item.anchor or item.sensitive or b.rng.random() < 0.3):
            continue
        shown = item.comments
        pool = _COMMENTS_UPSET + _COMMENTS_CALM if item.sensitive else _COMMENTS_CALM
        t = item.published_at
        for n in range(b.rng.randint(2, 12)):
            t = min(b.now, t + timedelta(minutes=b.rng.randint(1, 180)))
            text = b.rng.choice(pool) + (b.rng.choice(_EMOTICONS) if b.rng.random() < 0.3 else "")
            item.replies.append(Reply(n + 2, b.rng.choice(_WEIBO_NAMES + _NICKS), text, t))
        item.comments = max(shown, len(item.replies))  # Weibo shows a count larger than the hot comments


def _weibo(b: _Builder) -> None:
    """60+ weibos: ordinary chatter and praise, sensitive posts with hashtags and @mentions, reposts, long text."""
    sensitive = [t for t in _SENSITIVE if t.category is not Category.none]
    for i in range(62):
        roll = b.rng.random()
        school = b.rng.choice(b.schools)
        topic = b.rng.random() < 0.3
        if roll < 0.25:
            t = sensitive[(i * 7) % len(sensitive)]
            school = b.school_for(t)
            tag = b.fill(b.rng.choice(_TAGS[t.category]), school)
            text = tag + b.voice(b.fill(t.body, school)) + (f" @{b.county}教育局" if b.rng.random() < 0.6 else "")
            b.add("weibo", "", text, schools=(school.id,), relevant=True, category=t.category, topic=topic)
        elif roll < 0.45:
            b.add(
                "weibo",
                "",
                b.voice(b.fill(b.rng.choice(_PRAISE), school), upset=False),
                schools=(school.id,),
                relevant=True,
                topic=topic,
            )
        elif roll < 0.60:
            # Short forms without county context on an unscoped source: nobody can tell which 一中 is meant.
            ambiguous = [s for s in b.schools if s.short != s.alias] or b.schools
            b.add("weibo", "", b.fill(b.rng.choice(_CHATTER), b.rng.choice(ambiguous)), relevant=False, topic=True)
        elif roll < 0.70:
            t = b.rng.choice(_OTHER_PLACE_TEMPLATES)
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
            t = _ORDINARY[i % len(_ORDINARY)]
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
    # Constructive suggestions are rarer than complaints but the bureau must see them too.
    for t in [t for t in _SENSITIVE if t.category is Category.suggestion][:2]:
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
    long_text = "#示例县教育#" + "".join(b.fill(t.body, school) for t in _ORDINARY[:4])
    b.add("weibo", "", long_text, schools=(school.id,), relevant=True, author="示例教育观察", topic=True)
    # The school-bus story on Weibo and a repost of it (near-duplicates of the Tieba thread).
    mid = next((s for s in b.schools if s.group == "mid"), b.schools[0])
    orig = b.add(
        "weibo",
        "",
        "#示例县校车事故# " + b.fill(_SENSITIVE[9].body, mid),
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
        _near_copy(b.rng, b.fill(_SENSITIVE[0].body, pri)) + " @示例县教育局",
        schools=(pri.id,),
        relevant=True,
        category=Category.inquiry,
        story="zoning",
    )


def _scale(b: _Builder, n: int) -> None:
    """n extra items for crawl benchmarks, made from the same templates (ground truth included)."""
    pieces = [*_SENSITIVE, *_ORDINARY, *_ORDINARY]  # still mostly ordinary
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
    b = _Builder(seed, now, list(_SAMPLE_SCHOOLS), "示例县", ["邻县", "临川县", "北湖区", "河西县", "江南市"])
    pieces = [*_SENSITIVE, *_ORDINARY, *_OTHER_PLACE_TEMPLATES]
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
                author=rng.choice(_NICKS),
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
