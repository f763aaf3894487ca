"""The bundled demo: seeded content (content.py), the fake web that serves it (sites.py) and a local mail
sink (smtp.py). The demo command, the tests and the benchmarks all use these, so they see the same data."""
