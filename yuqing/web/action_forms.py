"""The fields of each workflow action's form, so one template renders them all."""

from __future__ import annotations

from dataclasses import dataclass

from alerting.workflow import DISMISS_KINDS, EVALUATIONS, RECOMMENDED_RESPONSE, RESPONSE_KINDS
from yuqing.model import Category, Severity


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str = "textarea"  # textarea | text | select | datetime
    options: tuple[tuple[str, str], ...] = ()
    hint: str = ""
    suggestions: tuple[str, ...] = ()  # offered in a <datalist>; any text is accepted


CATEGORY_OPTIONS = tuple((c.value, c.label) for c in Category if c is not Category.none)
SEVERITY_OPTIONS = tuple((s.value, s.label) for s in Severity)
RESPONSE_OPTIONS = tuple(RESPONSE_KINDS.items())

REPORT_TO = ("分管副局长", "局长", "局党组", "县委网信办", "县委宣传部", "市教育局")
REFER_TO = ("县纪委监委", "县公安局网安大队", "县公安局", "县市场监管局", "县卫健局", "县委网信办")

ACTION_FIELDS: dict[str, tuple[Field, ...]] = {
    "confirm": (
        Field("category", "舆情类别", "select", CATEGORY_OPTIONS),
        Field("severity", "等级", "select", SEVERITY_OPTIONS),
        Field("opinion", "研判意见", hint="是否属实、影响范围、建议处置方式"),
    ),
    "dismiss": (
        Field("dismiss_kind", "误报原因", "select", tuple(DISMISS_KINDS.items())),
        Field("reason", "排除理由"),
    ),
    "assign": (Field("assignee", "承办人", "select"), Field("note", "说明", "text")),
    "report": (
        Field("to", "上报对象", "text", hint="可直接输入", suggestions=REPORT_TO),
        Field("at", "上报时间", "datetime", hint="留空为现在"),
        Field("content", "报送内容", hint="报送了什么: 登记表、情况说明……"),
    ),
    "handle": (
        Field("measures", "处置措施", hint="核实情况、约谈学校、联系发帖人……"),
        Field("escalate_to", "升级等级(舆情持续发酵时)", "select", SEVERITY_OPTIONS, hint="不升级请留空"),
    ),
    "draft_response": (
        Field("response_kind", "回复方式", "select", RESPONSE_OPTIONS),
        Field("content", "回复/澄清内容"),
        Field("referred_to", "移交单位", "text", hint="移交时必填", suggestions=REFER_TO),
    ),
    "approve_response": (
        Field("response_kind", "回复方式", "select", RESPONSE_OPTIONS),
        Field("content", "回复/澄清内容"),
        Field("referred_to", "移交单位", "text", hint="移交时必填", suggestions=REFER_TO),
        Field("published_at", "发布时间", "datetime", hint="留空为现在"),
    ),
    "track": (Field("plan", "跟踪安排"),),
    "track_note": (Field("note", "跟踪情况"),),
    "close": (
        Field("evaluation", "处置效果评价", "select", tuple(EVALUATIONS.items())),
        Field("summary", "总结评估"),
    ),
    "reopen": (Field("reason", "重新打开的理由"),),
    "note": (Field("note", "备注"),),
}

# What the procedure says for each category, shown above the response forms.
GUIDANCE: dict[str, str] = {
    "inquiry": "询问/置疑/诉求: 当天回复,或当天说明何时答复。",
    "incident": "恶意传播/炒作: 发布事实情况;持续发酵时升级处置。",
    "fabrication": "捏造/歪曲/诽谤: 澄清事实;涉嫌违纪违法的移交纪检监察或公安机关。",
    "suggestion": "积极建议: 研究采纳并回复。",
    "none": "",
}


def defaults(action: str, category: str, severity: str, draft: dict[str, str] | None) -> dict[str, str]:
    """Prefilled values: the current category/severity, the recommended response or the officer's draft."""
    if action == "confirm":
        return {"category": category if category != "none" else "", "severity": severity}
    if action in ("draft_response", "approve_response"):
        base = {"response_kind": RECOMMENDED_RESPONSE.get(category, "reply")}
        if draft and action == "approve_response":
            base.update({k: str(v) for k, v in draft.items() if k in ("response_kind", "content", "referred_to")})
        return base
    return {}
