"""Canonical thread URLs: one thread, one URL (and so one id per post) whatever page or template was read."""

from __future__ import annotations

import pytest

from crawler.pages.discuz import canonical_thread_url
from crawler.pages.tieba import thread_url


@pytest.mark.parametrize(
    "url",
    [
        "https://bbs.example.cn/forum.php?mod=viewthread&tid=123",
        "https://bbs.example.cn/forum.php?mod=viewthread&tid=123&extra=page%3D1&page=3",
        "https://bbs.example.cn/forum.php?mod=viewthread&tid=123&page=2&mobile=2#pid456",
        "https://bbs.example.cn/thread-123-1-1.html",
        "https://bbs.example.cn/thread-123-4-2.html",
        "https://bbs.example.cn/forum.php?mod=redirect&goto=findpost&ptid=123&pid=456",
    ],
)
def test_discuz_forms_of_one_thread(url: str) -> None:
    assert canonical_thread_url(url) == "https://bbs.example.cn/forum.php?mod=viewthread&tid=123"


def test_discuz_under_a_subdirectory_keeps_it() -> None:
    assert canonical_thread_url("http://x.cn/bbs/thread-7-2-1.html") == "http://x.cn/bbs/forum.php?mod=viewthread&tid=7"


@pytest.mark.parametrize(
    "url", ["https://tieba.baidu.com/p/8057560733", "https://tieba.baidu.com/p/8057560733?pn=2#floor"]
)
def test_tieba_pages_of_one_thread(url: str) -> None:
    assert thread_url(url) == "https://tieba.baidu.com/p/8057560733"
