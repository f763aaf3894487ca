"""Page-object throughput: pages/s and posts/s per page type on demo-rendered pages and the real samples.

Parsing is the crawler's CPU cost per page (the network is not), so this bounds the crawl rate of one
core. Run: .venv/bin/python bench/bench_pages.py [--seconds 2]
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

from crawler.pages import PageInput, ParseError, page_for
from yuqing.config import load_config
from yuqing.demo.content import build_corpus
from yuqing.demo.sites import DemoSites

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "fixtures"
NOW = datetime(2026, 11, 30, 3, 0, tzinfo=timezone.utc)


def demo_pages() -> dict[str, list[PageInput]]:
    corpus = build_corpus(load_config(ROOT / "config"), now=NOW)
    sites = DemoSites(corpus)
    sites.base_url = "http://demo.test"

    def page(target: str) -> PageInput:
        resp = sites.handle(target)
        return PageInput(
            url=sites.base_url + target, body=resp.body, headers={"Content-Type": resp.content_type}, crawled_at=NOW
        )

    weibo = "/weibo/api/container/getIndex?containerid=" + quote(f"100103type=1&q={corpus.county}", safe="")
    return {
        "news": [page(i.path) for p in ("news", "gov", "ext") for i in corpus.by_platform(p) if not i.deleted],
        "feed": [page("/news/rss.xml"), page("/news/atom.xml")],
        "news_list": [page(f"/gov/list_{n}.html") for n in (1, 2, 3)],
        "search": [page(f"/search/news?word={quote(corpus.county)}&pn={n}") for n in (1, 2)],
        "tieba_list": [page(f"/tieba/f?kw={quote(corpus.tieba_board)}&pn={n}") for n in (0, 10)],
        "tieba": [page(f"/tieba/p/{i.number}") for i in corpus.by_platform("tieba") if not i.deleted],
        "discuz_list": [page("/bbs/forum.php?mod=forumdisplay&fid=2")],
        "discuz": [
            page(f"/bbs/forum.php?mod=viewthread&tid={i.number}") for i in corpus.by_platform("discuz") if not i.deleted
        ],
        "weibo": [page(weibo + f"&page={n}") for n in (1, 2, 3)],
    }


def real_pages() -> dict[str, list[PageInput]]:
    if not SHARED.exists():
        return {}

    def files(pattern: str, url: str) -> list[PageInput]:
        return [PageInput(url=url, body=f.read_bytes(), crawled_at=NOW) for f in sorted(SHARED.glob(pattern))]

    return {
        "news (real)": files("news/*.html", "https://news.example.cn/a.html"),
        "tieba (real)": files("tieba/tieba_thread_*.html", "https://tieba.baidu.com/p/8057560733"),
        "discuz (real)": files("discuz/*viewthread*.html", "http://bbs.example.cn/forum.php?mod=viewthread&tid=1"),
        "weibo (real)": files("weibo/searchall_*.json", "https://m.weibo.cn/api/container/getIndex?containerid=x"),
    }


def measure(kind: str, pages: list[PageInput], seconds: float) -> tuple[float, float, int]:
    """(pages/s, posts/s, pages parsed); each round re-creates the inputs so no parse is cached."""
    parsed = posts = 0
    for p in pages:  # warm-up: first-use costs (imports, compiled patterns) are per process, not per page
        try:
            page_for(kind.split(" ")[0], PageInput(url=p.url, body=p.body, headers=p.headers, crawled_at=NOW)).posts()
        except ParseError:
            pass
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for p in pages:
            fresh = PageInput(url=p.url, body=p.body, headers=p.headers, crawled_at=NOW)
            obj = page_for(kind.split(" ")[0], fresh)
            try:
                posts += len(obj.posts())
                obj.links()
            except ParseError:
                pass
            parsed += 1
    elapsed = time.perf_counter() - start
    return parsed / elapsed, posts / elapsed, parsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0, help="time per page type")
    args = parser.parse_args()
    print(f"{'page type':<16}{'pages/s':>10}{'posts/s':>10}{'KB/page':>10}")
    for kind, pages in {**demo_pages(), **real_pages()}.items():
        if not pages:
            continue
        rate, post_rate, _ = measure(kind, pages, args.seconds)
        size = sum(len(p.body) for p in pages) / len(pages) / 1024
        print(f"{kind:<16}{rate:>10.1f}{post_rate:>10.1f}{size:>10.1f}")


if __name__ == "__main__":
    main()
