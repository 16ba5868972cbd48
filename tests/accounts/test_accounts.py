"""Accounts in the store (SQLite and PostgreSQL): users with argon2 hashes, API tokens kept as
hashes and shown once, a disabled user locked out, every change in the audit log."""
from __future__ import annotations

import pytest

from accounts import passwords
from accounts.users import add_user, authenticate, ensure_demo_operator, issue_token, token_user
from core.errors import ConfigError, StoreInputError
from store import Store

NOW = 1_795_000_000
PASSWORD = "correct horse battery"


@pytest.fixture
def store(db_url):
    with Store.open(db_url) as s:
        yield s


def test_a_user_logs_in_with_their_password_and_the_store_holds_only_an_argon2_hash(store):
    add_user(store, "li.wei", PASSWORD, "operator", NOW, by="admin", via="cli")
    assert authenticate(store, "li.wei", PASSWORD) == {"id": 1, "name": "li.wei", "role": "operator"}
    assert authenticate(store, "li.wei", PASSWORD + "x") is None
    assert authenticate(store, "nobody", PASSWORD) is None
    stored = store.user("li.wei")["password_hash"]
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert "password_hash" not in store.users().columns


def test_bad_names_roles_short_passwords_and_taken_names_are_refused_and_write_nothing(store):
    add_user(store, "li.wei", PASSWORD, "operator", NOW)
    with pytest.raises(ConfigError, match="at least 10 characters"):
        add_user(store, "zhang.min", "short", "operator", NOW)
    with pytest.raises(ConfigError, match="role 'root' is not one of viewer, operator, admin"):
        add_user(store, "zhang.min", PASSWORD, "root", NOW)
    with pytest.raises(ConfigError, match="must be 1..100 letters"):
        add_user(store, "<b>x</b>", PASSWORD, "operator", NOW)
    with pytest.raises(ConfigError, match="exists"):
        add_user(store, "li.wei", PASSWORD, "admin", NOW)
    with pytest.raises(StoreInputError, match="never a password"):
        store.add_user("zhang.min", PASSWORD, "operator", NOW)
    assert list(store.users()["name"]) == ["li.wei"]
    assert store.user("li.wei")["role"] == "operator"
    assert list(store.audit_log()["action"]) == ["user.add"]


def test_a_token_is_shown_once_stored_as_a_hash_and_stops_with_its_user_or_its_revocation(store):
    add_user(store, "li.wei", PASSWORD, "operator", NOW)
    token = issue_token(store, "li.wei", NOW, name="curl", by="admin")
    assert token.startswith("pw_") and len(token) > 40
    assert token_user(store, token, NOW)["name"] == "li.wei"
    assert token not in str(store.tokens().to_dict())            # only the prefix and a hash are kept
    assert token_user(store, token[:-1] + ("A" if token[-1] != "A" else "B"), NOW) is None
    assert token_user(store, None, NOW) is None
    store.set_user_disabled("li.wei", True, NOW + 1, by="admin")
    assert token_user(store, token, NOW + 2) is None and authenticate(store, "li.wei", PASSWORD) is None
    store.set_user_disabled("li.wei", False, NOW + 3, by="admin")
    assert token_user(store, token, NOW + 4)["name"] == "li.wei"
    assert store.revoke_token(int(store.tokens()["id"][0]), NOW + 5, by="admin")
    assert token_user(store, token, NOW + 6) is None


def test_a_token_with_an_expiry_stops_then(store):
    add_user(store, "li.wei", PASSWORD, "operator", NOW)
    token = issue_token(store, "li.wei", NOW, expires_at=NOW + 60)
    assert token_user(store, token, NOW + 59) is not None
    assert token_user(store, token, NOW + 60) is None
    with pytest.raises(ConfigError, match="expire in the future"):
        issue_token(store, "li.wei", NOW, expires_at=NOW)
    with pytest.raises(ConfigError, match="no user 'ghost'"):
        issue_token(store, "ghost", NOW)


def test_every_action_is_in_the_audit_log_with_who_what_when_and_the_door(store):
    add_user(store, "li.wei", PASSWORD, "operator", NOW, by="cli:root", via="cli")
    issue_token(store, "li.wei", NOW + 1, name="curl", by="cli:root", via="cli")
    sid = store.add_silence({"business": "pay"}, NOW + 2, NOW + 3600, "li.wei", NOW + 2, "drill", via="web")
    store.expire_silence(sid, "li.wei", NOW + 3, via="api")
    store.set_user_disabled("li.wei", True, NOW + 4, by="cli:root", via="cli")
    log = store.audit_log().iloc[::-1]
    assert list(log["action"]) == ["user.add", "token.add", "silence.add", "silence.expire", "user.disable"]
    assert list(log["who"]) == ["cli:root", "cli:root", "li.wei", "li.wei", "cli:root"]
    assert list(log["ts"]) == [NOW, NOW + 1, NOW + 2, NOW + 3, NOW + 4]
    assert list(log["via"]) == ["cli", "cli", "web", "api", "cli"]
    assert '"business": "pay"' in log["detail"].iloc[2]


def test_the_demo_operator_gets_a_new_password_each_start_and_the_old_one_stops(store):
    name, first = ensure_demo_operator(store, NOW)
    assert authenticate(store, name, first)["role"] == "operator"
    _, second = ensure_demo_operator(store, NOW + 1)
    assert first != second
    assert authenticate(store, name, first) is None and authenticate(store, name, second) is not None


def test_the_session_key_is_made_once_and_shared(store):
    assert store.web_secret("first") == "first"
    assert store.web_secret("second") == "first"


def test_password_checks_take_no_shortcut_for_unknown_users():
    assert passwords.verify_password(None, PASSWORD) is False
    assert passwords.verify_password("not a hash", PASSWORD) is False
