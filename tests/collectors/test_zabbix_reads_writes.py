"""Reads and writes per second: Memcached's get/set rates, Redis through Peakwatch's add-on template
(contrib/zabbix/peakwatch_redis_reads_writes.yaml), and instances joining the fleet when their data
begins after a backfill.

The add-on's JavaScript runs in ``zabbix_js`` (Zabbix's own engine); the tests marked ``zabbix`` use
the real stack of scripts/zabbix-up.sh, which imports the same YAML file and links it to its Redis
hosts.
"""
from __future__ import annotations

import json
import re
import subprocess
import time

import numpy as np
import pytest
from zabbixkit import addon, client, history, sender, source, stored_raw, zabbix_js_or_skip


DAY = 86400
ADDON = addon()
YAML = ADDON.YAML_PATH.read_text()


def run_js(script: str, value: str, tmp_path) -> subprocess.CompletedProcess:
    js, inp = tmp_path / "step.js", tmp_path / "value.json"
    js.write_text(script)
    inp.write_text(value)
    return subprocess.run([zabbix_js_or_skip(), "-s", str(js), "-i", str(inp)], capture_output=True, text=True,
                          timeout=30)


def sums(stats: dict[str, int], tmp_path) -> dict[str, float]:
    """{item key: what its JavaScript step returns} for INFO commandstats with these calls."""
    value = json.dumps({"Commandstats": {f"cmdstat_{name}": {"calls": str(n), "failed_calls": "0", "usec": "1"}
                                         for name, n in stats.items()}})
    out = {}
    for key, script in ADDON.scripts(YAML).items():
        res = run_js(script, value, tmp_path)
        assert res.returncode == 0, res.stdout + res.stderr
        out[key] = float(res.stdout.strip())
    return out


# ------------------------------------------------------------------ the add-on template, no server

def test_the_template_file_has_a_master_item_and_two_dependent_rates():
    assert f"template: '{ADDON.TEMPLATE}'" in YAML
    assert f"key: '{ADDON.MASTER_KEY}'" in YAML
    assert set(ADDON.scripts(YAML)) == {"redis.commands.reads.rate", "redis.commands.writes.rate"}
    assert YAML.count("type: CHANGE_PER_SECOND") == 2
    assert "history: '0'" in YAML                    # the master's JSON is not kept
    uuids = re.findall(r"uuid: ([0-9a-f]{32})", YAML)
    assert len(uuids) == len(set(uuids)) == 5 and all(u[12] == "4" for u in uuids)   # UUIDv4, as 6.0 wants


def test_classification_follows_redis_flags_and_uniform_containers():
    table = {"get": ["readonly", "fast"], "set": ["write", "denyoom"], "ping": ["fast"], "eval": ["noscript"],
             "xgroup": [], "xgroup|create": ["write"], "xgroup|setid": ["write"], "xgroup|help": ["loading"],
             "object": [], "object|encoding": ["readonly"], "object|help": ["loading"],
             "function": [], "function|load": ["write"], "function|list": ["noscript"]}
    writes, reads = ADDON.classify(table)
    assert writes == ["function|load", "set", "xgroup", "xgroup|create", "xgroup|setid"]
    assert reads == ["get", "object", "object|encoding"]       # FUNCTION is mixed: no class of its own


def test_js_sums_calls_of_reads_and_writes_and_ignores_the_rest(tmp_path):
    got = sums({"get": 12, "mget": 3, "hgetall": 4, "set": 5, "incr": 6, "del": 1, "xgroup|create": 2,
                "object|encoding": 1, "client|setname": 3, "ping": 100, "info": 2, "replconf": 70, "eval": 4,
                "multi": 9, "exec": 9, "publish": 8, "select": 1, "config|get": 5}, tmp_path)
    assert got == {"redis.commands.reads.rate": 12 + 3 + 4 + 1, "redis.commands.writes.rate": 5 + 6 + 1 + 2}


def test_js_counts_redis_6_container_names_and_no_object_prototype_names(tmp_path):
    got = sums({"xgroup": 2, "xinfo": 3, "constructor": 50, "__proto__": 50, "toString": 50, "hasOwnProperty": 5},
               tmp_path)
    assert got == {"redis.commands.reads.rate": 3, "redis.commands.writes.rate": 2}


def test_js_with_no_traffic_is_zero_and_without_the_section_an_error(tmp_path):
    assert sums({}, tmp_path) == {"redis.commands.reads.rate": 0, "redis.commands.writes.rate": 0}
    script = ADDON.scripts(YAML)["redis.commands.reads.rate"]
    res = run_js(script, json.dumps({"Stats": {}}), tmp_path)
    assert res.returncode == 1 and "no Commandstats section" in res.stdout + res.stderr


# ------------------------------------------------------------------ against the real stack

@pytest.mark.zabbix
def test_the_file_is_current_for_the_running_redis_7_and_is_what_zabbix_exports(stack):
    version, table = ADDON.command_table("127.0.0.1", 6391)
    assert ADDON.render(*ADDON.classify(table), version) == YAML, (
        "contrib/zabbix/peakwatch_redis_reads_writes.yaml is stale for this Redis; regenerate it with "
        "python3 contrib/zabbix/redis_reads_writes.py --redis 127.0.0.1:6391")
    cl = client(stack)
    tid = cl.call("template.get", {"filter": {"host": [ADDON.TEMPLATE]}, "output": ["templateid"]})[0]["templateid"]
    exported = cl.call("configuration.export", {"format": "yaml", "options": {"templates": [tid]}})
    assert re.sub(r"\n  date: '[^']*'", "", exported) == YAML


@pytest.mark.zabbix
def test_js_agrees_with_the_flags_of_every_command_of_the_running_redis(stack, tmp_path):
    _, table = ADDON.command_table("127.0.0.1", 6391)
    containers = {name.partition("|")[0] for name in table if "|" in name}
    # what Redis 7 names in commandstats: commands and subcommands (never a container such as XGROUP)
    calls = {name: i + 1 for i, name in enumerate(sorted(set(table) - containers))}
    want_r = sum(n for name, n in calls.items() if "readonly" in table[name] and "write" not in table[name])
    want_w = sum(n for name, n in calls.items() if "write" in table[name])
    assert sums(calls, tmp_path) == {"redis.commands.reads.rate": want_r, "redis.commands.writes.rate": want_w}


@pytest.mark.zabbix
def test_agent_memcached_reads_and_writes_are_its_get_and_set_rates(stack, store):
    cl = client(stack)
    src = source(stack, store, host_group="Peakwatch/Memcached", first_window=3 * 3600)
    outs = {o.metric: o for o in src.discover().outputs if o.instance == "memcached-11212:11212"}
    deadline = time.monotonic() + 150            # a fresh stack polls its agent items within a minute or so
    while not all(len(history(cl, o.items[0].itemid, o.items[0].value_type, int(time.time()) - 3 * 3600,
                              int(time.time()))[0]) for o in (outs["reads"], outs["writes"])):
        assert time.monotonic() < deadline, "the Memcached get/set rate items have no values"
        time.sleep(5)
    now = int(time.time())
    src.collect(now=now)
    for metric, key in (("reads", "memcached.commands.get.rate"), ("writes", "memcached.commands.set.rate")):
        ref = outs[metric].items[0]
        assert ref.key == key
        want_ts, want_v = history(cl, ref.itemid, ref.value_type, now - 3 * 3600, now)
        got_ts, got_v = stored_raw(store, src.ids[outs[metric].key], now - 3 * 3600, now)
        assert len(want_ts) > 0, key
        np.testing.assert_array_equal(got_ts, want_ts, err_msg=key)
        np.testing.assert_allclose(got_v, want_v, rtol=1e-12, err_msg=key)


@pytest.mark.zabbix
def test_redis_reads_and_writes_from_the_add_on_are_positive_after_traffic(stack, store):
    zf = sender()
    cl = client(stack)
    src = source(stack, store, host_group="Peakwatch/Redis", first_window=900)
    src.discover()
    hosts = {h["hostid"]: h["host"] for h in cl.call("host.get", {"filter": {"host": stack["addon_hosts"]},
                                                                  "output": ["host"]})}
    masters = [i["itemid"] for i in cl.call("item.get", {"hostids": list(hosts), "output": ["itemid"],
                                                          "filter": {"key_": ADDON.MASTER_KEY}})]
    assert len(masters) == len(stack["addon_hosts"]) == 2
    keys = [f"{inst}/{metric}" for inst in ("redis-6391:6391", "redis-6392:6392") for metric in ("reads", "writes")]
    assert set(keys) <= set(src.ids)
    started = int(time.time())
    deadline = time.monotonic() + 180
    while True:
        zf.make_traffic()                 # sets and gets through Twemproxy, gets on the replica
        cl.call("task.create", [{"type": 6, "request": {"itemid": i}} for i in masters])     # "check now"
        time.sleep(5)
        src.collect()
        df = store.read_raw([src.ids[k] for k in keys], started, int(time.time()) + 60)
        positive = set(df.loc[df["value"] > 0, "series_id"])
        if positive >= {src.ids[k] for k in keys} or time.monotonic() > deadline:
            break
    missing = [k for k in keys if src.ids[k] not in positive]
    assert not missing, f"no positive reads/writes after traffic for {missing}"
    # and they are what Zabbix holds, value for value
    out = next(o for o in src.discovery.outputs if o.key == "redis-6391:6391/writes")
    assert out.items[0].key == "redis.commands.writes.rate"
    t1 = int(df["ts"].max())
    want_ts, want_v = history(cl, out.items[0].itemid, out.items[0].value_type, started - 900, t1)
    got_ts, got_v = stored_raw(store, src.ids[out.key], started - 900, t1)
    np.testing.assert_array_equal(got_ts, want_ts)
    np.testing.assert_allclose(got_v, want_v, rtol=1e-12)


@pytest.mark.zabbix
def test_backfill_carries_reads_writes_trends_and_dates_instances_from_their_data(stack, store):
    now = stack["last_clock"]
    src = source(stack, store, raw_days=14, batch_window=DAY)
    src.discover()
    discovered = store.instances().set_index("name")["added_at"]
    assert (discovered > time.time() - 600).all()          # before the backfill: joined "now"
    rep = src.backfill(140 * DAY, now=now)
    cl = client(stack)
    raw_from = (now - 14 * DAY) // 3600 * 3600
    for key, item_key in (("pay-redis-01:6379/reads", "redis.commands.reads.rate"),
                          ("pay-redis-02:6379/writes", "redis.commands.writes.rate"),
                          ("search-mc-01:11211/reads", "memcached.commands.get.rate"),
                          ("search-mc-01:11211/writes", "memcached.commands.set.rate")):
        out = next(o for o in src.discovery.outputs if o.key == key)
        ref = out.items[0]
        assert ref.key == item_key
        trends = cl.call("trend.get", {"itemids": [ref.itemid], "time_from": now - 140 * DAY,
                                       "time_till": raw_from - 1,
                                       "output": ["clock", "num", "value_min", "value_avg", "value_max"]})
        trends.sort(key=lambda r: int(r["clock"]))
        roll = store.read_rollups([src.ids[key]], now - 140 * DAY, raw_from - 1)
        roll = roll[roll["ts"] < raw_from]
        assert len(trends) > 100 * 24, key
        assert roll["ts"].tolist() == [int(r["clock"]) for r in trends], key
        for col in ("min", "avg", "max"):
            np.testing.assert_allclose(roll[col], [float(r[f"value_{col}"]) for r in trends], rtol=1e-9,
                                       err_msg=f"{key} {col}")
        assert roll["count"].tolist() == [int(r["num"]) for r in trends], key
    # the trapper instances joined when their data begins (about 135 days back), not today
    assert rep.instances_backdated == 4             # legacy-redis-01 too (kept despite its star tag)
    added = store.instances().set_index("name")["added_at"]
    begins = max(stack["first_clock"], (now - 140 * DAY) // 3600 * 3600)     # where the backfilled data begins
    for name in ("pay-redis-01:6379", "pay-redis-02:6379", "search-mc-01:11211"):
        assert begins - DAY < added[name] <= begins, name          # the first day with data
        assert now - added[name] > 130 * DAY, name
