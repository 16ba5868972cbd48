"""Accounts on top of the store: add a user (hashing the password), check a login, issue and
check API tokens. Every change is audited by the store in the same transaction."""
from __future__ import annotations

import secrets

from accounts import passwords, tokens
from core.errors import ConfigError, StoreInputError

DEMO_OPERATOR = "demo.operator"


def add_user(store, name: str, password: str, role: str, now: int, by: str = "", via: str = "") -> int:
    """A new user; bad names, roles or passwords are a ConfigError naming the fix, nothing written."""
    password_hash = passwords.hash_password(password)
    try:
        return store.add_user(name, password_hash, role, now, by=by, via=via)
    except StoreInputError as exc:
        raise ConfigError(str(exc)) from exc


def authenticate(store, name: str, password: str) -> dict | None:
    """The enabled user ``name`` when ``password`` is theirs; None otherwise (an unknown name, a
    wrong password and a disabled user look the same and take as long)."""
    user = store.user(str(name or "")[:200]) if name else None
    ok = passwords.verify_password(user["password_hash"] if user else None, str(password or ""))
    if not ok or user is None or user["disabled_at"] is not None:
        return None
    return {k: user[k] for k in ("id", "name", "role")}


def issue_token(store, user_name: str, now: int, name: str = "", expires_at: int | None = None,
                by: str = "", via: str = "") -> str:
    """A new API token for ``user_name``: returned once, only its hash is stored."""
    user = store.user(user_name)
    if user is None:
        raise ConfigError(f"no user {user_name!r}; add one with `python app.py users add {user_name}`.")
    if user["disabled_at"] is not None:
        raise ConfigError(f"user {user_name!r} is disabled; enable them before issuing a token.")
    token, token_hash, prefix = tokens.new_token()
    try:
        store.add_token(user["id"], token_hash, prefix, now, name=name, expires_at=expires_at, by=by or user_name,
                        via=via)
    except StoreInputError as exc:
        raise ConfigError(str(exc)) from exc
    return token


def token_user(store, token: str | None, now: int) -> dict | None:
    """The user a bearer token belongs to (enabled, token live), or None."""
    if not token or not token.startswith(tokens.PREFIX) or len(token) > 200:
        return None
    return store.token_user(tokens.hash_token(token), now)


def ensure_demo_operator(store, now: int) -> tuple[str, str]:
    """The demo's operator with a fresh random password (set again at every demo start, so the
    printed one works): (name, password)."""
    password = secrets.token_urlsafe(12)
    if store.user(DEMO_OPERATOR) is None:
        add_user(store, DEMO_OPERATOR, password, "operator", now, by="demo", via="cli")
    else:
        store.set_password_hash(DEMO_OPERATOR, passwords.hash_password(password), now, by="demo", via="cli")
        store.set_user_disabled(DEMO_OPERATOR, False, now, by="demo", via="cli")
    return DEMO_OPERATOR, password
