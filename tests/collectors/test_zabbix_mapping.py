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
    assert [(b.name, b.star, b.product_line) for b in disc.inventory.businesses] == [("pay", 5, "trade")]
    assert [c.shard_count for c in disc.inventory.clusters] == [2]
    reasons = dict(disc.unmapped_hosts)
    assert "star='abc'" in reasons["legacy"] and "1..5" in reasons["legacy"]
    assert "missing tag(s)" in reasons["Zabbix server"]
    assert disc.unmapped_items == {"pay-redis-01": ["redis.clients.blocked"]}


def test_series_keys_name_instance_and_metric():
    disc = build(HOSTS, ITEMS, KeyMap())
    keys = {o.key for o in disc.outputs}
    assert {"pay-redis-01:6379/qps", "pay-redis-01:6379/hit_ratio", "pay-redis-01:6379/mem_util",
            "pay-redis-02:6379/mem_util"} <= keys
    assert not any("legacy" in k for k in keys)


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
