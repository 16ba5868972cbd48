"""Inventory discovery: ``host.get`` (tags, groups, templates) and ``item.get`` -> store inventory
and a plan of the series to collect.

A host becomes an instance from its tags (see :mod:`collectors.zabbix.tags` for the tags, where a
missing or malformed one is taken from, and the notes that say so). A host that cannot be placed
(no business, no service) is reported in :attr:`Discovery.unmapped_hosts` with the reason and the
fix; its items are not collected, everything else is.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from collectors.zabbix import tags as tg
from collectors.zabbix.client import rows_of
from collectors.zabbix.keymap import KeyMap, Rule, key_params
from store.inventory_types import Business, Cluster, Instance, Inventory, ProductLine, SeriesSpec

log = logging.getLogger("peakwatch.zabbix")

NUMERIC = (0, 3)   # float, unsigned: the value types history.get/trend.get serve as numbers
parse_size = tg.parse_size


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
    how: str                       # gauge | rate | hit_ratio_counters | hit_ratio_rates | sum | minus | mem_* | cpu
    items: tuple[ItemRef, ...]
    capacity: float = 0.0          # cluster memory capacity per instance (bytes), for the mem fallback


@dataclass
class Discovery:
    inventory: Inventory
    outputs: list[Output]
    unmapped_hosts: list[tuple[str, str]] = field(default_factory=list)     # (host, reason)
    unmapped_items: dict[str, list[str]] = field(default_factory=dict)      # host -> keys
    hosts: dict[str, str] = field(default_factory=dict)                     # hostid -> instance
    notes: dict[str, str] = field(default_factory=dict)                     # host -> what was assumed

    def items(self) -> dict[str, ItemRef]:
        return {i.itemid: i for o in self.outputs for i in o.items}

    def redis_without_reads_writes(self) -> tuple[list[str], int]:
        """(Redis instances lacking a reads or writes series, number of Redis instances): Redis has a
        read/write split only with Peakwatch's add-on template (contrib/zabbix)."""
        service = {c.name: c.service for c in self.inventory.clusters}
        redis = sorted(i.name for i in self.inventory.instances if (i.service or service.get(i.cluster)) == "redis")
        have: dict[str, set[str]] = {}
        for o in self.outputs:
            if o.metric in ("reads", "writes"):
                have.setdefault(o.instance, set()).add(o.metric)
        return [n for n in redis if have.get(n, set()) != {"reads", "writes"}], len(redis)


def discover(client, keymap: KeyMap, group: str = "") -> Discovery:
    """Read hosts and items from Zabbix and build the inventory and the collection plan."""
    params = {"output": ["hostid", "host", "name"], "selectTags": ["tag", "value"], "selectGroups": ["name"],
              "selectMacros": ["macro", "value"], "selectInterfaces": ["ip", "dns", "port", "main"],
              "selectParentTemplates": ["host", "name"], "monitored_hosts": True}
    if group:
        found = rows_of(client.call("hostgroup.get", {"filter": {"name": [group]}, "output": ["groupid"]}),
                        "hostgroup.get", ("groupid",))
        if not found:
            from core.errors import ConfigError
            raise ConfigError(f"zabbix_host_group {group!r} does not exist in Zabbix; fix the name or leave "
                              f"it empty for all hosts.")
        params["groupids"] = [g["groupid"] for g in found]
    hosts = rows_of(client.call("host.get", params), "host.get", ("hostid", "host"))
    items = rows_of(client.call("item.get", {"hostids": [h["hostid"] for h in hosts], "monitored": True,
                                             "output": ["itemid", "hostid", "key_", "value_type"]}),
                    "item.get", ("itemid", "hostid", "key_", "value_type")) if hosts else []
    return build(hosts, items, keymap)


def build(hosts: list[dict], items: list[dict], keymap: KeyMap) -> Discovery:
    """Pure part of :func:`discover` (recorded API answers in, inventory and plan out)."""
    inv = Inventory()
    disc = Discovery(inv, [])
    by_host: dict[str, list[dict]] = {}
    for it in items:
        by_host.setdefault(it["hostid"], []).append(it)
    hosts = sorted(hosts, key=lambda h: h["host"])
    host_of = {h["host"]: h for h in hosts}
    labels = [tg.read_host(h, [i["key_"] for i in by_host.get(h["hostid"], [])]) for h in hosts]
    labels, disc.unmapped_hosts = tg.fill(labels)
    tg.number_shards(labels)
    members: dict[str, list[tg.HostLabels]] = {}
    for lab in labels:
        members.setdefault(lab.cluster, []).append(lab)
    service_of = {c: tg.cluster_service(m) for c, m in members.items()}
    stars: dict[str, int] = {}
    for lab in labels:
        if lab.business in stars and stars[lab.business] != lab.star:
            log.warning("business %s has hosts with star %s and %s; using the higher", lab.business,
                        stars[lab.business], lab.star)
        stars[lab.business] = max(stars.get(lab.business, 0), lab.star)
        h = host_of[lab.host]
        name = f"{h['host']}:{lab.port}" if lab.port else h["host"]
        main = next((i for i in h.get("interfaces", []) if str(i.get("main")) == "1"), {})
        own = lab.service if lab.service != service_of[lab.cluster] else None
        notes = "; ".join(lab.notes)
        inv.instances.append(Instance(name, lab.cluster, main.get("ip") or main.get("dns") or h["host"], lab.port,
                                      lab.role, shard=int(lab.shard or 0), zabbix_hostid=h["hostid"], service=own,
                                      notes=notes))
        if notes:
            disc.notes[h["host"]] = notes
        disc.hosts[h["hostid"]] = name
        mapped, unmapped = _host_items(by_host.get(h["hostid"], []), keymap)
        if unmapped:
            disc.unmapped_items[h["host"]] = unmapped
        disc.outputs.extend(plan_outputs(name, lab.cluster, mapped, max(m.mem_capacity for m in members[lab.cluster]),
                                         role=lab.role))
    for cname, mem in sorted(members.items()):
        first = mem[0]
        data = {m.shard for m in mem if m.role == "master" and m.service != "twemproxy"}
        shards = len(data) if data else sum(m.role == "proxy" for m in mem)
        inv.clusters.append(Cluster(cname, first.business, service_of[cname], max(1, shards),
                                    mem_per_instance=max(m.mem_capacity for m in mem)))
    pl_of = {lab.business: lab.product_line for lab in labels}
    inv.product_lines.extend(ProductLine(p) for p in sorted(set(pl_of.values())))
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


def plan_outputs(instance: str, cluster: str, mapped: dict[str, dict[str, ItemRef]], capacity: float,
                 role: str = "master") -> list[Output]:
    """The series one instance yields from its mapped items (derivations chosen here, computed in derive.py).

    A Redis replica's ops include the writes it replays from its master: with the reads/writes
    items (Peakwatch's add-on template) its ``qps`` is its clients' commands, ops minus those
    writes, so a cluster's summed qps counts every write once."""
    out: list[Output] = []
    for label, by in sorted(mapped.items()):
        def add(metric: str, how: str, *refs: ItemRef) -> None:
            key = f"{instance}/{metric}" + (f"/{label}" if label else "")
            out.append(Output(key, metric, instance, cluster, label, how, tuple(refs), capacity))
        for name, ref in sorted(by.items()):
            if name == "qps" and role == "slave" and "writes" in by and ref.rule.kind == "gauge":
                add("qps", "minus", ref, by["writes"])
            elif ref.rule.kind == "gauge":
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
