"""A small, realistic fake web on 127.0.0.1 for the demo and the tests.

One threaded HTTP server serves every demo platform from a ``DemoCorpus``: a county daily with an RSS
feed, a government site with paged lists, a Baidu-news-like search, a Tieba board, a Discuz! X3.4 forum
(desktop and touch templates) and an m.weibo.cn-like JSON API with a JavaScript-only topic page. Markup
and JSON follow the real samples in ../shared/fixtures. Faults (404, 500 then OK, slow, truncated, huge,
redirect loop, expired login, redesign, login wall, dropped connection, 403 ban, 429 with Retry-After,
captcha page) are switched on per path prefix with ``set_fault``.
This module is the server (lifecycle, faults, content negotiation, control API); the pages are views.py.

URLs (relative to the base URL; config/sources.yaml points the demo sources here):

    /robots.txt                                   everything allowed except /private/ (and /_demo/)
    /news/rss.xml → /news/art/<n>.html            RSS 2.0 (pubDate +0800; /news/atom.xml the same as Atom) →
                                                  article pages; one GBK page, one
                                                  UTF-8 page declaring gb2312 (no header charset); Big5 page at
                                                  /news/art/big5.html (linked from /news/)
    /gov/list_<n>.html → /gov/art/<n>.html        paged list (8 a page, a.next) → articles (body in #zoom)
    /search/news?word=<q>&pn=<page>               Baidu-news-like results (pn is the 1-based page number);
                                                  links to /news/art/... and /ext/<n>.html (other media)
    /tieba/f?kw=<board>&pn=<offset>               board list (li.j_thread_list, 10 a page, offset in pn)
    /tieba/p/<tid>?pn=<page>                      thread (30 floors a page)
    /bbs/forum.php?mod=forumdisplay&fid=2&page=N  Discuz! X3.4 list; &mobile=2 for the touch template
    /bbs/forum.php?mod=viewthread&tid=N&page=P    thread (10 posts a page); &mobile=2 likewise
    /weibo/api/container/getIndex?containerid=100103type%3D1%26q%3D<q>&page_type=searchall&page=N
                                                  m.weibo.cn search JSON (10 a page; ok:0 past the end);
                                                  containerid 231522… (a #topic#) gives the topic's weibos
    /weibo/statuses/extend?id=<id>                long text;  /weibo/comments/hotflow?id=<id>&max_id=<n>
    /weibo/status/<id|bid>                        status page with $render_data;  /weibo/topic.html: no posts in
                                                  the markup, its JavaScript renders div.card from the JSON API
    /_demo/posts|replies|faults (POST, DELETE)    control API for a sites process driven from elsewhere

Every page sends ETag and (for posts) Last-Modified and answers conditional requests with 304; text is
gzip-compressed for clients that accept it.

Run alone: ``python -m yuqing.demo.sites --port 8800 [--seed S] [--config DIR] [--scale N]``.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
import signal
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape

from yuqing.demo.content import DemoCorpus, DemoItem, Reply
from yuqing.demo.views import Response, routes
from yuqing.model import Category, utcnow

FAULT_KINDS = (
    "http_404",
    "http_500_then_ok",
    "slow",
    "truncated",
    "huge",
    "redirect_loop",
    "login_expired",
    "redesign",
    "login_wall",
    "drop",
    # beyond the list: the ways sites block crawlers
    "http_403",
    "http_429",
    "captcha",
)
HUGE_BYTES = 20 * 1024 * 1024
CONTROL_PREFIX = "/_demo/"  # POST posts|replies|faults, DELETE faults (see _control)


@dataclass
class Fault:
    prefix: str
    kind: str
    opts: dict[str, Any] = field(default_factory=dict)
    hits: int = 0


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a keep-alive client left open must not hold up stop()
    request_queue_size = 128  # Scrapy opens many connections at once
    sites: DemoSites

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Hang up on keep-alive clients, so that a stopped site really is gone (not still serving them)."""
        with self.connections_lock:
            open_now = list(self.connections)
        for conn in open_now:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class DemoSites:
    """The demo web: ``start()`` returns the base URL; everything runs in background threads."""

    def __init__(self, corpus: DemoCorpus, host: str = "127.0.0.1", port: int = 0) -> None:
        self.corpus = corpus
        self.host = host
        self.port = port
        # Bounded: a demo left serving for days must not grow without limit.
        self.requests: deque[tuple[str, str, int]] = deque(maxlen=100_000)
        self.request_times: deque[float] = deque(maxlen=100_000)  # time.monotonic() each request arrived
        self.errors: deque[str] = deque(maxlen=1_000)  # exceptions raised by views (tests assert none)
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        # Bumped by clear_requests: a request that arrived before the clear (say a slow page still being
        # served to a killed crawler) is not logged after it, so the log holds only what came since.
        self.request_generation = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.env = Environment(
            loader=FileSystemLoader(Path(__file__).parent / "site_files"),
            autoescape=select_autoescape(["html", "xml"]),  # crawled-looking text is escaped like a real site
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["tojson_attr"] = lambda v: json.dumps(v, ensure_ascii=True, separators=(",", ":"))
        self.base_url = ""
        self._routes = routes(self)

    # --- lifecycle -----------------------------------------------------------------------------
    def start(self) -> str:
        if self._server is not None:
            return self.base_url
        server = _Server((self.host, self.port), _Handler)
        server.sites = self
        self._server = server
        self.port = int(server.server_address[1])
        self.base_url = f"http://{self.host}:{self.port}"
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="demo-sites", daemon=True
        )
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._server.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> DemoSites:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- test controls -------------------------------------------------------------------------
    def add_post(self, platform: str, item: DemoItem | None = None, **fields: Any) -> DemoItem:
        """Publish a post now: it shows at once on that platform's list, feed, search and API.

        Pass a DemoItem, or fields for ``DemoCorpus.new_item`` (text=..., title=..., category=...).
        """
        with self._lock:
            if item is None:
                item = self.corpus.new_item(platform, **fields)
            elif item.platform != platform:
                raise ValueError(f"item is for {item.platform!r}, not {platform!r}")
            if self.corpus.find(platform, item.number) is not None or any(i.key == item.key for i in self.corpus.items):
                fresh = self.corpus.new_item(platform, item.text)
                item.number, item.key = fresh.number, fresh.key
            self.corpus.items.append(item)
        return item

    def add_reply(self, item: DemoItem | str, text: str, author: str = "热心网友", **truth: Any) -> Reply:
        """A new reply (forum floor or Weibo comment) on an existing post, published now."""
        with self._lock:
            target = self.corpus.get(item) if isinstance(item, str) else item
            reply = Reply(len(target.replies) + 2, author, text, utcnow(), **truth)
            target.replies.append(reply)
            target.comments = max(target.comments, len(target.replies))
        return reply

    def set_fault(self, path_prefix: str, kind: str, **opts: Any) -> None:
        """Make requests whose path (with query) starts with ``path_prefix`` misbehave as ``kind``."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; expected one of {FAULT_KINDS}")
        if not path_prefix.startswith("/"):
            raise ValueError(f"path prefix must start with '/': {path_prefix!r}")
        with self._lock:
            self._faults.append(Fault(path_prefix, kind, dict(opts)))

    @property
    def faults(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def fault_hits(self, path_prefix: str) -> int:
        """How many requests the fault on ``path_prefix`` has caught (0 when there is none)."""
        with self._lock:
            return sum(f.hits for f in self._faults if f.prefix == path_prefix)

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()
            self.request_times.clear()
            self.request_generation += 1

    def url(self, path: str) -> str:
        return self.base_url + path

    def fault_for(self, target: str, cookie: str = "") -> Fault | None:
        """The fault for a request; ``unless_cookie=...`` exempts clients that send that cookie."""
        with self._lock:
            for fault in reversed(self._faults):  # the latest wins
                exempt = fault.opts.get("unless_cookie")
                if exempt and exempt in cookie:
                    continue
                if target.startswith(fault.prefix):
                    fault.hits += 1
                    return fault
        return None

    def log(self, method: str, target: str, status: int, generation: int | None = None,
            arrived: float | None = None) -> None:
        with self._lock:
            if generation is None or generation == self.request_generation:
                self.requests.append((method, target, status))
                self.request_times.append(time.monotonic() if arrived is None else arrived)

    # --- rendering ------------------------------------------------------------------------------
    def render(self, template: str, **ctx: Any) -> str:
        return self.env.get_template(template).render(base=self.base_url, corpus=self.corpus, **ctx)

    def handle(self, target: str, redesign: bool = False) -> Response:
        parts = urlsplit(target)
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        path = unquote(parts.path)
        for pattern, view in self._routes:
            m = pattern.fullmatch(path)
            if m:
                resp = view(m, query)
                if redesign:
                    resp = _redesigned(resp)
                return resp
        return self.not_found()

    def not_found(self) -> Response:
        return Response(404, self.render("not_found.html").encode("utf-8"))


# --- request handling ----------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "DemoSites/1.0"
    timeout = 30  # an idle keep-alive connection is closed after this long
    server: _Server
    generation = 0  # the request log generation when the current request arrived
    arrived = 0.0  # time.monotonic() when the current request arrived

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # the request log is self.server.sites.requests; stderr stays quiet in tests

    def do_HEAD(self) -> None:  # noqa: N802 - stdlib naming
        self._serve(head=True)

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._serve(head=False)

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        self._control(head=False)

    def do_DELETE(self) -> None:  # noqa: N802 - stdlib naming
        self._control(head=False)

    def _control(self, head: bool) -> None:
        """The control API for a demo run in another process: add posts and replies, switch faults."""
        sites = self.server.sites
        self.generation = sites.request_generation
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            status, answer = _control(sites, self.command, self.path, json.loads(raw or b"{}"))
        except (ValueError, KeyError, TypeError) as exc:  # bad input: say what was wrong
            status, answer = 400, {"error": str(exc)}
        sites.log(self.command, self.path, status, self.generation)
        self._send(Response(status, json.dumps(answer, ensure_ascii=False).encode(), "application/json"), head)

    def _serve(self, head: bool) -> None:
        sites = self.server.sites
        self.generation, self.arrived = sites.request_generation, time.monotonic()
        target = self.path
        if target.startswith(CONTROL_PREFIX):
            self._control(head)
            return
        fault = sites.fault_for(target, self.headers.get("Cookie", ""))
        try:
            if fault is not None and self._fault(fault, target, head):
                return
            try:
                resp = sites.handle(target, redesign=fault is not None and fault.kind == "redesign")
            except Exception as exc:  # a bug in a view is a 500 for the client and a logged line, not a hang
                sites.errors.append(f"{target}: {exc!r}")
                resp = Response(500, b"<html><body><h1>500 Internal Server Error</h1></body></html>")
            if fault is not None and fault.kind == "truncated":
                resp.body = _truncate(resp.body)
            resp = self._negotiate(resp)
            # Logged before sending: a client that got the response sees it logged.
            sites.log(self.command, target, resp.status, self.generation, self.arrived)
            self._send(resp, head)
        except (BrokenPipeError, ConnectionResetError):
            # the client went away (e.g. it refused a huge page)
            sites.log(self.command, target, 499, self.generation, self.arrived)
            self.close_connection = True

    def _negotiate(self, resp: Response) -> Response:
        """What real servers do for repeat visitors and modern clients: validators, 304s and gzip."""
        if resp.status != 200:
            return resp
        etag = '"' + hashlib.sha256(resp.body).hexdigest()[:20] + '"'
        resp.headers.setdefault("ETag", etag)
        inm = self.headers.get("If-None-Match")
        ims = self.headers.get("If-Modified-Since")
        modified = resp.headers.get("Last-Modified")
        not_modified = inm is not None and etag in [t.strip() for t in inm.split(",")]
        if inm is None and ims and modified:
            try:
                not_modified = parsedate_to_datetime(modified) <= parsedate_to_datetime(ims)
            except (TypeError, ValueError):
                not_modified = False
        if not_modified:
            return Response(
                304, b"", resp.content_type, {"ETag": etag, **({"Last-Modified": modified} if modified else {})}
            )
        accepts = self.headers.get("Accept-Encoding", "")
        compressible = resp.content_type.startswith(
            ("text/", "application/json", "application/rss+xml", "application/atom+xml")
        )
        if "gzip" in accepts and compressible and len(resp.body) > 1024:
            # Level 1, as nginx compresses by default (gzip_comp_level 1): this server shares the cores with
            # the crawler it serves, so its CPU per page counts in every crawl figure.
            resp.body = gzip.compress(resp.body, compresslevel=1, mtime=0)
            resp.headers["Content-Encoding"] = "gzip"
            resp.headers["Vary"] = "Accept-Encoding"
        return resp

    def _send(self, resp: Response, head: bool) -> None:
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.content_type)
        self.send_header("Content-Length", str(len(resp.body)))
        for k, v in resp.headers.items():
            self.send_header(k, v)
        self.end_headers()
        if not head:
            self.wfile.write(resp.body)

    def _fault(self, fault: Fault, target: str, head: bool) -> bool:
        """Apply a fault; True when the response has been sent (or deliberately not sent)."""
        sites = self.server.sites
        kind = fault.kind
        if kind == "slow":
            time.sleep(float(fault.opts.get("seconds", 3)))
            return False
        if kind in ("truncated", "redesign"):
            return False
        if kind == "http_500_then_ok":
            if fault.hits > int(fault.opts.get("times", 1)):
                return False
            resp = Response(500, b"<html><body><h1>500 Internal Server Error</h1></body></html>")
        elif kind == "http_404":
            resp = sites.not_found()
        elif kind == "http_403":  # a ban: the site refuses this client
            resp = Response(403, sites.render("blocked.html").encode("utf-8"))
        elif kind == "http_429":  # rate limited, with the wait the site asks for
            retry = str(int(fault.opts.get("retry_after", 60)))
            resp = Response(429, sites.render("blocked.html").encode("utf-8"), headers={"Retry-After": retry})
        elif kind == "captcha":  # Baidu's verification page, answered with 200 instead of the content
            resp = Response(200, sites.render("captcha.html", target=target).encode("utf-8"))
        elif kind == "redirect_loop":
            # Two URLs that redirect to each other, as a misconfigured site does.
            if "_loop=1" in target:
                location = target.replace("?_loop=1&", "?").replace("&_loop=1", "").replace("?_loop=1", "")
            else:
                location = target + ("&" if "?" in target else "?") + "_loop=1"
            resp = Response(302, b"", headers={"Location": location})
        elif kind == "login_expired":
            body = {
                "ok": -100,
                "url": "https://passport.weibo.cn/signin/welcome?entry=mweibo&r="
                + quote(sites.base_url + target, safe=""),
            }
            resp = Response(200, json.dumps(body).encode(), "application/json; charset=utf-8")
        elif kind == "login_wall":
            resp = Response(200, sites.render("login_wall.html", target=target).encode("utf-8"))
        elif kind == "drop":
            sites.log(self.command, target, 0, self.generation, self.arrived)
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return True
        elif kind == "huge":
            sites.log(self.command, target, 200, self.generation)
            self._send_huge(head, chunked=bool(fault.opts.get("chunked", False)))
            return True
        else:  # pragma: no cover - set_fault validates kinds
            raise AssertionError(kind)
        sites.log(self.command, target, resp.status, self.generation, self.arrived)
        self._send(resp, head)
        return True

    def _send_huge(self, head: bool, chunked: bool) -> None:
        """20 MB of real-looking HTML, streamed; with an honest Content-Length unless chunked."""
        row = ('<p class="filler">示例县教育新闻资料汇编，这一段重复出现以构成一个超大的页面。</p>\n' * 40).encode()
        head_html = b'<!DOCTYPE html><html><head><meta charset="utf-8"><title>huge</title></head><body>\n'
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(HUGE_BYTES))
        self.end_headers()
        if head:
            return
        sent = 0
        chunks = [head_html]
        while sent < HUGE_BYTES:
            piece = chunks.pop() if chunks else row
            piece = piece[: HUGE_BYTES - sent]
            if chunked:
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            else:
                self.wfile.write(piece)
            sent += len(piece)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")


def _control(sites: DemoSites, method: str, path: str, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    route = urlsplit(path).path.removeprefix(CONTROL_PREFIX)
    if method == "POST" and route == "posts":
        fields = {k: v for k, v in data.items() if k in _POST_FIELDS}
        if "category" in fields:
            fields["category"] = Category(fields["category"])
        if "schools" in fields:
            fields["schools"] = tuple(fields["schools"])
        item = sites.add_post(str(data["platform"]), **fields)
        return 201, {"key": item.key, "number": item.number, "path": item.path, "url": sites.url(item.path)}
    if method == "POST" and route == "replies":
        reply = sites.add_reply(str(data["key"]), str(data["text"]), str(data.get("author", "热心网友")))
        return 201, {"floor": reply.floor}
    if method == "POST" and route == "faults":
        opts = {k: v for k, v in data.items() if k not in ("prefix", "kind")}
        sites.set_fault(str(data["prefix"]), str(data["kind"]), **opts)
        return 201, {"faults": len(sites.faults)}
    if method == "DELETE" and route == "faults":
        sites.clear_faults()
        return 200, {"faults": 0}
    return 404, {"error": f"no control route {method} {route}"}


_POST_FIELDS = ("text", "title", "author", "category", "schools", "relevant", "topic", "story")


def _truncate(body: bytes) -> bytes:
    """Cut the body in the middle of a tag (the Content-Length then honestly says the shorter length)."""
    middle = len(body) // 2
    lt = body.find(b"<", middle)
    if lt == -1:
        return body[:middle]
    return body[: lt + 3]


_CLASS_ATTR = re.compile(rb'\b(class|id)="([^"]*)"')


def _redesigned(resp: Response) -> Response:
    """The same content under new class names and ids (HTML) or new keys (JSON): old selectors find nothing."""
    if resp.status != 200:
        return resp
    if resp.content_type.startswith("application/json"):
        data = json.loads(resp.body)
        resp.body = json.dumps({"code": 0, "result": _rename_keys(data)}, ensure_ascii=False).encode("utf-8")
        return resp
    if "xml" in resp.content_type:
        resp.body = resp.body.replace(b"<item>", b"<entry>").replace(b"</item>", b"</entry>")
        return resp

    def rename(m: re.Match[bytes]) -> bytes:
        names = b" ".join(b"v2-" + n.replace(b"_", b"-") for n in m.group(2).split())
        return m.group(1) + b'="' + names + b'"'

    resp.body = _CLASS_ATTR.sub(rename, resp.body)
    return resp


def _rename_keys(data: Any) -> Any:
    if isinstance(data, dict):
        return {f"x_{k}": _rename_keys(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_rename_keys(v) for v in data]
    return data


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the demo sites on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8800)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--config", default=None, help="config folder (default: the bundled sample county)")
    parser.add_argument("--scale", type=int, default=0, help="extra generated items (for crawl benchmarks)")
    args = parser.parse_args(argv)
    from yuqing.config import load_config
    from yuqing.demo.content import DEFAULT_SEED, build_corpus

    cfg = load_config(args.config) if args.config else None
    corpus = build_corpus(cfg, seed=args.seed if args.seed is not None else DEFAULT_SEED, scale=args.scale)
    sites = DemoSites(corpus, host=args.host, port=args.port)
    stop = threading.Event()
    # A service manager's stop is a clean shutdown; set before the address is printed, so that whoever
    # reads it may stop us at once.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(sites.start(), flush=True)
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        sites.stop()


if __name__ == "__main__":
    main()
