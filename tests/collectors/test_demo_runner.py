"""The demo's live loop survives a store that is busy for a while (another process holding the
write lock longer than store_busy_timeout): it logs, retries next interval and goes on."""
from __future__ import annotations

import sqlite3
import threading
import time

from collectors.synthetic.runner import DemoRunner
from core.settings import load_settings
from store import Store


def test_the_live_demo_goes_on_after_the_store_was_locked(tmp_path, caplog):
    path = tmp_path / "demo.sqlite"
    settings = load_settings(cli={"scale": 30, "demo_history_days": 1, "demo_raw_hours": 1, "collect_interval": 5},
                             env={"PEAKWATCH_STORE_URL": f"sqlite:///{path}"})
    with Store.open(f"sqlite:///{path}", busy_timeout_s=0.2) as store:
        runner = DemoRunner(store, settings)
        runner.bootstrap(progress=False)
        holder = sqlite3.connect(path, isolation_level=None, timeout=30)
        holder.execute("BEGIN IMMEDIATE")            # a writer that holds the store for 7 s
        thread = threading.Thread(target=runner.run_forever, daemon=True)
        thread.start()
        time.sleep(7)
        holder.execute("ROLLBACK")
        holder.close()
        before = store.data_mark()
        deadline = time.monotonic() + 30
        while store.data_mark() == before and time.monotonic() < deadline:
            time.sleep(0.5)                            # the next pass writes again
        runner.stop.set()
        thread.join(30)
        assert runner.error is None, runner.error
        assert store.data_mark() != before, "the demo stopped writing after the store was locked"
        assert any("locked" in r.getMessage() for r in caplog.records)
