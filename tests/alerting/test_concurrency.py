"""Several evaluators at once (two web processes' schedulers and a CLI ``alerts --once``) on one
store: each cycle is evaluated once, each alert notified once, each message delivered once."""
from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from alertkit import Fleet

from store import Store

ROOT = Path(__file__).resolve().parents[2]

WORKER = textwrap.dedent("""
    import sys, time, logging
    sys.path.insert(0, {root!r})
    from alerting import config as acfg
    from alerting.engine import Engine
    from alerting.gateways import build_all
    from alerting.sender import Sender
    from core.settings import load_settings
    from store import Store
    store = Store.open({url!r})
    settings = load_settings(env={{"PEAKWATCH_STORE_URL": {url!r}}})
    cfg = acfg.parse({{"interval": 2, "gateways": {{"sms": {{"type": "http", "url": {gw!r}, "ok_field": "code=0"}}}},
                      "routes": [{{"name": "all", "to": ["oncall"], "gateway": "sms"}}]}})
    engine, sender = Engine(store, settings, cfg), Sender(store, build_all(cfg.gateways))
    end = time.time() + {seconds}
    while time.time() < end:
        r = engine.run_once()
        if r is not None:
            print("cycle", r.cycle, flush=True)
        sender.run_once()
        time.sleep(0.05)
""")


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_two_workers_and_a_cli_evaluate_each_cycle_once_and_page_once(tmp_path, loopback, backend, request):
    url = f"sqlite:///{tmp_path / 'c.sqlite'}" if backend == "sqlite" else request.getfixturevalue("pg_url")
    lb = loopback()
    store = Store.open(url)
    fleet = Fleet(store, n=10)
    now = int(time.time())
    # stars above quiet hours' max_star (2): paged at any hour of the day this test happens to run
    hot = {fleet.instance(b): 97.0 for b in fleet.businesses if fleet.star[b] >= 3}
    fleet.write(now, hot)
    code = WORKER.format(root=str(ROOT), url=url, gw=lb.url + "/alert/send", seconds=8)
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) for _ in range(2)]
    time.sleep(3)
    cli = subprocess.run([sys.executable, "app.py", "alerts", "--once", "--store-url", url], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert cli.returncode == 0, cli.stderr
    cycles = [line.split()[1] for p in procs for line in p.communicate(timeout=60)[0].splitlines()]
    cycles += [line.split()[1].rstrip(":") for line in cli.stdout.splitlines() if line.startswith("cycle ")
               and "already" not in line]
    assert len(cycles) >= 3 and len(cycles) == len(set(cycles))          # no cycle evaluated twice
    time.sleep(0.5)
    alerts = store.alerts()
    assert len(alerts) == len(hot)
    events = store.alert_events()
    assert (events["kind"] == "fired").sum() == len(hot)
    out = store.outbox()
    firing = out[out["kind"] == "firing"]
    assert len(firing) == len(hot) and firing.groupby("recipient").size().max() == 1   # one message per alert
    assert set(out["state"]) == {"sent"} and len(lb.delivered) == len(out) and lb.duplicates == 0
    store.close()
