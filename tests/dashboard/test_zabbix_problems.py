"""Zabbix problems (stored through ``Store.replace_problems``, as the collector does) on the wall and the business page."""
from __future__ import annotations

import time

import pytest

import fleetdata
from core.settings import load_settings
from dashboard import wall_data as q
from store import Store

TZ_CLOCK = 1_764_000_000          # 2025-11-24 16:00 UTC = 2025-11-25 00:00 in Asia/Shanghai


@pytest.fixture
def small(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'z.sqlite'}")
    inv = fleetdata.build_inventory(60)
    data = fleetdata.write_fleet(store, inv, int(time.time()), raw_hours=0.5)
    yield store, inv, data
    store.close()


def calm_business(inv):
    """A business whose numbers are fine (no threshold flag) and one of its instances."""
    name = next(b.name for b in inv.businesses if "-svc" in b.name)
    inst = next(i for i in inv.instances if i.cluster.startswith(name))
    return name, inst


def problem(instance, severity, name, host="redis-01", clock=TZ_CLOCK):
    return {"eventid": "9001", "clock": clock, "name": name, "severity": severity, "acknowledged": False,
            "host": host, "instance": instance, "tags": {"service": "redis"}}


def snapshot(store, now):
    """The wall after the alert engine's next cycle (the wall shows what the engine stored)."""
    settings = load_settings(env={"PEAKWATCH_STORE_URL": store.url})
    last = store.lease("alerting.evaluator")
    at = max(now, int(last["last_run"]) + 1 if last else now)
    fleetdata.evaluate(store, at)
    return q.wall_snapshot(store, settings, at)


def test_high_problem_turns_a_calm_business_red_on_the_wall(small):
    store, inv, data = small
    name, inst = calm_business(inv)
    before = snapshot(store, data.now)
    assert before["tiles"].set_index("business").loc[name, "severity"] == "ok"
    store.replace_problems([problem(inst.name, 4, "Redis replication broken")])
    after = snapshot(store, data.now)
    tile = after["tiles"].set_index("business").loc[name]
    assert tile["severity"] == "crit" and tile["reason"] == "zabbix: Redis replication broken"
    assert name in list(after["flagged"]["business"])
    assert after["counts"]["crit"] == before["counts"]["crit"] + 1
    assert after["version"] != before["version"]          # viewers' next refresh picks it up


def test_warning_problem_is_amber_and_information_is_nothing(small):
    store, inv, data = small
    name, inst = calm_business(inv)
    store.replace_problems([problem(inst.name, 2, "Slow log growing")])
    assert snapshot(store, data.now)["tiles"].set_index("business").loc[name, "severity"] == "warn"
    store.replace_problems([problem(inst.name, 1, "Config reloaded")])
    assert snapshot(store, data.now)["tiles"].set_index("business").loc[name, "severity"] == "ok"


@pytest.mark.browser
def test_problem_shows_on_the_business_page(page, small, serve):
    store, inv, data = small
    name, inst = calm_business(inv)
    store.replace_problems([problem(inst.name, 5, "Redis is down", host="redis-cart-07")])
    server = serve(store)
    page.goto(f"{server.url}/business/{name}")
    page.wait_for_selector("#zabbix-problems-table", timeout=20_000)
    text = page.locator("#zabbix-problems-table").inner_text()
    assert "disaster" in text and "redis-cart-07" in text and "Redis is down" in text
    assert "2025-11-25 00:00" in text                      # since, in the display time zone
    assert page.locator("#biz-severity").inner_text() == "crit"
    assert "Zabbix problems appear here once" not in page.locator("body").inner_text()
    assert not page.errors
