"""The collector against the real Zabbix 6.0 of scripts/zabbix-up.sh: what it stores equals what
Zabbix serves, trends fill the span beyond history, problems arrive, live values from the real
Redis/Memcached/Twemproxy arrive, and bad values are skipped and counted."""
from __future__ import annotations

import time
import uuid

import numpy as np
import pytest
from zabbixkit import TRAPPER_GROUP, client, history, sender, source, stored_raw

from collectors.zabbix.backfill import TRENDS_SOURCE

pytestmark = pytest.mark.zabbix
DAY = 86400


def gauge_outputs(src):
    return [o for o in src.discovery.outputs if o.how == "gauge"]


def test_tags_map_to_businesses_stars_and_bad_hosts_are_reported(stack, store):
    src = source(stack, store, host_group="")
    disc = src.discover()
    stars = {b.name: b.star for b in disc.inventory.businesses}
    assert stars["pay"] == 5 and stars["search-suggest"] == 2 and stars["cart"] == 4 and stars["session"] == 3
    inst = store.instances().set_index("name")
    assert inst.loc["pay-redis-02:6379", "cluster"] == "pay-redis"
    assert inst.loc["redis-6392:6392", "role"] == "slave"
    unmapped = dict(disc.unmapped_hosts)
    assert "star='abc'" in disc.notes["legacy-redis-01"] and stars["legacy"] == 3    # kept, default star noted
    assert "missing tag(s) business" in unmapped["untagged-01"]
    assert store.clusters().set_index("name").loc["pay-redis", "shard_count"] == 2


def test_incremental_pass_stores_exactly_what_history_get_returns(stack, store):
    now = stack["last_clock"]
    src = source(stack, store, first_window=3 * DAY, overlap=300, batch_items=7, batch_window=6 * 3600)
    rep = src.collect(now=now)
    assert rep.values_written > 0
    cl = client(stack)
    t0, t1 = now - 3 * DAY - 300, now
    ids = src.ids
    checked = 0
    for out in gauge_outputs(src):
        ref = out.items[0]
        want_ts, want_v = history(cl, ref.itemid, ref.value_type, t0, t1)
        got_ts, got_v = stored_raw(store, ids[out.key], t0, t1)
        assert len(want_ts) > 200, out.key
        np.testing.assert_array_equal(got_ts, want_ts, err_msg=out.key)
        np.testing.assert_allclose(got_v, want_v, rtol=1e-12, err_msg=out.key)
        checked += 1
    # qps, mem_used, conns, reads, writes of two Redis shards; mem_used, conns, reads, writes of Memcached;
    # the qps of legacy-redis-01 (its malformed star tag keeps it, with a note)
    assert checked == 15
    # Memcached reads and writes are its get and set rates, value for value (checked above as gauges)
    mc = {o.metric: o for o in src.discovery.outputs if o.instance == "search-mc-01:11211"}
    assert mc["reads"].items[0].key == "memcached.commands.get.rate"
    assert mc["writes"].items[0].key == "memcached.commands.set.rate"
    # the Redis shards' reads + writes are close to their qps (the fixture leaves 2% to PING, INFO ...)
    latest = store.latest(list(ids.values())).set_index("series_id")["value"]
    rw = latest[ids["pay-redis-01:6379/reads"]] + latest[ids["pay-redis-01:6379/writes"]]
    assert rw == pytest.approx(0.98 * latest[ids["pay-redis-01:6379/qps"]], rel=1e-3)
    # a derived series equals the same arithmetic on history.get: Memcached qps = get/s + set/s
    out = next(o for o in src.discovery.outputs if o.key == "search-mc-01:11211/qps")
    (ts_get, v_get), (ts_set, v_set) = (history(cl, r.itemid, r.value_type, t0, t1) for r in out.items)
    got_ts, got_v = stored_raw(store, ids[out.key], t0, t1)
    np.testing.assert_array_equal(got_ts, ts_get)
    np.testing.assert_allclose(got_v, v_get + v_set, rtol=1e-12)
    # derived series exist: hit ratio from counters, memory utilisation with the capacity fallback
    latest = store.latest(list(ids.values())).set_index("series_id")["value"]
    ratio = latest[ids["pay-redis-01:6379/hit_ratio"]]
    assert 85 < ratio < 95
    util = latest[ids["pay-redis-02:6379/mem_util"]]        # maxmemory 0 -> cluster capacity 8G
    used = latest[ids["pay-redis-02:6379/mem_used"]]
    assert util == pytest.approx(used / (8 * 2**30) * 100)


def test_a_second_pass_changes_nothing_and_continues_from_the_watermark(stack, store):
    now = stack["last_clock"]
    src = source(stack, store, first_window=DAY)
    src.collect(now=now)
    before = store.read_raw(list(src.ids.values()), now - 2 * DAY, now)
    rep = src.collect(now=now)
    after = store.read_raw(list(src.ids.values()), now - 2 * DAY, now)
    assert rep.values_read < 2000          # only the overlap window was read again
    assert before.equals(after)


def test_backfill_reads_trends_beyond_history_and_history_inside(stack, store):
    now = stack["last_clock"]
    src = source(stack, store, raw_days=14, batch_window=DAY)
    src.backfill(140 * DAY, now=now)
    cl = client(stack)
    raw_from = (now - 14 * DAY) // 3600 * 3600
    out = next(o for o in src.discovery.outputs if o.key == "pay-redis-01:6379/qps")
    sid, ref = src.ids[out.key], out.items[0]
    trends = cl.call("trend.get", {"itemids": [ref.itemid], "time_from": now - 140 * DAY, "time_till": raw_from - 1,
                                   "output": ["clock", "num", "value_min", "value_avg", "value_max"]})
    trends.sort(key=lambda r: int(r["clock"]))
    roll = store.read_rollups([sid], now - 140 * DAY, raw_from - 1)
    roll = roll[roll["ts"] < raw_from]
    assert len(trends) > 100 * 24
    assert roll["ts"].tolist() == [int(r["clock"]) for r in trends]
    np.testing.assert_allclose(roll["avg"], [float(r["value_avg"]) for r in trends], rtol=1e-9)
    np.testing.assert_allclose(roll["min"], [float(r["value_min"]) for r in trends], rtol=1e-9)
    np.testing.assert_allclose(roll["max"], [float(r["value_max"]) for r in trends], rtol=1e-9)
    assert roll["count"].tolist() == [int(r["num"]) for r in trends]
    # the 8.18 promotion is older than Zabbix's 30 days of history: it survives only in trends
    promo = next(p for p in stack["promotions"] if p["start"] < now - 30 * DAY)
    during = roll[(roll["ts"] >= promo["start"]) & (roll["ts"] < promo["start"] + 3600)]["max"].max()
    week_before = roll[(roll["ts"] >= promo["start"] - 9 * DAY) & (roll["ts"] < promo["start"] - 3 * DAY)]
    assert during > 2.5 * week_before["avg"].median()
    # inside the raw window: value for value what history.get returns
    want_ts, want_v = history(cl, ref.itemid, ref.value_type, raw_from, now)
    got_ts, got_v = stored_raw(store, sid, raw_from, now)
    np.testing.assert_array_equal(got_ts, want_ts)
    np.testing.assert_allclose(got_v, want_v, rtol=1e-12)
    assert store.watermarks(TRENDS_SOURCE)[sid] == raw_from


def test_active_problems_are_stored_with_host_and_tags(stack, store):
    src = source(stack, store, host_group="", first_window=600)
    src.collect()
    df = store.problems()
    hot = df[df["name"] == stack["hot_trigger"]]
    assert len(hot) == 1
    row = hot.iloc[0]
    assert row["instance"] == "pay-redis-02:6379" and row["severity"] == "high" and row["level"] == 4
    assert row["tags"]["business"] == "pay" and row["tags"]["scope"] == "capacity"


def test_live_values_from_real_redis_memcached_twemproxy_arrive(stack, store):
    src = source(stack, store, host_group="", first_window=600)
    wanted = ["redis-6391:6391/conns", "redis-6392:6392/conns", "memcached-11212:11212/conns",
              "twemproxy-22222:22121/conns/redis_pool", "redis-6391:6391/mem_util",
              "twemproxy-22222:22121/proxy_qps/redis_pool/redis-6391"]
    deadline = time.monotonic() + 150
    while True:
        src.collect()
        latest = store.latest([src.ids[k] for k in wanted if k in src.ids])
        if len(latest) == len(wanted) or time.monotonic() > deadline:
            break
        time.sleep(10)
    found = {k for k in wanted if src.ids.get(k) in set(latest["series_id"])}
    assert found == set(wanted)
    assert (latest["ts"] > time.time() - 600).all()


def test_bad_values_are_skipped_and_counted_never_a_crash(stack, store):
    zf = sender()
    cl = client(stack)
    name = f"pw-bad-{uuid.uuid4().hex[:8]}"
    group = f"Peakwatch/Test-{name}"
    gid = cl.call("hostgroup.create", {"name": group})["groupids"][0]
    tags = [{"tag": k, "value": v} for k, v in dict(product_line="qa", business="badvals", star="1",
                                                     service="redis", cluster="badvals", role="master").items()]
    hostid = cl.call("host.create", {"host": name, "groups": [{"groupid": gid}], "tags": tags})["hostids"][0]
    try:
        cl.call("item.create", [{"hostid": hostid, "name": k, "key_": k, "type": 2, "value_type": vt,
                                 "history": "7d", "trends": "30d"}
                                for k, vt in (("redis.stats.instantaneous_ops.rate", 0),
                                              ("redis.stats.evicted_keys", 3))])
        zf.reload_config_cache()
        t = int(time.time()) - 3000
        ops, ev = "redis.stats.instantaneous_ops.rate", "redis.stats.evicted_keys"
        values = [(ops, "1.5", t), (ops, "abc", t + 60), (ops, "nan", t + 120), (ops, "2.5", t + 180),
                  (ops, "7", int(time.time()) + 7200),
                  (ev, "100", t), (ev, "160", t + 60), (ev, "40", t + 120), (ev, "100", t + 180)]
        zf.send_all([{"host": name, "key": k, "value": v, "clock": c, "ns": 0} for k, v, c in values])
        items = {i["key_"]: i["itemid"] for i in cl.call("item.get", {"hostids": [hostid], "output": ["key_"]})}
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:          # wait for the history syncers: 1.5, 2.5, 7 and four counts
            # (the future value 7 lies at now + 7200 = t + 10200: the window must reach it, or this waits 120 s)
            n = len(history(cl, items[ops], 0, t - 1, t + 12000)[0]) + len(history(cl, items[ev], 3, t - 1, t + 300)[0])
            if n >= 7:
                break
            time.sleep(2)
        src = source(stack, store, host_group=group, first_window=4000, overlap=0)
        rep = src.collect()
        got = store.read_raw([src.ids[f"{name}/qps"]], t - 10, t + 9000)["value"].tolist()
        assert got == [1.5, 2.5]                       # text and NaN never stored, future clock skipped
        assert rep.skipped["clock in the future"] == 1
        rates = store.read_raw([src.ids[f"{name}/evictions"]], t - 10, t + 300)["value"].tolist()
        assert rates == [1.0, 1.0]                      # 100->160 and 40->100; the reset step skipped
        assert rep.skipped["counter reset"] == 1
    finally:
        cl.call("host.delete", [hostid])
        cl.call("hostgroup.delete", [gid])


def test_trapper_group_is_what_the_collector_reads(stack, store):
    disc = source(stack, store, host_group=TRAPPER_GROUP).discover()
    assert {i.name.split(":")[0] for i in disc.inventory.instances} == {"pay-redis-01", "pay-redis-02",
                                                                       "search-mc-01", "legacy-redis-01"}


def test_added_removed_and_retagged_hosts_update_the_store(stack, store):
    cl = client(stack)
    name = f"pw-churn-{uuid.uuid4().hex[:8]}"
    group = f"Peakwatch/Test-{name}"
    gid = cl.call("hostgroup.create", {"name": group})["groupids"][0]

    def tags(star):
        return [{"tag": k, "value": v} for k, v in dict(product_line="qa", business=f"biz-{name}", star=str(star),
                                                         service="redis", cluster=f"c-{name}", port="7000").items()]
    ids = [cl.call("host.create", {"host": f"{name}-{i}", "groups": [{"groupid": gid}], "tags": tags(2)})["hostids"][0]
           for i in range(2)]
    try:
        src = source(stack, store, host_group=group)
        src.discover()
        assert store.businesses().set_index("name").loc[f"biz-{name}", "star"] == 2
        cl.call("host.update", {"hostid": ids[0], "tags": tags(5)})
        cl.call("host.delete", [ids[1]])
        ids.pop()
        src.discover()
        assert store.businesses().set_index("name").loc[f"biz-{name}", "star"] == 5
        inst = store.instances().set_index("name")["removed_at"]
        assert inst.isna()[f"{name}-0:7000"]
        assert not inst.isna()[f"{name}-1:7000"]
    finally:
        cl.call("host.delete", ids)
        cl.call("hostgroup.delete", [gid])


def test_a_wrong_token_is_a_clear_auth_error_and_writes_nothing(stack, store):
    from core.errors import ZabbixAuthError
    from zabbixkit import URL

    from collectors.zabbix.client import ZabbixClient
    bad = ZabbixClient(URL, "0" * 64, timeout=10, retries=0)
    with pytest.raises(ZabbixAuthError, match="zabbix_token"):
        source(stack, store, client=bad).collect()
    assert store.info()["series"] == 0


def test_values_a_proxy_sends_an_hour_late_are_still_collected(stack, store):
    """A Zabbix proxy buffers its values during a network cut and sends them with their old clocks
    when it reconnects: the passes in between must not move past them."""
    zf, cl = sender(), client(stack)
    name = f"pw-late-{uuid.uuid4().hex[:8]}"
    group = f"Peakwatch/Test-{name}"
    gid = cl.call("hostgroup.create", {"name": group})["groupids"][0]
    tags = [{"tag": k, "value": v} for k, v in dict(product_line="qa", business="late", star="2", service="redis",
                                                     cluster="late", role="master").items()]
    hostid = cl.call("host.create", {"host": name, "groups": [{"groupid": gid}], "tags": tags})["hostids"][0]
    key = "redis.clients.connected"
    try:
        itemid = cl.call("item.create", [{"hostid": hostid, "name": key, "key_": key, "type": 2, "value_type": 3,
                                          "history": "7d", "trends": "30d"}])["itemids"][0]
        zf.reload_config_cache()
        base = (int(time.time()) - 3 * 3600) // 60 * 60

        def send(t0, t1):
            zf.send_all([{"host": name, "key": key, "value": str(t // 60 % 1000), "clock": t, "ns": 0}
                         for t in range(t0, t1, 60)])
            deadline = time.monotonic() + 60
            while len(history(cl, itemid, 3, t0, t1 - 1)[0]) < (t1 - t0) // 60 and time.monotonic() < deadline:
                time.sleep(1)
        send(base - 3600, base + 60)                   # before the cut
        src = source(stack, store, host_group=group, first_window=2 * 3600, overlap=300)
        src.collect(now=base + 60)
        src.collect(now=base + 1800)                   # the proxy is cut off: nothing arrives
        send(base + 60, base + 3600)                   # reconnected: an hour of values with old clocks
        src.collect(now=base + 3660)
        sid = src.ids[f"{name}/conns"]
        got = store.read_raw([sid], base - 3600, base + 3600)["ts"].tolist()
        assert got == list(range(base - 3600, base + 3600, 60))
    finally:
        cl.call("host.delete", [hostid])
        cl.call("hostgroup.delete", [gid])
