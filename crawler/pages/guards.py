"""Recognise pages that are not what was asked for: captcha, login wall, block page, 404 page, cut-off body.

Each check raises a typed ParseError so a spider records *why* a page gave nothing, which is what
source health needs to tell "the site is quiet" from "the site stopped letting us in".
"""

from __future__ import annotations

import re

from crawler.pages.base import PageInput
from crawler.pages.errors import ParseError

_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
# Phrases of the interstitial pages Chinese platforms answer with, matched on the <title> and first KBs.
_CAPTCHA = ("百度安全验证", "安全验证", "请输入验证码", "验证码校验", "人机验证", "captcha")
_LOGIN = ("请先登录", "您需要登录后才可以", "登录后才可以查看", "Sina Visitor System")
_BLOCKED = ("访问受限", "访问过于频繁", "403 Forbidden", "Access Denied")
_GONE = ("404 页面不存在", "页面不存在", "贴吧404", "该贴已被删除", "微博-出错了", "内容已被删除")


def title_of(html: str) -> str:
    m = _TITLE.search(html[:20000])
    return re.sub(r"\s+", " ", m.group(1)).strip() if m else ""


_OPEN = re.compile(rb"<(html|body)[\s>]", re.I)
_CLOSE = re.compile(rb"</(html|body)\s*>", re.I)


def is_truncated(page: PageInput) -> bool:
    """An HTML document whose end never arrived: no </body> or </html> in its last 64 KB (sites append
    tracking scripts after </html>, so the very end is not enough)."""
    if not _OPEN.search(page.body[:8192]):
        return False
    return not _CLOSE.search(page.body[-65536:])


def check_page(page: PageInput, *, gone_markers: tuple[str, ...] = _GONE) -> None:
    """Raise ParseError for an empty body, an interstitial page or a cut-off document."""
    if not page.body.strip():
        raise ParseError("empty_body", page.url)
    text = page.text()
    title = title_of(text)
    head = text[:6000]
    if any(m in title for m in _CAPTCHA) or "vcode-" in head:
        raise ParseError("captcha", page.url, title)
    # Title only: ordinary forum pages say "您需要登录后才可以回帖" in their reply box.
    if any(m in title for m in _LOGIN) or 'class="login-page"' in head:
        raise ParseError("login_required", page.url, title)
    if any(m in title for m in _BLOCKED):
        raise ParseError("blocked", page.url, title)
    if any(m in title for m in gone_markers):
        raise ParseError("deleted", page.url, title)
    if is_truncated(page):
        raise ParseError("truncated", page.url, f"{len(page.body)} 字节")
