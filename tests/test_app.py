"""The CLI as a user meets it: help everywhere, one-line errors, nothing written on bad input."""
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(*args, env=None, cwd=None, timeout=120):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("PEAKWATCH_")}
    full_env.update(env or {})
    return subprocess.run([sys.executable, str(ROOT / "app.py"), *args], capture_output=True, text=True,
                          env=full_env, cwd=cwd or ROOT, timeout=timeout)


def one_line_error(proc) -> str:
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    return lines[0]


@pytest.mark.parametrize("args", [[], ["demo"], ["serve"], ["store"], ["store", "info"], ["store", "migrate"],
                                  ["store", "prune"], ["settings"]])
def test_every_command_has_help(args):
    proc = run(*args, "--help")
    assert proc.returncode == 0 and "usage:" in proc.stdout


def test_store_info_on_a_new_store(tmp_path):
    url = f"sqlite:///{tmp_path}/s.sqlite"
    assert run("store", "migrate", "--store-url", url).returncode == 0
    proc = run("store", "info", "--store-url", url)
    assert proc.returncode == 0, proc.stderr
    assert "raw tier:" in proc.stdout and "rollup tier:" in proc.stdout and "0 businesses" in proc.stdout


def test_corrupt_sqlite_file_one_line_and_untouched(tmp_path):
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"this is not a database at all" * 100)
    before = bad.read_bytes()
    line = one_line_error(run("store", "info", "--store-url", f"sqlite:///{bad}"))
    assert "not a SQLite database" in line and "store_url" in line
    assert bad.read_bytes() == before
    assert not Path(str(bad) + "-wal").exists()


def test_locked_sqlite_file_one_line(tmp_path):
    path = tmp_path / "locked.sqlite"
    assert run("store", "migrate", "--store-url", f"sqlite:///{path}").returncode == 0
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=DELETE")  # a rollback journal makes the exclusive lock block readers
    holder.execute("BEGIN EXCLUSIVE")
    try:
        proc = run("store", "prune", "--store-url", f"sqlite:///{path}", "--store-busy-timeout", "0.5")
        line = one_line_error(proc)
        assert "locked" in line and "stop the other" in line
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_unreachable_database_url_one_line():
    line = one_line_error(run("store", "info", "--store-url", "postgresql+psycopg://nobody@127.0.0.1:1/none"))
    assert "does not answer" in line and "store_url" in line


def test_unknown_setting_one_line(tmp_path):
    line = one_line_error(run("settings", env={"PEAKWATCH_SCAEL": "10"}))
    assert "scael" in line and "scale" in line


@pytest.mark.parametrize("value,needle", [("ten", "whole number"), ("5", "minimum"), ("50000", "maximum")])
def test_bad_scale_one_line_nothing_written(tmp_path, value, needle):
    store = tmp_path / "s.sqlite"
    line = one_line_error(run("demo", "--scale", value, "--store-url", f"sqlite:///{store}"))
    assert "scale" in line and needle in line
    assert not store.exists()


def test_unknown_command_one_line():
    proc = run("frobnicate")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "--help" in proc.stderr


def test_settings_shows_origin_and_masks_secrets():
    proc = run("settings", "--port", "9001", env={"PEAKWATCH_ZABBIX_TOKEN": "supersecret-token"})
    assert proc.returncode == 0
    assert "9001  (cli)" in proc.stdout and "supersecret-token" not in proc.stdout + proc.stderr


@pytest.mark.parametrize("env, needle", [
    ({"PEAKWATCH_STORE_BUSY_TIMEOUT": "nan"}, "store_busy_timeout"),
    ({"PEAKWATCH_ZABBIX_TIMEOUT": "inf"}, "zabbix_timeout"),
    ({"PEAKWATCH_TIMEZONE": "Mars/Olympus_Mons"}, "is not a time zone"),
    ({"PEAKWATCH_STORE_URL": "sqlite:///{tmp}"}, "names the folder"),
    ({"PEAKWATCH_STORE_URL": "sqlite:///{tmp}/no/such/folder/s.sqlite"}, "does not exist"),
    ({"PEAKWATCH_ZABBIX_TOKEN_FILE": "{tmp}/missing-token"}, "zabbix_token_file': cannot read"),
])
def test_bad_config_is_one_line_never_a_traceback(tmp_path, env, needle):
    env = {k: v.format(tmp=tmp_path) for k, v in env.items()}
    env.setdefault("PEAKWATCH_STORE_URL", f"sqlite:///{tmp_path}/s.sqlite")
    line = one_line_error(run("store", "info", env=env, cwd=tmp_path))
    assert needle in line
    assert not (tmp_path / "no").exists()


@pytest.mark.parametrize("table", ["thresholds", "promotions", "capacity"])
def test_config_tables_nothing_reads_yet_are_an_error(tmp_path, table):
    cfg = tmp_path / "pw.toml"
    cfg.write_text(f'[{table}]\nredis_qps = 1\n')
    line = one_line_error(run("settings", "--config", str(cfg)))
    assert f"[{table}]" in line and "remove it" in line


def test_settings_never_prints_the_password_inside_store_url():
    url = "postgresql+psycopg://peakwatch:Sup3r-S3cret@db.example:5432/pw"
    proc = run("settings", env={"PEAKWATCH_STORE_URL": url})
    assert proc.returncode == 0
    assert "Sup3r-S3cret" not in proc.stdout + proc.stderr
    assert "postgresql+psycopg://peakwatch:********@db.example:5432/pw" in proc.stdout


def test_the_zabbix_token_can_come_from_a_file(tmp_path):
    token = tmp_path / "token"
    token.write_text("0123456789abcdef0123\n")
    proc = run("settings", env={"PEAKWATCH_ZABBIX_TOKEN_FILE": str(token)})
    assert proc.returncode == 0, proc.stderr
    row = next(line for line in proc.stdout.splitlines() if line.startswith("zabbix_token "))
    assert "********" in row and "zabbix_token_file" in row and "0123456789abcdef" not in proc.stdout
    from core.settings import load_settings
    assert load_settings(env={"PEAKWATCH_ZABBIX_TOKEN_FILE": str(token)}).zabbix_token == "0123456789abcdef0123"


def test_every_package_cli_is_wired_in_app_py_and_a_broken_one_is_an_error():
    """Sub-commands come from the modules app.package_commands names; a package's cli.py that is
    not listed (or a listed one without register) fails here instead of silently vanishing."""
    import argparse
    import types

    import app
    listed = {m.__name__ for m in app.package_commands()}
    found = {".".join(p.relative_to(ROOT).with_suffix("").parts) for pkg in ("collectors", "forecasting", "alerting", "reports", "accounts")
             for p in (ROOT / pkg).rglob("*cli.py") if "def register(" in p.read_text()}
    assert found == listed
    parser = argparse.ArgumentParser()
    with pytest.raises(TypeError, match="has no register"):
        app.register_packages(parser.add_subparsers(), parser, [types.ModuleType("alerting.cli")])


def test_commands_get_the_store_opened_with_the_busy_timeout(tmp_path):
    import time
    path = tmp_path / "s.sqlite"
    assert run("store", "migrate", "--store-url", f"sqlite:///{path}").returncode == 0
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        t0 = time.monotonic()
        line = one_line_error(run("store", "prune", "--store-url", f"sqlite:///{path}",
                                  "--store-busy-timeout", "0.5"))
        assert "locked by another process" in line and time.monotonic() - t0 < 20
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_package_commands_open_the_store_the_apps_one_way():
    """`forecast` used its own Store.open that dropped store_busy_timeout; every command now gets
    the app's opener."""
    import app
    for argv in (["forecast"], ["forecast", "--backtest"]):
        assert app.build_parser().parse_args(argv).open_store is app.open_store
