"""decode_body: UTF-8, GBK/GB18030 and Big5 end as correct Unicode whatever the declarations claim."""

from __future__ import annotations

import codecs

import pytest

from crawler.pages.charset import decode_body, detect_encoding
from tests.conftest import shared_path

TEXT_SIMPLIFIED = "示例县第一中学食堂就餐的部分学生出现呕吐症状，县教育局已介入调查。"
TEXT_TRADITIONAL = "臨川縣實驗小學師生一行三十人日前抵港，參觀本地小學並參與課堂活動。"


def html(meta: str, text: str) -> str:
    return f'<html><head><meta charset="{meta}"><title>t</title></head><body><p>{text}</p></body></html>'


@pytest.mark.parametrize(
    ("body", "header", "expected"),
    [
        (html("gbk", TEXT_SIMPLIFIED).encode("gbk"), "text/html; charset=GBK", TEXT_SIMPLIFIED),
        (html("gb2312", TEXT_SIMPLIFIED).encode("gb18030"), "text/html", TEXT_SIMPLIFIED),  # meta only
        (html("gb2312", TEXT_SIMPLIFIED).encode("utf-8"), "text/html", TEXT_SIMPLIFIED),  # meta lies
        (html("gb2312", TEXT_SIMPLIFIED).encode("utf-8"), "text/html; charset=gb2312", TEXT_SIMPLIFIED),  # both lie
        (html("utf-8", TEXT_SIMPLIFIED).encode("gbk"), "text/html; charset=utf-8", TEXT_SIMPLIFIED),  # GBK as UTF-8
        (html("big5", TEXT_TRADITIONAL).encode("big5"), "text/html; charset=Big5", TEXT_TRADITIONAL),
        (html("big5", TEXT_TRADITIONAL).encode("big5"), "", TEXT_TRADITIONAL),
        (codecs.BOM_UTF8 + html("gbk", TEXT_SIMPLIFIED).encode("utf-8"), "", TEXT_SIMPLIFIED),  # BOM wins
        (html("gbk", "𠮷" + TEXT_SIMPLIFIED).encode("gb18030"), "text/html; charset=gbk", "𠮷" + TEXT_SIMPLIFIED),
    ],
    ids=["gbk", "gb2312-meta", "utf8-declaring-gb2312", "utf8-header-gb2312", "gbk-declared-utf8", "big5",
         "big5-meta-only", "bom", "gb18030-beyond-gbk"],
)
def test_decodes_without_mojibake(body: bytes, header: str, expected: str) -> None:
    text = decode_body(body, header)
    assert expected in text and "\ufffd" not in text


def test_utf8_cut_inside_a_character_keeps_the_rest() -> None:
    body = html("utf-8", TEXT_SIMPLIFIED).encode("utf-8")
    cut = body[: body.index("调查".encode()) + 4]  # ends one byte into 查
    text = decode_body(cut, "text/html; charset=utf-8")
    assert text.endswith("县教育局已介入调") and "\ufffd" not in text


def test_gbk_cut_inside_a_character_stays_gbk() -> None:
    body = html("gbk", TEXT_SIMPLIFIED).encode("gbk")
    cut = body[: body.index("调查".encode("gbk")) + 3]
    assert detect_encoding(cut, "text/html; charset=gbk") == "gb18030"
    assert decode_body(cut, "text/html; charset=gbk").endswith("已介入调")


def test_unknown_and_missing_declarations_fall_back_to_detection() -> None:
    body = ("<p>" + TEXT_SIMPLIFIED * 3 + "</p>").encode("gbk")
    assert TEXT_SIMPLIFIED in decode_body(body, "text/html; charset=x-unknown")
    assert decode_body(b"", None) == "" and decode_body(b"<p>ascii</p>", None) == "<p>ascii</p>"


@pytest.mark.shared
@pytest.mark.parametrize(
    ("fixture", "phrase", "encoding"),
    [
        ("news/people_1.html", "郑板桥", "utf-8"),  # declares GB2312, saved as UTF-8
        ("news/163_9.html", "京沪高速", "utf-8"),  # likewise
        ("rss/http-blog-hexun-com-group-getrssresouce-aspx-classid-74.xml", "和讯博客", "gb18030"),  # real GBK
        ("rss/chardet_gbk_gb18030.json", "中国国家标准", "gb18030"),
        ("rss/http-www-caogen-com-adminsite-rss-xml.xml", "草根网", "utf-8"),  # with a BOM
    ],
)
def test_real_pages(fixture: str, phrase: str, encoding: str) -> None:
    body = shared_path("fixtures", *fixture.split("/")).read_bytes()
    assert detect_encoding(body) == encoding
    text = decode_body(body)
    assert phrase in text and not text.startswith("\ufeff")
