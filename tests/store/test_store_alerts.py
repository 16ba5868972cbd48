"""Alerting's tables behind the Store: Zabbix problems, alert lifecycle, silences, outbox, leases
(SQLite and PostgreSQL)."""
from __future__ import annotations

import ast
import threading
from pathlib import Path

import pytest

from core.errors import StoreInputError
from store.alerts import CycleWrite

ROOT = Path(__file__).resolve().parents[2]
T = 1_764_000_000


def _problem(eventid, severity, instance="pay-cache-0:6379", name="Redis is down", ack=False):
    return {"eventid": str(eventid), "clock": T - 60, "name": name, "severity": severity, "acknowledged": ack,
            "host": "redis-pay-0", "instance": instance, "tags": {"service": "redis"}}


def test_problems_are_a_table_with_severity_names_replaced_per_pass(store):
    store.replace_problems([_problem(1, 4), _problem(2, "warning", name="Slow"), _problem(3, 5, None, "Other", True)])
    p = store.problems()
    assert list(p["severity"]) == ["disaster", "high", "warning"] and list(p["level"]) == [5, 4, 2]
    assert p.set_index("eventid").loc["3", "acknowledged"] and p.loc[0, "tags"] == {"service": "redis"}
    store.replace_problems([_problem(7, 3)])                # the next pass replaces the set
    assert list(store.problems()["eventid"]) == ["7"]
    with pytest.raises(StoreInputError, match="not one of"):
        store.replace_problems([_problem(8, "urgent")])
    assert list(store.problems()["eventid"]) == ["7"]      # a bad pass changes nothing


def _imports(package: str) -> set[str]:
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module)
    return found


@pytest.mark.parametrize("package", ["dashboard", "alerting", "forecasting", "store"])
def test_readers_of_problems_never_import_collectors(package):
    assert not {m for m in _imports(package) if m.split(".")[0] == "collectors"}


def _alert(key, state="firing", severity="crit", business="pay"):
    return {"dedup_key": key, "open_key": key, "business": business, "product_line": "trade", "star": 5,
            "cluster": "pay-cache", "instance": "pay-cache-0:6379", "rule": "mem_util", "metric": "mem_util",
            "severity": severity, "state": state, "value": 97.0, "threshold": 95.0, "reason": "mem_util 97",
            "started_at": T, "fired_at": T if state != "pending" else None, "updated_at": T}


def _cycle(store, write, cycle, holder="a"):
    assert store.acquire_lease("evaluator", holder, T + cycle, 120)
    return store.commit_cycle(write, "evaluator", holder, cycle)


def test_a_cycle_writes_alerts_events_and_outbox_together_once(store):
    w = CycleWrite(new=[_alert("pay|mem_util|pay-cache-0:6379")],
                   events=[("pay|mem_util|pay-cache-0:6379", T, "fired", "", "mem_util 97 > 95")],
                   outbox=[{"idem_key": "k1", "created_at": T, "kind": "firing", "recipient": "+8613800138000",
                            "gateway": "console", "body": "crit pay", "alert_ids": ["pay|mem_util|pay-cache-0:6379"]}])
    assert _cycle(store, w, 1)
    assert not store.commit_cycle(w, "evaluator", "a", 1)          # the same cycle twice: nothing written
    alerts = store.open_alerts()
    assert len(alerts) == 1 and alerts.loc[0, "state"] == "firing"
    out = store.outbox()
    assert len(out) == 1 and out.loc[0, "alert_ids"] == f"[{alerts.loc[0, 'id']}]"
    assert list(store.deliveries()["status"]) == ["queued"]
    assert list(store.alert_events(alerts.loc[0, "id"])["kind"]) == ["fired"]


def test_one_open_alert_per_dedup_key_is_a_database_rule(store):
    assert _cycle(store, CycleWrite(new=[_alert("k")]), 1)
    with pytest.raises(Exception):
        _cycle(store, CycleWrite(new=[_alert("k")]), 2)
    assert len(store.open_alerts()) == 1


def test_acknowledge_records_who_and_when_and_only_one_operator_wins(store):
    _cycle(store, CycleWrite(new=[_alert("k")]), 1)
    aid = int(store.open_alerts().loc[0, "id"])
    results = []
    threads = [threading.Thread(target=lambda w=w: results.append(store.acknowledge(aid, w, T + 5, "on it")))
               for w in ("li.wei", "zhang.min")]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(results) == [False, True]
    row = store.open_alerts().iloc[0]
    assert row["state"] == "acknowledged" and row["acked_by"] in ("li.wei", "zhang.min") and row["acked_at"] == T + 5
    ev = store.alert_events(aid)
    assert list(ev["kind"]) == ["acknowledged"] and ev.loc[0, "who"] == row["acked_by"]


def test_resolving_frees_the_key_and_keeps_history(store):
    _cycle(store, CycleWrite(new=[_alert("k")]), 1)
    aid = int(store.open_alerts().loc[0, "id"])
    _cycle(store, CycleWrite(changed=[{"id": aid, "state": "resolved", "open_key": None, "resolved_at": T + 60}],
                             events=[(aid, T + 60, "resolved", "", "")]), 2)
    assert store.open_alerts().empty
    _cycle(store, CycleWrite(new=[_alert("k")]), 3)                 # fires again: a new episode
    hist = store.alerts()
    assert list(hist["state"]) == ["firing", "resolved"] and hist.loc[1, "resolved_at"] == T + 60


def test_silences_need_matchers_an_author_and_an_expiry_in_the_future(store):
    sid = store.add_silence({"business": "pay"}, T, T + 3600, "li.wei", T, "failover drill")
    assert store.silences(active_at=T).loc[0, "matchers"] == {"business": "pay"}
    for matchers, end, who, words in (({}, T + 60, "a", "at least one matcher"),
                                      ({"colour": "red"}, T + 60, "a", "not one of"),
                                      ({"business": "pay"}, T - 1, "a", "future"),
                                      ({"business": "pay"}, T + 60, " ", "author")):
        with pytest.raises(StoreInputError, match=words):
            store.add_silence(matchers, T, end, who, T)
    assert len(store.silences()) == 1
    assert store.expire_silence(sid, "li.wei", T + 10) and store.silences(active_at=T + 20).empty


def test_leases_have_one_holder_until_they_expire(store):
    assert store.acquire_lease("evaluator", "web-1", T, 60)
    assert not store.acquire_lease("evaluator", "cli", T + 30, 60)
    assert store.acquire_lease("evaluator", "web-1", T + 30, 60)     # renewal
    assert store.acquire_lease("evaluator", "cli", T + 91, 60)       # web-1 died: its lease ran out
    assert store.lease("evaluator")["holder"] == "cli"


def test_outbox_claims_are_exclusive_and_a_crashed_claim_is_taken_over(store):
    store.enqueue([{"idem_key": f"k{i}", "created_at": T, "kind": "test", "recipient": "+8613800138000",
                    "gateway": "console", "body": "hi"} for i in range(3)])
    store.enqueue([{"idem_key": "k0", "created_at": T, "kind": "test", "recipient": "x", "gateway": "console",
                    "body": "again"}])                               # same idempotency key: skipped
    a = store.claim_outbox("sender-a", T, lease_s=30)
    assert len(a) == 3 and store.claim_outbox("sender-b", T + 1) == []
    assert store.record_attempt(a[0]["id"], "sender-a", T + 1, "sent", "ok", gateway_id="g1")
    assert store.record_attempt(a[1]["id"], "sender-a", T + 1, "retried", "HTTP 503", next_at=T + 10)
    b = store.claim_outbox("sender-b", T + 40)                       # a's claim on the third ran out
    assert sorted(r["idem_key"] for r in b) == ["k1", "k2"]
    assert not store.record_attempt(a[2]["id"], "sender-a", T + 41, "sent")   # a lost its claim
    out = store.outbox().set_index("idem_key")
    assert out.loc["k0", "state"] == "sent" and out.loc["k0", "gateway_id"] == "g1"
    assert list(store.deliveries(a[1]["id"])["status"]) == ["retried", "queued"]
