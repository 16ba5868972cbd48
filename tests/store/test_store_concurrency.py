"""Several processes on one store lose nothing: writers of the same series-hour and of the same
latest-value block, and processes opening (and so migrating) a fresh store at the same moment.

Each worker is a separate process (spawned, so it shares nothing with the test but the database),
started behind a barrier so their writes interleave."""
from __future__ import annotations

import multiprocessing as mp

import numpy as np
import pytest
from sqlalchemy import create_engine
from storekit import T0, make_inventory

from store import Store

SAMPLES = 150          # per process, one write call (one transaction) each
SPAWN = mp.get_context("spawn")


def _write_one_by_one(url: str, shared: int, own: int, parity: int, barrier, errors) -> None:
    """Write SAMPLES samples into the shared series-hour (even or odd seconds) and into this
    process's own series, one transaction per sample."""
    try:
        with Store.open(url, migrate=False, busy_timeout_s=60) as store:
            barrier.wait(timeout=60)
            for i in range(SAMPLES):
                ts = T0 + 2 * i + parity
                store.write_samples(np.array([shared, own]), np.array([ts, ts]), np.array([float(ts), float(i)]))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        errors.put(f"{type(exc).__name__}: {exc}")
        raise


def _run(target, args_list) -> list[str]:
    errors = SPAWN.Queue()
    procs = [SPAWN.Process(target=target, args=(*args, errors)) for args in args_list]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=300)
    out = []
    while not errors.empty():
        out.append(errors.get())
    assert all(p.exitcode == 0 for p in procs) or out, [p.exitcode for p in procs]
    return out


def test_two_processes_writing_one_series_hour_keep_every_sample(db_url):
    with Store.open(db_url) as store:
        ids = store.upsert_inventory(make_inventory())
    shared, own_a, own_b = (ids[k] for k in ("pay-cache-0:6379/qps", "pay-cache-1:6379/qps",
                                              "cart-cache-0:6379/qps"))
    barrier = SPAWN.Barrier(2)
    errors = _run(_write_one_by_one, [(db_url, shared, own_a, 0, barrier), (db_url, shared, own_b, 1, barrier)])
    assert errors == []
    with Store.open(db_url) as store:
        raw = store.read_raw([shared], T0, T0 + 3600)
        assert len(raw) == 2 * SAMPLES, f"{2 * SAMPLES - len(raw)} of {2 * SAMPLES} samples lost"
        assert (raw["value"].to_numpy() == raw["ts"].to_numpy()).all()
        hour = store.read_rollups([shared], T0, T0 + 3600)
        assert hour["count"].tolist() == [2 * SAMPLES]
        latest = store.latest([shared, own_a, own_b]).set_index("series_id")
        last = T0 + 2 * (SAMPLES - 1)
        # the two own series share a 4,096-series block of latest values: neither process's
        # update of that block may undo the other's
        assert latest.loc[own_a, "ts"] == last and latest.loc[own_b, "ts"] == last + 1
        assert latest.loc[own_a, "value"] == SAMPLES - 1 == latest.loc[own_b, "value"]
        assert latest.loc[shared, "ts"] == last + 1


def _open_fresh(url: str, barrier, errors) -> None:
    try:
        barrier.wait(timeout=60)
        with Store.open(url, busy_timeout_s=60) as store:
            store.promotions()
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        errors.put(f"{type(exc).__name__}: {exc}")
        raise


def _empty(url: str) -> None:
    """Drop every table (PostgreSQL) or the file (SQLite): a fresh store for the next round."""
    if url.startswith("sqlite:///"):
        from pathlib import Path
        path = Path(url[len("sqlite:///"):])
        for p in path.parent.glob(path.name + "*"):
            p.unlink()
        return
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


@pytest.mark.slow
def test_four_processes_opening_a_fresh_store_at_once_all_succeed(db_url):
    failures = []
    for _ in range(5):
        _empty(db_url)
        barrier = SPAWN.Barrier(4)
        failures += _run(_open_fresh, [(db_url, barrier)] * 4)
    assert failures == []
    with Store.open(db_url, migrate=False) as store:
        assert store.promotions().empty


@pytest.mark.slow
def test_opening_a_fresh_store_waits_for_an_upgrade_longer_than_the_write_busy_timeout(tmp_path):
    """Another process upgrading the schema on a loaded machine can hold the write lock longer
    than an ordinary write waits (10 s); opening the store waits for it instead of failing."""
    import sqlite3
    import threading
    import time

    path = tmp_path / "fresh.sqlite"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("BEGIN IMMEDIATE")                 # the other process's upgrade, still running
    release = threading.Timer(12.0, lambda: holder.execute("COMMIT"))
    release.start()
    started = time.monotonic()
    try:
        with Store.open(f"sqlite:///{path}") as store:
            assert store.promotions().empty
        assert time.monotonic() - started >= 11.0
    finally:
        release.join()
        holder.close()


def test_opening_a_fresh_store_while_another_process_writes_it_waits_for_the_switch_to_wal(tmp_path):
    """A fresh file is still in rollback mode: SQLite refuses the switch to write-ahead logging at
    once (no busy wait) while another process writes it; opening waits instead of "locked"."""
    import sqlite3
    import threading

    path = tmp_path / "fresh.sqlite"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("CREATE TABLE other_tool (x)")
    holder.execute("BEGIN IMMEDIATE")                 # e.g. the first process's migration
    release = threading.Timer(1.0, lambda: holder.execute("COMMIT"))
    release.start()
    try:
        with Store.open(f"sqlite:///{path}") as store:
            assert store.promotions().empty
    finally:
        release.join()
        holder.close()
