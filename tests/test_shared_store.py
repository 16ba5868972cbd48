"""One store, many processes, as production runs it: the live demo writing every few seconds,
two gunicorn workers serving the pages, and two more writers (a collector's shape: batches of
samples into the same series-hours the demo writes), on SQLite and on PostgreSQL. Every sample
the writers wrote is stored, the demo keeps running, and every page request is answered."""
from __future__ import annotations

import multiprocessing as mp
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import requests

from store import Store

ROOT = Path(__file__).resolve().parents[1]
SPAWN = mp.get_context("spawn")
BATCHES = 40


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(url: str, tmp: Path) -> dict:
    return {**{k: v for k, v in os.environ.items() if not k.startswith("PEAKWATCH_")},
            "PEAKWATCH_STORE_URL": url, "PEAKWATCH_SCALE": "30", "PEAKWATCH_DEMO_HISTORY_DAYS": "2",
            "PEAKWATCH_DEMO_RAW_HOURS": "1", "PEAKWATCH_COLLECT_INTERVAL": "5", "PEAKWATCH_LOG_LEVEL": "WARNING",
            "PEAKWATCH_CACHE_DIR": str(tmp / "cache"), "PEAKWATCH_WALL_WARM_SECONDS": "1"}


def _writer(url: str, ids: list[int], offset: int, start: int, errors) -> None:
    """BATCHES write calls, each one sample (at second ``offset`` of a minute) for every series."""
    try:
        with Store.open(url, migrate=False, busy_timeout_s=60) as store:
            for i in range(BATCHES):
                ts = start + 60 * i + offset
                store.write_samples(np.array(ids), np.full(len(ids), ts), np.full(len(ids), float(ts)))
                time.sleep(0.05)
    except BaseException as exc:  # noqa: BLE001 - reported to the test
        errors.put(f"{type(exc).__name__}: {exc}")
        raise


def _start(env: dict, tmp_path: Path, port: int, logs: dict) -> tuple[subprocess.Popen, subprocess.Popen]:
    """The live demo (no web) and two gunicorn workers on the store of ``env``."""
    demo = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "demo", "--no-serve"], env=env, cwd=tmp_path,
                            stdout=logs["demo"], stderr=subprocess.STDOUT)
    web = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "app:server"],
                           env=env, cwd=ROOT, stdout=logs["web"], stderr=subprocess.STDOUT)
    return demo, web


def _stop(procs, logs: dict) -> None:
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
    for fh in logs.values():
        fh.close()


@pytest.mark.slow
def test_demo_gunicorn_and_writers_on_one_store_lose_nothing(db_url, tmp_path):
    env = _env(db_url, tmp_path)
    subprocess.run([sys.executable, str(ROOT / "app.py"), "demo", "--once"], env=env, cwd=tmp_path, check=True,
                   capture_output=True, timeout=600)
    with Store.open(db_url) as store:
        ids = store.series(metric="qps")["id"].head(40).tolist()
    start = int(time.time()) // 60 * 60 - 30 * 60          # the demo's live hour and the one before
    logs = {name: open(tmp_path / f"{name}.log", "w") for name in ("demo", "web")}
    port = free_port()
    demo, web = _start(env, tmp_path, port, logs)
    errors = SPAWN.Queue()
    writers = [SPAWN.Process(target=_writer, args=(db_url, ids, offset, start, errors)) for offset in (7, 13)]
    answered = []
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                requests.get(f"http://127.0.0.1:{port}/", timeout=5)
                break
            except requests.RequestException:
                assert web.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.3)
        for w in writers:
            w.start()
        while any(w.is_alive() for w in writers):
            for path in ("/", "/fleet", "/_dash-layout"):
                answered.append(requests.get(f"http://127.0.0.1:{port}{path}", timeout=60).status_code)
            time.sleep(0.2)
        for w in writers:
            w.join(60)
        time.sleep(6)                                          # at least one more demo pass after the writers
        assert demo.poll() is None, "the demo stopped: " + (tmp_path / "demo.log").read_text()[-2000:]
    finally:
        _stop((demo, web), logs)
    failures = []
    while not errors.empty():
        failures.append(errors.get())
    assert failures == [] and all(w.exitcode == 0 for w in writers)
    assert answered and set(answered) == {200}
    with Store.open(db_url, migrate=False) as store:
        raw = store.read_raw(ids, start, start + 60 * BATCHES)
    mine = raw[raw["ts"] % 60 != 0]                           # the demo writes on the minute
    want = {(sid, start + 60 * i + off) for sid in ids for i in range(BATCHES) for off in (7, 13)}
    got = set(zip(mine["series_id"].tolist(), mine["ts"].tolist()))
    assert len(want - got) == 0, f"{len(want - got)} of {len(want)} samples lost"
    assert (mine["value"] == mine["ts"]).all()
    for name in ("demo", "web"):
        text = (tmp_path / f"{name}.log").read_text()
        assert "Traceback" not in text and "locked" not in text, text[-2000:]


@pytest.mark.slow
@pytest.mark.zabbix
def test_demo_a_zabbix_collector_and_gunicorn_on_one_store_lose_nothing(db_url, tmp_path):
    """The same, with the real Zabbix collector as the other writer (`collect --backfill`, as the
    README says): every history value Zabbix holds in the raw window is stored, beside the demo."""
    sys.path.insert(0, str(ROOT / "tests" / "collectors"))
    from zabbixkit import TRAPPER_GROUP, URL, client, history, stack_or_skip
    stack = stack_or_skip()
    env = _env(db_url, tmp_path)
    subprocess.run([sys.executable, str(ROOT / "app.py"), "demo", "--once"], env=env, cwd=tmp_path, check=True,
                   capture_output=True, timeout=600)
    port = free_port()
    logs = {name: open(tmp_path / f"{name}.log", "w") for name in ("demo", "web", "collect")}
    demo, web = _start(env, tmp_path, port, logs)
    zenv = {**env, "PEAKWATCH_ZABBIX_URL": URL, "PEAKWATCH_ZABBIX_TOKEN": stack["token"],
            "PEAKWATCH_ZABBIX_HOST_GROUP": TRAPPER_GROUP, "PEAKWATCH_RAW_RETENTION_DAYS": "3",
            "PEAKWATCH_ZABBIX_BATCH_WINDOW": "7200"}
    until = stack["last_clock"]
    answered = []
    try:
        collect = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "collect", "--backfill", "10d", "--until",
                                    str(until)], env=zenv, cwd=tmp_path, stdout=logs["collect"],
                                   stderr=subprocess.STDOUT)
        while collect.poll() is None:
            try:
                for path in ("/", "/fleet"):
                    answered.append(requests.get(f"http://127.0.0.1:{port}{path}", timeout=60).status_code)
            except requests.ConnectionError:
                assert web.poll() is None, "gunicorn stopped"
            time.sleep(0.3)
        assert collect.returncode == 0, (tmp_path / "collect.log").read_text()[-2000:]
        time.sleep(6)
        assert demo.poll() is None, "the demo stopped: " + (tmp_path / "demo.log").read_text()[-2000:]
    finally:
        _stop((demo, web), logs)
    assert answered and set(answered) == {200}
    cl = client(stack)
    raw_from = (until - 3 * 86400) // 3600 * 3600
    with Store.open(db_url, migrate=False) as store:
        series = store.series()
        gauges = series[series["zabbix_itemid"].notna() & series["metric"].isin(["mem_used", "conns"])]
        assert len(gauges) >= 4
        for r in gauges.itertuples():
            vt = 3
            want_ts, want_v = history(cl, r.zabbix_itemid, vt, raw_from, until)
            got = store.read_raw([r.id], raw_from, until + 1)
            assert got["ts"].tolist() == want_ts.tolist(), r.key
            np.testing.assert_allclose(got["value"].to_numpy(), want_v, rtol=1e-12, err_msg=r.key)
    for name in ("demo", "web", "collect"):
        text = (tmp_path / f"{name}.log").read_text()
        assert "Traceback" not in text and "locked" not in text, text[-2000:]
