"""The review web UI (FastAPI + Jinja2): ``yuqing.web.app.create_app(cfg, store)``."""
