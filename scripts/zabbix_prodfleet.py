"""A production-shaped business fleet for the local Zabbix (loaded by scripts/zabbix_fixtures.py).

The hosts of ``zabbix_fixtures.py`` are the shapes Peakwatch was written for. These are the
shapes production has and the code did not assume (issue 9), in the host group
``Peakwatch/Prod``, hourly trapper values over 400 days (history kept 30 days, trends 400):

* product lines and businesses named in Chinese (交易/订单, 商品/库存, 用户/会话);
* ``order-redis``: five Redis shards with ``shard`` tags, two with ``maxmemory`` 8G, two with no
  limit (``maxmemory 0``: mixed limits in one cluster), one with a malformed ``star=abc`` tag,
  a replica of shard 0 (its ops include the replicated writes), and two Twemproxy hosts that
  carry the cluster's own tag (``service=twemproxy``, ``role=proxy``, ``cluster=order-redis``);
  shard 1's keyspace counters reset (a restart) in the middle of a 6-hour window; the proxies'
  backend timeouts are a low-rate counter (one an hour on shard 0);
* ``stock-redis``: two Redis shards without ``shard`` tags and without any memory limit;
* ``session-mc``: two Memcached servers whose ``limit_maxbytes`` is stored once a day, as the
  official template's "discard unchanged with heartbeat" stores it;
* promotions 11.11, 12.12, 6.18 and the anniversary sale 4.19 (Beijing midnight starts).

Standard library only (runs before any virtualenv exists).
"""
from __future__ import annotations

import calendar
import math
import random
import time

STEP = 3600
SPAN_DAYS = 400
HISTORY = "30d"
TRENDS = "400d"
GROUP = "Peakwatch/Prod"
FLOAT, UINT = 0, 3
GB = 1 << 30
PROMO_KINDS = (("4.19", 4, 19, 2), ("6.18", 6, 18, 7), ("11.11", 11, 11, 10), ("12.12", 12, 12, 3))
PROMO_LIFT = {"4.19": 2.2, "6.18": 3.0, "11.11": 4.5, "12.12": 2.6}


def tags(product_line, business, star, service, cluster, role, **extra):
    d = {"product_line": product_line, "business": business, "star": str(star), "service": service,
         "cluster": cluster, "role": role, **extra}
    return [{"tag": k, "value": str(v)} for k, v in d.items()]


REDIS_KEYS = {"redis.stats.instantaneous_ops.rate": FLOAT, "redis.memory.used_memory": UINT,
              "redis.memory.maxmemory[]": UINT, "redis.clients.connected": UINT,
              "redis.stats.keyspace_hits": UINT, "redis.stats.keyspace_misses": UINT,
              "redis.stats.evicted_keys": UINT, "redis.commands.reads.rate": FLOAT,
              "redis.commands.writes.rate": FLOAT}
MC_KEYS = {"memcached.commands.get.rate": FLOAT, "memcached.commands.set.rate": FLOAT,
           "memcached.stats.hits.rate": FLOAT, "memcached.stats.misses.rate": FLOAT,
           "memcached.stats.bytes": UINT, "memcached.config.limit_maxbytes": UINT,
           "memcached.connections.current": UINT}
ORDER_SHARDS = ["order-redis-01", "order-redis-02", "order-redis-03", "order-redis-04", "order-redis-05"]


def _proxy_keys() -> dict[str, int]:
    keys = {"twemproxy.pool.client_connections[order]": UINT, "twemproxy.pool.server_ejects[order]": UINT}
    for srv in ORDER_SHARDS:
        keys[f"twemproxy.server.requests[order,{srv}]"] = UINT
        keys[f"twemproxy.server.server_timedout[order,{srv}]"] = UINT
    return keys


def _order(n: int, **kw) -> dict:
    spec = {"host": f"order-redis-0{n}", "keys": REDIS_KEYS, "qps": 30000.0 + 1500 * n, "role": "master",
            "maxmem": 8 * GB, "mem": (3.3 + 0.2 * (n - 1)) * GB, "conns": 1500,
            "tags": tags("交易", "订单", 5, "redis", "order-redis", "master", shard=n - 1, port=6379)}
    spec.update(kw)
    return spec


HOSTS = [
    _order(1),
    _order(2, resets=True),      # keyspace counters restart at 03:00 UTC five days back (mid-window)
    _order(3, maxmem=0, mem=6.2 * GB),
    _order(4, maxmem=0, mem=6.6 * GB),
    _order(5, tags=tags("交易", "订单", "abc", "redis", "order-redis", "master", shard=4, port=6379)),
    {"host": "order-redis-01r", "keys": REDIS_KEYS, "qps": 9000.0, "role": "slave", "replica_of": "order-redis-01",
     "maxmem": 8 * GB, "mem": 3.3 * GB, "conns": 600,
     "tags": tags("交易", "订单", 5, "redis", "order-redis", "slave", shard=0, port=6380)},
    {"host": "order-proxy-01", "keys": _proxy_keys(), "role": "proxy", "share": 0.5, "conns": 4000,
     "tags": tags("交易", "订单", 5, "twemproxy", "order-redis", "proxy", port=22121)},
    {"host": "order-proxy-02", "keys": _proxy_keys(), "role": "proxy", "share": 0.5, "conns": 4000,
     "tags": tags("交易", "订单", 5, "twemproxy", "order-redis", "proxy", port=22121)},
    {"host": "stock-redis-a", "keys": REDIS_KEYS, "qps": 12000.0, "role": "master", "maxmem": 0, "mem": 3.32 * GB,
     "conns": 700, "tags": tags("商品", "库存", 4, "redis", "stock-redis", "master", port=6379)},
    {"host": "stock-redis-b", "keys": REDIS_KEYS, "qps": 11000.0, "role": "master", "maxmem": 0, "mem": 3.1 * GB,
     "conns": 650, "tags": tags("商品", "库存", 4, "redis", "stock-redis", "master", port=6379)},
    {"host": "session-mc-01", "keys": MC_KEYS, "qps": 20000.0, "role": "master", "maxmem": 4 * GB, "mem": 2.5 * GB,
     "conns": 900, "daily_limit": True, "tags": tags("用户", "会话", 3, "memcached", "session-mc", "master",
                                                     port=11211)},
    {"host": "session-mc-02", "keys": MC_KEYS, "qps": 19000.0, "role": "master", "maxmem": 4 * GB, "mem": 2.4 * GB,
     "conns": 880, "daily_limit": True, "tags": tags("用户", "会话", 3, "memcached", "session-mc", "master",
                                                     port=11211)},
]
BY_HOST = {h["host"]: h for h in HOSTS}


def beijing_midnight(year: int, month: int, day: int) -> int:
    return calendar.timegm((year, month, day, 0, 0, 0)) - 8 * 3600


def promotions_between(start: int, end: int) -> list[dict]:
    """The fleet's promotions whose start lies in [start + 3 days, end - 2 days]."""
    out = []
    for year in range(time.gmtime(start).tm_year, time.gmtime(end).tm_year + 1):
        for kind, month, day, preheat in PROMO_KINDS:
            t = beijing_midnight(year, month, day)
            if start + 3 * 86400 <= t <= end - 2 * 86400:
                out.append({"name": f"{kind} {year}", "kind": kind, "start": t, "end": t + 86400,
                            "preheat_days": preheat})
    return out


def shape(t: int, promos: list[dict], rnd: random.Random) -> float:
    """Traffic multiplier: diurnal (10:00, 21:00 Beijing), weekly, 60% yearly growth, promotions."""
    bj = ((t + 8 * 3600) % 86400) / 3600
    diurnal = 0.5 + 0.35 * math.exp(-((bj - 10) ** 2) / 3) + 0.5 * math.exp(-((bj - 21) ** 2) / 4)
    diurnal -= 0.3 * math.exp(-((bj - 4) ** 2) / 6)
    weekly = 1.0 + 0.06 * math.sin(2 * math.pi * (t / 86400) / 7)
    growth = 1.6 ** ((t - 1_750_000_000) / (365 * 86400))
    lift = 1.0
    for p in promos:
        if p["start"] - p["preheat_days"] * 86400 <= t < p["start"]:
            lift = max(lift, 1.2)
        elif p["start"] <= t < p["start"] + 3600:
            lift = max(lift, PROMO_LIFT[p["kind"]])
        elif p["start"] + 3600 <= t < p["end"]:
            lift = max(lift, 1 + (PROMO_LIFT[p["kind"]] - 1) / 2)
    return max(0.05, diurnal * weekly * growth * lift * (1 + rnd.gauss(0, 0.02)))


def _write_share(t: int) -> float:
    bj = ((t + 8 * 3600) % 86400) / 3600
    return 0.2 + 0.05 * math.exp(-((bj - 3) ** 2) / 8)


def _counter(counters: dict, key: str, add: float, reset: bool = False) -> int:
    counters[key] = (int(add) % 1000 if reset else counters.get(key, 0) + int(add))
    return counters[key]


def reset_time(now: int) -> int:
    """03:00 UTC five days before ``now``: inside a 6-hour history.get window, not on its edge."""
    return (now - 5 * 86400) // 86400 * 86400 + 3 * 3600


def values_at(h: dict, t: int, promos: list[dict], counters: dict, reset_at: int) -> list[dict]:
    """Every value of host ``h`` at hour ``t``."""
    rnd = random.Random(f"{h['host']}|{t}")
    s = shape(t, promos, rnd)
    out = []

    def put(key, v):
        if key in h["keys"]:
            out.append({"host": h["host"], "key": key, "value": str(v), "clock": t, "ns": 0})
    role = h["role"]
    if role == "proxy":
        total = 0.0
        for srv in ORDER_SHARDS:
            q = BY_HOST[srv]["qps"] * s * h["share"]
            total += q
            put(f"twemproxy.server.requests[order,{srv}]",
                _counter(counters, f"{h['host']}|req|{srv}", q * STEP))
            # one backend timeout an hour on shard 0 (0.000278/s), none elsewhere
            put(f"twemproxy.server.server_timedout[order,{srv}]",
                _counter(counters, f"{h['host']}|to|{srv}", 1 if srv == ORDER_SHARDS[0] else 0))
        put("twemproxy.pool.client_connections[order]", int(h["conns"] * (0.9 + 0.1 * min(s, 3))))
        put("twemproxy.pool.server_ejects[order]", counters.setdefault(f"{h['host']}|ejects", 0))
        return out
    base = BY_HOST[h["replica_of"]]["qps"] if role == "slave" else h["qps"]
    writes = base * s * _write_share(t)
    if role == "slave":
        reads = h["qps"] * s              # its own clients' reads; the master's writes are replayed too
        ops = reads + writes
    else:
        reads = base * s * (0.98 - _write_share(t))
        ops = base * s
    used = int(h["mem"] * (0.92 + 0.08 * min(s, 3) / 3))
    reset = h.get("resets", False) and t == reset_at
    if "redis.stats.instantaneous_ops.rate" in h["keys"]:
        put("redis.stats.instantaneous_ops.rate", round(ops, 2))
        put("redis.commands.reads.rate", round(reads, 2))
        put("redis.commands.writes.rate", round(writes, 2))
        put("redis.memory.used_memory", used)
        put("redis.memory.maxmemory[]", int(h["maxmem"]))
        put("redis.clients.connected", int(h["conns"] * (0.95 + 0.05 * min(s, 3))))
        put("redis.stats.keyspace_hits", _counter(counters, f"{h['host']}|hits", reads * 0.93 * STEP, reset))
        put("redis.stats.keyspace_misses", _counter(counters, f"{h['host']}|misses", reads * 0.07 * STEP, reset))
        put("redis.stats.evicted_keys", _counter(counters, f"{h['host']}|ev", 0.5 * STEP * (s > 2.5)))
    else:
        gets = base * s * 0.8
        put("memcached.commands.get.rate", round(gets, 2))
        put("memcached.commands.set.rate", round(base * s * 0.2, 2))
        put("memcached.stats.hits.rate", round(gets * 0.9, 2))
        put("memcached.stats.misses.rate", round(gets * 0.1, 2))
        put("memcached.stats.bytes", used)
        put("memcached.connections.current", int(h["conns"] * (0.95 + 0.05 * min(s, 3))))
        if not h.get("daily_limit") or t % 86400 == 0:
            put("memcached.config.limit_maxbytes", int(h["maxmem"]))
    return out


def ensure(api, st: dict, ensure_group, ensure_host, ensure_trapper_items) -> tuple[dict, list[dict], int]:
    """Create the group, hosts and items (idempotent); returns (hostids, the values to send, items
    created). Values go from the last hour sent (state ``prod_last``) to now; the first run sends
    the whole span."""
    groups = [ensure_group(api, "Peakwatch"), ensure_group(api, GROUP)]
    hostids, created = {}, 0
    for spec in HOSTS:
        hostids[spec["host"]], _ = ensure_host(api, spec, groups, [], agent=False)
        created += ensure_trapper_items(api, hostids[spec["host"]], spec["keys"], HISTORY, TRENDS)
    now = int(time.time()) // STEP * STEP
    first = st.get("prod_first", now - SPAN_DAYS * 86400)
    last = st.get("prod_last", first - STEP)
    counters = st.setdefault("prod_counters", {})
    reset_at = st.setdefault("prod_reset_at", reset_time(now))
    promos = promotions_between(first, now)
    values = [v for t in range(last + STEP, now + 1, STEP) for h in HOSTS
              for v in values_at(h, t, promos, counters, reset_at)]
    st.update(prod_first=first, prod_last=now)
    return hostids, values, created


def description(st: dict) -> dict:
    """What tests need to know (written into fixtures.json under ``prod``)."""
    return {"group": GROUP, "step": STEP, "first_clock": st["prod_first"], "last_clock": st["prod_last"],
            "history_days": int(HISTORY[:-1]), "hosts": [h["host"] for h in HOSTS],
            "promotions": promotions_between(st["prod_first"], st["prod_last"]),
            "reset_at": st["prod_reset_at"], "reset_host": "order-redis-02"}
