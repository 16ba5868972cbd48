"""An admin reloads the alerting rules without a restart: the file is checked in the request (a
mistake is refused, named, and the running rules stay), and the alert scheduler of every process
takes the new rules at its next check."""
from __future__ import annotations

import time

import fleetdata  # noqa: F401 - apikit put tests/dashboard on the path
from apikit import PASSWORD

from accounts.users import add_user, issue_token
from alerting.scheduler import Scheduler
from core.settings import load_settings
from store import Store

RULES = """
[alerting]
builtin_rules = false

[[alerting.rules]]
metric = "mem_util"
warn = {warn}
crit = {crit}
tighten = false
"""


class Clock:
    def __init__(self, t: float):
        self.t = t

    def __call__(self) -> float:
        return self.t


def _mem_alerts(store) -> set:
    alerts = store.open_alerts()
    return set(alerts[alerts["rule"] == "mem_util"]["instance"])


def test_an_admin_reloads_the_rules_every_scheduler_takes_them_a_broken_file_changes_nothing(tmp_path):
    import app as appmod
    store = Store.open(f"sqlite:///{tmp_path / 'r.sqlite'}")
    now = int(time.time())
    fleetdata.write_fleet(store, fleetdata.build_inventory(60), now, raw_hours=0.5)
    tokens = {}
    for name, role in (("li.wei", "operator"), ("wang.fang", "admin")):
        add_user(store, name, PASSWORD, role, now)
        tokens[role] = issue_token(store, name, now)
    config = tmp_path / "peakwatch.toml"
    config.write_text(RULES.format(warn=99.0, crit=99.5))
    env = {"PEAKWATCH_STORE_URL": store.url, "PEAKWATCH_CACHE_TYPE": "simple", "PEAKWATCH_WALL_WARM_SECONDS": "0",
           "PEAKWATCH_CONFIG": str(config)}
    settings = load_settings(env=env)
    web = appmod.make_web_app(store, settings, alerting=False)
    client = web.server.test_client()
    clock = Clock(now)
    worker = Scheduler(store, settings, clock=clock)          # another process's scheduler, not started
    worker.evaluate_once()
    assert _mem_alerts(store) == set()                         # 97% is under the running rule's 99%

    config.write_text(RULES.format(warn=90.0, crit=95.0))
    refused = client.post("/api/v1/rules/reload", headers={"Authorization": f"Bearer {tokens['operator']}"})
    assert refused.status_code == 403 and "may not reload; an admin may" in refused.get_json()["error"]
    clock.t += 60
    worker.evaluate_once()
    assert _mem_alerts(store) == set()                         # nobody asked: the running rules stay

    ok = client.post("/api/v1/rules/reload", headers={"Authorization": f"Bearer {tokens['admin']}"})
    assert ok.status_code == 200, ok.get_json()
    assert ok.get_json()["rules"] == 1
    clock.t += 60
    worker.evaluate_once()
    hot = _mem_alerts(store)
    assert hot and all(i.startswith("10.") for i in hot)       # the 97% shard fires under the new rule
    alerts = store.open_alerts()
    assert set(alerts[alerts["rule"] == "mem_util"]["severity"]) == {"crit"}
    audit = store.audit_log()
    assert ((audit["action"] == "reload") & (audit["who"] == "wang.fang")).sum() == 1

    config.write_text(RULES.format(warn="'ninety'", crit=95.0))  # a mistake: refused, named, nothing changes
    asked = store.get_meta("alerting.reload_requested_at")
    bad = client.post("/api/v1/rules/reload", headers={"Authorization": f"Bearer {tokens['admin']}"})
    assert bad.status_code == 400 and "warn" in bad.get_json()["error"] and bad.get_json()["field"] == "config"
    assert store.get_meta("alerting.reload_requested_at") == asked
    clock.t += 60
    assert worker.reload_if_asked() is False
    worker.evaluate_once()
    assert _mem_alerts(store) == hot
    store.close()
