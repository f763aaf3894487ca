"""Typed parse failures. ``reason`` is a short English key (it names the stat the spider bumps);
the message a user sees is Chinese and names the URL."""

from __future__ import annotations

from yuqing.errors import LoginExpiredError
from yuqing.errors import ParseError as _BaseParseError

# Chinese wording of each reason key, for CLI output and source-health e-mails.
REASONS_ZH: dict[str, str] = {
    "no_items": "页面上找不到任何条目(选择器失效,页面可能已改版)",
    "missing_content": "找不到正文",
    "not_a_feed": "返回的不是 RSS/Atom 订阅源",
    "not_json": "返回的不是 JSON",
    "login_expired": "登录已失效(Cookie 过期或被要求登录)",
    "truncated": "页面不完整(传输被截断)",
    "captcha": "遇到验证码页面",
    "deleted": "内容已被删除或不存在",
    "api_error": "接口返回错误",
    "empty_body": "响应为空",
    "login_required": "需要登录才能查看(不尝试绕过)",
    "blocked": "访问受限(访问过于频繁或被封禁)",
}


class ParseError(_BaseParseError):
    """A page a page object cannot turn into posts; never a half-filled post instead.

    ``reason`` is the machine key (see REASONS_ZH), ``detail`` adds specifics, ``stat`` is the
    stats key a spider bumps (``parse/<reason>``).
    """

    def __init__(self, reason: str, url: str = "", detail: str = "", stat: str | None = None) -> None:
        self.detail = detail
        text = REASONS_ZH.get(reason, reason)
        if detail:
            text = f"{text}:{detail}"
        # Explicit base call: with LoginExpired's diamond, super() would reach LoginExpiredError's signature.
        _BaseParseError.__init__(self, url, text, stat=stat or f"parse/{reason}")
        # The base stores the Chinese text in .reason; keep the key there and the text beside it.
        self.reason = reason
        self.message_zh = text


class LoginExpired(ParseError, LoginExpiredError):
    """The platform answered with a login wall or ``ok: -100``: our cookie is no longer valid."""

    def __init__(self, url: str = "", detail: str = "") -> None:
        ParseError.__init__(self, "login_expired", url, detail, stat="login_expired")
