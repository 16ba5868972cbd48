"""Instance table rows as a DBA reads them, per service family. Pure: DataFrame in, rows out."""
from __future__ import annotations

import math

import pandas as pd

from dashboard import labels as lb

#: (column id, header) per family; values come from :func:`row`
FAMILIES = {
    "redis": (("instance", "instance"), ("role", "role / link"), ("shard", "shard"), ("qps", "ops/s"),
              ("memory", "memory used / limit"), ("mem_util", "mem %"), ("hit_ratio", "hit %"),
              ("evictions", "evicted/s"), ("expired", "expired/s"), ("conns", "clients"),
              ("net", "net in / out"), ("frag_ratio", "frag"), ("slowlog", "slowlog/s"), ("cpu", "cpu %"),
              ("severity", "flag"), ("zabbix", "Zabbix")),
    "memcached": (("instance", "instance"), ("role", "role"), ("shard", "shard"), ("qps", "get+set/s"),
                  ("memory", "memory used / limit"), ("mem_util", "mem %"), ("hit_ratio", "hit %"),
                  ("evictions", "evicted/s"), ("expired", "expired/s"), ("conns", "connections"),
                  ("net", "net in / out"), ("severity", "flag"), ("zabbix", "Zabbix")),
    "twemproxy": (("instance", "proxy"), ("proxy_qps", "req/s"), ("conns", "clients"),
                  ("proxy_timeouts", "backend timeouts/s"), ("server_ejects", "ejects/s"),
                  ("server_err", "backend errors/s"), ("in_queue", "in queue"), ("out_queue", "out queue"),
                  ("severity", "flag"), ("zabbix", "Zabbix")),
}


def family(service: str, role: str) -> str:
    """Twemproxy pools' backend servers are memcached (or redis) and read as such."""
    if service == "twemproxy":
        return "twemproxy" if role == "proxy" else "memcached"
    return service


def _num(v, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return lb.si(float(v))


def memory(used, limit, lang: str) -> str:
    """'1.2 GiB / 8 GiB'; maxmemory 0 means Redis has no limit: say so, never N/A."""
    if limit is not None and not (isinstance(limit, float) and math.isnan(limit)) and float(limit) == 0:
        return f"{lb.bytes_(used)} / {lb.t('no_limit', lang)}"
    return f"{lb.bytes_(used)} / {lb.bytes_(limit)}"


def zabbix_link(hostid, zabbix_url: str) -> str:
    """URL of the host's latest data in the Zabbix frontend ('' when the host is not from Zabbix)."""
    if not zabbix_url or hostid is None or (isinstance(hostid, float) and math.isnan(hostid)) or hostid == "":
        return ""
    return f"{zabbix_url.rstrip('/')}/zabbix.php?action=latest.view&hostids%5B%5D={hostid}&filter_set=1"


def row(r: pd.Series, lang: str, zabbix_url: str) -> dict:
    g = r.get
    role = str(g("role", ""))
    if role == "slave" and "repl_ok" in r and not pd.isna(r["repl_ok"]):
        role += " · link up" if r["repl_ok"] >= 0.5 else " · LINK DOWN"
    return {
        "instance": r["instance"], "role": role, "shard": int(g("shard", 0) or 0),
        "qps": _num(g("qps")), "proxy_qps": _num(g("proxy_qps")),
        "memory": memory(g("mem_used"), g("mem_max"), lang),
        "mem_util": _num(g("mem_util")), "hit_ratio": _num(g("hit_ratio")),
        "evictions": _num(g("evictions")), "expired": _num(g("expired")), "conns": _num(g("conns")),
        "net": f"{lb.bytes_(g('net_in'))}/s / {lb.bytes_(g('net_out'))}/s",
        "frag_ratio": _num(g("frag_ratio")), "slowlog": _num(g("slowlog")), "cpu": _num(g("cpu")),
        "proxy_timeouts": _num(g("proxy_timeouts")), "server_ejects": _num(g("server_ejects")),
        "server_err": _num(g("server_err")), "in_queue": _num(g("in_queue")), "out_queue": _num(g("out_queue")),
        "severity": lb.t(str(g("severity", "stale")), lang) + (f" ({r['reason']})" if g("reason") else ""),
        "sev": str(g("severity", "stale")),
        "zabbix": "" if not zabbix_link(g("zabbix_hostid"), zabbix_url) else f"host {g('zabbix_hostid')}",
        "zabbix_href": zabbix_link(g("zabbix_hostid"), zabbix_url),
    }


def tables(frame: pd.DataFrame, lang: str, zabbix_url: str) -> dict[str, list[dict]]:
    """Family -> rows, in cluster/shard order."""
    out: dict[str, list[dict]] = {}
    for _, r in frame.iterrows():
        out.setdefault(family(r["service"], r["role"]), []).append(row(r, lang, zabbix_url))
    return out
