"""Inventory discovery: ``host.get`` (tags, groups) and ``item.get`` -> store inventory and a plan of
the series to collect.

A host becomes an instance from its tags ``product_line``, ``business``, ``star``, ``service``,
``cluster``, ``role`` (optional: ``port``, ``mem_capacity`` such as ``8G``). A missing tag may come from
a host group named ``<tag>:<value>`` (for example ``business:pay``). A host that still lacks one,
or has a malformed value (``star=abc``), is reported in :attr:`Discovery.unmapped_hosts` with the
reason and the fix; its items are not collected, everything else is.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from collectors.zabbix.keymap import KeyMap, Rule, key_params
from store.inventory_types import Business, Cluster, Instance, Inventory, ProductLine, SeriesSpec

log = logging.getLogger("peakwatch.zabbix")

REQUIRED = ("product_line", "business", "star", "service", "cluster")
SERVICES = ("redis", "memcached", "twemproxy")
ROLES = ("master", "slave", "proxy")
NUMERIC = (0, 3)   # float, unsigned: the value types history.get/trend.get serve as numbers
SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)B?\s*$", re.I)


@dataclass(frozen=True)
class ItemRef:
    itemid: str
    key: str
    value_type: int
    rule: Rule


@dataclass(frozen=True)
class Output:
    """One stored series and how it is computed from items (see derive.py for ``how``)."""
    key: str
    metric: str
    instance: str
    cluster: str
    label: str
    how: str                       # gauge | rate | hit_ratio_counters | hit_ratio_rates | sum | mem | cpu
    items: tuple[ItemRef, ...]
    capacity: float = 0.0          # cluster memory capacity per instance (bytes), for the mem fallback


@dataclass
class Discovery:
    inventory: Inventory
    outputs: list[Output]
    unmapped_hosts: list[tuple[str, str]] = field(default_factory=list)     # (host, reason)
    unmapped_items: dict[str, list[str]] = field(default_factory=dict)      # host -> keys
    hosts: dict[str, str] = field(default_factory=dict)                     # hostid -> instance

    def items(self) -> dict[str, ItemRef]:
        return {i.itemid: i for o in self.outputs for i in o.items}

    def redis_without_reads_writes(self) -> tuple[list[str], int]:
        """(Redis instances lacking a reads or writes series, number of Redis instances): Redis has a
        read/write split only with Peakwatch's add-on template (contrib/zabbix)."""
        service = {c.name: c.service for c in self.inventory.clusters}
        redis = sorted(i.name for i in self.inventory.instances if service.get(i.cluster) == "redis")
        have: dict[str, set[str]] = {}
        for o in self.outputs:
            if o.metric in ("reads", "writes"):
                have.setdefault(o.instance, set()).add(o.metric)
        return [n for n in redis if have.get(n, set()) != {"reads", "writes"}], len(redis)


def parse_size(text: str) -> float:
    """``8G`` -> 8 * 2**30; empty -> 0; a ValueError names the bad text."""
    if not text:
        return 0.0
    m = SIZE.match(text)
    if not m:
        raise ValueError(f"{text!r} is not a size like 512M or 8G")
    return float(m.group(1)) * 1024 ** " KMGT".index((m.group(2) or " ").upper())


def host_labels(host: dict) -> tuple[dict[str, str] | None, str]:
    """(tag values, "") for a mappable host, or (None, reason)."""
    tags = {t["tag"]: t["value"] for t in host.get("tags", [])}
    for g in host.get("groups", host.get("hostgroups", [])):
        tag, sep, value = g.get("name", "").partition(":")
        if sep and tag in REQUIRED + ("role", "port", "mem_capacity") and tag not in tags:
            tags[tag] = value
    missing = [t for t in REQUIRED if not tags.get(t)]
    if missing:
        return None, (f"missing tag(s) {', '.join(missing)}; add them as host tags or groups named "
                      f"'<tag>:<value>'")
    try:
        star = int(tags["star"])
        if not 1 <= star <= 5:
            raise ValueError
    except ValueError:
        return None, f"tag star={tags['star']!r} is not a whole number 1..5; fix the host's star tag"
    if tags["service"] not in SERVICES:
        return None, f"tag service={tags['service']!r} is not one of {', '.join(SERVICES)}"
    tags.setdefault("role", "proxy" if tags["service"] == "twemproxy" else "master")
    if tags["role"] not in ROLES:
        return None, f"tag role={tags['role']!r} is not one of {', '.join(ROLES)}"
    try:
        tags["mem_capacity_bytes"] = str(parse_size(tags.get("mem_capacity", "")))
    except ValueError as exc:
        return None, f"tag mem_capacity: {exc}"
    if tags.get("port") and not tags["port"].isdigit():
        return None, f"tag port={tags['port']!r} is not a port number"
    return tags, ""


def _port(host: dict, tags: dict) -> int:
    if tags.get("port"):
        return int(tags["port"])
    for m in host.get("macros", []):
        found = re.search(r":(\d+)\s*$", m.get("value", ""))
        if m.get("macro", "").endswith("CONN.URI}") and found:
            return int(found.group(1))
    return 0


def discover(client, keymap: KeyMap, group: str = "") -> Discovery:
    """Read hosts and items from Zabbix and build the inventory and the collection plan."""
    params = {"output": ["hostid", "host", "name"], "selectTags": ["tag", "value"], "selectGroups": ["name"],
              "selectMacros": ["macro", "value"], "selectInterfaces": ["ip", "dns", "port", "main"],
              "monitored_hosts": True}
    if group:
        found = client.call("hostgroup.get", {"filter": {"name": [group]}, "output": ["groupid"]})
        if not found:
            from core.errors import ConfigError
            raise ConfigError(f"zabbix_host_group {group!r} does not exist in Zabbix; fix the name or leave "
                              f"it empty for all hosts.")
        params["groupids"] = [g["groupid"] for g in found]
    hosts = client.call("host.get", params)
    items = client.call("item.get", {"hostids": [h["hostid"] for h in hosts], "monitored": True,
                                     "output": ["itemid", "hostid", "key_", "value_type"]}) if hosts else []
    return build(hosts, items, keymap)


def build(hosts: list[dict], items: list[dict], keymap: KeyMap) -> Discovery:
    """Pure part of :func:`discover` (recorded API answers in, inventory and plan out)."""
    inv = Inventory()
    disc = Discovery(inv, [])
    by_host: dict[str, list[dict]] = {}
    for it in items:
        by_host.setdefault(it["hostid"], []).append(it)
    stars: dict[str, int] = {}
    clusters: dict[str, dict] = {}
    for h in sorted(hosts, key=lambda h: h["host"]):
        tags, reason = host_labels(h)
        if tags is None:
            disc.unmapped_hosts.append((h["host"], reason))
            continue
        business = tags["business"]
        if business in stars and stars[business] != int(tags["star"]):
            log.warning("business %s has hosts with star %s and %s; using the higher", business,
                        stars[business], tags["star"])
        stars[business] = max(stars.get(business, 0), int(tags["star"]))
        c = clusters.setdefault(tags["cluster"], {"business": business, "service": tags["service"],
                                                  "pl": tags["product_line"], "masters": 0, "cap": 0.0})
        if tags["role"] in ("master", "proxy"):
            c["masters"] += 1
        c["cap"] = max(c["cap"], float(tags["mem_capacity_bytes"]))
        port = _port(h, tags)
        name = f"{h['host']}:{port}" if port else h["host"]
        main = next((i for i in h.get("interfaces", []) if str(i.get("main")) == "1"), {})
        inv.instances.append(Instance(name, tags["cluster"], main.get("ip") or main.get("dns") or h["host"], port,
                                      tags["role"], zabbix_hostid=h["hostid"]))
        disc.hosts[h["hostid"]] = name
        mapped, unmapped = _host_items(by_host.get(h["hostid"], []), keymap)
        if unmapped:
            disc.unmapped_items[h["host"]] = unmapped
        disc.outputs.extend(plan_outputs(name, tags["cluster"], mapped, float(tags["mem_capacity_bytes"])))
    for cname, c in sorted(clusters.items()):
        inv.clusters.append(Cluster(cname, c["business"], c["service"], max(1, c["masters"]),
                                    mem_per_instance=c["cap"]))
    pls = sorted({c["pl"] for c in clusters.values()})
    inv.product_lines.extend(ProductLine(p) for p in pls)
    pl_of = {c["business"]: c["pl"] for c in clusters.values()}
    inv.businesses.extend(Business(b, pl_of[b], s) for b, s in sorted(stars.items()))
    inv.series.extend(SeriesSpec(o.key, o.metric, o.cluster, o.instance, label=o.label,
                                 zabbix_itemid=o.items[0].itemid if o.items else None) for o in disc.outputs)
    return disc


def _host_items(items: list[dict], keymap: KeyMap) -> tuple[dict[str, dict[str, ItemRef]], list[str]]:
    """{label: {metric or input: ItemRef}} for mapped numeric items, and the unmapped keys."""
    mapped: dict[str, dict[str, ItemRef]] = {}
    unmapped = []
    for it in items:
        rule = keymap.rule(it["key_"])
        vt = int(it["value_type"])
        if rule is None or vt not in NUMERIC:
            if vt in NUMERIC:
                unmapped.append(it["key_"])
            continue
        label = "/".join(key_params(it["key_"])) if it["key_"].startswith("twemproxy.") else ""
        mapped.setdefault(label, {})[rule.metric] = ItemRef(it["itemid"], it["key_"], vt, rule)
    return mapped, sorted(unmapped)


def plan_outputs(instance: str, cluster: str, mapped: dict[str, dict[str, ItemRef]], capacity: float) -> list[Output]:
    """The series one instance yields from its mapped items (derivations chosen here, computed in derive.py)."""
    out: list[Output] = []
    for label, by in sorted(mapped.items()):
        def add(metric: str, how: str, *refs: ItemRef) -> None:
            key = f"{instance}/{metric}" + (f"/{label}" if label else "")
            out.append(Output(key, metric, instance, cluster, label, how, tuple(refs), capacity))
        for name, ref in sorted(by.items()):
            if ref.rule.kind == "gauge":
                add(name, "gauge", ref)
            elif ref.rule.kind == "counter":
                add(name, "rate", ref)
        if "_hits" in by and "_misses" in by:
            add("hit_ratio", "hit_ratio_counters", by["_hits"], by["_misses"])
        elif "_hits_rate" in by and "_misses_rate" in by:
            add("hit_ratio", "hit_ratio_rates", by["_hits_rate"], by["_misses_rate"])
        rates = [by[k] for k in ("_get_rate", "_set_rate") if k in by]
        if rates and "qps" not in by:
            add("qps", "sum", *rates)
        # Memcached: reads are its gets, writes its sets (the same items as qps: one key, one rule)
        for metric, rate_input in (("reads", "_get_rate"), ("writes", "_set_rate")):
            if rate_input in by and metric not in by:
                add(metric, "gauge", by[rate_input])
        if "mem_used" in by:
            limits = [by[k] for k in ("_mem_max", "_host_mem") if k in by]
            add("mem_max", "mem_max", by["mem_used"], *limits)
            add("mem_util", "mem_util", by["mem_used"], *limits)
        cpu = [by[k] for k in ("_cpu_sys", "_cpu_user") if k in by]
        if cpu:
            add("cpu", "cpu", *cpu)
    return out
