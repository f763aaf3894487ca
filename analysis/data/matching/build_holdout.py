"""Builds analysis/data/matching/holdout.jsonl: sentences written before the matcher was run on them."""

import json
import sys

NOTE = "held out: written before the matcher was run on it"

H = [
    ("#示例县# 刚路过一中门口，好多警车，发生什么事了？", ["county-no1-high"], False),
    ("县二中的晚自习到底要上到几点？孩子每天十一点才到家", [], False),
    ("县二中的晚自习到底要上到几点？孩子每天十一点才到家", ["county-no2-high"], True),
    ("示例县教育局：关于县一中、县二中2026年秋季招生计划的公示", ["county-no1-high", "county-no2-high"], False),
    ("给示例二中的物理老师点赞，讲得真好", ["county-no2-high"], False),
    ("在示例一中读了三年，最怀念的是食堂的炒面", ["county-no1-high"], False),
    ("临川县一中的学生成绩一向很好，今年又出了两个清华", [], False),
    ("河西县二中教师体罚学生被通报", [], False),
    ("示例县人民政府网站留言：东山镇中学门口的路灯坏了好几个月了", ["dongshan-middle"], False),
    ("留言标题：青石中学宿舍漏水问题  留言内容：孩子在青石中学住校，宿舍下雨就漏水", ["qingshi-middle"], False),
    ("南岭镇九年一贯制学校的校车又停了，家长自己接送太难了", ["nanling-school"], False),
    ("示例县职教中心2026年招生简章", ["county-vocational"], False),
    ("我想问问实验小学的学位还有没有，示例县城关镇户口", ["county-experimental-primary"], False),
    ("实验小学的老师都好负责", [], False),
    ("北坪乡小学的孩子们收到爱心企业捐赠的图书", ["beiping-primary"], False),
    ("西河中心小学营养餐每天就一盒牛奶", ["xihe-central-primary"], False),
    ("江南市一中高考喜报", [], False),
    ("北湖区实验小学学生集体发烧，疑似诺如病毒", [], False),
    ("示例县周边的邻县实验小学也出现了类似情况", [], False),
    ("今天示例县下雪了，一中的学生在操场打雪仗", ["county-no1-high"], False),
    ("县里的一幼和二幼什么时候开始报名？示例县的家长都在问", ["county-kindergarten"], False),
    ("示例县第一幼儿园小班报名时间", ["county-kindergarten"], False),
    ("初一中途转学需要什么手续？示例县", [], False),
    ("这是我第一次来示例县，感觉县城很干净", [], False),
    ("示例县二中、东山中学、青石中学三校教研活动", ["county-no2-high", "dongshan-middle", "qingshi-middle"], False),
    ("示例县高中只有一中和二中吧", ["county-no1-high", "county-no2-high"], False),
    ("东山镇的学生以后都去东山中学上初中", ["dongshan-middle"], False),
    ("西河小学离家太远了，西河乡的孩子每天走一个小时", ["xihe-central-primary"], False),
    ("河西县的西河小学", [], False),
    ("示例县实小门口的红绿灯装好了", ["county-experimental-primary"], False),
    ("示例实验小学校长：双减之后孩子们的作业少了", ["county-experimental-primary"], False),
    ("示例县一中高三（2）班班主任有偿补课", ["county-no1-high"], False),
    ("示例县第一中学新校区选址公示", ["county-no1-high"], False),
    ("示例县第二中学的老师王某某被举报", ["county-no2-high"], False),
    ("平阳县第二中学与示例县签订帮扶协议", [], False),
    ("示例县中学生篮球联赛开幕", [], False),
    ("示例县小学生作文比赛获奖名单", [], False),
    ("星期一中午示例县教育局召开会议", [], False),
    ("示例县一中初二中午吃什么", ["county-no1-high"], False),
    ("示例县职业技术教育中心学生技能大赛获一等奖", ["county-vocational"], False),
    ("职教中心的学生去哪实习？", [], False),
    ("职教中心的学生去哪实习？", ["county-vocational"], True),
    ("县一幼的老师态度太差了", ["county-kindergarten"], True),
    ("邻县一幼的老师态度太差了", [], True),
    ("安远县实验小学举行开学典礼", [], True),
    ("隔壁临川县一中今年高考600分以上比示例县一中多", ["county-no1-high"], False),
    ("示例县二中女生宿舍楼有人跳楼？", ["county-no2-high"], False),
    ("关于示例县西河乡中心小学教师工资拖欠问题的反映", ["xihe-central-primary"], False),
    ("示例县北坪乡小学合并到哪里去了？", ["beiping-primary"], False),
    ("示例县青石镇初级中学食堂承包商是谁？", ["qingshi-middle"], False),
]
with open(sys.argv[1], "w", encoding="utf-8") as f:
    for t, s, sc in H:
        f.write(json.dumps({"text": t, "schools": s, "scoped": sc, "note": NOTE}, ensure_ascii=False) + "\n")
print(len(H))
