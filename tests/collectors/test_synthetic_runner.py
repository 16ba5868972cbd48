"""The demo loop keeps going through store faults (it used to stop for good on the first one)."""
from __future__ import annotations

import sqlite3
import threading
import time

from collectors.synthetic.runner import DemoRunner
from core.errors import StoreLocked
from core.settings import load_settings
from store import Store


def test_a_locked_store_pauses_the_demo_which_then_goes_on(tmp_path):
    path = tmp_path / "demo.sqlite"
    settings = load_settings(cli={"store_url": f"sqlite:///{path}", "scale": 30, "demo_history_days": 2,
                                  "demo_raw_hours": 1, "collect_interval": 5, "store_busy_timeout": 0.2}, env={})
    store = Store.open(settings.store_url, busy_timeout_s=0.2)
    blocker = sqlite3.connect(path)
    blocker.execute("BEGIN EXCLUSIVE")            # another process holds the write lock
    stop = threading.Event()
    runner = DemoRunner(store, settings, stop=stop)
    thread = threading.Thread(target=runner.run_forever, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not isinstance(runner.error, StoreLocked) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert isinstance(runner.error, StoreLocked)
        assert thread.is_alive()                   # paused, not stopped
        blocker.rollback()
        blocker.close()
        deadline = time.monotonic() + 120
        while (runner.error is not None or store.latest(metric="qps").empty) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert runner.error is None and not store.latest(metric="qps").empty
    finally:
        stop.set()
        thread.join(30)
        store.close()
