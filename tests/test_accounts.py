"""Accounts: argon2 hashes, validation, demo users, monitor scope from schools.yaml."""

from __future__ import annotations

import pytest

from alerting.accounts import DEMO_PASSWORDS, actor_for, add_user, authenticate, ensure_demo_users, set_password
from alerting.store.tables import UserRow
from yuqing.errors import InputError
from yuqing.model import Role


def test_add_and_authenticate(web_store, cfg):  # type: ignore[no-untyped-def]
    with web_store.session() as s:
        add_user(s, cfg, "wu", "officer", "correct horse", display_name="吴干事")
    with web_store.session() as s:
        row = s.get(UserRow, "wu")
        assert row.password_hash.startswith("$argon2id$") and "correct horse" not in row.password_hash
        assert authenticate(s, "wu", "correct horse") is not None
        assert authenticate(s, "wu", "wrong password") is None
        assert authenticate(s, "nobody", "correct horse") is None
        set_password(s, "wu", "another secret")
        assert authenticate(s, "wu", "correct horse") is None
        row.active = False
        assert authenticate(s, "wu", "another secret") is None


@pytest.mark.parametrize(
    ("username", "role", "password", "schools", "field"),
    [
        ("x", "officer", "longenough", [], "username"),
        ("bad name", "officer", "longenough", [], "username"),
        ("ok_name", "boss", "longenough", [], "role"),
        ("ok_name", "officer", "short", [], "password"),
        ("ok_name", "monitor", "longenough", ["no-such-school"], "schools"),
    ],
)
def test_bad_input(web_store, cfg, username, role, password, schools, field):  # type: ignore[no-untyped-def]
    with web_store.session() as s, pytest.raises(InputError) as err:
        add_user(s, cfg, username, role, password, schools=schools)
    assert err.value.where == field


def test_duplicate_user_refused(web_store, cfg):  # type: ignore[no-untyped-def]
    with web_store.session() as s:
        add_user(s, cfg, "wu", "officer", "correct horse")
        with pytest.raises(InputError, match="已存在"):
            add_user(s, cfg, "wu", "leader", "correct horse")


def test_demo_users_one_password_per_role_and_monitor_scope(web_store, cfg):  # type: ignore[no-untyped-def]
    with web_store.session() as s:
        accounts = ensure_demo_users(s, cfg)
    assert accounts["admin"] == DEMO_PASSWORDS[Role.admin]
    assert accounts["monitor_wang"] == DEMO_PASSWORDS[Role.monitor]
    assert set(accounts) == {u for names in cfg.alerts.users.values() for u in names}
    with web_store.session() as s:
        assert ensure_demo_users(s, cfg) == accounts  # idempotent
        set_password(s, "admin", "changed-by-admin")
    with web_store.session() as s:
        assert "admin" not in ensure_demo_users(s, cfg)
        row = s.get(UserRow, "monitor_wang")
        assert row.schools == ["county-no1-high", "county-no2-high", "county-vocational"]
        actor = actor_for(cfg, row)
    assert actor.role is Role.monitor
    assert actor.schools == {"county-no1-high", "county-no2-high", "county-vocational"}
    assert actor.may_see(["county-no1-high"]) and not actor.may_see(["xihe-central-primary"])


def test_the_demo_creates_the_accounts_through_this_module(cfg):  # type: ignore[no-untyped-def]
    from yuqing.demo.run import ensure_accounts

    accounts = ensure_accounts(cfg)
    assert accounts["leader_zhang"] == DEMO_PASSWORDS[Role.leader]
    assert ensure_accounts(cfg) == accounts


def test_a_hash_of_other_parameters_still_verifies_and_is_rehashed(web_store, cfg):  # type: ignore[no-untyped-def]
    # Accounts made before the hasher moved to 19 MiB carry argon2-cffi's default parameters (64 MiB).
    from argon2 import PasswordHasher

    with web_store.session() as s:
        add_user(s, cfg, "zhao", "officer", "correct horse")
        s.get(UserRow, "zhao").password_hash = PasswordHasher().hash("correct horse")
    with web_store.session() as s:
        assert "m=65536" in s.get(UserRow, "zhao").password_hash
        assert authenticate(s, "zhao", "correct horse") is not None
    with web_store.session() as s:
        assert "$m=19456,t=2,p=1$" in s.get(UserRow, "zhao").password_hash
        assert authenticate(s, "zhao", "correct horse") is not None
