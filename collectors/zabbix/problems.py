"""Active Zabbix problems (``problem.get`` with tags) for the red flags.

The active set is small and replaced as a whole on every pass, through the store
(``Store.replace_problems``); the dashboard and alerting read it back with ``Store.problems()``.
"""
from __future__ import annotations


def fetch(client, hosts: dict[str, str]) -> list[dict]:
    """Active problems of the collected hosts ({hostid: instance}), newest first."""
    probs = client.call("problem.get", {"output": ["eventid", "objectid", "clock", "name", "severity",
                                                   "acknowledged"], "selectTags": ["tag", "value"],
                                        "source": 0, "object": 0, "recent": False,
                                        "sortfield": ["eventid"], "sortorder": "DESC"})
    if not probs:
        return []
    triggers = client.call("trigger.get", {"triggerids": sorted({p["objectid"] for p in probs}),
                                           "output": ["triggerid"], "selectHosts": ["hostid", "host"]})
    host_of = {t["triggerid"]: (t["hosts"][0] if t.get("hosts") else {}) for t in triggers}
    out = []
    for p in probs:
        h = host_of.get(p["objectid"], {})
        out.append({"eventid": p["eventid"], "clock": int(p["clock"]), "name": p["name"],
                    "severity": int(p["severity"]), "acknowledged": p["acknowledged"] == "1",
                    "host": h.get("host", ""), "instance": hosts.get(h.get("hostid", "")),
                    "tags": {t["tag"]: t["value"] for t in p.get("tags", [])}})
    return out


def save(store, problems: list[dict]) -> None:
    """Replace the stored active problems with this pass's (severities kept as the store names them)."""
    store.replace_problems(problems, source="zabbix")
