"""Schema migrations on a real SQLite file: a database made by an older revision upgrades with its rows."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from alerting.store.db import MIGRATIONS, Store

OLD_SIGNATURE = "0123456789abcdef0123456789abcdef"


def _run(store: Store, step: Callable[[AlembicConfig, str], None], revision: str) -> None:
    acfg = AlembicConfig()
    acfg.set_main_option("script_location", str(MIGRATIONS))
    acfg.set_main_option("sqlalchemy.url", store.url)
    with store.engine.begin() as conn:
        acfg.attributes["connection"] = conn
        step(acfg, revision)


def upgrade_to(store: Store, revision: str) -> None:
    _run(store, command.upgrade, revision)


def downgrade_to(store: Store, revision: str) -> None:
    _run(store, command.downgrade, revision)


def seed_0001_event_and_warning(store: Store) -> None:
    """An event and a warning that refers to it, with columns as revision 0001 made them."""
    with store.engine.begin() as conn:
        # Columns as 0001 made them: the ORM classes describe the newest schema.
        conn.execute(text(
            "INSERT INTO events (id, title, signature, first_seen, last_seen, post_count, site_count, reach,"
            " schools, category, severity, sensitivity) VALUES ('e1', '食堂', :sig, '2026-11-24 04:00:00',"
            " '2026-11-24 05:00:00', 3, 2, 10, '[]', 'incident', 'P2', 0.9)"
        ), {"sig": OLD_SIGNATURE})
        # A row that refers to the event: SQLite rebuilds the events table to widen a column.
        conn.execute(text(
            "INSERT INTO warnings (kind, event_id, status, category, severity, schools, title, sensitivity,"
            " created_at, updated_at, escalation_level, alerted_posts, alerted_reach, form, summary) VALUES"
            " ('event', 'e1', 'new', 'incident', 'P2', '[]', '食堂', 0.9, '2026-11-24 05:00:00',"
            " '2026-11-24 05:00:00', 0, 3, 10, '{}', '')"
        ))


def test_a_0001_database_keeps_its_events_and_takes_long_signatures(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade_to(store, "0001")
    seed_0001_event_and_warning(store)
    store.migrate()
    columns = {c["name"]: c for c in inspect(store.engine).get_columns("events")}
    assert columns["signature"]["type"].length >= 512
    with store.engine.begin() as conn:
        row = conn.execute(text("SELECT signature, post_count, title FROM events WHERE id = 'e1'")).one()
        assert tuple(row) == (OLD_SIGNATURE, 3, "食堂")
        assert conn.execute(text("SELECT event_id FROM warnings")).scalar_one() == "e1"
        assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
        long = "ab" * 130
        conn.execute(text("UPDATE events SET signature = :sig WHERE id = 'e1'"), {"sig": long})
        assert conn.execute(text("SELECT signature FROM events")).scalar_one() == long
    store.migrate()  # idempotent at head
    with pytest.raises(IntegrityError), store.engine.begin() as conn:  # foreign keys are on again
        conn.execute(text("UPDATE warnings SET event_id = 'none-such'"))
    upgrade_to(store, "head")
    downgrade_to(store, "0001")  # a 260-digit signature does not fit 32: cleared, the event kept
    with store.engine.begin() as conn:
        assert tuple(conn.execute(text("SELECT id, signature FROM events")).one()) == ("e1", "")
    store.dispose()


def test_processes_that_migrate_at_once_do_not_break_the_database(tmp_path: Path) -> None:
    # The service starts several crawl processes together; each may find the schema one revision behind.
    import subprocess
    import sys

    db = tmp_path / "race.db"
    store = Store(f"sqlite:///{db}")
    upgrade_to(store, "0001")
    seed_0001_event_and_warning(store)
    store.dispose()
    code = f"from alerting.store.db import Store; Store('sqlite:///{db}').migrate()"
    procs = [subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True) for _ in range(4)]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], errors
    store = Store(f"sqlite:///{db}")
    with store.engine.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM events")).scalar_one() == 1
        assert conn.execute(text("SELECT event_id FROM warnings")).scalar_one() == "e1"
        tables = {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))}
        assert not {t for t in tables if t.startswith("_alembic_tmp")}
    assert inspect(store.engine).get_columns("events")[2]["type"].length >= 512


def test_head_revision_constant_is_alembics_head() -> None:
    from alembic.script import ScriptDirectory

    from alerting.store.db import HEAD_REVISION

    acfg = AlembicConfig()
    acfg.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(acfg).get_current_head() == HEAD_REVISION


def test_a_database_at_head_opens_without_importing_alembic(tmp_path: Path) -> None:
    import subprocess
    import sys

    from alerting.store.db import HEAD_REVISION

    url = f"sqlite:///{tmp_path / 'y.db'}"
    Store(url).migrate()  # a new database: Alembic creates the schema
    probe = ("import sys; from alerting.store.db import Store; s = Store(sys.argv[1]); s.migrate(); "
             "print(s.recorded_revisions(), 'alembic' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe, url], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parent.parent).stdout.split()
    assert out == [f"['{HEAD_REVISION}']", "False"], out
