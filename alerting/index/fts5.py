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
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
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
from alerting.index.tokens import Tokenize, WordCutter
from yuqing.errors import InputError

SCHEMA_VERSION = 1  # bump when tokenization changes: the index must then be rebuilt
# Token characters besides letters and digits: standard tokens such as 3.5, o'clock, 1,000 and
# a_b must stay one FTS5 token.
# Symbols (So: emoji) and marks are token characters too, as in the standard tokenizer.
_TOKENIZE = "unicode61 remove_diacritics 0 categories 'L* N* Co M* So' tokenchars '._,''’'"
_BM25 = "bm25(fts, 3.0, 3.0, 1.0, 1.0)"  # title matches weigh three times content matches
_AGG_COLUMNS = {"category": "d.category", "severity": "d.severity", "status": "d.status",
                "site": "d.site", "source": "d.source"}


def _grams(text: str) -> tuple[str, str]:
    toks = std_tokens(text)
    return " ".join(toks), " ".join(bigrams(toks))


def _fts_row(title: str, content: str) -> tuple[str, str, str, str]:
    t_uni, t_bi = _grams(title)
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


class Fts5Index:
    """``SearchIndex`` on SQLite FTS5. One connection guarded by a lock (the web UI's threads)."""

    def __init__(self, url: str, tokenize: Tokenize | None = None):
        if not url.startswith("sqlite:///"):
            raise ValueError(f"not an sqlite:/// URL: {url}")
        self.url = url
        self.path = Path(url.removeprefix("sqlite:///"))
        self.tokenize = tokenize or WordCutter()
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = None

    # -- connection and schema ------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            except (OSError, sqlite3.Error) as exc:
                raise IndexUnavailable(f"cannot open {self.path}: {exc}") from exc
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
                CREATE TABLE IF NOT EXISTS docs(
                    rowid INTEGER PRIMARY KEY,
                    id TEXT NOT NULL UNIQUE,
                    published_at INTEGER NOT NULL,   -- epoch seconds, UTC
                    category TEXT NOT NULL,
                    severity TEXT,
                    status TEXT NOT NULL,
                    site TEXT NOT NULL,
                    source TEXT NOT NULL,
                    event_id TEXT,
                    sensitivity REAL NOT NULL,
                    doc TEXT NOT NULL               -- the JSON source (protocol.doc_source)
                );
                CREATE INDEX IF NOT EXISTS ix_docs_published ON docs(published_at);
                CREATE INDEX IF NOT EXISTS ix_docs_category ON docs(category, published_at);
                CREATE INDEX IF NOT EXISTS ix_docs_severity ON docs(severity);
                CREATE INDEX IF NOT EXISTS ix_docs_status ON docs(status);
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
            db.execute("BEGIN IMMEDIATE")
            try:
                for doc in docs:
                    try:
                        self._index_one(db, doc)
                        report.indexed += 1
                    except (ValueError, TypeError, sqlite3.IntegrityError) as exc:
                        report.failed.append(DocFailure(doc.id, f"{type(exc).__name__}: {exc}"))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return report

    def _index_one(self, db: sqlite3.Connection, doc: IndexDoc) -> None:
        words = list(doc.words) or self.tokenize(f"{doc.title}\n{doc.content}")
        source = doc_source(doc, words)
        old = db.execute("SELECT rowid, doc FROM docs WHERE id = ?", (doc.id,)).fetchone()
        values = (int(doc.published_at.timestamp()), doc.category, doc.severity, doc.status, doc.site,
                  doc.source, doc.event_id, float(doc.sensitivity), json.dumps(source, ensure_ascii=False))
        if old is not None:
            rowid = old[0]
            prev = json.loads(old[1])
            # A contentless FTS5 table forgets a row only when told its old tokens.
            db.execute("INSERT INTO fts(fts, rowid, t_uni, t_bi, c_uni, c_bi) VALUES('delete', ?, ?, ?, ?, ?)",
                       (rowid, *_fts_row(prev["title"], prev["content"])))
            db.execute("UPDATE docs SET published_at=?, category=?, severity=?, status=?, site=?, source=?,"
                       " event_id=?, sensitivity=?, doc=? WHERE rowid=?", (*values, rowid))
            db.execute("DELETE FROM doc_schools WHERE doc = ?", (rowid,))
        else:
            cur = db.execute("INSERT INTO docs(id, published_at, category, severity, status, site, source,"
                             " event_id, sensitivity, doc) VALUES (?,?,?,?,?,?,?,?,?,?)", (doc.id, *values))
            rowid = cur.lastrowid
        db.execute("INSERT INTO fts(rowid, t_uni, t_bi, c_uni, c_bi) VALUES (?, ?, ?, ?, ?)",
                   (rowid, *_fts_row(doc.title, doc.content)))
        db.executemany("INSERT OR IGNORE INTO doc_schools(school, doc) VALUES (?, ?)",
                       [(s, rowid) for s in doc.schools])

    def update_status(self, post_ids: Sequence[str], status: str) -> int:
        updated = 0
        with self._lock:
            db = self._conn()
            db.execute("BEGIN IMMEDIATE")
            try:
                for pid in post_ids:
                    row = db.execute("SELECT rowid, doc FROM docs WHERE id = ?", (pid,)).fetchone()
                    if row is None:
                        continue
                    source = json.loads(row[1])
                    source["status"] = status
                    db.execute("UPDATE docs SET status = ?, doc = ? WHERE rowid = ?",
                               (status, json.dumps(source, ensure_ascii=False), row[0]))
                    updated += 1
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return updated

    def delete_all(self) -> None:
        with self._lock:
            db = self._conn()
            db.executescript("DROP TABLE IF EXISTS fts; DROP TABLE IF EXISTS doc_schools;"
                             " DROP TABLE IF EXISTS docs; DROP TABLE IF EXISTS meta;")
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
            join = "JOIN (SELECT rowid AS r, " + _BM25 + " AS score FROM fts WHERE fts MATCH ?) m ON m.r = d.rowid"
            params.append(match_expression(parsed))
            score = "m.score"
        _filters(q, where, params)
        sql_where = ("WHERE " + " AND ".join(where)) if where else ""
        with self._lock:
            db = self._conn()
            db.execute("DROP TABLE IF EXISTS temp.hits")
            try:
                db.execute(f"CREATE TEMP TABLE hits AS SELECT d.rowid AS r, {score} AS score, d.published_at AS p,"
                           f" d.sensitivity AS s, d.id AS id FROM docs d {join} {sql_where}", params)
            except sqlite3.OperationalError as exc:
                if "no such table" in str(exc):
                    return SearchResult(total=0, hits=[], took_ms=(time.perf_counter() - started) * 1000)
                raise InputError(f"检索式无法执行:{exc}") from exc
            total = int(db.execute("SELECT count(*) FROM hits").fetchone()[0])
            order = _order(q, has_text=not parsed.empty)
            offset = (q.page - 1) * q.size
            rows = db.execute(f"SELECT h.id, h.score, d.doc FROM hits h JOIN docs d ON d.rowid = h.r"
                              f" ORDER BY {order} LIMIT ? OFFSET ?", (q.size, offset)).fetchall()
            aggs = {name: self._aggregate(db, name, q) for name in q.aggregations}
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

    def _aggregate(self, db: sqlite3.Connection, name: str, q: SearchQuery) -> list[Bucket]:
        if name == "day":
            offset = _utc_offset_seconds(q.timezone)
            rows = db.execute("SELECT date(p + ?, 'unixepoch') AS k, count(*) FROM hits GROUP BY k ORDER BY k",
                              (offset,)).fetchall()
            return [Bucket(k, n) for k, n in rows]
        if name == "school":
            rows = db.execute("SELECT s.school, count(*) AS n FROM hits h JOIN doc_schools s ON s.doc = h.r"
                              " GROUP BY s.school ORDER BY n DESC, s.school").fetchall()
        else:
            col = _AGG_COLUMNS[name]
            rows = db.execute(f"SELECT {col} AS k, count(*) AS n FROM hits h JOIN docs d ON d.rowid = h.r"
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
