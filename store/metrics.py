"""Canonical metrics: units and how shards combine into a cluster, business or product line."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    name: str
    units: str
    #: how instance series combine into a group: "sum" (traffic, bytes), "max" (worst), "mean"
    agg: str
    help: str
    #: whether a replica's series counts in a group's value (False for writes: a Redis replica
    #: replays its master's writes, so summing both would count every write twice)
    replicas: bool = True


METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("qps", "ops/s", "sum", "commands (Redis) or get+set (Memcached) per second"),
    Metric("mem_used", "B", "sum", "memory used"),
    Metric("mem_max", "B", "sum", "memory limit (maxmemory / limit_maxbytes; capacity when 0)"),
    Metric("mem_util", "%", "max", "memory used / limit, worst shard"),
    Metric("conns", "conns", "sum", "client connections"),
    Metric("hit_ratio", "%", "mean", "hits / (hits + misses); no traffic means no value"),
    Metric("evictions", "keys/s", "sum", "evicted keys per second"),
    Metric("expired", "keys/s", "sum", "expired keys per second"),
    Metric("net_in", "B/s", "sum", "network bytes in per second"),
    Metric("net_out", "B/s", "sum", "network bytes out per second"),
    Metric("cpu", "%", "max", "CPU used by the instance"),
    Metric("frag_ratio", "ratio", "max", "memory fragmentation ratio (Redis)"),
    Metric("repl_ok", "bool", "mean", "1 when the replica's master link is up (Redis replicas)"),
    Metric("slowlog", "entries/s", "sum", "slow-log entries per second (Redis)"),
    Metric("proxy_qps", "req/s", "sum", "requests per second through Twemproxy"),
    Metric("proxy_timeouts", "1/s", "sum", "backend timeouts per second (Twemproxy)"),
    Metric("server_ejects", "1/s", "sum", "backend ejections per second (Twemproxy)"),
    Metric("server_err", "1/s", "sum", "backend errors per second (Twemproxy)"),
    Metric("in_queue", "req", "max", "requests queued towards a backend (Twemproxy)"),
    Metric("out_queue", "req", "max", "requests waiting for a backend reply (Twemproxy)"),
    Metric("reads", "ops/s", "sum", "read commands per second (Redis read-only commands, Memcached gets)"),
    Metric("writes", "ops/s", "sum", "write commands per second (Redis write commands, Memcached sets)",
           replicas=False),
)}


def replicas_count(metric: str) -> bool:
    m = METRICS.get(metric)
    return m.replicas if m else True


def agg_of(metric: str) -> str:
    m = METRICS.get(metric)
    return m.agg if m else "mean"
