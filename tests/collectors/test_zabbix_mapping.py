"""Key map, inventory mapping and derivations on recorded Zabbix answers (no server needed)."""
from __future__ import annotations

import numpy as np
import pytest

from collectors.zabbix import derive
from collectors.zabbix.history import chunk_outputs, parse_values, windows
from collectors.zabbix.inventory import build, parse_size
from collectors.zabbix.keymap import KeyMap, key_params
from core.errors import ConfigError


def host(hostid, name, **tags):
    return {"hostid": hostid, "host": name, "tags": [{"tag": k, "value": str(v)} for k, v in tags.items()],
            "groups": [], "macros": [], "interfaces": [{"ip": "10.0.0.1", "dns": "", "port": "10050", "main": "1"}]}


def item(itemid, hostid, key, vt=3):
    return {"itemid": itemid, "hostid": hostid, "key_": key, "value_type": str(vt)}


REDIS = dict(product_line="trade", business="pay", star=5, service="redis", cluster="pay-redis", role="master",
             port=6379)
HOSTS = [host("1", "pay-redis-01", **REDIS),
         host("2", "pay-redis-02", **{**REDIS, "mem_capacity": "8G"}),
         host("3", "legacy", **{**REDIS, "star": "abc", "business": "legacy", "cluster": "legacy"}),
         host("4", "Zabbix server")]
ITEMS = [item("11", "1", "redis.stats.instantaneous_ops.rate", 0), item("12", "1", "redis.memory.used_memory"),
         item("13", "1", "redis.memory.maxmemory[]"), item("14", "1", "redis.stats.keyspace_hits"),
         item("15", "1", "redis.stats.keyspace_misses"), item("16", "1", "redis.clients.blocked"),
         item("21", "2", "redis.memory.used_memory"), item("22", "2", "redis.memory.maxmemory[]"),
         item("31", "3", "redis.stats.instantaneous_ops.rate", 0), item("41", "4", "system.cpu.load", 0)]


def test_hosts_map_by_tags_and_bad_hosts_are_reported_with_the_fix():
    disc = build(HOSTS, ITEMS, KeyMap())
    assert [(b.name, b.star, b.product_line) for b in disc.inventory.businesses] == [("legacy", 3, "trade"),
                                                                                     ("pay", 5, "trade")]
    assert {c.name: c.shard_count for c in disc.inventory.clusters} == {"legacy": 1, "pay-redis": 2}
    # a malformed star keeps the host (its data counts); the default and why are noted
    assert "star='abc'" in disc.notes["legacy"] and "star 3 (default" in disc.notes["legacy"]
    reasons = dict(disc.unmapped_hosts)
    assert list(reasons) == ["Zabbix server"] and "missing tag(s) business, service" in reasons["Zabbix server"]
    assert disc.unmapped_items == {"pay-redis-01": ["redis.clients.blocked"]}


def test_series_keys_name_instance_and_metric():
    disc = build(HOSTS, ITEMS, KeyMap())
    keys = {o.key for o in disc.outputs}
    assert {"pay-redis-01:6379/qps", "pay-redis-01:6379/hit_ratio", "pay-redis-01:6379/mem_util",
            "pay-redis-02:6379/mem_util", "legacy:6379/qps"} <= keys


ORDER = dict(product_line="交易", business="订单", star=5, service="redis", cluster="order-redis", role="master")


def _order_fleet():
    hosts = [host(str(n), f"order-redis-0{n}", **{**ORDER, "shard": n - 1}) for n in (1, 2, 3, 4)]
    hosts.append(host("5", "order-redis-05", **{**ORDER, "star": "abc", "shard": 4}))
    hosts.append(host("6", "order-redis-01r", **{**ORDER, "role": "slave", "shard": 0}))
    hosts += [host(f"p{n}", f"order-proxy-0{n}", **{**ORDER, "service": "twemproxy", "role": "proxy"}) for n in (1, 2)]
    hosts += [host(f"s{n}", f"stock-redis-{n}", product_line="商品", business="库存", star=4, service="redis",
                   cluster="stock-redis", role="master") for n in ("b", "a")]
    return hosts


def test_a_proxy_carrying_its_redis_clusters_tag_is_a_proxy_not_a_shard():
    disc = build(_order_fleet(), [], KeyMap())
    clusters = {c.name: c for c in disc.inventory.clusters}
    assert clusters["order-redis"].service == "redis" and clusters["order-redis"].shard_count == 5
    inst = {i.name: i for i in disc.inventory.instances}
    assert inst["order-proxy-01"].role == "proxy" and inst["order-proxy-01"].service == "twemproxy"
    assert inst["order-redis-01"].service is None          # the cluster's service


def test_shards_come_from_shard_tags_else_a_stable_order():
    disc = build(_order_fleet(), [], KeyMap())
    shard = {i.name: i.shard for i in disc.inventory.instances}
    assert [shard[f"order-redis-0{n}"] for n in range(1, 6)] == [0, 1, 2, 3, 4]
    assert shard["order-redis-01r"] == 0
    assert (shard["stock-redis-a"], shard["stock-redis-b"]) == (0, 1)      # by host name, whatever the API order
    assert (shard["order-proxy-01"], shard["order-proxy-02"]) == (0, 1)
    again = build(list(reversed(_order_fleet())), [], KeyMap())
    assert {i.name: i.shard for i in again.inventory.instances} == shard


def test_a_malformed_tag_keeps_the_host_with_its_businesss_value_and_a_note():
    disc = build(_order_fleet(), [item("51", "5", "redis.stats.instantaneous_ops.rate", 0)], KeyMap())
    assert {b.name: b.star for b in disc.inventory.businesses} == {"订单": 5, "库存": 4}
    inst = {i.name: i for i in disc.inventory.instances}
    assert "star='abc'" in inst["order-redis-05"].notes and "star 5 from business 订单" in inst["order-redis-05"].notes
    assert "order-redis-05/qps" in {o.key for o in disc.outputs}
    assert disc.unmapped_hosts == []


def test_service_from_templates_or_keys_when_the_tag_is_missing_or_wrong():
    h1 = host("1", "mc-1", product_line="p", business="b", star=2, cluster="mc", service="memcache")
    h1["parentTemplates"] = [{"host": "Memcached by Zabbix agent 2", "name": "Memcached by Zabbix agent 2"}]
    h2 = host("2", "r-1", product_line="p", business="b", star=2, cluster="r")
    h3 = host("3", "x-1", product_line="p", business="b", star=2, cluster="x")
    disc = build([h1, h2, h3], [item("21", "2", "redis.memory.used_memory")], KeyMap())
    services = {c.name: c.service for c in disc.inventory.clusters}
    assert services == {"mc": "memcached", "r": "redis"}
    assert "service='memcache'" in disc.notes["mc-1"] and "template" in disc.notes["mc-1"]
    assert "item keys" in disc.notes["r-1"]
    assert "missing tag(s) service" in dict(disc.unmapped_hosts)["x-1"]


def test_a_replicas_qps_leaves_out_the_writes_it_replays():
    hosts = [host("1", "m", **ORDER), host("2", "r", **{**ORDER, "role": "slave"})]
    items = [item(f"{h}{k}", h, key, 0) for h in ("1", "2") for k, key in
             ((1, "redis.stats.instantaneous_ops.rate"), (2, "redis.commands.writes.rate"),
              (3, "redis.commands.reads.rate"))]
    outs = {o.key: o for o in build(hosts, items, KeyMap()).outputs}
    assert outs["m/qps"].how == "gauge" and outs["r/qps"].how == "minus"
    data = {"21": (np.array([60, 120]), np.array([1300.0, 1500.0])), "22": (np.array([60, 120]), np.array([1000.0, 900.0]))}
    assert derive.compute(outs["r/qps"], data)[1].tolist() == [300.0, 600.0]


def test_group_named_tag_value_fills_a_missing_tag():
    h = host("5", "r5", **{k: v for k, v in REDIS.items() if k != "business"})
    h["groups"] = [{"name": "business:search"}]
    disc = build([h], [], KeyMap())
    assert [b.name for b in disc.inventory.businesses] == ["search"]


def test_keymap_overrides_from_config_and_bad_ones_name_the_key():
    km = KeyMap({"my.ops": "qps", "my.hits": "counter:evictions", "redis.cpu.sys": ""})
    assert km.rule("my.ops[x]").metric == "qps"
    assert km.rule("my.hits").kind == "counter"
    assert km.rule("redis.cpu.sys") is None
    with pytest.raises(ConfigError, match="'my.bad'.*not a canonical metric"):
        KeyMap({"my.bad": "qqps"})


def test_key_params_and_sizes():
    assert key_params('twemproxy.server.requests[redis_pool,"redis 1"]') == ["redis_pool", "redis 1"]
    assert key_params("redis.memory.maxmemory[]") == []
    assert parse_size("8G") == 8 * 2**30 and parse_size("512M") == 512 * 2**20
    with pytest.raises(ValueError):
        parse_size("lots")


def test_counter_rate_skips_a_reset_and_counts_it():
    problems = derive.Problems()
    ts, v = derive.rate(np.array([0, 60, 120, 180]), np.array([100.0, 160.0, 10.0, 70.0]), problems)
    assert ts.tolist() == [60, 180] and v.tolist() == [1.0, 1.0]
    assert problems["counter reset"] == 1


def test_hit_ratio_without_traffic_is_no_value_not_zero():
    problems = derive.Problems()
    hits = (np.array([60, 120, 180]), np.array([9.0, 0.0, 3.0]))
    misses = (np.array([60, 120, 180]), np.array([1.0, 0.0, 1.0]))
    ts, v = derive.hit_ratio(hits, misses, problems)
    assert ts.tolist() == [60, 180] and v.tolist() == [90.0, 75.0]
    assert problems["no traffic (no hit ratio)"] == 1


def _mem_output(capacity=0.0, with_host=False):
    items = [item("1", "h", "redis.memory.used_memory"), item("2", "h", "redis.memory.maxmemory[]")]
    if with_host:
        items.append(item("3", "h", "redis.memory.total_system_memory[]"))
    h = host("h", "r", **{**REDIS, "mem_capacity": f"{int(capacity)}" if capacity else ""})
    disc = build([h], items, KeyMap())
    return {o.how: o for o in disc.outputs}


def test_mem_util_uses_maxmemory_then_cluster_capacity_then_host_memory():
    used = (np.array([60, 120]), np.array([50.0, 80.0]))
    data = {"1": used, "2": (np.array([60, 120]), np.array([100.0, 0.0])), "3": (np.array([60]), np.array([400.0]))}
    out = _mem_output()["mem_util"]
    assert derive.compute(out, data)[1].tolist() == [50.0]          # maxmemory 0 and nothing else: no value
    assert derive.compute(_mem_output()["mem_max"], data)[1].tolist() == [100.0, 0.0]   # 0: "no limit"
    assert derive.mem_source(out, data) == "no limit (maxmemory 0)"
    out = _mem_output(capacity=200)["mem_util"]
    assert derive.compute(out, data)[1].tolist() == [50.0, 40.0]    # 80 / cluster capacity 200
    assert derive.mem_source(out, data) == "cluster capacity"
    out = _mem_output(with_host=True)["mem_util"]
    assert derive.compute(out, data)[1].tolist() == [50.0, 20.0]    # 80 / host memory 400
    assert derive.mem_source(out, data) == "host memory"
    mx = _mem_output(capacity=200)["mem_max"]
    assert derive.compute(mx, data)[1].tolist() == [100.0, 200.0]


def test_bad_values_are_counted_not_raised():
    problems = derive.Problems()
    rows = [{"itemid": "1", "clock": "60", "value": "1.5"}, {"itemid": "1", "clock": "120", "value": "abc"},
            {"itemid": "2", "clock": "60", "value": "nan"}, {"itemid": "1", "clock": "180", "value": "2"}]
    data = parse_values(rows, problems)
    assert data["1"][1].tolist() == [1.5, 2.0] and "2" not in data
    assert problems["not a finite number"] == 2


def test_windows_are_aligned_so_a_resumed_run_cuts_the_same_ones():
    assert list(windows(50, 250, 100)) == [(50, 100), (100, 200), (200, 250)]
    assert list(windows(120, 250, 100)) == [(120, 200), (200, 250)]


def test_batches_never_split_an_output_and_respect_the_item_limit():
    disc = build(HOSTS, ITEMS, KeyMap())
    groups = chunk_outputs(disc.outputs, 2)
    for g in groups:
        ids = {r.itemid for o in g for r in o.items}
        assert len(ids) <= 2 or len(g) == 1
    assert sum(len(g) for g in groups) == len(disc.outputs)


MC = dict(product_line="search", business="suggest", star=2, service="memcached", cluster="mc", role="master",
          port=11211)


def test_memcached_reads_and_writes_are_its_get_and_set_rates_in_history_and_trends():
    items = [item("1", "m", "memcached.commands.get.rate", 0), item("2", "m", "memcached.commands.set.rate", 0)]
    disc = build([host("m", "mc-01", **MC)], items, KeyMap())
    outs = {o.metric: o for o in disc.outputs}
    assert (outs["reads"].how, [r.itemid for r in outs["reads"].items]) == ("gauge", ["1"])
    assert (outs["writes"].how, [r.itemid for r in outs["writes"].items]) == ("gauge", ["2"])
    assert [r.itemid for r in outs["qps"].items] == ["1", "2"]          # the same items still sum to qps
    data = {"1": (np.array([60, 120]), np.array([80.0, 90.0])), "2": (np.array([60, 120]), np.array([20.0, 25.0]))}
    assert derive.compute(outs["reads"], data)[1].tolist() == [80.0, 90.0]
    assert derive.compute(outs["writes"], data)[1].tolist() == [20.0, 25.0]
    trends = {i: {"ts": np.array([0, 3600]), "min": v * 0.5, "avg": v, "max": v * 2, "count": np.array([60, 60])}
              for i, v in (("1", np.array([80.0, 90.0])), ("2", np.array([20.0, 25.0])))}
    roll = derive.compute_rollups(outs["writes"], trends)
    assert roll["min"].tolist() == [10.0, 12.5] and roll["avg"].tolist() == [20.0, 25.0]   # Zabbix's spread kept
    assert roll["max"].tolist() == [40.0, 50.0] and roll["count"].tolist() == [60, 60]


def test_redis_reads_and_writes_come_from_the_add_on_template_and_the_report_counts_it(capsys):
    from collectors.zabbix.cli import print_report
    with_addon = ITEMS + [item("17", "1", "redis.commands.reads.rate", 0),
                          item("18", "1", "redis.commands.writes.rate", 0)]
    disc = build(HOSTS, with_addon, KeyMap())
    outs = {o.key: o for o in disc.outputs}
    assert outs["pay-redis-01:6379/reads"].items[0].key == "redis.commands.reads.rate"
    assert outs["pay-redis-01:6379/writes"].how == "gauge"
    assert not any(k.startswith("pay-redis-02") and k.endswith(("/reads", "/writes")) for k in outs)
    assert disc.redis_without_reads_writes() == (["legacy:6379", "pay-redis-02:6379"], 3)

    class Source:
        def discover(self):
            return disc

        def mem_limit_sources(self):
            return {}
    assert print_report(Source()) == 0
    out = capsys.readouterr().out
    assert "reads/writes: 1 of 3 Redis instances have the items of the Peakwatch add-on template" in out
    assert "without: legacy:6379, pay-redis-02:6379" in out
