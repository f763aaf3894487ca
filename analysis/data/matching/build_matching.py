"""Builds analysis/data/matching/matching.jsonl: hand-written sentence frames x the sample schools,
plus hand-written tricky sentences. Labels are decided by the frame author, not by the matcher."""

import json
import random
import sys

rng = random.Random(7)
S = {  # id: (full, [aliases], [short forms], township)
    "county-no1-high": ("示例县第一中学", ["示例县一中", "示例一中"], ["县一中", "一中"], "城关镇"),
    "county-no2-high": ("示例县第二中学", ["示例县二中", "示例二中"], ["县二中", "二中"], "城关镇"),
    "county-experimental-primary": ("示例县实验小学", ["示例实验小学", "示例县实小"], ["实验小学", "实小"], "城关镇"),
    "dongshan-middle": ("示例县东山镇中学", ["东山镇中学", "东山中学"], [], "东山镇"),
    "xihe-central-primary": ("示例县西河乡中心小学", ["西河乡中心小学", "西河中心小学"], ["西河小学"], "西河乡"),
    "nanling-school": ("示例县南岭镇九年一贯制学校", ["南岭镇九年一贯制学校", "南岭学校"], [], "南岭镇"),
    "county-vocational": ("示例县职业技术教育中心", ["示例县职教中心", "示例职教中心"], ["职教中心"], "城关镇"),
    "county-kindergarten": ("示例县第一幼儿园", ["示例县一幼", "县第一幼儿园"], ["县一幼", "一幼"], "城关镇"),
    "beiping-primary": ("示例县北坪乡小学", ["北坪乡小学", "北坪小学"], [], "北坪乡"),
    "qingshi-middle": ("示例县青石镇初级中学", ["青石镇初级中学", "青石镇中学", "青石中学"], [], "青石镇"),
}
OTHERS = ["邻县", "临川县", "北湖区", "河西县", "江南市", "平阳县", "安远县", "示例市"]
out = []


def add(text, schools, scoped=False, note=""):
    out.append({"text": text, "schools": schools, "scoped": scoped, "note": note})


# 1. full names and aliases count alone
FULL = [
    "{n}今天中午食堂饭菜有问题，好几个学生吃完肚子疼。",
    "听说{n}下学期要换校长了，有人知道吗？",
    "【通报】关于{n}学生在校受伤情况的说明",
    "孩子在{n}上学，这学期资料费收了200元，合理吗",
    "{n}举行2026年秋季运动会，全校师生参加。",
    "有没有{n}的家长？想问下放学时间",
    "给{n}的老师们点赞！",
    "#{n}# 今天门口又堵车了",
]
for sid, (full, aliases, _shorts, _town) in S.items():
    for tpl in rng.sample(FULL, 3):
        add(tpl.format(n=full), [sid], note="full name")
    for a in aliases:
        add(rng.choice(FULL).format(n=a), [sid], note="alias")

# 2. short forms: with county or township context, without, and on a scoped source
CTX = [
    "示例县的家长注意了，{s}明天起调整作息时间。",
    "我们{t}这边的孩子都去{s}读书，今年{s}扩招了吗？",
    "在示例县，{s}算是最好的学校了吧",
    "{s}食堂又涨价了，示例县教育局管不管？",
]
BARE = [
    "{s}今天放假吗？",
    "{s}的老师也太凶了吧",
    "听说{s}要搬新校区了",
    "{s}门口那家文具店关门了",
]
for sid, (_full, _aliases, shorts, town) in S.items():
    for s in shorts:
        for tpl in CTX:
            add(tpl.format(s=s, t=town), [sid], note="short form with context")
        for tpl in BARE:
            add(tpl.format(s=s), [], note="short form without context")
            add(tpl.format(s=s), [sid], scoped=True, note="short form on a county-scoped source")

# 3. same-named schools of other places are not ours, with or without our context, scoped or not
OTHER_T = [
    ("{o}一中发生学生打架事件，视频在网上流传。", "一中"),
    ("{o}第一中学今年高考成绩公布", "第一中学"),
    ("{o}实验小学门口发生交通事故", "实验小学"),
    ("{o}二中的学生在宿舍斗殴", "二中"),
    ("示例县的朋友说，{o}一中的食堂比我们这好", "一中"),
    ("{o}东山中学组织研学活动", "东山中学"),
    ("{o}职教中心招生简章发布", "职教中心"),
    ("{o}第一幼儿园开展消防演练", "第一幼儿园"),
]
for o in OTHERS:
    for tpl, _ in OTHER_T:
        add(tpl.format(o=o), [], note=f"same-named school of {o}")
    add(rng.choice(OTHER_T)[0].format(o=o), [], scoped=True, note=f"same-named school of {o} on a scoped source")

# 4. hand-written tricky sentences
T = [
    ("示例县一中和邻县一中今天进行篮球友谊赛", ["county-no1-high"], False, "ours and theirs"),
    ("邻县一中的学生来示例县二中交流学习", ["county-no2-high"], False, "theirs then ours"),
    ("初二中午在食堂吃饭的时候，示例县有家长来送饭", [], False, "初二中午"),
    ("周一中午示例县下了大雨", [], False, "周一中午"),
    ("统一中考的时间定了，示例县考生注意", [], False, "统一中考"),
    ("示例县十一中是哪个学校？", [], False, "十一中 is not 一中"),
    ("听说示例县第十一中学在建", [], False, "第十一中学"),
    ("示例县城关镇一中的老师上课玩手机", ["county-no1-high"], False, "township before the short form"),
    ("本县一中今年录取线出来了", [], False, "本县 alone: whose county? not enough on an open source"),
    ("本县一中今年录取线出来了", ["county-no1-high"], True, "本县 on a county-scoped source"),
    ("我县二中开展安全教育周活动，示例县教育局到场指导", ["county-no2-high"], False, "我县 with the county named"),
    ("我市一中开展安全教育周活动，示例县教育局到场指导", [], False, "我市 is the city"),
    ("全市一中联考成绩出来了，示例县的孩子考得不错", [], False, "全市一中: a city-wide thing"),
    ("我市一中的校长换人了", [], False, "我市 is the city"),
    (
        "示例市第一中学的学生在示例县实验小学做志愿者",
        ["county-experimental-primary"],
        False,
        "city school vs county school",
    ),
    ("示例市一中今天开学", [], False, "city's 一中"),
    ("县一中食堂出事了，十几个学生呕吐住院", [], False, "县一中 without the county named: not enough"),
    ("县一中食堂出事了，十几个学生呕吐住院", ["county-no1-high"], True, "县一中 on a county-scoped source"),
    ("示例 县第一中学 的学生反映晚自习收费", ["county-no1-high"], False, "spaces inside the name"),
    ("示例县第一中学、第二中学今年都扩招了", ["county-no1-high"], False, "第二中学 alone is generic"),
    ("示例县一中二中三中的学生都参加了", ["county-no1-high", "county-no2-high"], False, "listed short forms"),
    (
        "示例县的一中、二中，还有实验小学都停课了",
        ["county-no1-high", "county-no2-high", "county-experimental-primary"],
        False,
        "three short forms with context",
    ),
    ("东山中学的学生在青石中学比赛", ["dongshan-middle", "qingshi-middle"], False, "two aliases"),
    ("邻县东山中学与示例县东山中学不是一个学校", ["dongshan-middle"], False, "same alias, other county first"),
    ("河西县西河小学发生踩踏事故", [], False, "other county's 西河小学"),
    ("西河乡的西河小学营养餐变质", ["xihe-central-primary"], False, "township context"),
    ("北坪小学的孩子们收到了新校服", ["beiping-primary"], False, "alias alone"),
    ("南岭学校校车停运两周了", ["nanling-school"], False, "alias alone"),
    ("平阳县实验小学和示例县实小联合举办活动", ["county-experimental-primary"], False, "unlisted county"),
    ("安远县职教中心与示例县职教中心签约", ["county-vocational"], False, "unlisted county then alias"),
    ("示例县一幼的老师打孩子了", ["county-kindergarten"], False, "alias 一幼"),
    ("一幼门口的路修好了", [], False, "bare 一幼"),
    ("一幼门口的路修好了", ["county-kindergarten"], True, "bare 一幼, scoped"),
    ("邻县一幼发生食物中毒", [], True, "other county on a scoped source"),
    ("江南市实验小学的做法值得示例县学习", [], False, "other city, our county named"),
    ("示例县实验小学生在全国比赛中获奖", ["county-experimental-primary"], False, "实验小学生"),
    ("示例县一中学生跳楼了？谣言！", ["county-no1-high"], False, "一中学生"),
    ("县一中学生宿舍着火，示例县消防赶到", ["county-no1-high"], False, "县一中学生 with context"),
    ("十九届二中全会召开，示例县教育系统组织学习", [], False, "二中全会"),
    ("唯一中标的公司是示例县本地企业", [], False, "唯一中标"),
    ("其中一中年男子在示例县城关镇被抓", [], False, "一中年"),
    ("示例县有一中国传统文化进校园活动", [], False, "一中国"),
    ("示例县每一中队都要参加比赛", [], False, "每一中队"),
    ("示例县第一中学第二中学联合举办", ["county-no1-high"], False, "第二中学 generic after ours"),
    ("示例县二中高二中段考试成绩", ["county-no2-high"], False, "高二中段"),
    ("临川县第一中学、示例县第一中学、河西县第一中学三校联考", ["county-no1-high"], False, "three first schools"),
    ("示例县第一幼儿园和县第一幼儿园是一个地方吗", ["county-kindergarten"], False, "alias repeated"),
    ("关于示例县职业技术教育中心的几点建议", ["county-vocational"], False, "full name"),
    ("职教中心的实训设备太旧了", [], False, "bare 职教中心"),
    ("职教中心的实训设备太旧了，示例县该投入了", ["county-vocational"], False, "职教中心 with context"),
    ("东山镇中学", ["dongshan-middle"], False, "bare alias"),
    ("外县一中的老师来示例县支教", [], False, "外县 is another county"),
    ("隔壁县一中出事了，示例县家长很担心", [], False, "隔壁县"),
    (
        "示例县二中门口早上八点很堵，实小门口也是",
        ["county-no2-high", "county-experimental-primary"],
        False,
        "alias then short",
    ),
    ("青石镇中学的围墙倒了", ["qingshi-middle"], False, "alias"),
    ("青石镇初级中学学生食物中毒", ["qingshi-middle"], False, "alias"),
    ("示例县南岭镇九年一贯制学校", ["nanling-school"], False, "bare full name"),
    ("我家孩子在二中，示例县的", ["county-no2-high"], False, "context after"),
    ("一中、二中都放假了", [], False, "no context"),
    ("一中、二中都放假了", ["county-no1-high", "county-no2-high"], True, "scoped"),
    ("北湖区第一中学新校区开工，示例县一中什么时候建？", ["county-no1-high"], False, "other district then ours"),
    ("示例县高一中午放学时间调整", [], False, "高一中午"),
    ("西河乡中心小学的营养餐", ["xihe-central-primary"], False, "alias"),
]
for text, schools, scoped, note in T:
    add(text, schools, scoped, note)

path = sys.argv[1]
with open(path, "w", encoding="utf-8") as f:
    for item in out:
        f.write(json.dumps(item, ensure_ascii=False) + "\n")
print(len(out), sum(1 for o in out if o["schools"]), "positive")
