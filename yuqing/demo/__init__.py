"""The bundled demo: seeded content, the fake web that serves it, and a local mail sink.

The demo command, the tests and the benchmarks all use these, so they see the same data (one seeded
generator, style habit 14):

- ``content.build_corpus(cfg, seed, now, scale)`` → ``DemoCorpus`` of ``DemoItem``s with ground truth;
  ``content.ANCHORS`` (fixed stories the end-to-end tests look for), ``content.corpus_posts`` (every item
  and reply as a ``Post``), ``content.scale_posts`` (n posts for benchmarks). The words are in material.py.
- ``sites.DemoSites(corpus).start()`` → base URL of news/RSS, government, search, Tieba, Discuz! and
  Weibo look-alikes on 127.0.0.1 (pages in views.py, templates in site_files/), with ``add_post``,
  ``add_reply``, ``set_fault`` and a control API for other processes.
- ``smtp.MailSink(maildir).start()`` → (host, port) of an SMTP server storing .eml files, which can refuse
  (421) while ``set_down(True)`` and can require STARTTLS/TLS and AUTH.

Each runs alone too: ``python -m yuqing.demo.sites --port 8800``, ``python -m yuqing.demo.smtp --dir D``.
"""
