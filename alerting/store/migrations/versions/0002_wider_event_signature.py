"""events.signature widened from 32 to 512 characters

The 32-character signature (2 bits of 64 MinHash values) was too coarse to rebuild the event grouper after
a restart: a copy at Jaccard 0.5 rejoined its event about 1 time in 3 with 100,000 stored events. The
grouper now stores its shingle count and 8 bits of each of its 128 MinHash values (260 hex digits);
old 32-digit signatures stay valid and are still read.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 04:55:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def _alter_signature(old: int, new: int) -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        # SQLite alters a column by copying the table, dropping the old one and renaming the copy; with
        # foreign keys on (the store turns them on per connection), dropping events that warnings and
        # analyses refer to fails, and deferring the check does not help (the drop counts as deleting the
        # rows). SQLite's own procedure: keys off (this works outside a transaction, and Python's sqlite3
        # has none open before the first DML), rebuild, check, on again (Store.migrate, after the commit).
        op.execute(sa.text("PRAGMA foreign_keys = OFF"))
    with op.batch_alter_table("events") as batch_op:
        batch_op.alter_column("signature", existing_type=sa.String(length=old), type_=sa.String(length=new),
                              existing_nullable=False)
    if sqlite:
        broken = op.get_bind().execute(sa.text("PRAGMA foreign_key_check")).all()
        if broken:
            raise RuntimeError(f"events rebuilt with dangling references: {broken[:5]}")


def upgrade() -> None:
    _alter_signature(32, 512)


def downgrade() -> None:
    # A longer signature does not fit back; an event without one is only not matched by text after a restart.
    # Cleared after the rebuild: on SQLite, an UPDATE before it would open the transaction in which foreign
    # keys cannot be turned off (SQLite does not enforce the length, so the rebuild keeps long values).
    if op.get_bind().dialect.name != "sqlite":
        op.execute(sa.text("UPDATE events SET signature = '' WHERE length(signature) > 32"))
    _alter_signature(512, 32)
    if op.get_bind().dialect.name == "sqlite":
        op.execute(sa.text("UPDATE events SET signature = '' WHERE length(signature) > 32"))
