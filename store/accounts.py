"""Accounts behind the Store facade: users (the store keeps argon2 hashes made by
``accounts.passwords``, never a password), API tokens (the SHA-256 of a token, which is shown to
its owner once) and the audit log (who did what, when, through which door). ``AccountsMixin`` adds
these methods to :class:`store.Store` (see docs/store-api.md)."""
from __future__ import annotations

import re

import pandas as pd
from sqlalchemy import and_, insert, or_, select, update

from core.errors import StoreInputError
from store import schema
from store.account_types import ROLES, USER_NAME_MAX

USER_COLUMNS = ["id", "name", "role", "created_at", "disabled_at", "last_login_at"]
TOKEN_COLUMNS = ["id", "user_id", "name", "prefix", "created_at", "expires_at", "revoked_at"]
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]*$")
SECRET_KEY = "web.secret_key"


def check_user_name(name: str) -> str:
    name = str(name).strip()
    if not name or len(name) > USER_NAME_MAX or not NAME_RE.match(name):
        raise StoreInputError(f"user name {name[:40]!r} must be 1..{USER_NAME_MAX} letters, digits, '.', '_', "
                              f"'@' or '-' (e.g. li.wei).")
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise StoreInputError(f"role {role!r} is not one of {', '.join(ROLES)}.")
    return role


class AccountsMixin:
    """Store methods for users, API tokens and the audit log (the Store provides ``_tx`` and ``_ro``)."""

    # ------------------------------------------------------------------ users
    def add_user(self, name: str, password_hash: str, role: str, now: int, by: str = "", via: str = "") -> int:
        """A new user (audited in the same transaction); a taken name is a StoreInputError."""
        name, role = check_user_name(name), check_role(role)
        if not str(password_hash).startswith("$"):
            raise StoreInputError("add_user takes a password hash (accounts.passwords.hash_password), "
                                  "never a password.")
        with self._tx() as conn:      # the write lock is held: no one adds the name meanwhile
            if conn.execute(select(schema.users.c.id).where(schema.users.c.name == name)).first() is not None:
                raise StoreInputError(f"user {name!r} exists; pick another name or disable the old one.")
            res = conn.execute(insert(schema.users).values(name=name, password_hash=password_hash, role=role,
                                                           created_at=int(now)))
            audit_row(conn, now, by or name, "user.add", name, f"role={role}", via)
            return int(res.inserted_primary_key[0])

    def user(self, name: str | None = None, user_id: int | None = None) -> dict | None:
        """One user (with its ``password_hash``), by name or id; None when unknown."""
        t = schema.users
        q = select(t).where(t.c.name == str(name)) if user_id is None else select(t).where(t.c.id == int(user_id))
        with self._ro() as conn:
            row = conn.execute(q).first()
        return None if row is None else dict(zip([c.name for c in t.columns], row))

    def users(self) -> pd.DataFrame:
        """Every user [id, name, role, created_at, disabled_at, last_login_at] (no hashes)."""
        t = schema.users
        with self._ro() as conn:
            rows = conn.execute(select(*[t.c[c] for c in USER_COLUMNS]).order_by(t.c.name)).fetchall()
        return pd.DataFrame([tuple(r) for r in rows], columns=USER_COLUMNS)

    def set_user_disabled(self, name: str, disabled: bool, now: int, by: str, via: str = "") -> bool:
        """Disable (or enable again) a user: a disabled user's sessions and tokens stop working.
        False when the user is unknown or already so."""
        t = schema.users
        cond = t.c.disabled_at.is_(None) if disabled else t.c.disabled_at.is_not(None)
        with self._tx() as conn:
            res = conn.execute(update(t).where(and_(t.c.name == str(name), cond))
                               .values(disabled_at=int(now) if disabled else None))
            if res.rowcount:
                audit_row(conn, now, by, "user.disable" if disabled else "user.enable", str(name), "", via)
            return bool(res.rowcount)

    def set_password_hash(self, name: str, password_hash: str, now: int, by: str, via: str = "") -> bool:
        t = schema.users
        with self._tx() as conn:
            res = conn.execute(update(t).where(t.c.name == str(name)).values(password_hash=password_hash))
            if res.rowcount:
                audit_row(conn, now, by, "user.password", str(name), "", via)
            return bool(res.rowcount)

    def record_login(self, user_id: int, now: int, via: str = "web") -> None:
        t = schema.users
        with self._tx() as conn:
            name = conn.execute(select(t.c.name).where(t.c.id == int(user_id))).scalar()
            conn.execute(update(t).where(t.c.id == int(user_id)).values(last_login_at=int(now)))
            audit_row(conn, now, name or "?", "login", name or "", "", via)

    # ------------------------------------------------------------------ API tokens
    def add_token(self, user_id: int, token_hash: str, prefix: str, now: int, name: str = "",
                  expires_at: int | None = None, by: str = "", via: str = "") -> int:
        """Store a token's hash (the caller shows the token once and forgets it)."""
        if len(token_hash) != 64:
            raise StoreInputError("add_token takes the SHA-256 hex of a token (accounts.tokens), never a token.")
        if expires_at is not None and int(expires_at) <= int(now):
            raise StoreInputError("a token must expire in the future (or never).")
        with self._tx() as conn:
            owner = conn.execute(select(schema.users.c.name).where(schema.users.c.id == int(user_id))).scalar()
            if owner is None:
                raise StoreInputError(f"no user with id {user_id}.")
            res = conn.execute(insert(schema.api_tokens).values(
                user_id=int(user_id), name=name[:100], token_hash=token_hash, prefix=prefix[:16],
                created_at=int(now), expires_at=None if expires_at is None else int(expires_at)))
            tid = int(res.inserted_primary_key[0])
            audit_row(conn, now, by or owner, "token.add", f"{owner}#{tid}", name[:100], via)
            return tid

    def token_user(self, token_hash: str, now: int) -> dict | None:
        """The enabled user holding a live token with this hash (``token_id`` added); None otherwise."""
        u, k = schema.users, schema.api_tokens
        q = (select(u.c.id, u.c.name, u.c.role, k.c.id).join(k, k.c.user_id == u.c.id)
             .where(and_(k.c.token_hash == str(token_hash), k.c.revoked_at.is_(None), u.c.disabled_at.is_(None),
                         or_(k.c.expires_at.is_(None), k.c.expires_at > int(now)))))
        with self._ro() as conn:
            row = conn.execute(q).first()
        return None if row is None else {"id": row[0], "name": row[1], "role": row[2], "token_id": row[3]}

    def tokens(self, user_id: int | None = None) -> pd.DataFrame:
        """[id, user_id, name, prefix, created_at, expires_at, revoked_at] (no hashes)."""
        k = schema.api_tokens
        q = select(*[k.c[c] for c in TOKEN_COLUMNS])
        if user_id is not None:
            q = q.where(k.c.user_id == int(user_id))
        with self._ro() as conn:
            rows = conn.execute(q.order_by(k.c.id)).fetchall()
        return pd.DataFrame([tuple(r) for r in rows], columns=TOKEN_COLUMNS)

    def revoke_token(self, token_id: int, now: int, by: str, via: str = "") -> bool:
        k = schema.api_tokens
        with self._tx() as conn:
            res = conn.execute(update(k).where(and_(k.c.id == int(token_id), k.c.revoked_at.is_(None)))
                               .values(revoked_at=int(now)))
            if res.rowcount:
                audit_row(conn, now, by, "token.revoke", f"#{int(token_id)}", "", via)
            return bool(res.rowcount)

    # ------------------------------------------------------------------ audit log
    def audit(self, who: str, action: str, now: int, target: str = "", detail: str = "", via: str = "") -> None:
        """Record one action (who, what, on what, when, through which door)."""
        if not str(who).strip() or not str(action).strip():
            raise StoreInputError("an audit record needs who and what (action).")
        with self._tx() as conn:
            audit_row(conn, now, who, action, target, detail, via)

    def audit_log(self, since: int | None = None, who: str | None = None, limit: int = 1000) -> pd.DataFrame:
        """[id, ts, who, action, target, detail, via], newest first."""
        t = schema.audit_log
        q = select(t)
        if since is not None:
            q = q.where(t.c.ts >= int(since))
        if who is not None:
            q = q.where(t.c.who == who)
        with self._ro() as conn:
            rows = conn.execute(q.order_by(t.c.id.desc()).limit(int(limit))).fetchall()
        return pd.DataFrame([tuple(r) for r in rows], columns=[c.name for c in t.columns])

    # ------------------------------------------------------------------ web sessions
    def web_secret(self, candidate: str) -> str:
        """The key signing web sessions, the same in every process: the first process to ask stores
        ``candidate``; everyone gets the stored one."""
        with self._tx() as conn:
            from store.writer import _sql
            conn.exec_driver_sql(_sql(conn, "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING"),
                                 (SECRET_KEY, candidate))
            return conn.execute(select(schema.meta.c.value).where(schema.meta.c.key == SECRET_KEY)).scalar()


def audit_row(conn, now: int, who: str, action: str, target: str, detail: str, via: str) -> None:
    conn.execute(insert(schema.audit_log).values(ts=int(now), who=str(who)[:200], action=str(action)[:60],
                                                 target=str(target)[:400], detail=str(detail)[:2000],
                                                 via=str(via)[:20]))
