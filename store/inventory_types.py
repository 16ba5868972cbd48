"""Inventory as plain frozen dataclasses: what sources (synthetic fleet, Zabbix) hand the store.

Names are the stable identity (a business, cluster or instance keeps its name across
collections); the store assigns integer ids. A series' ``key`` is unique and stable, e.g.
``"redis-pay-01:6379/qps"`` for an instance series or ``"cluster:pay-cache/qps"`` for a
cluster-level series.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ProductLine:
    name: str


@dataclass(frozen=True)
class Business:
    name: str
    product_line: str
    star: int                      # 1 = minor .. 5 = core
    oncall: tuple[str, ...] = ()   # contacts, e.g. "Li Wei <+8613800138000>"


@dataclass(frozen=True)
class Cluster:
    name: str
    business: str
    service: str                   # redis | memcached | twemproxy
    shard_count: int
    qps_per_instance: float = 0.0  # capacity; 0 = use the service default from settings
    mem_per_instance: float = 0.0  # bytes; 0 = unknown


@dataclass(frozen=True)
class Instance:
    name: str                      # "host:port"
    cluster: str
    host: str
    port: int
    role: str                      # master | slave | proxy
    shard: int = 0
    zabbix_hostid: str | None = None
    #: UTC epoch the instance joined the fleet; None = when the store first sees it (a source
    #: that knows better, such as a trend backfill, moves it back: ``Store.backdate_instances``)
    added_at: int | None = None
    #: the instance's own service when it differs from its cluster's (a Twemproxy host tagged with
    #: the Redis cluster it fronts); None: the cluster's (a proxy role is Twemproxy)
    service: str | None = None
    #: what the source had to assume for this instance, e.g. "tag star='abc' is not 1..5: star 5
    #: from business 订单's other hosts" (shown by `collect --report` and on the business page)
    notes: str = ""


@dataclass(frozen=True)
class SeriesSpec:
    key: str
    metric: str                    # canonical metric, see store.metrics
    cluster: str
    instance: str | None = None    # None for a cluster-level series
    units: str = ""
    zabbix_itemid: str | None = None
    label: str = ""                # e.g. the Twemproxy backend a per-server series is about


@dataclass(frozen=True)
class Promotion:
    name: str                      # "11.11 2025"
    kind: str                      # 11.11 | 12.12 | 6.18 | 4.19 | custom
    start: int                     # UTC epoch seconds (the promotion's start hour)
    end: int                       # UTC epoch seconds, exclusive
    preheat_days: int = 0
    tz: str = "Asia/Shanghai"


@dataclass
class Inventory:
    product_lines: list[ProductLine] = field(default_factory=list)
    businesses: list[Business] = field(default_factory=list)
    clusters: list[Cluster] = field(default_factory=list)
    instances: list[Instance] = field(default_factory=list)
    series: list[SeriesSpec] = field(default_factory=list)
