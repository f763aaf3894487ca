"""Extra channels through Apprise (WeCom/企业微信, DingTalk, Feishu webhooks, or any Apprise URL).

The URLs come from an environment variable per recipient group (they embed tokens), separated by
whitespace or commas. The only module that imports Apprise.
"""

from __future__ import annotations

import re


class ChannelError(Exception):
    """The notification was not accepted by every configured service (it will be retried)."""


def _split(urls: str) -> list[str]:
    return [u for u in re.split(r"[\s,]+", urls) if u]


def notify(urls: str, title: str, body: str) -> None:
    """Send ``body`` to every URL; raises ChannelError (without the URLs: they hold tokens) on failure."""
    import apprise

    targets = _split(urls)
    if not targets:
        raise ChannelError("Apprise 地址未配置(环境变量为空)")
    app = apprise.Apprise()
    for i, u in enumerate(targets, 1):
        if not app.add(u):
            raise ChannelError(f"第 {i} 个 Apprise 地址无效")
    if not app.notify(title=title, body=body, body_format=apprise.NotifyFormat.TEXT):
        raise ChannelError(f"Apprise 通知未被全部接受(共 {len(targets)} 个地址)")
