"""The production-shaped fleet of scripts/zabbix_prodfleet.py on the real Zabbix, end to end.

One backfill of 400 days (trends beyond the 14-day raw window, history inside it) and one
incremental pass by a new collector process, then what a user of each page or command would check:
hourly counters keep every hour (window edges and the trend/history seam included), low rates keep
their precision, a limit stored once a day applies all day, proxies that carry their Redis cluster's
tag are proxies, shards follow their tags, a malformed star keeps its host, a Redis without
``maxmemory`` is "no limit" (never grey), a replica's replayed writes are not counted twice.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from zabbixkit import client, source, stack_or_skip

from core.settings import load_settings
from store import Store

pytestmark = [pytest.mark.zabbix, pytest.mark.slow]
HOUR, DAY = 3600, 86400


@pytest.fixture(scope="module")
def prod(tmp_path_factory):
    stack = stack_or_skip()
    if "prod" not in stack:
        pytest.fail("the Zabbix fixtures predate the production-shaped fleet; run `bash scripts/zabbix-up.sh`")
    p = stack["prod"]
    now = p["last_clock"] + 1800            # half an hour after the newest hourly value
    store = Store.open(f"sqlite:///{tmp_path_factory.mktemp('prod') / 'p.sqlite'}")
    src = source(stack, store, host_group=p["group"], raw_days=14)
    backfill = src.backfill(400 * DAY, now=now)
    # a new collector process (no carried state) continues from the backfill
    later = source(stack, store, host_group=p["group"], raw_days=14)
    incremental = later.collect(now=now)
    yield {"stack": stack, "p": p, "now": now, "store": store, "src": src, "backfill": backfill,
           "incremental": incremental, "ids": src.ids}
    store.close()


def _rollups(prod, key: str, start: int, end: int) -> pd.DataFrame:
    return prod["store"].read_rollups([prod["ids"][key]], start, end)


def _hours(start: int, end: int) -> list[int]:
    return list(range(start // HOUR * HOUR, end // HOUR * HOUR, HOUR))


def test_hourly_counters_keep_every_hour_at_window_edges_and_the_trend_history_seam(prod):
    now, p = prod["now"], prod["p"]
    key = "order-proxy-01:22121/proxy_qps/order/order-redis-01"
    start = now - 30 * DAY                          # 16 days of trends-only, then the 14-day raw window
    got = _rollups(prod, key, start, now - HOUR)
    want = _hours(start + HOUR, now - HOUR)
    missing = sorted(set(want) - set(got["ts"].tolist()))
    assert missing == []
    # the rate is exact where history holds the counter: (this hour - last hour) / 3600
    cl = client(prod["stack"])
    item = next(r for o in prod["src"].discovery.outputs if o.key == key for r in o.items)
    rows = cl.call("history.get", {"itemids": [item.itemid], "history": item.value_type, "time_from": now - 3 * DAY,
                                   "output": ["clock", "value"], "sortfield": "clock"})
    v = pd.Series([float(r["value"]) for r in rows], index=[int(r["clock"]) for r in rows])
    rate = (v.diff() / 3600).dropna()
    stored = _rollups(prod, key, now - 3 * DAY + HOUR, now).set_index("ts")["avg"]
    np.testing.assert_allclose(stored.reindex(rate.index).to_numpy(), rate.to_numpy(), rtol=1e-9)
    assert p["first_clock"] < start


def test_a_counter_reset_mid_window_skips_one_hour_and_is_counted_once(prod):
    reset = prod["p"]["reset_at"]
    got = _rollups(prod, "order-redis-02:6379/hit_ratio", reset - 6 * HOUR, reset + 6 * HOUR)
    assert sorted(set(_hours(reset - 6 * HOUR, reset + 6 * HOUR)) - set(got["ts"])) == [reset]
    assert prod["backfill"].skipped["counter reset"] == 2          # hits and misses, each once
    assert prod["incremental"].skipped.get("counter reset", 0) == 0


def test_a_low_rate_keeps_its_precision_in_rollups(prod):
    now = prod["now"]
    key = "order-proxy-01:22121/proxy_timeouts/order/order-redis-01"     # one backend timeout an hour
    got = _rollups(prod, key, now - 60 * DAY, now - HOUR)
    assert len(got) > 50 * 24
    np.testing.assert_allclose(got["avg"].to_numpy(), 1 / 3600, rtol=1e-9)


def test_a_limit_stored_once_a_day_applies_all_day(prod):
    now = prod["now"]
    got = _rollups(prod, "session-mc-01:11211/mem_util", now - 14 * DAY + HOUR, now - HOUR)
    assert sorted(set(_hours(now - 13 * DAY, now - HOUR)) - set(got["ts"])) == []
    latest = prod["store"].latest([prod["ids"]["session-mc-01:11211/mem_util"]])
    assert int(latest["ts"].iloc[0]) == prod["p"]["last_clock"]        # the new process found the limit too


def test_proxies_sharing_the_cluster_tag_are_proxies_and_shards_follow_their_tags(prod):
    store = prod["store"]
    cl = store.clusters().set_index("name")
    assert cl.loc["order-redis", "service"] == "redis" and cl.loc["order-redis", "shard_count"] == 5
    inst = store.instances().set_index("name")
    assert inst.loc["order-proxy-01:22121", "service"] == "twemproxy"
    assert inst.loc["order-proxy-01:22121", "role"] == "proxy"
    assert inst.loc["order-redis-01:6379", "service"] == "redis"
    shards = [int(inst.loc[f"order-redis-0{n}:6379", "shard"]) for n in range(1, 6)]
    assert shards == [0, 1, 2, 3, 4]
    assert sorted(inst.loc[["stock-redis-a:6379", "stock-redis-b:6379"], "shard"]) == [0, 1]
    # the Twemproxy timeout rule applies to the proxies (their service is theirs, not the cluster's)
    series = store.series(cluster="order-redis")
    assert set(series.loc[series["metric"] == "proxy_timeouts", "service"]) == {"twemproxy"}


def test_a_malformed_star_keeps_the_host_and_its_traffic(prod):
    store, now = prod["store"], prod["now"]
    assert store.businesses().set_index("name").loc["订单", "star"] == 5
    inst = store.instances().set_index("name")
    assert "star='abc'" in inst.loc["order-redis-05:6379", "notes"]
    qps = store.aggregate("cluster", "qps", now - 2 * HOUR, now, groups=["order-redis"])
    one = store.latest([prod["ids"]["order-redis-05:6379/qps"]])
    assert not one.empty and qps["value"].iloc[-1] > 4 * one["value"].iloc[0]


def test_no_memory_limit_is_a_state_not_a_grey_business(prod):
    from dashboard import business_data, instance_rows, wall_data
    store, now, last = prod["store"], prod["now"], prod["p"]["last_clock"]
    ids = prod["ids"]
    mem_max = store.latest([ids["stock-redis-a:6379/mem_max"]])
    assert mem_max["value"].tolist() == [0.0] and int(mem_max["ts"].iloc[0]) == last
    assert store.latest([ids["stock-redis-a:6379/mem_util"]]).empty
    settings = load_settings(cli={"collect_interval": 3600}, env={})     # an hourly fleet
    snap = wall_data.wall_snapshot(store, settings, now)
    tiles = snap["tiles"].set_index("business")
    assert tiles.loc["库存", "severity"] == "ok"
    flags = wall_data.latest_flags(store, settings, now)
    table = business_data.instance_table(store, flags, "库存", now)
    rows = instance_rows.tables(table, "en", "")["redis"]
    assert all(r["memory"].endswith("/ no limit") for r in rows)
    assert rows[0]["severity"] == "ok"


def test_a_replicas_replayed_writes_are_counted_once(prod):
    store, last = prod["store"], prod["p"]["last_clock"]
    cl = client(prod["stack"])
    hosts = {h["host"]: h["hostid"] for h in cl.call("host.get", {"filter": {"host": prod["p"]["hosts"]},
                                                                   "output": ["host"]})}
    items = cl.call("item.get", {"hostids": list(hosts.values()), "output": ["hostid", "key_", "lastvalue"],
                                 "filter": {"key_": ["redis.stats.instantaneous_ops.rate", "redis.commands.writes.rate"]}})
    by = {(h, i["key_"]): float(i["lastvalue"]) for i in items for h, hid in hosts.items() if hid == i["hostid"]}
    masters = sum(by[(f"order-redis-0{n}", "redis.stats.instantaneous_ops.rate")] for n in range(1, 6))
    # the replica's own commands less the writes it replays (its reads, to the hundredth Zabbix keeps:
    # the fixture's reads item is rounded on its own, so it may differ from this by 0.01)
    replica = by[("order-redis-01r", "redis.stats.instantaneous_ops.rate")] - by[("order-redis-01r", "redis.commands.writes.rate")]
    want = masters + replica
    got = store.aggregate("cluster", "qps", last - 60, last + 1, groups=["order-redis"])
    np.testing.assert_allclose(got["value"].iloc[-1], want, rtol=1e-9)


def test_forecast_backtest_and_capacity_work_on_the_zabbix_store_with_no_other_step(prod, monkeypatch, capsys):
    """The built-in calendar (11.11, 12.12, 6.18) is enough: the next 12.12 is forecast, past
    promotions are backtested, and the plan sizes proxies and memory the way the fleet is built."""
    import app
    from forecasting.capacity import CapacityLimits
    from forecasting.fleet import capacity_plan, forecast_fleet
    store = prod["store"]
    monkeypatch.setenv("PEAKWATCH_STORE_URL", store.url)
    assert app.main(["forecast"]) == 0
    out = capsys.readouterr().out
    assert "forecast for 12.12 2026" in out and "order-redis" in out
    assert app.main(["forecast", "--backtest"]) == 0
    assert "backtest: qps per business" in capsys.readouterr().out
    fc = forecast_fleet(store, levels=("cluster",), metrics=("qps", "proxy_qps", "mem_used"), workers=1)
    row = capacity_plan(store, fc, CapacityLimits()).set_index("cluster").loc["order-redis"]
    assert row["shards"] == 5 and row["qps_capacity"] == 5 * 80_000          # proxies are not shards
    assert row["proxies"] == 2 and row["proxy_capacity"] == 2 * 50_000       # and are sized as proxies
    # memory: only the three shards with maxmemory count, against their share of the used memory
    assert row["mem_max"] == 3 * 8 * 2**30
    assert row["mem_util_point"] < 0.75
    assert "2 of 5 shards have no memory limit" in row["reason"]
    stock = capacity_plan(store, fc, CapacityLimits()).set_index("cluster").loc["stock-redis"]
    assert np.isnan(stock["mem_max"]) and stock["add_mem_bytes"] == 0       # no limit: nothing to add
