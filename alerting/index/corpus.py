"""Seeded synthetic index documents for the index tests and bench/bench_index.py.

Realistic enough for search: Chinese sentences about the county's schools built from templates,
with Latin letters, digits and punctuation mixed in, spread over months, schools, categories,
severities and statuses. The same seed always gives the same documents.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

from alerting.index.protocol import NO_WARNING, IndexDoc

SCHOOLS = ["xian-yizhong", "xian-erzhong", "chengguan-xiaoxue", "shiyan-xiaoxue", "zhiye-xuexiao",
           "hongqi-zhongxue", "dongguan-youeryuan", "xinan-chuzhong", "beishan-xiaoxue", "teshu-xuexiao"]
SCHOOL_NAMES = {"xian-yizhong": "县一中", "xian-erzhong": "县二中", "chengguan-xiaoxue": "城关小学",
                "shiyan-xiaoxue": "实验小学", "zhiye-xuexiao": "职业学校", "hongqi-zhongxue": "红旗中学",
                "dongguan-youeryuan": "东关幼儿园", "xinan-chuzhong": "西南初中", "beishan-xiaoxue": "北山小学",
                "teshu-xuexiao": "特殊教育学校"}
SITES = [("tieba", "tieba.baidu.com"), ("weibo", "weibo.com"), ("forum", "bbs.example-county.cn"),
         ("news", "news.example-county.gov.cn"), ("rss", "www.example-daily.cn")]
TOPICS = ["食堂", "收费", "校车", "宿舍", "招生", "补课", "欺凌", "教师", "安全", "考试"]
SUBJECTS = ["食堂饭菜", "乱收费", "校车超载", "宿舍漏水", "招生名额", "周末补课", "校园欺凌", "老师体罚",
            "消防通道", "期末考试", "营养午餐", "课后服务", "校服费用", "操场改造"]
OPENINGS = ["有家长反映", "网友发帖称", "记者从县教育局获悉", "据学生透露", "多名家长在群里说", "有市民来电称"]
DETAILS = ["问题已经持续了两个多月", "每人每学期多收了350元", "学校至今没有回应", "孩子回家后肚子疼",
           "希望有关部门尽快调查处理", "建议增加一趟 8:30 的班车", "校方表示会在3天内整改",
           "涉及学生约1,200人", "相关视频在 Douyin 上转发超过5000次", "教育局已派工作组进驻"]
CATEGORIES = [("none", 0.55), ("inquiry", 0.2), ("suggestion", 0.1), ("incident", 0.1), ("fabrication", 0.05)]
SEVERITIES = ["IV", "III", "II", "I"]
STATUSES = ["new", "triaged", "handling", "responded", "closed", "dismissed"]


def _weighted(rng: random.Random, pairs: list[tuple[str, float]]) -> str:
    return rng.choices([p for p, _ in pairs], weights=[w for _, w in pairs])[0]


def sample_docs(n: int, seed: int = 7, start: datetime | None = None, days: int = 120) -> Iterator[IndexDoc]:
    rng = random.Random(seed)
    start = start or datetime(2026, 1, 1, tzinfo=timezone.utc)
    for i in range(n):
        school = rng.choice(SCHOOLS)
        name = SCHOOL_NAMES[school]
        subject = rng.choice(SUBJECTS)
        source, site = rng.choice(SITES)
        category = _weighted(rng, CATEGORIES)
        sensitive = category != "none"
        published = start + timedelta(seconds=rng.randrange(days * 86400))
        title = f"{name}{subject}{rng.choice(['问题', '情况', '怎么回事?', '引关注'])}"
        # 2–5 clauses: about 100–200 characters, like a forum post or a short news item.
        body = ",".join([f"{rng.choice(OPENINGS)}{name}{subject}", *rng.sample(DETAILS, rng.randint(2, 5))])
        if rng.random() < 0.3:
            body += f"。另外{SCHOOL_NAMES[rng.choice(SCHOOLS)]}也有类似情况,{rng.choice(DETAILS)}"
        yield IndexDoc(
            id=f"p{seed}-{i:07d}",
            url=f"https://{site}/p/{seed}/{i}",
            title=title,
            content=body + "。",
            published_at=published,
            crawled_at=published + timedelta(minutes=rng.randrange(5, 600)),
            source=source,
            site=site,
            kind="thread" if source in ("tieba", "forum") else ("weibo" if source == "weibo" else "article"),
            author=f"网友{rng.randrange(10000)}",
            schools=(school,),
            category=category,
            severity=rng.choice(SEVERITIES) if sensitive else None,
            status=rng.choice(STATUSES) if sensitive and rng.random() < 0.7 else NO_WARNING,
            event_id=f"e{seed}-{i // 3:06d}" if sensitive else None,
            topics=tuple(t for t in TOPICS if t in title + body)[:3],
            sensitivity=round(rng.uniform(0.5, 1.0) if sensitive else rng.uniform(0.0, 0.4), 3),
            sentiment=round(rng.uniform(-1, 1), 3),
            relevant=True,
            reach=rng.randrange(0, 20000),
        )
