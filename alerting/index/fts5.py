"""The embedded search backend: one SQLite file with an FTS5 table (``sqlite:///path/index.db``).

Layout: ``docs`` holds each post's JSON and its filter columns (indexed); ``doc_schools`` the
post↔school pairs; ``fts`` is a contentless FTS5 table with four columns of standard tokens
(see ``querysyntax``): title unigrams, title bigrams, content unigrams, content bigrams. A word of
one token matches the unigram columns, a longer word or phrase is a phrase of bigrams: exactly
the character-sequence semantics the Elasticsearch backend implements, so both agree.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from alerting.index import highlight
from alerting.index.protocol import (
    Bucket,
    DocFailure,
    Hit,
    IndexDoc,
    IndexReport,
    IndexUnavailable,
    SearchQuery,
    SearchResult,
    check_query,
    doc_source,
)
from alerting.index.querysyntax import ParsedQuery, Term, bigrams, parse, std_tokens
from yuqing.errors import InputError

SCHEMA_VERSION = 2  # bump when tokenization changes: the index must then be rebuilt
# Token characters besides letters and digits: standard tokens such as 3.5, o'clock, 1,000 and
# a_b must stay one FTS5 token.
# Symbols (So: emoji) and marks are token characters too, as in the standard tokenizer.
_TOKENIZE = "unicode61 remove_diacritics 0 categories 'L* N* Co M* So' tokenchars '._,''’'"
_BM25 = "bm25(fts, 3.0, 3.0, 1.0, 1.0)"  # title matches weigh three times content matches
_EPOCH_DAY = date(1970, 1, 1)
_AGG_COLUMNS = {"category": "category", "severity": "severity", "status": "status", "site": "site",
                "source": "source"}


def _grams(text: str) -> tuple[str, str]:
    toks = std_tokens(text)
    return " ".join(toks), " ".join(bigrams(toks))


# Replies carry their thread's title: a batch tokenizes the same few titles over and over.
_title_grams = lru_cache(maxsize=2048)(_grams)


def _fts_row(title: str, content: str) -> tuple[str, str, str, str]:
    t_uni, t_bi = _title_grams(title)
    c_uni, c_bi = _grams(content)
    return t_uni, t_bi, c_uni, c_bi


def _phrase(tokens: Sequence[str]) -> str:
    return '"' + " ".join(t.replace('"', '""') for t in tokens) + '"'


def _term_expr(term: Term) -> str:
    if len(term.tokens) == 1:
        return "{t_uni c_uni} : " + _phrase(term.tokens)
    return "{t_bi c_bi} : " + _phrase(bigrams(list(term.tokens)))


def match_expression(parsed: ParsedQuery) -> str:
    """The FTS5 MATCH string for a parsed query (tokens only, so nothing the user typed can
    inject FTS5 syntax)."""
    def group(terms: Sequence[Term]) -> str:
        inner = " OR ".join(f"({_term_expr(t)})" for t in terms)
        return f"({inner})"

    expr = " AND ".join(group(c.terms) for c in parsed.positive)
    for c in parsed.negative:
        expr = f"({expr}) NOT {group(c.terms)}"
    return expr


def _prepare(doc: IndexDoc) -> tuple[str, tuple[Any, ...], tuple[str, str, str, str]]:
    """The stored JSON, the filter columns and the FTS5 columns of a document (may raise)."""
    # Words (the segmenter's) serve Elasticsearch's scoring only; matching here is on
    # characters, so FTS5 stores words only when the document already carries them.
    source = json.dumps(doc_source(doc), ensure_ascii=False, allow_nan=False)
    published = int(doc.published_at.timestamp())
    if not -(2**62) < published < 2**62 or doc.reach >= 2**63:
        raise OverflowError("value out of range")
    values = (published, str(doc.category), doc.severity, str(doc.status), str(doc.site), str(doc.source),
              doc.event_id, float(doc.sensitivity))
    return source, values, _fts_row(doc.title, doc.content)


class Fts5Index:
    """``SearchIndex`` on SQLite FTS5. One connection guarded by a lock (the web UI's threads)."""

    def __init__(self, url: str):
        if not url.startswith("sqlite:///"):
            raise ValueError(f"not an sqlite:/// URL: {url}")
        self.url = url
        self.path = Path(url.removeprefix("sqlite:///"))
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = None

    # -- connection and schema ------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            except (OSError, sqlite3.Error) as exc:
                raise IndexUnavailable(f"无法打开索引文件 {self.path}:{exc}") from exc
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA busy_timeout=30000")
            db.execute("PRAGMA temp_store=MEMORY")
            db.execute("PRAGMA cache_size=-65536")  # 64 MiB page cache: aggregations over 1M rows
            self._db = db
        return self._db

    def ensure(self) -> None:
        with self._lock:
            db = self._conn()
            db.executescript(
                f"""
                CREATE TABLE IF NOT EXISTS docs(    -- narrow: filters and aggregations scan it
                    rowid INTEGER PRIMARY KEY,
                    id TEXT NOT NULL UNIQUE,
                    published_at INTEGER NOT NULL,   -- epoch seconds, UTC
                    category TEXT NOT NULL,
                    severity TEXT,
                    status TEXT NOT NULL,
                    site TEXT NOT NULL,
                    source TEXT NOT NULL,
                    event_id TEXT,
                    sensitivity REAL NOT NULL
                );
                CREATE TABLE IF NOT EXISTS doc_json(  -- the JSON source (protocol.doc_source), read per page
                    rowid INTEGER PRIMARY KEY, doc TEXT NOT NULL
                );
                CREATE INDEX IF NOT EXISTS ix_docs_published ON docs(published_at);
                CREATE INDEX IF NOT EXISTS ix_docs_category ON docs(category, published_at);
                CREATE INDEX IF NOT EXISTS ix_docs_severity ON docs(severity);
                CREATE INDEX IF NOT EXISTS ix_docs_status ON docs(status, severity);
                CREATE INDEX IF NOT EXISTS ix_docs_site ON docs(site);
                CREATE INDEX IF NOT EXISTS ix_docs_source ON docs(source);
                CREATE INDEX IF NOT EXISTS ix_docs_event ON docs(event_id);
                CREATE TABLE IF NOT EXISTS doc_schools(
                    school TEXT NOT NULL, doc INTEGER NOT NULL, PRIMARY KEY(school, doc)
                ) WITHOUT ROWID;
                CREATE INDEX IF NOT EXISTS ix_doc_schools_doc ON doc_schools(doc);
                CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(
                    t_uni, t_bi, c_uni, c_bi, content='', tokenize="{_TOKENIZE}"
                );
                CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);
                INSERT OR IGNORE INTO meta VALUES ('schema_version', '{SCHEMA_VERSION}');
                """
            )
            version = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
            if str(version) != str(SCHEMA_VERSION):
                raise IndexUnavailable(f"{self.path} 的索引结构是第 {version} 版,程序需要第 {SCHEMA_VERSION} 版:"
                                       "请运行 yuqing index rebuild --yes 重建索引")

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    # -- writing ----------------------------------------------------------------------------------
    def index(self, docs: Iterable[IndexDoc]) -> IndexReport:
        report = IndexReport()
        with self._lock:
            db = self._conn()
            try:
                db.execute("BEGIN IMMEDIATE")
                try:
                    for doc in docs:
                        # Everything that can refuse a document is computed before the first
                        # write, so a refused one leaves no half-written rows.
                        try:
                            prepared = _prepare(doc)
                        except (ValueError, TypeError, OverflowError) as exc:
                            report.failed.append(DocFailure(doc.id, f"{type(exc).__name__}: {exc}"))
                            continue
                        self._write(db, doc, *prepared)
                        report.indexed += 1
                    db.execute("COMMIT")
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
            except sqlite3.OperationalError as exc:  # locked past busy_timeout, disk full, I/O error
                raise IndexUnavailable(f"索引文件 {self.path} 暂时不可用:{exc}") from exc
        return report

    def _write(self, db: sqlite3.Connection, doc: IndexDoc, source: str, values: tuple[Any, ...],
               grams: tuple[str, str, str, str]) -> None:
        old = db.execute("SELECT d.rowid, j.doc FROM docs d JOIN doc_json j ON j.rowid = d.rowid WHERE d.id = ?",
                         (doc.id,)).fetchone()
        if old is not None:
            rowid = old[0]
            prev = json.loads(old[1])
            # A contentless FTS5 table forgets a row only when told its old tokens.
            db.execute("INSERT INTO fts(fts, rowid, t_uni, t_bi, c_uni, c_bi) VALUES('delete', ?, ?, ?, ?, ?)",
                       (rowid, *_fts_row(prev["title"], prev["content"])))
            db.execute("UPDATE docs SET published_at=?, category=?, severity=?, status=?, site=?, source=?,"
                       " event_id=?, sensitivity=? WHERE rowid=?", (*values, rowid))
            db.execute("UPDATE doc_json SET doc = ? WHERE rowid = ?", (source, rowid))
            db.execute("DELETE FROM doc_schools WHERE doc = ?", (rowid,))
        else:
            cur = db.execute("INSERT INTO docs(id, published_at, category, severity, status, site, source,"
                             " event_id, sensitivity) VALUES (?,?,?,?,?,?,?,?,?)", (doc.id, *values))
            rowid = cur.lastrowid
            db.execute("INSERT INTO doc_json(rowid, doc) VALUES (?, ?)", (rowid, source))
        db.execute("INSERT INTO fts(rowid, t_uni, t_bi, c_uni, c_bi) VALUES (?, ?, ?, ?, ?)", (rowid, *grams))
        db.executemany("INSERT OR IGNORE INTO doc_schools(school, doc) VALUES (?, ?)",
                       [(s, rowid) for s in doc.schools])

    def update_status(self, post_ids: Sequence[str], status: str) -> int:
        def set_status(db: sqlite3.Connection, rowid: int, source: dict[str, Any]) -> None:
            if source.get("status") == status:
                return  # indexed with it already (a new warning's posts indexed in the same replay)
            source["status"] = status
            db.execute("UPDATE docs SET status = ? WHERE rowid = ?", (status, rowid))
            db.execute("UPDATE doc_json SET doc = ? WHERE rowid = ?", (json.dumps(source, ensure_ascii=False), rowid))

        return self._each_doc(post_ids, set_status)

    def delete(self, post_ids: Sequence[str]) -> int:
        def forget(db: sqlite3.Connection, rowid: int, source: dict[str, Any]) -> None:
            # A contentless FTS5 table forgets a row only when told its old tokens.
            db.execute("INSERT INTO fts(fts, rowid, t_uni, t_bi, c_uni, c_bi) VALUES('delete', ?, ?, ?, ?, ?)",
                       (rowid, *_fts_row(source["title"], source["content"])))
            db.execute("DELETE FROM doc_schools WHERE doc = ?", (rowid,))
            db.execute("DELETE FROM doc_json WHERE rowid = ?", (rowid,))
            db.execute("DELETE FROM docs WHERE rowid = ?", (rowid,))

        return self._each_doc(post_ids, forget)

    def _each_doc(self, post_ids: Sequence[str],
                  change: Callable[[sqlite3.Connection, int, dict[str, Any]], None]) -> int:
        """Apply ``change`` to each indexed document of ``post_ids`` in one transaction; how many were found."""
        found = 0
        try:
            with self._lock:
                db = self._conn()
                db.execute("BEGIN IMMEDIATE")
                try:
                    for pid in post_ids:
                        row = db.execute("SELECT d.rowid, j.doc FROM docs d JOIN doc_json j ON j.rowid = d.rowid"
                                         " WHERE d.id = ?", (pid,)).fetchone()
                        if row is not None:
                            change(db, row[0], json.loads(row[1]))
                            found += 1
                    db.execute("COMMIT")
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
        except sqlite3.OperationalError as exc:  # locked past busy_timeout, disk full, I/O error
            raise IndexUnavailable(f"索引文件 {self.path} 暂时不可用:{exc}") from exc
        return found

    def delete_all(self) -> None:
        with self._lock:
            db = self._conn()
            db.executescript("DROP TABLE IF EXISTS fts; DROP TABLE IF EXISTS doc_schools;"
                             " DROP TABLE IF EXISTS doc_json; DROP TABLE IF EXISTS docs; DROP TABLE IF EXISTS meta;")
            db.execute("VACUUM")

    def refresh(self) -> None:
        """Writes are visible on commit; nothing to do."""

    def count(self) -> int:
        with self._lock:
            try:
                return int(self._conn().execute("SELECT count(*) FROM docs").fetchone()[0])
            except sqlite3.OperationalError as exc:
                if "no such table" in str(exc):
                    return 0
                raise

    # -- searching --------------------------------------------------------------------------------
    def search(self, q: SearchQuery) -> SearchResult:
        started = time.perf_counter()
        check_query(q)
        parsed = parse(q.text)
        where: list[str] = []
        params: list[Any] = []
        join = ""
        score = "0.0"
        if not parsed.empty:
            # bm25() costs per matching row: compute it only when ranking by relevance.
            ranked = q.sort == "relevance"
            join = ("JOIN (SELECT rowid AS r" + (", " + _BM25 + " AS score" if ranked else "")
                    + " FROM fts WHERE fts MATCH ?) m ON m.r = d.rowid")
            params.append(match_expression(parsed))
            score = "m.score" if ranked else "0.0"
        _filters(q, where, params)
        sql_where = ("WHERE " + " AND ".join(where)) if where else ""
        with self._lock:
            db = self._conn()
            db.execute("DROP TABLE IF EXISTS temp.hits")
            everything = parsed.empty and not where
            try:
                if everything:
                    # No text, no filter (the overview): read docs and its indexes directly.
                    db.execute("CREATE TEMP VIEW IF NOT EXISTS all_hits AS SELECT rowid AS r, 0.0 AS score,"
                               " published_at AS p, sensitivity AS s, id, category, severity, status, site, source"
                               " FROM docs")
                else:
                    # The matching set once, with what sorting and the aggregations need, so that
                    # they never go back to the docs table.
                    db.execute(f"CREATE TEMP TABLE hits AS SELECT d.rowid AS r, {score} AS score,"
                               " d.published_at AS p, d.sensitivity AS s, d.id AS id, d.category AS category,"
                               " d.severity AS severity, d.status AS status, d.site AS site, d.source AS source"
                               f" FROM docs d {join} {sql_where}", params)
            except sqlite3.OperationalError as exc:
                if "no such table" in str(exc):
                    return SearchResult(total=0, hits=[], took_ms=(time.perf_counter() - started) * 1000)
                if "fts5" in str(exc):  # the parser only emits valid expressions; say so if not
                    raise InputError(f"检索式无法执行:{exc}") from exc
                raise IndexUnavailable(f"索引文件 {self.path} 暂时不可用:{exc}") from exc
            src = "all_hits" if everything else "hits"
            total = int(db.execute(f"SELECT count(*) FROM {src}").fetchone()[0])
            order = _order(q, has_text=not parsed.empty)
            offset = (q.page - 1) * q.size
            # Sort the narrow rows first, then read the JSON of the page only.
            rows = db.execute(f"SELECT h.id, h.score, j.doc FROM (SELECT * FROM {src} h ORDER BY {order}"
                              f" LIMIT ? OFFSET ?) h JOIN doc_json j ON j.rowid = h.r ORDER BY {order}",
                              (q.size, offset)).fetchall()
            aggs = {name: self._aggregate(db, name, q, src) for name in q.aggregations}
            db.execute("DROP TABLE IF EXISTS temp.hits")
        terms = [t for c in parsed.positive for t in c.terms]
        hits = []
        for pid, sc, raw in rows:
            source = json.loads(raw)
            frags: list[str] = []
            if q.highlight and terms:
                frags = highlight.whole(source.get("title", ""), terms) + highlight.fragments(
                    source.get("content", ""), terms)
            # bm25() is lower-is-better; expose higher-is-better like Elasticsearch's _score.
            hits.append(Hit(id=pid, score=-float(sc or 0.0), doc=source, highlights=frags))
        return SearchResult(total=total, hits=hits, aggregations=aggs,
                            took_ms=(time.perf_counter() - started) * 1000)

    def _aggregate(self, db: sqlite3.Connection, name: str, q: SearchQuery, src: str) -> list[Bucket]:
        if name == "day":
            offset = _utc_offset_seconds(q.timezone)
            rows = db.execute(f"SELECT (p + ?) / 86400 AS k, count(*) FROM {src} GROUP BY k ORDER BY k",
                              (offset,)).fetchall()
            return [Bucket(str(_EPOCH_DAY + timedelta(days=k)), n) for k, n in rows]
        if name == "school":
            if src == "all_hits":
                rows = db.execute("SELECT school, count(*) AS n FROM doc_schools GROUP BY school"
                                  " ORDER BY n DESC, school").fetchall()
            else:
                # CROSS JOIN keeps hits the outer loop (the planner would otherwise scan doc_schools).
                rows = db.execute("SELECT s.school, count(*) AS n FROM hits h CROSS JOIN doc_schools s"
                                  " ON s.doc = h.r GROUP BY s.school ORDER BY n DESC, s.school").fetchall()
        else:
            col = _AGG_COLUMNS[name]
            rows = db.execute(f"SELECT {col} AS k, count(*) AS n FROM {src}"
                              f" WHERE {col} IS NOT NULL GROUP BY k ORDER BY n DESC, k").fetchall()
        return [Bucket(str(k), int(n)) for k, n in rows]


def _filters(q: SearchQuery, where: list[str], params: list[Any]) -> None:
    def any_of(column: str, values: Sequence[str]) -> None:
        if values:
            where.append(f"{column} IN ({','.join('?' * len(values))})")
            params.extend(values)

    any_of("d.category", q.categories)
    any_of("d.severity", q.severities)
    any_of("d.status", q.statuses)
    any_of("d.site", q.sites)
    any_of("d.source", q.sources)
    if q.schools:
        where.append(f"d.rowid IN (SELECT doc FROM doc_schools WHERE school IN ({','.join('?' * len(q.schools))}))")
        params.extend(q.schools)
    if q.event_id:
        where.append("d.event_id = ?")
        params.append(q.event_id)
    if q.min_sensitivity is not None:
        where.append("d.sensitivity >= ?")
        params.append(q.min_sensitivity)
    if q.since is not None:
        where.append("d.published_at >= ?")
        params.append(_epoch(q.since))
    if q.until is not None:
        where.append("d.published_at < ?")
        params.append(_epoch(q.until))


def _epoch(t: datetime) -> int:
    return int(t.astimezone(timezone.utc).timestamp())


def _order(q: SearchQuery, has_text: bool) -> str:
    if q.sort == "oldest":
        return "h.p ASC, h.id ASC"
    if q.sort == "sensitivity":
        return "h.s DESC, h.p DESC, h.id ASC"
    if q.sort == "relevance" and has_text:
        return "h.score ASC, h.p DESC, h.id ASC"
    return "h.p DESC, h.id ASC"


def _utc_offset_seconds(tz: str) -> int:
    try:
        offset = datetime.now(ZoneInfo(tz)).utcoffset()
    except Exception as exc:  # zoneinfo raises several types for a bad name
        raise InputError(f"未知的时区 {tz!r}") from exc
    return int(offset.total_seconds()) if offset else 0
