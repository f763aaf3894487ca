"""Reviewer verdicts kept as training labels, one row per post of the judged event.

verdict values: ``confirmed`` (category as predicted), ``corrected`` (confirmed with another
category), ``dismissed`` (false alarm: the text is not sensitive), ``irrelevant`` (false alarm:
sensitive text, but not about our schools — a school-matching error, not a classifier error).
The newest label of a post wins when training.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting.store.tables import LabelRow

VERDICTS = ("confirmed", "corrected", "dismissed", "irrelevant")


def record_verdict(
    session: Session, post_ids: list[str], *, warning_id: int | None, verdict: str, category: str,
    actor: str, at: datetime,
) -> int:
    if verdict not in VERDICTS:
        raise ValueError(f"unknown verdict {verdict!r}")
    sensitive = verdict in ("confirmed", "corrected", "irrelevant") and category != "none"
    for pid in post_ids:
        session.add(
            LabelRow(post_id=pid, warning_id=warning_id, verdict=verdict, category=category, sensitive=sensitive,
                     actor=actor, at=at)
        )
    return len(post_ids)


def latest_labels(session: Session) -> dict[str, LabelRow]:
    """post id → its newest label (what retraining should use)."""
    out: dict[str, LabelRow] = {}
    for row in session.scalars(select(LabelRow).order_by(LabelRow.at, LabelRow.id)):
        out[row.post_id] = row
    return out
