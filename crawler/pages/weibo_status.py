"""WeiboStatusPage: one weibo's page (m.weibo.cn ``/status/<id>``), whose HTML carries the status as JSON
in ``var $render_data = [{"status": {...}}][0]``, or the ``statuses/show?id=`` JSON API. Gives the full
text (no "全文" cut) and the counts; a page without that data is a deleted weibo ("微博-出错了") or a
redesign.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from crawler.pages.base import Link
from crawler.pages.guards import check_page
from crawler.pages.weibo import _WeiboJson
from yuqing.model import Post

_RENDER_DATA = re.compile(r"\$render_data\s*=\s*(\[.*?\])\s*\[0\]", re.S)


class WeiboStatusPage(_WeiboJson):
    def _status(self) -> dict[str, Any]:
        if self.page.text().lstrip().startswith("{"):  # the statuses/show?id= JSON API: {"ok": 1, "data": status}
            data = self.data()
            if data.get("ok") != 1 or not isinstance(data.get("data"), dict):
                raise self.fail("deleted" if data.get("ok") == 0 else "no_items", str(data.get("msg", "")))
            status: dict[str, Any] = data["data"]
            return status
        check_page(self.page)
        m = _RENDER_DATA.search(self.page.text())
        if not m:
            raise self.fail("no_items", "页面中没有 $render_data")
        try:
            data = json.loads(m.group(1).replace("<\\/", "</"))
        except ValueError:
            raise self.fail("truncated", "$render_data 不是完整的 JSON") from None
        found = data[0].get("status") if data and isinstance(data[0], dict) else None
        if not isinstance(found, dict):
            raise self.fail("no_items", "$render_data 中没有 status")
        return found

    def posts(self) -> list[Post]:
        status = self._status()
        if "/statuses/show" in self.url:
            url = self.status_url(status)
        else:
            parts = urlsplit(self.url)
            url = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))  # this page is the status URL
        post = self.mblog_post(status, url)
        # The status page carries the whole text even where isLongText is set: nothing left to extend.
        return [post.model_copy(update={"extra": {k: v for k, v in post.extra.items() if k != "long_text"}})]

    def links(self) -> list[Link]:
        return []
