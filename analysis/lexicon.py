"""The transparent baseline: weighted cue terms per category, used when no trained model file exists.

Each category has cue terms with weights (how strongly a term says "this needs the working group, and
in this way"). A text's category score is the sum of the weights of the distinct cues it contains;
sensitivity is a saturating function of the best category's score, and the explanation lists the cues
that contributed. Crude on purpose: it is the fallback and the yardstick the trained model must beat.
Sentiment is a small polarity lexicon over the same text.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from analysis.kernels import Automaton
from yuqing.model import Category

NAME = "lexicon"
VERSION = "1"

CUES: dict[Category, dict[str, float]] = {
    Category.inquiry: {
        "请问": 1.2, "想问": 1.2, "问问": 0.8, "答复": 1.2, "给个说法": 1.0, "给个答复": 1.2, "合理吗": 1.2,
        "合规吗": 1.4, "规定吗": 1.4, "有没有文件": 1.4, "文件依据": 1.2, "依据": 0.5, "核实": 1.0, "怎么定": 1.0,
        "为什么": 0.6, "能不能": 0.6, "什么时候": 0.6, "有没有人监管": 1.0, "乱收费": 1.2, "收费": 0.7,
        "补课费": 0.8, "资料费": 0.8, "划片": 0.6, "不在学区": 1.0, "请教育局": 1.0, "请相关部门": 1.0,
        "强制": 0.7, "投诉": 1.0, "反映": 0.5, "诉求": 1.0, "不让": 0.4, "退还": 0.8, "不还": 0.8,
    },
    Category.incident: {
        "食物中毒": 2.5, "呕吐": 1.6, "住院": 1.2, "送医": 1.2, "送到县人民医院": 1.0, "打架": 1.6, "围殴": 2.0,
        "斗殴": 1.8, "欺凌": 1.8, "霸凌": 1.8, "殴打": 1.8, "被打": 1.2, "坠楼": 2.5, "跳楼": 2.5, "受伤": 1.4,
        "救护车": 1.4, "警戒线": 1.4, "体罚": 1.8, "打手心": 1.4, "罚站": 1.0, "发烧": 0.9, "诺如": 1.4,
        "传染": 0.8, "视频": 0.6, "传疯": 1.2, "出事": 1.2, "冲出": 1.2, "事故": 1.4, "死亡": 2.0, "身亡": 2.0,
        "溺水": 2.0, "溺亡": 2.0, "踩踏": 2.0, "火灾": 2.0, "猥亵": 2.5, "性侵": 2.5, "自杀": 2.5, "超载": 1.0,
        "急疯": 0.8, "输液": 0.8, "中毒": 1.5, "发霉": 1.8, "变质": 1.6, "彻查": 1.0,
    },
    Category.fabrication: {
        "网传": 1.2, "内部消息": 1.6, "千真万确": 1.8, "绝对真实": 1.8, "绝对可靠": 1.8, "消息绝对": 1.2,
        "转起来": 1.4, "转疯": 1.6, "大家转发": 1.2, "转发让": 1.2, "黑幕": 1.6, "黑窝": 1.8, "人渣": 1.8,
        "败类": 1.6, "关系户": 1.2, "遭报应": 1.6, "封口": 1.6, "捂盖子": 1.8, "瞒报": 1.6, "封锁消息": 1.8,
        "被抓": 1.4, "带走": 0.8, "贪了": 1.4, "黑社会": 1.8, "紧急通知": 1.2, "包庇": 1.4, "骗钱": 1.4,
        "恶心": 0.8, "真面目": 1.2, "赶紧转学": 1.4, "下岗": 0.8, "朋友圈看到": 1.2,
    },
    Category.suggestion: {
        "建议": 1.4, "几点建议": 1.6, "提几点": 1.2, "希望": 0.6, "采纳": 1.4, "完善": 0.8, "增加": 0.5,
        "配备": 0.6, "设立": 0.6, "统筹": 0.6, "办得更好": 1.0, "接受家长监督": 0.8, "适当补贴": 0.8,
    },
}
# Praise and ordinary news lower the score: an upbeat post that mentions 收费 is not a complaint.
CALM: dict[str, float] = {
    "点个赞": 1.5, "点赞": 1.2, "放心": 1.0, "表彰": 1.2, "喜报": 1.5, "荣获": 1.2, "顺利举行": 1.2,
    "圆满": 1.0, "开展": 0.4, "活动": 0.4, "比赛": 0.6, "好吃": 0.8, "认真负责": 1.0, "进步": 0.6,
}

POSITIVE = ("感谢", "点赞", "点个赞", "放心", "满意", "好吃", "认真负责", "进步", "喜报", "荣获", "优秀", "表扬")
NEGATIVE = (
    "愤怒", "恶心", "急疯", "投诉", "不满", "败类", "人渣", "黑窝", "遭报应", "担心", "危险", "受伤", "呕吐",
    "欺凌", "打", "死", "骗", "不合理", "强制", "求平安", "谁来负责", "太早", "冷",
)

# Sensitivity = 1 - exp(-k * net score): about 0.5 at a score of 1.7, 0.8 at 3.9.
_K = 0.41
THRESHOLD = 0.5


@dataclass
class LexiconResult:
    sensitivity: float
    category: Category
    explanation: list[tuple[str, float]]
    scores: dict[Category, float]


def _alternation(terms: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(map(re.escape, sorted(terms, key=len, reverse=True))))


class LexiconScorer:
    name = f"{NAME}-{VERSION}"

    def __init__(self) -> None:
        weights: dict[str, list[tuple[Category | None, float]]] = {}
        for cat, cues in CUES.items():
            for term, w in cues.items():
                weights.setdefault(term, []).append((cat, w))
        for term, w in CALM.items():
            weights.setdefault(term, []).append((None, -w))
        self._weights = weights
        # Cues hidden inside a longer cue (中毒 in 食物中毒): the alternation finds only the longer one.
        self._inner = {t: [o for o in weights if o != t and o in t] for t in weights}
        self._re = _alternation(list(weights))
        self._polarity = {t: 1 for t in POSITIVE} | {t: -1 for t in NEGATIVE}
        # the alternation's matches (leftmost, longest first), summed in one compiled scan
        polar = sorted(self._polarity, key=len, reverse=True)
        self._polar_total = Automaton(polar).total
        self._polar_weights = np.array([self._polarity[t] for t in polar], dtype=np.int64)

    def score(self, text: str) -> LexiconResult:
        found = set(self._re.findall(text))
        for term in list(found):
            found.update(self._inner[term])
        scores = {c: 0.0 for c in CUES}
        calm = 0.0
        contrib: dict[str, float] = {}
        for term in found:
            for cat, w in self._weights[term]:
                if cat is None:
                    calm += -w
                    contrib[term] = w
                else:
                    scores[cat] += w
        best = max(scores, key=lambda c: scores[c])
        net = max(0.0, scores[best] - calm)
        sensitivity = 1.0 - math.exp(-_K * net)
        category = best if sensitivity >= THRESHOLD else Category.none
        for term in found:
            for cat, w in self._weights[term]:
                if cat is best:
                    contrib[term] = w
        explanation = sorted(contrib.items(), key=lambda kv: (-abs(kv[1]), kv[0]))[:8]
        return LexiconResult(sensitivity, category, explanation, scores)

    def sentiment(self, text: str) -> float:
        return math.tanh(self._polar_total(text, self._polar_weights) / 3.0)
