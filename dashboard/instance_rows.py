"""Instance table rows as a DBA reads them, per service family. Pure: DataFrame in, rows out."""
from __future__ import annotations

import math

import pandas as pd

from dashboard import labels as lb

#: (column id, header label key) per family; values come from :func:`row`, headers from labels.LABELS
FAMILIES = {
    "redis": (("instance", "h_instance"), ("role", "h_role_link"), ("shard", "h_shard"), ("qps", "h_ops"),
              ("memory", "h_memory"), ("mem_util", "h_mem_pct"), ("hit_ratio", "h_hit"),
              ("evictions", "h_evicted"), ("expired", "h_expired"), ("conns", "h_clients"),
              ("net", "h_net"), ("frag_ratio", "h_frag"), ("slowlog", "h_slowlog"), ("cpu", "h_cpu"),
              ("severity", "h_flag"), ("zabbix", "h_zabbix")),
    "memcached": (("instance", "h_instance"), ("role", "h_role"), ("shard", "h_shard"), ("qps", "h_getset"),
                  ("memory", "h_memory"), ("mem_util", "h_mem_pct"), ("hit_ratio", "h_hit"),
                  ("evictions", "h_evicted"), ("expired", "h_expired"), ("conns", "h_connections"),
                  ("net", "h_net"), ("severity", "h_flag"), ("zabbix", "h_zabbix")),
    "twemproxy": (("instance", "h_proxy"), ("proxy_qps", "h_req"), ("conns", "h_clients"),
                  ("proxy_timeouts", "h_timeouts"), ("server_ejects", "h_ejects"),
                  ("server_err", "h_backend_err"), ("in_queue", "h_in_queue"), ("out_queue", "h_out_queue"),
                  ("severity", "h_flag"), ("zabbix", "h_zabbix")),
}


def columns(fam: str, lang: str, with_zabbix: bool) -> list[tuple[str, str]]:
    """(column id, header in ``lang``) of a family's table."""
    return [(c, lb.t(key, lang)) for c, key in FAMILIES[fam] if c != "zabbix" or with_zabbix]


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


def severity_text(severity, reason, lang: str) -> str:
    """'crit (mem_util 97.2)'; a stale row says only that (its reason is the same words), and a
    missing reason adds nothing (never '(nan)')."""
    sev = str(severity) if isinstance(severity, str) and severity else "stale"
    has_reason = isinstance(reason, str) and reason.strip() != "" and sev != "stale"
    return lb.t(sev, lang) + (f" ({lb.note(reason, lang)})" if has_reason else "")


def row(r: pd.Series, lang: str, zabbix_url: str) -> dict:
    g = r.get
    raw_role = str(g("role", ""))
    role = lb.role(raw_role, lang)
    if raw_role == "slave" and "repl_ok" in r and not pd.isna(r["repl_ok"]):
        role += " · " + lb.t("link_up" if r["repl_ok"] >= 0.5 else "link_down", lang)
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
        "severity": severity_text(g("severity"), g("reason"), lang),
        "sev": str(g("severity", "stale")),
        "zabbix": ("" if not zabbix_link(g("zabbix_hostid"), zabbix_url) else
                   lb.t("zabbix_host_n", lang).format(id=g("zabbix_hostid"))),
        "zabbix_href": zabbix_link(g("zabbix_hostid"), zabbix_url),
    }


def tables(frame: pd.DataFrame, lang: str, zabbix_url: str) -> dict[str, list[dict]]:
    """Family -> rows, in cluster/shard order."""
    out: dict[str, list[dict]] = {}
    for _, r in frame.iterrows():
        out.setdefault(family(r["service"], r["role"]), []).append(row(r, lang, zabbix_url))
    return out
