"""Against the real Zabbix 6.0 stack: its always-firing trigger (fixtures.json ``hot_trigger``)
becomes a stored alert of its business and a page through a loopback SMS gateway."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "collectors"))
from zabbixkit import source, stack_or_skip  # noqa: E402

from alerting import config as acfg  # noqa: E402
from alerting.engine import Engine  # noqa: E402
from alerting.gateways import build_all  # noqa: E402
from alerting.sender import Sender  # noqa: E402
from core.settings import load_settings  # noqa: E402
from store import Store  # noqa: E402

pytestmark = pytest.mark.zabbix


def test_the_real_hot_trigger_pages_its_business_once(tmp_path, loopback):
    stack = stack_or_skip()
    lb = loopback()
    store = Store.open(f"sqlite:///{tmp_path / 'z.sqlite'}")
    source(stack, store, first_window=600).collect()      # the stack's own group (other tests add hosts)
    settings = load_settings(env={"PEAKWATCH_STORE_URL": store.url})
    cfg = acfg.parse({"gateways": {"sms": {"type": "http", "url": lb.url + "/alert/send", "ok_field": "code=0"}},
                      "routes": [{"name": "dba", "severities": ["crit"], "to": ["DBA <+8613800138000>"],
                                  "gateway": "sms"}]})
    engine = Engine(store, settings, cfg)
    now = int(time.time())
    assert engine.run_once(now) is not None
    alerts = store.open_alerts()
    hot = alerts[alerts["rule"] == "zabbix:" + stack["hot_trigger"]]
    assert len(hot) == 1
    row = hot.iloc[0]
    assert row["business"] == "pay" and row["instance"] == "pay-redis-02:6379" and row["severity"] == "crit"
    assert row["state"] == "firing" and row["star"] == 5
    Sender(store, build_all(cfg.gateways)).drain()
    bodies = [b["text"] for b in lb.delivered.values()]
    assert any("pay (5*)" in b and "too many client connections" in b for b in bodies)
    assert engine.run_once(now + cfg.interval_s) is not None          # still firing: no second page
    Sender(store, build_all(cfg.gateways)).drain()
    assert len(lb.delivered) == len(bodies) and lb.duplicates == 0
    store.close()
