"""Notifications: mail and Apprise outbox rows written with their cause, delivered later by ``sender``.

Only ``alerting.notify.mail`` speaks SMTP; only ``alerting.notify.apprise_channel`` imports Apprise.
"""
