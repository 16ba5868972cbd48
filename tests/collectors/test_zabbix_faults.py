"""Fault tests with real processes: ``kill -9`` during a backfill, and the Zabbix API (php-fpm)
stopped during a collection."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from zabbixkit import ROOT, RUN, STATE, TRAPPER_GROUP, URL, client, history, source

from collectors.zabbix.backfill import RAW_SOURCE, TRENDS_SOURCE
from collectors.zabbix.history import SOURCE
from core.errors import ZabbixUnavailable
from store import Store

pytestmark = pytest.mark.zabbix
DAY = 86400
PHP_FPM_PID = RUN / "php-fpm.pid"
PHP_FPM_CONF = STATE / "php-fpm.conf"


def _dump(store: Store, start: int, end: int):
    ids = sorted(store.series()["id"].tolist())
    raw = store.read_raw(ids, start, end).sort_values(["series_id", "ts"]).reset_index(drop=True)
    roll = store.read_rollups(ids, start, end).sort_values(["series_id", "ts"]).reset_index(drop=True)
    keys = store.series().set_index("id")["key"]
    raw["series_id"] = raw["series_id"].map(keys)
    roll["series_id"] = roll["series_id"].map(keys)
    return raw, roll


def _marks(path: Path, source: str) -> int:
    try:
        with sqlite3.connect(path, timeout=5) as db:
            return db.execute("SELECT COUNT(*) FROM watermarks WHERE source = ?", (source,)).fetchone()[0]
    except sqlite3.Error:
        return 0


def _backfill_cmd(stack, db: Path, until: int) -> tuple[list[str], dict]:
    env = dict(os.environ, PEAKWATCH_STORE_URL=f"sqlite:///{db}", PEAKWATCH_ZABBIX_URL=URL,
               PEAKWATCH_ZABBIX_TOKEN=stack["token"], PEAKWATCH_ZABBIX_HOST_GROUP=TRAPPER_GROUP,
               PEAKWATCH_ZABBIX_BATCH_ITEMS="8", PEAKWATCH_ZABBIX_BATCH_WINDOW="14400",
               PEAKWATCH_RAW_RETENTION_DAYS="14")
    return [sys.executable, str(ROOT / "app.py"), "collect", "--backfill", "140d", "--until", str(until)], env


def test_kill_9_during_backfill_resumes_and_ends_identical_to_an_uninterrupted_run(stack, tmp_path):
    until = stack["last_clock"]
    killed_db = tmp_path / "killed.sqlite"
    cmd, env = _backfill_cmd(stack, killed_db, until)
    log = tmp_path / "killed.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 300
    # kill once the trends are in and the raw phase is under way (some windows done, most not)
    while _marks(killed_db, RAW_SOURCE) == 0 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the backfill finished before it could be killed: " + log.read_text()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert _marks(killed_db, TRENDS_SOURCE) > 0
    with Store.open(f"sqlite:///{killed_db}") as partial:
        raw_marks = partial.watermarks(RAW_SOURCE)
        assert min(raw_marks.values()) < until, "nothing was left to resume"
    done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr

    whole_db = tmp_path / "whole.sqlite"
    with Store.open(f"sqlite:///{whole_db}") as whole:
        source(stack, whole, batch_items=50, batch_window=DAY, raw_days=14).backfill(140 * DAY, now=until)
    with Store.open(f"sqlite:///{killed_db}") as a, Store.open(f"sqlite:///{whole_db}") as b:
        raw_a, roll_a = _dump(a, until - 141 * DAY, until + 1)
        raw_b, roll_b = _dump(b, until - 141 * DAY, until + 1)
    assert len(raw_a) > 10000 and len(roll_a) > 30000
    assert raw_a.equals(raw_b)
    assert roll_a.equals(roll_b)


def _stop_php_fpm() -> None:
    pid = int(PHP_FPM_PID.read_text())
    os.kill(pid, signal.SIGTERM)
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    raise AssertionError(f"php-fpm {pid} did not stop")


def _start_php_fpm() -> None:
    subprocess.run(["php-fpm8.2", "--fpm-config", str(PHP_FPM_CONF)], check=True, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sock = RUN / "php" / "php-fpm.sock"
    for _ in range(100):
        if sock.exists():
            return
        time.sleep(0.1)


@pytest.fixture
def php_fpm(stack):
    """Stop/start php-fpm of the stack (the API behind nginx); always started again afterwards."""
    if not PHP_FPM_PID.exists():
        msg = f"php-fpm of scripts/zabbix-up.sh is not running here (no PID file {PHP_FPM_PID})"
        if os.environ.get("CI") == "true":
            pytest.fail(msg + "; CI=true: scripts/zabbix-up.sh starts it")
        pytest.skip(msg)
    yield _stop_php_fpm, _start_php_fpm
    try:
        os.kill(int(PHP_FPM_PID.read_text()), 0)
    except (ProcessLookupError, FileNotFoundError, ValueError):
        _start_php_fpm()


def test_api_down_gives_a_clear_error_and_changes_nothing(stack, tmp_path, php_fpm):
    stop, start = php_fpm
    now = stack["last_clock"]
    with Store.open(f"sqlite:///{tmp_path / 's.sqlite'}") as store:
        src = source(stack, store, first_window=DAY)
        src.collect(now=now - DAY)
        before = store.watermarks(SOURCE)
        raw_before = store.info()["raw"]["samples"]
        stop()
        try:
            down = source(stack, store, client=client(stack, retries=1, backoff=0.2), first_window=DAY)
            with pytest.raises(ZabbixUnavailable, match="HTTP 502|unreachable"):
                down.collect(now=now)
        finally:
            start()
        assert store.watermarks(SOURCE) == before
        assert store.info()["raw"]["samples"] == raw_before


def test_collection_backs_off_while_the_api_is_down_then_completes_with_no_gap(stack, tmp_path, php_fpm):
    stop, start = php_fpm
    now = stack["last_clock"]
    with Store.open(f"sqlite:///{tmp_path / 's.sqlite'}") as store:
        src = source(stack, store, client=client(stack, retries=8, backoff=0.5), first_window=2 * DAY)
        src.collect(now=now - DAY)
        stop()
        restarter = threading.Timer(3.0, start)
        restarter.start()
        try:
            rep = src.collect(now=now)           # retries with backoff until php-fpm is back
        finally:
            restarter.join()
        assert rep.values_written > 0
        cl = client(stack)
        for out in (o for o in src.discovery.outputs if o.how == "gauge"):
            ref = out.items[0]
            want_ts, want_v = history(cl, ref.itemid, ref.value_type, now - 2 * DAY, now)
            got = store.read_raw([src.ids[out.key]], now - 2 * DAY, now + 1)
            np.testing.assert_array_equal(got["ts"].to_numpy(np.int64), want_ts, err_msg=out.key)
            np.testing.assert_allclose(got["value"].to_numpy(), want_v, rtol=1e-12, err_msg=out.key)
