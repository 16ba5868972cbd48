"""Zabbix item key -> canonical metric.

A rule maps an item key's base (the part before ``[``) to a metric and says how its values become
that metric:

    kind      meaning
    gauge     the value is the metric (ops/s from a template's own rate, bytes, connections)
    counter   a running total: derive.py turns it into a per-second rate (resets are skipped)
    input     an input of a derived metric, not stored itself (hits, misses, maxmemory, host memory)

Defaults cover the official "Redis by Zabbix agent 2" and "Memcached by Zabbix agent 2" templates,
Peakwatch's add-on "Peakwatch Redis reads and writes by Zabbix agent 2"
(contrib/zabbix/peakwatch_redis_reads_writes.yaml: Redis has no read/write split otherwise) and the
Twemproxy stats items of scripts/zabbix_fixtures.py (``twemproxy.pool.<field>[pool]``,
``twemproxy.server.<field>[pool,server]``). Memcached's reads and writes are its get and set rates:
inventory.plan_outputs derives them from the ``_get_rate``/``_set_rate`` inputs (which also sum to
qps). The config file's ``[keymap]`` table overrides or adds rules: ``"my.redis.qps" = "qps"`` (a
gauge) or ``"my.hits" = "counter:_hits"``; ``"redis.cpu.sys" = ""`` drops a default.
"""
from __future__ import annotations

from dataclasses import dataclass

from core.errors import ConfigError
from store.metrics import METRICS

#: inputs of derived metrics (never stored as such)
INPUTS = {"_hits", "_misses", "_hits_rate", "_misses_rate", "_mem_max", "_host_mem", "_cpu_sys", "_cpu_user",
          "_get_rate", "_set_rate"}
KINDS = ("gauge", "counter", "input")
#: inputs that are running totals (their rates are derived), like rules of kind "counter"
COUNTER_INPUTS = {"_hits", "_misses", "_cpu_sys", "_cpu_user"}
#: inputs that change rarely (configured limits): the newest value before a window applies in it
SLOW_INPUTS = {"_mem_max", "_host_mem"}


@dataclass(frozen=True)
class Rule:
    metric: str      # canonical metric, or an input name from INPUTS
    kind: str        # gauge | counter | input


DEFAULTS: dict[str, Rule] = {
    # Redis by Zabbix agent 2
    "redis.stats.instantaneous_ops.rate": Rule("qps", "gauge"),
    "redis.memory.used_memory": Rule("mem_used", "gauge"),
    "redis.memory.maxmemory": Rule("_mem_max", "input"),
    "redis.memory.total_system_memory": Rule("_host_mem", "input"),
    "redis.clients.connected": Rule("conns", "gauge"),
    "redis.stats.keyspace_hits": Rule("_hits", "input"),
    "redis.stats.keyspace_misses": Rule("_misses", "input"),
    "redis.stats.evicted_keys": Rule("evictions", "counter"),
    "redis.stats.expired_keys": Rule("expired", "counter"),
    "redis.stats.instantaneous_input.rate": Rule("net_in", "gauge"),
    "redis.stats.instantaneous_output.rate": Rule("net_out", "gauge"),
    "redis.cpu.sys": Rule("_cpu_sys", "input"),
    "redis.cpu.user": Rule("_cpu_user", "input"),
    "redis.memory.fragmentation_ratio": Rule("frag_ratio", "gauge"),
    "redis.replication.master_link_status": Rule("repl_ok", "gauge"),
    "redis.slowlog.count": Rule("slowlog", "gauge"),
    # Peakwatch Redis reads and writes by Zabbix agent 2 (contrib/zabbix): ops/s from INFO commandstats
    "redis.commands.reads.rate": Rule("reads", "gauge"),
    "redis.commands.writes.rate": Rule("writes", "gauge"),
    # Memcached by Zabbix agent 2 (its .rate items are already per second)
    "memcached.commands.get.rate": Rule("_get_rate", "input"),
    "memcached.commands.set.rate": Rule("_set_rate", "input"),
    "memcached.stats.bytes": Rule("mem_used", "gauge"),
    "memcached.config.limit_maxbytes": Rule("_mem_max", "input"),
    "memcached.connections.current": Rule("conns", "gauge"),
    "memcached.stats.hits.rate": Rule("_hits_rate", "input"),
    "memcached.stats.misses.rate": Rule("_misses_rate", "input"),
    "memcached.stats.evictions.rate": Rule("evictions", "gauge"),
    "memcached.stats.bytes_read.rate": Rule("net_in", "gauge"),
    "memcached.stats.bytes_written.rate": Rule("net_out", "gauge"),
    "memcached.cpu.sys": Rule("_cpu_sys", "input"),
    "memcached.cpu.user": Rule("_cpu_user", "input"),
    # Twemproxy (nutcracker stats JSON): pool totals are the sum of the per-server series
    "twemproxy.pool.client_connections": Rule("conns", "gauge"),
    "twemproxy.pool.forward_error": Rule("server_err", "counter"),
    "twemproxy.pool.server_ejects": Rule("server_ejects", "counter"),
    "twemproxy.server.requests": Rule("proxy_qps", "counter"),
    "twemproxy.server.server_timedout": Rule("proxy_timeouts", "counter"),
    "twemproxy.server.server_err": Rule("server_err", "counter"),
    "twemproxy.server.in_queue": Rule("in_queue", "gauge"),
    "twemproxy.server.out_queue": Rule("out_queue", "gauge"),
}


def is_counter(rule: Rule) -> bool:
    """Whether values of this rule are a running total (a rate needs the previous point)."""
    return rule.kind == "counter" or rule.metric in COUNTER_INPUTS


def is_slow(rule: Rule) -> bool:
    """Whether values of this rule change rarely and may be stored only when they change (memory
    limits: a window may hold none, the newest earlier value applies)."""
    return rule.metric in SLOW_INPUTS


def base_key(key: str) -> str:
    return key.split("[", 1)[0]


def key_params(key: str) -> list[str]:
    """Parameters of an item key: ``a[x,"y z"]`` -> ["x", "y z"]."""
    if "[" not in key or not key.endswith("]"):
        return []
    inner = key[key.index("[") + 1:-1]
    out, cur, quoted = [], "", False
    for ch in inner:
        if ch == '"':
            quoted = not quoted
        elif ch == "," and not quoted:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    out.append(cur.strip())
    return [p for p in out if p != ""] if inner else []


class KeyMap:
    """The effective key map: defaults plus the ``[keymap]`` overrides."""

    def __init__(self, overrides: dict[str, str] | None = None):
        self.rules = dict(DEFAULTS)
        for key, spec in (overrides or {}).items():
            if not isinstance(spec, str):
                raise ConfigError(f"[keymap] {key!r} = {spec!r}: use a string such as \"qps\" or \"counter:qps\".")
            if spec == "":
                self.rules.pop(base_key(key), None)
                continue
            kind, _, metric = spec.rpartition(":")
            kind = kind or ("input" if metric in INPUTS else "gauge")
            if kind not in KINDS:
                raise ConfigError(f"[keymap] {key!r} = {spec!r}: kind {kind!r} is not one of {', '.join(KINDS)}.")
            if metric not in METRICS and metric not in INPUTS:
                raise ConfigError(f"[keymap] {key!r} = {spec!r}: {metric!r} is not a canonical metric; use one of "
                                  f"{', '.join(sorted(METRICS))} (or an input: {', '.join(sorted(INPUTS))}).")
            self.rules[base_key(key)] = Rule(metric, "input" if metric in INPUTS else kind)

    @classmethod
    def from_settings(cls, settings) -> "KeyMap":
        return cls(settings.section("keymap"))

    def rule(self, key: str) -> Rule | None:
        """The rule for an item key (exact key first, then its base)."""
        return self.rules.get(key) or self.rules.get(base_key(key))
