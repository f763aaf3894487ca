"""Tidy extracted article text and titles: what the reader sees as the article, not the page furniture.

Extraction (CMS containers or trafilatura) keeps some furniture that Chinese news pages put right before or
after the body: table pipes of old table layouts, editor credits, "【纠错】", page numbers "【1】【2】",
share bars and copyright lines. They are removed from the ends only, so nothing inside the text changes.
"""

from __future__ import annotations

import re

_TABLE_PIPES = re.compile(r"^[|\s]+|[|\s]+$")
_TRAILING_JUNK = re.compile(
    r"^([（(【\[]?\s*(责编|责任编辑|编辑|編輯|审核|校对)\s*[:：].{0,30}[)）】\]]?"
    r"|【纠错】|纠错|[+]\d?|(【\d+】)+|分享到.*|打印本页|关闭窗口|返回顶部"
    r"|.*(版权所有|All Rights Reserved|Copyright ©?).*"
    r"|感谢您的反馈.*|.{0,20}(举报|投诉)$)$",
    re.I,
)
_EDITOR_LABEL = re.compile(r"^(责任编辑|责编|编辑)\s*[:：]$")
# Separators between a headline and the site name in <title>: "标题_网易订阅", "标题-新华网", "标题--文化--人民网".
_TITLE_SUFFIX = re.compile(r"\s*(--?|_|\||—|–)\s*[^-_|—–]{2,16}$")
_SITE_WORDS = ("网", "报", "新闻", "订阅", "频道", "政府", "官网", "门户", "在线", "日报", "Powered")


def tidy_body(text: str, title: str = "") -> str:
    lines = [_TABLE_PIPES.sub("", line).replace(" | ", " ") for line in text.split("\n")]
    lines = [line for line in lines if line and line not in ("\\|", "|")]
    if lines and title and lines[0] == title:
        lines.pop(0)  # the headline repeated at the top of the body
    while len(lines) > 1:
        last = lines[-1]
        if _TRAILING_JUNK.match(last) and len(last) <= 80:
            lines.pop()
        elif len(lines) > 2 and len(last) <= 8 and _EDITOR_LABEL.match(lines[-2]):
            del lines[-2:]  # "责任编辑：" with the name on its own line
        else:
            break
    return "\n".join(lines)


def tidy_title(title: str) -> str:
    """Drop trailing site names ("-新华网", "_网易订阅", "--文化--人民网") from a <title>-derived headline."""
    title = title.strip()
    while True:
        m = _TITLE_SUFFIX.search(title)
        if not m or len(title) - len(m.group(0)) < 6 or not any(w in m.group(0) for w in _SITE_WORDS):
            return title
        title = title[: m.start()].rstrip()
