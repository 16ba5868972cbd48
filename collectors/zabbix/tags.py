"""Host tags -> what an instance is: business, cluster, service, role, shard, star.

Tags (``product_line``, ``business``, ``star``, ``service``, ``cluster``, ``role``; optional
``shard``, ``port``, ``mem_capacity``) come from the host, else from host groups named
``<tag>:<value>``. Production fleets are not tidy, so a host with a missing or malformed tag
keeps its data whenever the value can be told from elsewhere; each assumption becomes a note that
``collect --report`` and the business page show:

    tag            missing or malformed ->
    business       the business of the host's cluster's other hosts, else the host is not collected
    product_line   the business's other hosts', else "unassigned"
    star           the business's other hosts' (the highest), else 3
    service        twemproxy for role=proxy, else the linked official template (Redis/Memcached by
                   Zabbix agent 2), else the item keys (redis.*, memcached.*, twemproxy.*), else the
                   host is not collected
    cluster        "<business>-<service>"
    role           proxy for a Twemproxy host, else master
    shard          a stable order: hosts by name, numbers not taken by a shard tag
    port, mem_capacity   the {$...CONN.URI} macro's port / unknown capacity

A host's service comes from its own tags, templates or keys, never from sharing a cluster: a
Twemproxy host that carries its Redis cluster's tag stays a proxy of that cluster.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

SERVICES = ("redis", "memcached", "twemproxy")
ROLES = ("master", "slave", "proxy")
TAGS = ("product_line", "business", "star", "service", "cluster", "role", "shard", "port", "mem_capacity")
SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)B?\s*$", re.I)
DEFAULT_STAR = 3
DEFAULT_PRODUCT_LINE = "unassigned"
TEMPLATE_SERVICE = {"Redis by Zabbix agent 2": "redis", "Memcached by Zabbix agent 2": "memcached"}
KEY_SERVICE = (("redis.", "redis"), ("memcached.", "memcached"), ("twemproxy.", "twemproxy"))


@dataclass
class HostLabels:
    """What one host is, once every tag is known (``notes``: what had to be assumed)."""
    host: str
    business: str = ""
    product_line: str = ""
    star: int | None = None
    service: str = ""
    cluster: str = ""
    role: str = ""
    shard: int | None = None
    port: int = 0
    mem_capacity: float = 0.0
    notes: list[str] = field(default_factory=list)


def parse_size(text: str) -> float:
    """``8G`` -> 8 * 2**30; empty -> 0; a ValueError names the bad text."""
    if not text:
        return 0.0
    m = SIZE.match(text)
    if not m:
        raise ValueError(f"{text!r} is not a size like 512M or 8G")
    return float(m.group(1)) * 1024 ** " KMGT".index((m.group(2) or " ").upper())


def raw_tags(host: dict) -> dict[str, str]:
    """Tag values from the host's tags, then from groups named ``<tag>:<value>``."""
    tags = {t["tag"]: t["value"].strip() for t in host.get("tags", []) if t.get("tag") in TAGS}
    for g in host.get("groups", host.get("hostgroups", [])):
        tag, sep, value = g.get("name", "").partition(":")
        if sep and tag in TAGS and not tags.get(tag):
            tags[tag] = value.strip()
    return {k: v for k, v in tags.items() if v != ""}


def _service_hint(host: dict, item_keys: list[str]) -> tuple[str, str]:
    """(service, where it came from) from linked templates or item keys; ("", "") when unknown."""
    for t in host.get("parentTemplates", []):
        if t.get("host") in TEMPLATE_SERVICE or t.get("name") in TEMPLATE_SERVICE:
            return TEMPLATE_SERVICE.get(t.get("host")) or TEMPLATE_SERVICE[t["name"]], f"template {t.get('host')!r}"
    found = Counter(svc for key in item_keys for prefix, svc in KEY_SERVICE if key.startswith(prefix))
    if found:
        return found.most_common(1)[0][0], "its item keys"
    return "", ""


def _port(host: dict) -> int:
    for m in host.get("macros", []):
        found = re.search(r":(\d+)\s*$", m.get("value", ""))
        if m.get("macro", "").endswith("CONN.URI}") and found:
            return int(found.group(1))
    return 0


def read_host(host: dict, item_keys: list[str]) -> HostLabels:
    """Everything one host says about itself; tags it cannot read are left empty with a note."""
    tags = raw_tags(host)
    lab = HostLabels(host["host"], business=tags.get("business", ""), product_line=tags.get("product_line", ""),
                     cluster=tags.get("cluster", ""))
    if "star" in tags:
        try:
            lab.star = int(tags["star"])
            if not 1 <= lab.star <= 5:
                raise ValueError
        except ValueError:
            lab.star = None
            lab.notes.append(f"tag star={tags['star']!r} is not a whole number 1..5")
    svc = tags.get("service", "")
    if svc and svc not in SERVICES:
        lab.notes.append(f"tag service={svc!r} is not one of {', '.join(SERVICES)}")
        svc = ""
    role = tags.get("role", "")
    if role and role not in ROLES:
        lab.notes.append(f"tag role={role!r} is not one of {', '.join(ROLES)}")
        role = ""
    if not svc:
        hint, where = ("twemproxy", "its role") if role == "proxy" else _service_hint(host, item_keys)
        if hint:
            svc = hint
            lab.notes.append(f"service {hint} from {where}" + ("" if "service" in tags else " (no service tag)"))
    lab.service = svc
    if not role and svc:
        role = "proxy" if svc == "twemproxy" else "master"
        if "role" in tags:              # malformed (a missing role is the documented default)
            lab.notes[-1] += f"; role {role} assumed"
    lab.role = role
    if "shard" in tags:
        if tags["shard"].isdigit():
            lab.shard = int(tags["shard"])
        else:
            lab.notes.append(f"tag shard={tags['shard']!r} is not a number; shard from the host order")
    lab.port = _port(host)
    if "port" in tags:
        if tags["port"].isdigit():
            lab.port = int(tags["port"])
        else:
            lab.notes.append(f"tag port={tags['port']!r} is not a port number")
    try:
        lab.mem_capacity = parse_size(tags.get("mem_capacity", ""))
    except ValueError as exc:
        lab.notes.append(f"tag mem_capacity: {exc}; capacity unknown")
    return lab


def fill(labels: list[HostLabels]) -> tuple[list[HostLabels], list[tuple[str, str]]]:
    """Fill what hosts did not say from their business and cluster; returns (mappable hosts,
    [(host, reason)] for hosts that cannot be placed, with the fix)."""
    by_cluster_business: dict[str, Counter] = {}
    for lab in labels:
        if lab.cluster and lab.business:
            by_cluster_business.setdefault(lab.cluster, Counter())[lab.business] += 1
    for lab in labels:
        if not lab.business and lab.cluster in by_cluster_business:
            lab.business = by_cluster_business[lab.cluster].most_common(1)[0][0]
            lab.notes.append(f"business {lab.business} from its cluster's other hosts (no business tag)")
    stars: dict[str, int] = {}
    lines: dict[str, Counter] = {}
    for lab in labels:
        if lab.business and lab.star is not None:
            stars[lab.business] = max(stars.get(lab.business, 0), lab.star)
        if lab.business and lab.product_line:
            lines.setdefault(lab.business, Counter())[lab.product_line] += 1
    ok, bad = [], []
    for lab in labels:
        missing = [t for t, v in (("business", lab.business), ("service", lab.service)) if not v]
        if missing:
            bad.append((lab.host, f"missing tag(s) {', '.join(missing)} (and nothing else tells them); add them as "
                                  f"host tags or groups named '<tag>:<value>'"
                                  + (f"; also: {'; '.join(lab.notes)}" if lab.notes else "")))
            continue
        if lab.star is None:
            lab.star = stars.get(lab.business, DEFAULT_STAR)
            lab.notes.append(f"star {lab.star} from business {lab.business}'s other hosts" if lab.business in stars
                             else f"star {DEFAULT_STAR} (default: no host of business {lab.business} has a star tag)")
        if not lab.product_line:
            known = lines.get(lab.business)
            lab.product_line = known.most_common(1)[0][0] if known else DEFAULT_PRODUCT_LINE
            lab.notes.append(f"product line {lab.product_line} from business {lab.business}'s other hosts" if known
                             else f"product line {DEFAULT_PRODUCT_LINE!r} (default: no product_line tag)")
        if not lab.cluster:
            lab.cluster = f"{lab.business}-{lab.service}"
            lab.notes.append(f"cluster {lab.cluster} (default: no cluster tag)")
        ok.append(lab)
    return ok, bad


def number_shards(labels: list[HostLabels]) -> None:
    """Give every host a shard number: its ``shard`` tag, else the next number no tag took, in
    host-name order; masters and replicas are numbered separately (a replica without a tag follows
    the same order as the masters), proxies by their own order."""
    groups: dict[tuple[str, str], list[HostLabels]] = {}
    for lab in labels:
        kind = "proxy" if lab.role == "proxy" else lab.role
        groups.setdefault((lab.cluster, kind), []).append(lab)
    for members in groups.values():
        taken = {lab.shard for lab in members if lab.shard is not None}
        free = (n for n in range(10 ** 6) if n not in taken)
        for lab in sorted(members, key=lambda x: x.host):
            if lab.shard is None:
                lab.shard = next(free)


def cluster_service(members: list[HostLabels]) -> str:
    """What a cluster's shards are: the most common service of its non-proxy hosts (Twemproxy
    when it has only proxies)."""
    data = Counter(lab.service for lab in members if lab.role != "proxy" and lab.service != "twemproxy")
    return data.most_common(1)[0][0] if data else "twemproxy"
