"""Crawler extensions: source health (one source_runs row per run, judged from the crawl's stats)."""
