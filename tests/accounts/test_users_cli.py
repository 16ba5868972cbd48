"""`python app.py users` as an admin on the server uses it: the password comes from standard input
(never an argument) and appears in no output; a token is printed once; a disabled user is listed
so; every step is in the audit log."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"


def users(store_url: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEAKWATCH_")}
    return subprocess.run([sys.executable, str(ROOT / "app.py"), "users", *args, "--store-url", store_url],
                          input=stdin, capture_output=True, text=True, env=env, timeout=120)


def test_add_list_token_disable_and_audit_without_the_password_anywhere(tmp_path):
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    outputs = []
    added = users(url, "add", "li.wei", "--role", "operator", "--password-stdin", stdin=PASSWORD + "\n")
    outputs.append(added)
    assert added.returncode == 0 and "li.wei (operator) added" in added.stdout
    short = users(url, "add", "zhang.min", "--password-stdin", stdin="short\n")
    outputs.append(short)
    assert short.returncode == 2 and "at least 10 characters" in short.stderr
    no_tty = users(url, "add", "zhang.min", stdin="")
    outputs.append(no_tty)
    assert no_tty.returncode == 2 and "--password-stdin" in no_tty.stderr
    token = users(url, "token", "li.wei", "--label", "curl")
    outputs.append(token)
    assert token.returncode == 0 and token.stdout.strip().startswith("pw_") and "shown once" in token.stderr
    disabled = users(url, "disable", "li.wei")
    outputs.append(disabled)
    listed = users(url, "list")
    outputs.append(listed)
    assert "li.wei" in listed.stdout and "disabled" in listed.stdout and "zhang.min" not in listed.stdout
    again = users(url, "disable", "li.wei")
    assert again.returncode == 2 and "already disabled" in again.stderr
    audit = users(url, "audit")
    outputs.append(audit)
    assert [line.split()[3] for line in audit.stdout.strip().splitlines()] == ["user.disable", "token.add", "user.add"]
    assert all(PASSWORD not in o.stdout + o.stderr for o in outputs)
    assert token.stdout.strip() not in audit.stdout
