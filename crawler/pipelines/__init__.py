"""Item pipelines: each parsed page is saved to the store (evidence, posts, seen URL) in one transaction."""
