"""Downloader middlewares: robots.txt (safe under concurrency), retry with backoff, per-source HTTP stats,
and a crash-tolerant HTTP cache storage (conditional requests)."""
