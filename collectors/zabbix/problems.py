"""Active Zabbix problems (``problem.get`` with tags) for the red flags.

The active set is small and replaced as a whole on every pass, so it is kept as one JSON document
in the store's meta table (key ``zabbix.problems``) rather than in a table of its own.
"""
from __future__ import annotations

import json

import pandas as pd

META_KEY = "zabbix.problems"
COLUMNS = ["eventid", "clock", "name", "severity", "acknowledged", "host", "instance", "tags"]
SEVERITIES = {0: "not classified", 1: "information", 2: "warning", 3: "average", 4: "high", 5: "disaster"}


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
    store.set_meta(META_KEY, json.dumps(problems, ensure_ascii=False))


def active(store) -> pd.DataFrame:
    """The problems stored by the last pass: [eventid, clock, name, severity, acknowledged, host,
    instance (None when the host is not collected), tags]."""
    doc = store.get_meta(META_KEY)
    return pd.DataFrame(json.loads(doc) if doc else [], columns=COLUMNS)
