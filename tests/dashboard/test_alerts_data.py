"""The /alerts page's data on the test fleet's stored alerts: worst first, who was told (numbers
masked) and whether it was delivered, filters, and a CSV a spreadsheet cannot run."""
from __future__ import annotations

import json
import time

import pandas as pd

import fleetdata
from dashboard import alerts_data as ad
from store import Store


def make_store(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 's.sqlite'}")
    now = int(time.time())
    fleetdata.write_fleet(store, fleetdata.build_inventory(60), now, raw_hours=0.5)
    fleetdata.evaluate(store, now)
    return store, now


def test_open_alerts_come_worst_first_and_say_who_was_told_with_numbers_masked(tmp_path):
    store, now = make_store(tmp_path)
    view = ad.open_view(store, now)
    df = view["alerts"]
    assert not df.empty
    ranks = df["severity"].map(ad.SEVERITY_ORDER).tolist()
    assert ranks == sorted(ranks)                      # crit before warn before stale
    crit = df[df["severity"] == "crit"].iloc[0]
    told = view["told"][int(crit["id"])]
    assert told and all("****" in t["recipient"] for t in told)
    assert {t["gateway"] for t in told} == {"console"}
    store.close()


def test_order_puts_higher_stars_first_within_a_severity_and_acknowledged_after_firing():
    rows = pd.DataFrame([
        {"id": 1, "severity": "warn", "star": 5, "state": "firing", "fired_at": 10, "started_at": 10},
        {"id": 2, "severity": "crit", "star": 2, "state": "firing", "fired_at": 20, "started_at": 20},
        {"id": 3, "severity": "crit", "star": 5, "state": "acknowledged", "fired_at": 5, "started_at": 5},
        {"id": 4, "severity": "crit", "star": 5, "state": "firing", "fired_at": 30, "started_at": 30},
    ])
    assert ad.order_open(rows)["id"].tolist() == [4, 3, 2, 1]


def test_notifications_say_delivered_or_failed_per_alert():
    outbox = pd.DataFrame([
        {"alert_ids": json.dumps([7, 8]), "recipient": "+8613800138000", "gateway": "sms", "state": "sent",
         "kind": "firing", "sent_at": 100, "created_at": 90},
        {"alert_ids": json.dumps([8]), "recipient": "Li Wei <+8613900139000>", "gateway": "sms", "state": "failed",
         "kind": "escalation", "sent_at": None, "created_at": 95},
    ])
    told = ad.notifications(outbox, [8, 9])
    assert [t["state"] for t in told[8]] == ["sent", "failed"]
    assert "13800138000" not in str(told) and 9 not in told and 7 not in told


def test_history_filters_and_csv(tmp_path):
    store, now = make_store(tmp_path)
    every = ad.history(store, ad.Filters(days=2), now)
    business = every["business"].iloc[0]
    mine = ad.history(store, ad.Filters(business=business, days=2), now)
    assert 0 < len(mine) < len(every) and set(mine["business"]) == {business}
    rule = every["rule"].iloc[-1]
    assert set(ad.history(store, ad.Filters(rule=rule, days=2), now)["rule"]) == {rule}
    text = ad.history_csv(mine, "Asia/Shanghai")
    assert text.splitlines()[0] == ",".join(ad.CSV_COLUMNS)
    assert "+08:00" in text.splitlines()[1]
    store.close()


def test_a_csv_cell_that_looks_like_a_formula_is_text():
    df = pd.DataFrame([{"id": 1, "business": "=HYPERLINK(\"http://x\")", "ack_comment": "+1 done", "fired_at": 0,
                        "acked_at": None, "resolved_at": None, "escalated_at": None}])
    text = ad.history_csv(df, "UTC")
    assert "'=HYPERLINK" in text and "'+1 done" in text


def test_a_silence_from_an_alert_matches_its_business_rule_and_instance():
    row = {"business": "pay", "rule": "mem_util", "instance": "10.0.0.3:6379", "cluster": "pay-redis"}
    assert ad.silence_matchers(row) == {"business": "pay", "rule": "mem_util", "instance": "10.0.0.3:6379"}
    row = {"business": "pay", "rule": "cluster_stale", "instance": float("nan"), "cluster": "pay-redis"}
    assert ad.silence_matchers(row) == {"business": "pay", "rule": "cluster_stale", "cluster": "pay-redis"}
