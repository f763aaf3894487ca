"""Search on behalf of a user: the index interface with the user's school scope applied.

Monitors search only their own schools: a school filter outside their scope matches nothing,
and no school filter means all of theirs.
"""

from __future__ import annotations

from dataclasses import dataclass

from alerting.accounts import Actor
from alerting.index import SearchResult, open_index_from_config
from alerting.index.service import build_query
from yuqing.config import Config

SORTS = ("relevance", "newest", "oldest", "sensitivity")
PAGE_SIZE = 20
NO_SCHOOL = "-none-"  # a school id that cannot exist: an empty result for an out-of-scope filter


@dataclass(frozen=True)
class SearchForm:
    q: str = ""
    school: str = ""
    category: str = ""
    severity: str = ""
    since: str = ""
    until: str = ""
    sort: str = "relevance"
    page: int = 1

    @property
    def empty(self) -> bool:
        return not (self.q.strip() or self.school or self.category or self.severity or self.since or self.until)


def scoped_search(cfg: Config, actor: Actor, form: SearchForm) -> SearchResult:
    """Raises InputError for a bad query or date, IndexUnavailable when the backend is down."""
    schools = [form.school] if form.school else []
    if not actor.sees_all:
        schools = [s for s in (schools or sorted(actor.schools)) if s in actor.schools] or [NO_SCHOOL]
    query = build_query(
        form.q.strip(), schools=schools, categories=[form.category] if form.category else [],
        severities=[form.severity] if form.severity else [], since=form.since or None, until=form.until or None,
        sort=form.sort if form.sort in SORTS else "relevance", page=max(form.page, 1), size=PAGE_SIZE,
        aggregations=("category", "site"), tz=cfg.timezone,
    )
    index = open_index_from_config(cfg)
    try:
        return index.search(query)
    finally:
        index.close()
