"""Engine, sessions and migrations for the one SQL store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from yuqing.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest revision in migrations/versions. A database already there is recognised by reading its
# alembic_version row, without importing Alembic (about 10 MB and 0.4 s in every process that opens the
# store: the service, each crawl). tests/test_store_migrations.py checks it against Alembic's own head.
HEAD_REVISION = "0002"


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    # WAL lets the web UI read while a crawl writes; busy_timeout rides out short write locks
    # instead of failing with "database is locked".
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


class Store:
    """One database: ``Store(url)`` or ``Store.from_config(cfg)``; ``migrate()`` brings the schema up."""

    def __init__(self, url: str):
        self.url = url
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = create_engine(url, future=True)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    def from_config(cls, cfg: Config, migrate: bool = True) -> Store:
        store = cls(cfg.database_url)
        if migrate:
            store.migrate()
        return store

    def migrate(self) -> None:
        """Upgrade the schema to the newest Alembic revision (idempotent, safe when processes race).

        The service's crawl jobs, the runner and bare `scrapy crawl` processes may all start at once: the
        upgrade runs under an inter-process lock (a lock file beside a SQLite database, an advisory lock on
        PostgreSQL), and a schema already at head is left alone without taking the lock.
        """
        if self.recorded_revisions() == [HEAD_REVISION]:
            return
        from alembic import command
        from alembic.config import Config as AlembicConfig
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        acfg = AlembicConfig()
        acfg.set_main_option("script_location", str(MIGRATIONS))
        acfg.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        head = ScriptDirectory.from_config(acfg).get_current_head()

        def at_head() -> bool:
            with self.engine.connect() as conn:
                return MigrationContext.configure(conn).get_current_revision() == head

        if at_head():
            return
        with self._migration_lock():
            if at_head():  # another process upgraded while we waited
                return
            with self.engine.connect() as conn:
                with conn.begin():
                    acfg.attributes["connection"] = conn
                    command.upgrade(acfg, "head")
                if self.engine.dialect.name == "sqlite":
                    # A migration that rebuilds a table turns foreign keys off on this connection (they can
                    # only be turned on again outside its transaction); it goes back to the pool with them on.
                    conn.exec_driver_sql("PRAGMA foreign_keys=ON")

    def recorded_revisions(self) -> list[str]:
        """The revisions the database's alembic_version table holds (none for a new database)."""
        try:
            with self.engine.connect() as conn:
                return [str(row[0]) for row in conn.exec_driver_sql("SELECT version_num FROM alembic_version")]
        except DBAPIError:  # no such table yet
            return []

    @contextmanager
    def _migration_lock(self) -> Iterator[None]:
        if self.engine.dialect.name == "sqlite" and self.url.startswith("sqlite:///"):
            import fcntl

            lock_path = Path(self.url.removeprefix("sqlite:///") + ".migrate.lock")
            with lock_path.open("a") as f:
                fcntl.flock(f, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(f, fcntl.LOCK_UN)
        elif self.engine.dialect.name == "postgresql":
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT pg_advisory_lock(7170311)")  # one constant: yuqing's schema
                try:
                    yield
                finally:
                    conn.exec_driver_sql("SELECT pg_advisory_unlock(7170311)")
                    conn.commit()
        else:
            yield

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: commits on success, rolls back and re-raises on error."""
        with self._sessions() as s:
            try:
                yield s
                s.commit()
            except BaseException:
                s.rollback()
                raise

    def dispose(self) -> None:
        self.engine.dispose()
