#!/usr/bin/python3
"""Load Peakwatch's test fleet into the local Zabbix 6.0 (run by scripts/zabbix-up.sh).

Standard library only, so it runs with Debian's python3 before any virtualenv exists.

What it creates (idempotent: existing objects are reused, missing ones created):
  * an API token for Admin, written to <state>/api-token;
  * agent hosts for the real fleet, tagged product_line/business/star/service/cluster/role and
    linked to the official "Redis by Zabbix agent 2" / "Memcached by Zabbix agent 2" templates;
    the Redis hosts also to Peakwatch's add-on template (read and write commands per second),
    imported from contrib/zabbix/peakwatch_redis_reads_writes.yaml (re-imported when the file changes);
  * a Twemproxy host whose agent item reads nutcracker's JSON stats, with dependent items for
    pool and per-server counters;
  * trapper hosts with about 135 days of 15-minute history (history kept 30 days, trends 400 days,
    so trends exist beyond history) containing two past promotions, topped up to "now" on every run;
    a trapper item added after the first run gets the whole span once;
  * a host with a malformed star tag and a host with no tags at all (must be reported, not dropped);
  * triggers: one that stays in problem (a hot shard), one that fired during the promotions;
  * Peakwatch's webhook media type, imported from contrib/zabbix/peakwatch_mediatype.yaml
    (re-imported when the file changes), as a media of Admin, and an action sending problems and
    recoveries of the host group Peakwatch/Webhook through it; that group holds one trapper host
    (coupon-redis-01) with a trigger the end-to-end test fires (tests/api/test_zabbix_webhook_live.py).

The promotions and series layout are written to <state>/fixtures.json for tests.
"""
from __future__ import annotations

import argparse
import calendar
import hashlib
import json
import math
import os
import random
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import zabbix_prodfleet as prodfleet  # noqa: E402 - next to this script

STEP = 900                    # seconds between trapper values
SPAN_DAYS = 135               # history span of the trapper hosts at the first run
HISTORY = "30d"               # trapper items keep raw history this long ...
TRENDS = "400d"               # ... and hourly trends this long
TOKEN_NAME = "peakwatch-ci"
GROUP = "Peakwatch"
SERVER_CONF = "/etc/zabbix/zabbix_server.conf"
FLOAT, TEXT, UINT = 0, 4, 3
TRAPPER, DEPENDENT, AGENT = 2, 18, 0
ADDON_FILE = Path(__file__).resolve().parents[1] / "contrib" / "zabbix" / "peakwatch_redis_reads_writes.yaml"
ADDON = "Peakwatch Redis reads and writes by Zabbix agent 2"
MEDIA_FILE = Path(__file__).resolve().parents[1] / "contrib" / "zabbix" / "peakwatch_mediatype.yaml"
MEDIA = "Peakwatch"                    # the media type's name in the YAML
WEBHOOK_GROUP = "Peakwatch/Webhook"    # the action sends problems and recoveries of this group's hosts
WEBHOOK_ACTION = "Peakwatch webhook"
WEBHOOK_SENDTO = "peakwatch"
OFFICIAL = ("Redis by Zabbix agent 2", "Memcached by Zabbix agent 2")

# ------------------------------------------------------------------ fleet description

def tags(product_line, business, star, service, cluster, role, **extra):
    d = {"product_line": product_line, "business": business, "star": str(star), "service": service,
         "cluster": cluster, "role": role, **extra}
    return [{"tag": k, "value": v} for k, v in d.items()]


AGENT_HOSTS = [
    {"host": "redis-6391", "templates": ["Redis by Zabbix agent 2", ADDON], "groups": ["Redis"],
     "macros": {"{$REDIS.CONN.URI}": "tcp://127.0.0.1:6391"},
     "tags": tags("trade", "cart", 4, "redis", "cart-redis", "master", port="6391", mem_capacity="256M")},
    {"host": "redis-6392", "templates": ["Redis by Zabbix agent 2", ADDON], "groups": ["Redis"],
     "macros": {"{$REDIS.CONN.URI}": "tcp://127.0.0.1:6392"},
     "tags": tags("trade", "cart", 4, "redis", "cart-redis", "slave", port="6392", mem_capacity="256M")},
    {"host": "memcached-11212", "templates": ["Memcached by Zabbix agent 2"], "groups": ["Memcached"],
     "macros": {"{$MEMCACHED.CONN.URI}": "tcp://127.0.0.1:11212"},
     "tags": tags("user", "session", 3, "memcached", "session-mc", "master", port="11212")},
    {"host": "twemproxy-22222", "templates": [], "groups": ["Twemproxy"], "macros": {},
     "tags": tags("trade", "cart", 4, "twemproxy", "cart-proxy", "proxy", port="22121")},
]

TWEMPROXY_STATS_KEY = "system.run[\"bash -c 'exec 3<>/dev/tcp/127.0.0.1/22222; cat <&3'\"]"
TWEMPROXY_POOLS = {"redis_pool": ["redis-6391"], "memcached_pool": ["memcached-11212"]}
POOL_FIELDS = ["client_connections", "client_err", "server_ejects", "forward_error"]
SERVER_FIELDS = ["requests", "responses", "server_timedout", "server_err", "server_ejected_at",
                 "server_connections", "in_queue", "out_queue"]

REDIS_TRAPPER_KEYS = {   # key -> value type
    "redis.stats.instantaneous_ops.rate": FLOAT, "redis.memory.used_memory": UINT,
    "redis.memory.maxmemory[]": UINT, "redis.clients.connected": UINT,
    "redis.stats.keyspace_hits": UINT, "redis.stats.keyspace_misses": UINT,
    # the add-on template's items (contrib/zabbix): read-only and write commands per second
    "redis.commands.reads.rate": FLOAT, "redis.commands.writes.rate": FLOAT,
}
MEMCACHED_TRAPPER_KEYS = {
    "memcached.commands.get.rate": FLOAT, "memcached.commands.set.rate": FLOAT,
    "memcached.stats.hits.rate": FLOAT, "memcached.stats.misses.rate": FLOAT,
    "memcached.stats.bytes": UINT, "memcached.config.limit_maxbytes": UINT,
    "memcached.connections.current": UINT,
}
TRAPPER_HOSTS = [
    # host, tags, keys, base qps, maxmemory (0 = no limit), base used memory, base conns
    {"host": "pay-redis-01", "keys": REDIS_TRAPPER_KEYS, "qps": 40000, "maxmem": 8 << 30, "mem": 5 << 30,
     "conns": 1200, "tags": tags("trade", "pay", 5, "redis", "pay-redis", "master", port="6379",
                                 mem_capacity="8G")},
    {"host": "pay-redis-02", "keys": REDIS_TRAPPER_KEYS, "qps": 36000, "maxmem": 0, "mem": 6 << 30,
     "conns": 9000, "tags": tags("trade", "pay", 5, "redis", "pay-redis", "master", port="6379",
                                 mem_capacity="8G")},
    {"host": "search-mc-01", "keys": MEMCACHED_TRAPPER_KEYS, "qps": 25000, "maxmem": 4 << 30,
     "mem": 3 << 30, "conns": 800, "tags": tags("search", "search-suggest", 2, "memcached", "search-mc",
                                                "master", port="11211")},
    # bad input the collector must report, not drop: a malformed star, and no tags at all
    {"host": "legacy-redis-01", "keys": {"redis.stats.instantaneous_ops.rate": FLOAT}, "qps": 500,
     "maxmem": 0, "mem": 1 << 20, "conns": 10,
     "tags": tags("trade", "legacy", "abc", "redis", "legacy-redis", "master")},
    {"host": "untagged-01", "keys": {"redis.stats.instantaneous_ops.rate": FLOAT}, "qps": 100,
     "maxmem": 0, "mem": 1 << 20, "conns": 5, "tags": []},
]
TRIGGERS = [
    {"description": "Peakwatch: pay-redis-02 has too many client connections",
     "expression": "last(/pay-redis-02/redis.clients.connected)>8000", "priority": 4,
     "tags": [{"tag": "scope", "value": "capacity"}]},
    {"description": "Peakwatch: pay-redis-01 QPS above 150k",
     "expression": "last(/pay-redis-01/redis.stats.instantaneous_ops.rate)>150000", "priority": 3,
     "tags": [{"tag": "scope", "value": "performance"}]},
]

# the host of the webhook's end-to-end test: only in WEBHOOK_GROUP, its trigger fires when a test
# sends more than 8000 connections and recovers when it sends fewer
WEBHOOK_HOST = {"host": "coupon-redis-01",
                "tags": tags("trade", "coupon", 4, "redis", "coupon-redis", "master", port="6379")}
WEBHOOK_KEY = "redis.clients.connected"
WEBHOOK_TRIGGER = {"description": "Peakwatch webhook: coupon-redis-01 has too many client connections",
                   "expression": f"last(/coupon-redis-01/{WEBHOOK_KEY})>8000", "priority": 4,
                   "tags": [{"tag": "scope", "value": "webhook"}]}

# ------------------------------------------------------------------ JSON-RPC


class Api:
    def __init__(self, url: str):
        self.url, self.auth, self.n = url, None, 0

    def call(self, method: str, params=None, auth=True):
        self.n += 1
        body = {"jsonrpc": "2.0", "method": method, "params": params if params is not None else {}, "id": self.n}
        if auth and self.auth:
            body["auth"] = self.auth
        req = urllib.request.Request(self.url, json.dumps(body).encode(),
                                     {"Content-Type": "application/json-rpc"})
        try:
            with urllib.request.urlopen(req, timeout=120) as resp:
                doc = json.load(resp)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise SystemExit(f"Zabbix API {self.url} failed on {method}: {exc}") from exc
        if "error" in doc:
            raise SystemExit(f"Zabbix API {method} answered an error: {doc['error']}")
        return doc["result"]


# ------------------------------------------------------------------ sender protocol


def send(values: list[dict], server=("127.0.0.1", 10051)) -> tuple[int, int]:
    """Send trapper values; returns (processed, failed)."""
    payload = json.dumps({"request": "sender data", "data": values}).encode()
    packet = b"ZBXD\x01" + struct.pack("<II", len(payload), 0) + payload
    with socket.create_connection(server, timeout=60) as s:
        s.sendall(packet)
        head = _recv(s, 13)
        if head[:4] != b"ZBXD":
            raise SystemExit(f"the Zabbix trapper at {server} answered something else than ZBXD")
        length = struct.unpack("<I", head[5:9])[0]
        answer = json.loads(_recv(s, length))
    info = answer.get("info", "")
    fields = dict(part.strip().split(": ") for part in info.split(";") if ": " in part)
    return int(fields.get("processed", 0)), int(fields.get("failed", 0))


def _recv(s: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            break
        buf += chunk
    return buf


def reload_config_cache():
    subprocess.run(["zabbix_server", "-c", SERVER_CONF, "-R", "config_cache_reload"], check=False,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def send_all(values: list[dict], chunk=1000) -> int:
    """Send in chunks; a chunk with failures (new items not yet in the server's cache) is retried
    after a config cache reload. Re-sending is harmless: history keys on (itemid, clock, ns)."""
    sent = 0
    for i in range(0, len(values), chunk):
        part = values[i:i + chunk]
        for attempt in range(90):
            processed, failed = send(part)
            if failed == 0:
                break
            if attempt % 10 == 0:
                reload_config_cache()
            time.sleep(1)
        else:
            raise SystemExit(f"the Zabbix trapper kept refusing {failed} of {len(part)} values "
                             f"(first: {part[0]['host']} {part[0]['key']}); are the items enabled?")
        sent += processed
    return sent


# ------------------------------------------------------------------ synthetic shapes


def promotions_between(start: int, end: int) -> list[dict]:
    """Past big promotions (Beijing midnight starts) that fall inside [start, end - 2 days]."""
    out = []
    for year in range(time.gmtime(start).tm_year, time.gmtime(end).tm_year + 1):
        for kind, month, day in (("6.18", 6, 18), ("8.18", 8, 18), ("11.11", 11, 11), ("12.12", 12, 12)):
            t = calendar.timegm((year, month, day, 0, 0, 0)) - 8 * 3600
            if start + 3 * 86400 <= t <= end - 2 * 86400:
                out.append({"name": f"{kind} {year}", "kind": kind, "start": t, "end": t + 86400,
                            "preheat_days": 2})
    return out


def shape(t: int, promos: list[dict], rnd: random.Random) -> float:
    """Multiplicative traffic shape: diurnal (10:00 and 21:00 Beijing peaks), weekly, growth, promos."""
    bj_hour = ((t + 8 * 3600) % 86400) / 3600
    diurnal = 0.55 + 0.35 * math.exp(-((bj_hour - 10) ** 2) / 3) + 0.45 * math.exp(-((bj_hour - 21) ** 2) / 4)
    diurnal -= 0.3 * math.exp(-((bj_hour - 4) ** 2) / 6)
    weekly = 1.0 + 0.08 * math.sin(2 * math.pi * (t / 86400) / 7)
    growth = 1.0 + 0.002 * (t / 86400 % 10000)
    lift = 1.0
    for p in promos:
        if p["start"] - p["preheat_days"] * 86400 <= t < p["start"]:
            lift = max(lift, 1.3)
        elif p["start"] <= t < p["start"] + 3600:
            lift = max(lift, 4.5)                       # the midnight spike
        elif p["start"] + 3600 <= t < p["end"]:
            lift = max(lift, 2.2)
    return max(0.05, diurnal * weekly * growth / 1.0 * lift * (1 + rnd.gauss(0, 0.03)))


def write_share(t: int, promos: list[dict]) -> float:
    """Share of writes among a Redis host's commands: higher at night (batch jobs) and on promotion
    days (orders, carts); reads + writes are 98% of all commands (PING, INFO ... are neither)."""
    bj_hour = ((t + 8 * 3600) % 86400) / 3600
    share = 0.18 + 0.06 * math.exp(-((bj_hour - 3) ** 2) / 8)
    if any(p["start"] <= t < p["end"] for p in promos):
        share += 0.07
    return share


def trapper_values(h: dict, t: int, promos: list[dict], counters: dict, keys=None) -> list[dict]:
    """The values of host ``h`` at ``t`` (of ``keys`` only when given)."""
    rnd = random.Random(f"{h['host']}|{t}")
    s = shape(t, promos, rnd)
    qps = h["qps"] * s
    out = []
    for key in h["keys"] if keys is None else keys:
        if key == "redis.commands.reads.rate":
            v = round(qps * (0.98 - write_share(t, promos)), 2)
        elif key == "redis.commands.writes.rate":
            v = round(qps * write_share(t, promos), 2)
        elif key.endswith("ops.rate") or key == "memcached.commands.get.rate":
            v = round(qps, 2)
        elif key == "memcached.commands.set.rate":
            v = round(qps * 0.2, 2)
        elif key == "memcached.stats.hits.rate":
            v = round(qps * 0.93, 2)
        elif key == "memcached.stats.misses.rate":
            v = round(qps * 0.07, 2)
        elif key in ("redis.memory.used_memory", "memcached.stats.bytes"):
            v = int(h["mem"] * (0.9 + 0.1 * min(s, 3) / 3))
        elif key in ("redis.memory.maxmemory[]", "memcached.config.limit_maxbytes"):
            v = h["maxmem"]
        elif key in ("redis.clients.connected", "memcached.connections.current"):
            v = int(h["conns"] * (0.95 + 0.05 * min(s, 3)))
        elif key in ("redis.stats.keyspace_hits", "redis.stats.keyspace_misses"):
            share = 0.9 if key.endswith("hits") else 0.1
            ck = f"{h['host']}|{key}"
            counters[ck] = counters.get(ck, 0) + int(qps * 0.6 * share * STEP)
            v = counters[ck]
        else:
            v = round(qps, 2)
        out.append({"host": h["host"], "key": key, "value": str(v), "clock": t, "ns": 0})
    return out


# ------------------------------------------------------------------ objects


def ensure_group(api: Api, name: str) -> str:
    found = api.call("hostgroup.get", {"filter": {"name": [name]}, "output": ["groupid"]})
    if found:
        return found[0]["groupid"]
    return api.call("hostgroup.create", {"name": name})["groupids"][0]


def ensure_host(api: Api, spec: dict, groupids: list[str], templateids: list[str], agent: bool) -> tuple[str, bool]:
    """(hostid, whether templates were linked now)."""
    params = {"groups": [{"groupid": g} for g in groupids], "tags": spec["tags"],
              "macros": [{"macro": k, "value": v} for k, v in spec.get("macros", {}).items()]}
    found = api.call("host.get", {"filter": {"host": [spec["host"]]}, "output": ["hostid"],
                                  "selectTags": ["tag", "value"], "selectMacros": ["macro", "value"],
                                  "selectGroups": ["groupid"]})
    if found:
        hostid = found[0]["hostid"]
        have = found[0]
        same = (sorted(map(str, have["tags"])) == sorted(map(str, params["tags"]))
                and {m["macro"]: m["value"] for m in have["macros"]} == spec.get("macros", {})
                and sorted(g["groupid"] for g in have["groups"]) == sorted(groupids))
        if not same:   # host.update rewrites every tag and macro: only when something differs
            api.call("host.update", {"hostid": hostid, **params})
    else:
        if agent:
            params["interfaces"] = [{"type": 1, "main": 1, "useip": 1, "ip": "127.0.0.1", "dns": "",
                                     "port": "10050"}]
        hostid = api.call("host.create", {"host": spec["host"], **params})["hostids"][0]
    linked_now = False
    if templateids:
        linked = api.call("host.get", {"hostids": [hostid], "selectParentTemplates": ["templateid"],
                                       "output": ["hostid"]})[0]["parentTemplates"]
        missing = [t for t in templateids if t not in [p["templateid"] for p in linked]]
        if missing:
            api.call("host.massadd", {"hosts": [{"hostid": hostid}], "templates": [{"templateid": t} for t in missing]})
            linked_now = True
    return hostid, linked_now


def ensure_addon_template(api: Api, st: dict) -> tuple[str, bool]:
    """Import contrib/zabbix's add-on template when it is missing or the file changed since the last
    import (its sha256 is kept in the fixture state); returns (templateid, imported now)."""
    text = ADDON_FILE.read_text()
    sha = hashlib.sha256(text.encode()).hexdigest()
    found = api.call("template.get", {"filter": {"host": [ADDON]}, "output": ["templateid"]})
    imported = False
    if not found or st.get("addon_sha256") != sha:
        rules = {"groups": {"createMissing": True}, "templates": {"createMissing": True, "updateExisting": True},
                 "items": {"createMissing": True, "updateExisting": True, "deleteMissing": True}}
        api.call("configuration.import", {"format": "yaml", "source": text, "rules": rules})
        found = api.call("template.get", {"filter": {"host": [ADDON]}, "output": ["templateid"]})
        if not found:
            raise SystemExit(f"importing {ADDON_FILE} did not create the template {ADDON!r}")
        st["addon_sha256"] = sha
        imported = True
    return found[0]["templateid"], imported


def ensure_webhook(api: Api, st: dict) -> tuple[dict, bool]:
    """Peakwatch's webhook media type (imported when missing or when the file changed since the last
    import), a media of Admin using it, the host group WEBHOOK_GROUP with its trapper host and trigger,
    and an action sending that group's problems and recoveries to Admin through the media type.
    Returns (ids for fixtures.json, whether an item was created)."""
    text = MEDIA_FILE.read_text()
    sha = hashlib.sha256(text.encode()).hexdigest()
    found = api.call("mediatype.get", {"filter": {"name": [MEDIA]}, "output": ["mediatypeid", "status"]})
    if not found or st.get("media_sha256") != sha:
        api.call("configuration.import", {"format": "yaml", "source": text,
                                          "rules": {"mediaTypes": {"createMissing": True, "updateExisting": True}}})
        found = api.call("mediatype.get", {"filter": {"name": [MEDIA]}, "output": ["mediatypeid", "status"]})
        if not found:
            raise SystemExit(f"importing {MEDIA_FILE} did not create the media type {MEDIA!r}")
        st["media_sha256"] = sha
    mtid = found[0]["mediatypeid"]
    if found[0].get("status", "0") != "0":             # disabled by hand: enable it again
        api.call("mediatype.update", {"mediatypeid": mtid, "status": 0})
    admin = api.call("user.get", {"filter": {"username": ["Admin"]}, "output": ["userid"],
                                  "selectMedias": ["mediatypeid", "sendto", "active", "severity", "period"]})[0]
    mine = [m for m in admin["medias"] if m["mediatypeid"] == mtid]
    want = {"mediatypeid": mtid, "sendto": WEBHOOK_SENDTO, "active": "0", "severity": "63",
            "period": "1-7,00:00-24:00"}
    if len(mine) != 1 or any(str(mine[0].get(k)) != v for k, v in want.items()):
        others = [{k: m[k] for k in ("mediatypeid", "sendto", "active", "severity", "period")}
                  for m in admin["medias"] if m["mediatypeid"] != mtid]
        api.call("user.update", {"userid": admin["userid"], "medias": others + [want]})
    groupid = ensure_group(api, WEBHOOK_GROUP)
    hostid, _ = ensure_host(api, WEBHOOK_HOST, [groupid], [], agent=False)
    created = ensure_trapper_items(api, hostid, {WEBHOOK_KEY: UINT}, history="1d", trends="0")
    trig = api.call("trigger.get", {"filter": {"description": [WEBHOOK_TRIGGER["description"]]},
                                    "output": ["triggerid"]})
    triggerid = trig[0]["triggerid"] if trig else api.call("trigger.create", WEBHOOK_TRIGGER)["triggerids"][0]
    send_op = {"operationtype": 0, "opmessage": {"default_msg": 1, "mediatypeid": mtid},
               "opmessage_usr": [{"userid": admin["userid"]}]}
    action = {"filter": {"evaltype": 0, "conditions": [{"conditiontype": 0, "operator": 0, "value": groupid}]},
              "operations": [send_op], "recovery_operations": [send_op]}
    have = api.call("action.get", {"filter": {"name": [WEBHOOK_ACTION]}, "output": ["actionid", "status"],
                                   "selectFilter": "extend", "selectOperations": "extend",
                                   "selectRecoveryOperations": "extend"})

    def sends(ops) -> bool:    # exactly one operation: send to Admin through this media type
        return (len(ops) == 1 and ops[0]["operationtype"] == "0"
                and ops[0].get("opmessage", {}).get("mediatypeid") == mtid
                and [u["userid"] for u in ops[0].get("opmessage_usr", [])] == [admin["userid"]])
    if not have:
        api.call("action.create", {"name": WEBHOOK_ACTION, "eventsource": 0, "status": 0, "esc_period": "1h",
                                   **action})
    elif (have[0]["status"] != "0" or not sends(have[0]["operations"]) or not sends(have[0]["recovery_operations"])
          or [(c["conditiontype"], c["operator"], c["value"]) for c in have[0]["filter"]["conditions"]]
          != [("0", "0", groupid)]):
        api.call("action.update", {"actionid": have[0]["actionid"], "status": 0, **action})
    return ({"group": WEBHOOK_GROUP, "host": WEBHOOK_HOST["host"], "hostid": hostid, "key": WEBHOOK_KEY,
             "trigger": WEBHOOK_TRIGGER["description"], "triggerid": triggerid, "mediatype": MEDIA,
             "mediatypeid": mtid, "action": WEBHOOK_ACTION}, bool(created))


def existing_keys(api: Api, hostid: str) -> dict[str, str]:
    items = api.call("item.get", {"hostids": [hostid], "output": ["itemid", "key_"]})
    return {i["key_"]: i["itemid"] for i in items}


def ensure_twemproxy_items(api: Api, hostid: str) -> int:
    have = existing_keys(api, hostid)
    interface = api.call("hostinterface.get", {"hostids": [hostid], "output": ["interfaceid"]})[0]["interfaceid"]
    if TWEMPROXY_STATS_KEY not in have:
        api.call("item.create", {"hostid": hostid, "name": "Twemproxy: stats JSON", "key_": TWEMPROXY_STATS_KEY,
                                 "type": AGENT, "value_type": TEXT, "delay": "1m", "interfaceid": interface,
                                 "history": "1d", "trends": "0"})
        have = existing_keys(api, hostid)
    master = have[TWEMPROXY_STATS_KEY]
    new = []

    def dep(key, name, path):
        if key not in have:
            new.append({"hostid": hostid, "name": name, "key_": key, "type": DEPENDENT, "master_itemid": master,
                        "value_type": UINT, "history": "30d", "trends": "400d",
                        "preprocessing": [{"type": 12, "params": path, "error_handler": 0,
                                           "error_handler_params": ""}]})
    for pool, servers in TWEMPROXY_POOLS.items():
        for f in POOL_FIELDS:
            dep(f"twemproxy.pool.{f}[{pool}]", f"Twemproxy {pool}: {f}", f"$.{pool}.{f}")
        for srv in servers:
            for f in SERVER_FIELDS:
                dep(f"twemproxy.server.{f}[{pool},{srv}]", f"Twemproxy {pool}/{srv}: {f}",
                    f"$.{pool}['{srv}'].{f}")
    if new:
        api.call("item.create", new)
    return len(new)


def ensure_trapper_items(api: Api, hostid: str, keys: dict[str, int], history: str = HISTORY,
                         trends: str = TRENDS) -> int:
    have = existing_keys(api, hostid)
    new = [{"hostid": hostid, "name": key, "key_": key, "type": TRAPPER, "value_type": vt,
            "history": history, "trends": trends} for key, vt in keys.items() if key not in have]
    if new:
        api.call("item.create", new)
    return len(new)


def ensure_triggers(api: Api) -> None:
    for trig in TRIGGERS:
        found = api.call("trigger.get", {"filter": {"description": [trig["description"]]}, "output": ["triggerid"]})
        if not found:
            api.call("trigger.create", trig)


def ensure_token(api: Api, state: str) -> str:
    path = os.path.join(state, "api-token")
    if os.path.exists(path):
        token = open(path).read().strip()
        probe = Api(api.url)
        probe.auth = token
        try:
            probe.call("host.get", {"limit": 1, "output": ["hostid"]})
            os.chmod(path, 0o600)      # a token is a password: readable by its owner only
            return token
        except SystemExit:
            pass
    old = api.call("token.get", {"filter": {"name": [TOKEN_NAME]}, "output": ["tokenid"]})
    if old:
        api.call("token.delete", [t["tokenid"] for t in old])
    tokenid = api.call("token.create", {"name": TOKEN_NAME, "userid": "1"})["tokenids"][0]
    token = api.call("token.generate", [tokenid])[0]["token"]
    tmp = path + ".tmp"
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as fh:
        fh.write(token + "\n")
    os.replace(tmp, path)
    return token


def _exchange(port: int, payload: bytes, last_reply: bytes) -> None:
    """Send pipelined commands and read the replies until the last one (no fixed sleeps)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(payload)
        buf = b""
        while not buf.endswith(last_reply):
            chunk = s.recv(1 << 16)
            if not chunk:
                raise OSError(f"127.0.0.1:{port} closed the connection before answering everything")
            buf += chunk


def resp(*args) -> bytes:
    """One Redis command in RESP (Twemproxy does not accept Redis' inline commands)."""
    parts = [a if isinstance(a, bytes) else str(a).encode() for a in args]
    return b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)


def make_traffic() -> None:
    """A little real traffic so live rates, hit ratios and read/write rates are not all zero: sets and
    gets through Twemproxy (to Redis 6391 and Memcached 11212; the replica 6392 replays the sets) and
    gets straight to the replica. Each batch ends with a marker value read back."""
    end_redis = resp("SET", "pw:end", "peakwatch") + resp("GET", "pw:end")
    try:
        _exchange(22121, b"".join(resp("SET", f"pw:{i}", i) + resp("GET", f"pw:{i}") + resp("GET", f"pw:miss:{i}")
                                  for i in range(200)) + end_redis, b"peakwatch\r\n")
        _exchange(22124, b"".join(b"set pw:%d 0 0 1\r\nx\r\nget pw:%d\r\nget pw:miss:%d\r\n" % (i, i, i)
                                  for i in range(200)) + b"set pw:end 0 0 9\r\npeakwatch\r\nget pw:end\r\n",
                  b"peakwatch\r\nEND\r\n")
        _exchange(6392, b"".join(resp("GET", f"pw:{i}") for i in range(200)) + resp("GET", "pw:end"),
                  b"peakwatch\r\n")
    except OSError as exc:
        print(f"  warning: could not send test traffic to Twemproxy/Redis: {exc}")


def wait_history(api: Api, waits: list[tuple[str, int, int, int]], until: int, limit_s=300) -> None:
    """Wait until the history syncers have written what was sent: ``waits`` holds (itemid, value type,
    since, values expected since then) per item."""
    deadline = time.time() + limit_s
    expected = sum(w[3] for w in waits)
    while True:
        n = sum(min(want, int(api.call("history.get", {"itemids": [i], "history": vt, "time_from": since,
                                                       "time_till": until, "countOutput": True})))
                for i, vt, since, want in waits)
        if n >= expected or time.time() > deadline:
            break
        time.sleep(2)
    if n < expected:
        print(f"  warning: only {n} of {expected} recent trapper values visible after {limit_s} s")


def late_items(api: Api, hostids: dict[str, str], first: int) -> dict[str, list[str]]:
    """{host: keys} of trapper items with no trend in the first day of the span: items added to the
    fixture after its first run (their whole span is sent once)."""
    items = api.call("item.get", {"hostids": [hostids[h["host"]] for h in TRAPPER_HOSTS],
                                  "output": ["itemid", "hostid", "key_"]})
    have = {r["itemid"] for r in api.call("trend.get", {"itemids": [i["itemid"] for i in items], "time_from": first,
                                                        "time_till": first + 86400, "output": ["itemid"]})}
    host_of = {v: k for k, v in hostids.items()}
    out: dict[str, list[str]] = {}
    for i in items:
        if i["itemid"] not in have:
            out.setdefault(host_of[i["hostid"]], []).append(i["key_"])
    return out


def save_state(path: str, st: dict) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(st, fh)
    os.replace(tmp, path)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--api", default="http://127.0.0.1:8090/api_jsonrpc.php")
    ap.add_argument("--state", default="/var/lib/peakwatch-stack")
    args = ap.parse_args()
    t0 = time.time()
    api = Api(args.api)
    api.auth = api.call("user.login", {"username": "Admin", "password": "zabbix"}, auth=False)
    token = ensure_token(api, args.state)
    api.auth = token
    state_path = os.path.join(args.state, "fixtures-state.json")
    st = json.load(open(state_path)) if os.path.exists(state_path) else {}
    templates = {t["host"]: t["templateid"] for t in api.call(
        "template.get", {"filter": {"host": list(OFFICIAL)}, "output": ["host"]})}
    if len(templates) != 2:
        raise SystemExit(f"the official agent 2 templates are missing (found {sorted(templates)}); "
                         f"was data.sql imported?")
    templates[ADDON], imported = ensure_addon_template(api, st)
    if imported:
        save_state(state_path, st)
    created = 0
    hostids = {}
    for spec in AGENT_HOSTS:
        groups = [ensure_group(api, GROUP), ensure_group(api, f"{GROUP}/{spec['groups'][0]}")]
        hostids[spec["host"]], linked = ensure_host(api, spec, groups, [templates[t] for t in spec["templates"]],
                                                    agent=True)
        created += linked
    created += ensure_twemproxy_items(api, hostids["twemproxy-22222"])
    trapper_group = [ensure_group(api, GROUP), ensure_group(api, f"{GROUP}/Trapper")]
    for spec in TRAPPER_HOSTS:
        hostids[spec["host"]], _ = ensure_host(api, spec, trapper_group, [], agent=False)
        created += ensure_trapper_items(api, hostids[spec["host"]], spec["keys"])
    prod_ids, prod_values, prod_created = prodfleet.ensure(api, st, ensure_group, ensure_host, ensure_trapper_items)
    created += prod_created
    ensure_triggers(api)
    webhook, webhook_created = ensure_webhook(api, st)
    created += webhook_created
    save_state(state_path, st)
    print(f"  hosts and items ready ({created} items created or templates linked"
          f"{', add-on template imported' if imported else ''}) in {time.time() - t0:.1f}s")
    if created or imported:
        reload_config_cache()

    # history: first run ~135 days back; later runs top up from the last value sent, and send the
    # whole span of items added since (late items)
    now = int(time.time()) // STEP * STEP
    first = st.get("first_clock", now - SPAN_DAYS * 86400)
    last = st.get("last_clock", first - STEP)
    counters = st.get("counters", {})
    promos = promotions_between(first, now)
    late = late_items(api, hostids, first) if "last_clock" in st else {}
    values = []
    spare = {}        # counters of late items start from 0 (their values are not kept in the state)
    for t in range(first, last + STEP, STEP) if late else ():
        for h in TRAPPER_HOSTS:
            if h["host"] in late:
                values.extend(trapper_values(h, t, promos, spare, keys=late[h["host"]]))
    for t in range(last + STEP, now + 1, STEP):
        for h in TRAPPER_HOSTS:
            values.extend(trapper_values(h, t, promos, counters))
    values.extend(prod_values)
    # interleave items so the history syncers work on many items at once
    values.sort(key=lambda v: v["clock"])
    t1 = time.time()
    if values:
        sent = send_all(values)
        whole = ", ".join(f"{h} {k}" for h, ks in late.items() for k in ks)
        print(f"  sent {sent} trapper values ({len(values)} generated{', the whole span of ' + whole if late else ''})"
              f" up to {time.strftime('%Y-%m-%d %H:%M', time.gmtime(now))} UTC in {time.time() - t1:.1f}s")
        st.update({"first_clock": first, "last_clock": now, "counters": counters})
        save_state(state_path, st)
        hostids.update(prod_ids)
        items = api.call("item.get", {"hostids": list({hostids[v["host"]] for v in values}),
                                      "output": ["itemid", "hostid", "key_", "value_type"]})
        host_of = {v: k for k, v in hostids.items()}
        since = now - 29 * 86400                  # history keeps 30 days: older values are only trends
        want: dict[tuple[str, str], int] = {}
        for v in values:
            if v["clock"] >= since:
                want[(v["host"], v["key"])] = want.get((v["host"], v["key"]), 0) + 1
        first_sent = min(v["clock"] for v in values)
        waits = [(i["itemid"], int(i["value_type"]), max(since, first_sent), want[(host_of[i["hostid"]], i["key_"])])
                 for i in items if (host_of[i["hostid"]], i["key_"]) in want]
        wait_history(api, waits, now)
    else:
        print("  trapper history already up to date")
    make_traffic()
    fixtures = {"api": args.api, "token_file": os.path.join(args.state, "api-token"), "step": STEP,
                "first_clock": first, "last_clock": now, "history_days": int(HISTORY[:-1]),
                "promotions": promos, "trapper_hosts": [h["host"] for h in TRAPPER_HOSTS],
                "agent_hosts": [h["host"] for h in AGENT_HOSTS], "group": GROUP,
                "hot_trigger": TRIGGERS[0]["description"], "addon_template": ADDON,
                "addon_hosts": [h["host"] for h in AGENT_HOSTS if ADDON in h["templates"]],
                "prod": prodfleet.description(st), "webhook": webhook}
    tmp = os.path.join(args.state, "fixtures.json.tmp")
    json.dump(fixtures, open(tmp, "w"), indent=1)
    os.replace(tmp, os.path.join(args.state, "fixtures.json"))
    print(f"  fixtures ready in {time.time() - t0:.1f}s: {len(hostids)} hosts, promotions "
          f"{', '.join(p['name'] for p in promos) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
