"""``python app.py users``: add, list, disable and enable users; issue and revoke API tokens.

    app.py users add NAME --role operator [--password-stdin]   (asks twice with getpass otherwise)
    app.py users list
    app.py users disable NAME | enable NAME
    app.py users token NAME [--name LABEL] [--days N]           prints the token once
    app.py users revoke-token ID
    app.py users audit [--limit 50]

Passwords are read from the terminal without echo (getpass) or as the first line of standard
input; never from an argument (it would show in ``ps`` and the shell's history).
"""
from __future__ import annotations

import argparse
import getpass
import sys
import time

from core.errors import ConfigError
from store.account_types import ROLES


def register(subparsers, parent: argparse.ArgumentParser | None = None) -> None:
    """Add the ``users`` command to app.py's CLI."""
    parents = [parent] if parent else []
    p = subparsers.add_parser("users", parents=parents, help="accounts: add, list, disable; API tokens; audit log",
                              description="Accounts that may act on the web app and the API.")
    sub = p.add_subparsers(dest="users_command", parser_class=type(p), required=True)
    a = sub.add_parser("add", parents=parents, help="add a user (asks for the password without echo)")
    a.add_argument("name")
    a.add_argument("--role", choices=ROLES, default="operator", help="viewer, operator or admin (default operator)")
    a.add_argument("--password-stdin", action="store_true", help="read the password from standard input's first line")
    a.set_defaults(func=cmd_add, with_store="migrated")
    ls = sub.add_parser("list", parents=parents, help="users, roles, last login")
    ls.set_defaults(func=cmd_list, with_store="migrated")
    for verb, text in (("disable", "stop a user's logins, sessions and tokens"), ("enable", "let a user in again")):
        d = sub.add_parser(verb, parents=parents, help=text)
        d.add_argument("name")
        d.set_defaults(func=cmd_disable, with_store="migrated", disable=(verb == "disable"))
    t = sub.add_parser("token", parents=parents, help="issue an API token for a user (shown once)")
    t.add_argument("name")
    t.add_argument("--label", default="", help="what the token is for")
    t.add_argument("--days", type=int, default=None, help="expires after this many days (default never)")
    t.set_defaults(func=cmd_token, with_store="migrated")
    r = sub.add_parser("revoke-token", parents=parents, help="revoke an API token by id")
    r.add_argument("token_id", type=int)
    r.set_defaults(func=cmd_revoke, with_store="migrated")
    au = sub.add_parser("audit", parents=parents, help="recent actions: who, what, when")
    au.add_argument("--limit", type=int, default=50)
    au.set_defaults(func=cmd_audit, with_store="migrated")


def cli_user() -> str:
    """Who runs the command, for the audit log (the OS user)."""
    try:
        return "cli:" + getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in a bare container: still audited
        return "cli"


def read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise ConfigError("no terminal to ask for the password; pipe it in with --password-stdin.")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise ConfigError("the two passwords differ; nothing changed.")
    return first


def cmd_add(args, settings, store) -> int:
    from accounts.users import add_user
    password = read_password(args.password_stdin)
    uid = add_user(store, args.name, password, args.role, int(time.time()), by=cli_user(), via="cli")
    print(f"user {args.name} ({args.role}) added, id {uid}")
    return 0


def local(ts, tz: str) -> str:
    from datetime import datetime
    from zoneinfo import ZoneInfo
    return datetime.fromtimestamp(int(ts), ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def missing(value) -> bool:
    return value is None or value != value      # None, or NaN in a pandas column


def cmd_list(args, settings, store) -> int:
    df = store.users()
    if df.empty:
        print("no users; add one with `python app.py users add NAME --role operator`")
        return 0
    for r in df.itertuples():
        state = "active" if missing(r.disabled_at) else "disabled"
        last = "never" if missing(r.last_login_at) else local(r.last_login_at, settings.timezone)
        print(f"{r.name:<24} {r.role:<9} {state:<9} last login {last}")
    return 0


def cmd_disable(args, settings, store) -> int:
    ok = store.set_user_disabled(args.name, args.disable, int(time.time()), by=cli_user(), via="cli")
    if not ok:
        known = store.user(args.name) is not None
        raise ConfigError(f"user {args.name!r} is already {'disabled' if args.disable else 'enabled'}." if known
                          else f"no user {args.name!r}; `python app.py users list` shows them.")
    print(f"user {args.name} {'disabled' if args.disable else 'enabled'}")
    return 0


def cmd_token(args, settings, store) -> int:
    from accounts.users import issue_token
    now = int(time.time())
    if args.days is not None and args.days < 1:
        raise ConfigError("--days must be 1 or more (or leave it out: the token never expires).")
    expires = None if args.days is None else now + args.days * 86400
    token = issue_token(store, args.name, now, name=args.label, expires_at=expires, by=cli_user(), via="cli")
    print(token)
    print("(shown once: keep it in a secret store; `python app.py users revoke-token ID` ends it)", file=sys.stderr)
    return 0


def cmd_revoke(args, settings, store) -> int:
    if not store.revoke_token(args.token_id, int(time.time()), by=cli_user(), via="cli"):
        raise ConfigError(f"no live token {args.token_id}.")
    print(f"token {args.token_id} revoked")
    return 0


def cmd_audit(args, settings, store) -> int:
    for r in store.audit_log(limit=args.limit).itertuples():
        print(f"{local(int(r.ts), settings.timezone)}  {r.who:<20} {r.action:<18} {r.target:<24} {r.via:<4} {r.detail}")
    return 0
