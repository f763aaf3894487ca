"""The relational store: the only place that holds database sessions."""

from alerting.store.db import Store

__all__ = ["Store"]
