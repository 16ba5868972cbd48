"""The alert engine on a small fleet: lifecycle, hysteresis, for, ack, silences, inhibition,
watchdog, routing, grouping, escalation, caps and digests."""
from __future__ import annotations

import pytest
from alertkit import Fleet, engine, phone

from store import Store

T0 = 1_764_000_000 - 1_764_000_000 % 3600 + 3 * 3600     # 11:00 in Asia/Shanghai (not quiet hours)


@pytest.fixture
def fleet(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'a.sqlite'}")
    yield Fleet(store)
    store.close()


def cycle(eng, t):
    report = eng.run_once(t)
    assert report is not None
    return report


def open_by_key(store):
    return store.open_alerts().set_index("dedup_key")


def test_a_breach_fires_notifies_the_oncall_and_resolves_with_a_notice(fleet):
    store = fleet.store
    inst = fleet.instance("biz3")                             # star 4
    eng = engine(store)
    fleet.write(T0, {inst: 97.0})
    r = cycle(eng, T0)
    assert r.new == 1 and r.queued == 1
    alert = open_by_key(store).loc[f"biz3|mem_util|{inst}"]
    assert alert["state"] == "firing" and alert["severity"] == "crit" and alert["fired_at"] == T0
    msg = store.outbox().iloc[0]
    assert msg["recipient"] == phone(3) and msg["kind"] == "firing" and msg["gateway"] == "console"
    assert "[CRIT] biz3 (4*): mem_util 97 > 89.3 @biz3-0:6379" in msg["body"] and "/business/biz3?end=" in msg["body"]
    fleet.write(T0 + 60, {inst: 40.0})
    r = cycle(eng, T0 + 60)
    assert r.resolved == 1 and store.open_alerts().empty
    notice = store.outbox().iloc[0]
    assert notice["kind"] == "resolved" and notice["body"].startswith("[OK] biz3")
    kinds = list(store.alert_events(int(alert["id"]))["kind"])
    assert kinds == ["fired", "notified", "resolved", "notified"]     # the resolved notice too


def test_one_star_is_wall_only_and_stars_tighten_thresholds(fleet):
    store = fleet.store
    fleet.write(T0, {fleet.instance("biz0"): 97.0, fleet.instance("biz2"): 92.0, fleet.instance("biz3"): 92.0})
    cycle(engine(store), T0)
    alerts = open_by_key(store)
    assert alerts.loc["biz0|mem_util|biz0-0:6379", "severity"] == "crit"      # star 1: on the wall...
    assert alerts.loc["biz2|mem_util|biz2-0:6379", "severity"] == "warn"      # star 3: 92 < 95
    assert alerts.loc["biz3|mem_util|biz3-0:6379", "severity"] == "crit"      # star 4: 92 > 95 x 0.94
    assert phone(0) not in set(store.outbox()["recipient"])                  # ...and never paged


def test_for_duration_and_clear_threshold(fleet):
    store = fleet.store
    inst = fleet.instance("biz3")
    rules = {"rules": [{"name": "mem_util", "metric": "mem_util", "warn": 85, "crit": 95, "for": "2m", "clear": 70}]}
    eng = engine(store, rules)
    fleet.write(T0, {inst: 97.0})
    cycle(eng, T0)
    assert open_by_key(store).iloc[0]["state"] == "pending" and store.outbox().empty
    fleet.write(T0 + 60, {inst: 97.0})
    cycle(eng, T0 + 60)
    assert open_by_key(store).iloc[0]["state"] == "pending"
    fleet.write(T0 + 120, {inst: 97.0})
    cycle(eng, T0 + 120)
    assert open_by_key(store).iloc[0]["state"] == "firing" and len(store.outbox()) == 1
    fleet.write(T0 + 180, {inst: 80.0})                    # under warn, above clear: stays open
    cycle(eng, T0 + 180)
    assert open_by_key(store).iloc[0]["state"] == "firing"
    fleet.write(T0 + 240, {inst: 65.0})                    # past clear: resolves
    cycle(eng, T0 + 240)
    assert store.open_alerts().empty
    fleet.write(T0 + 300, {inst: 97.0})                    # a blip that clears within `for` never shows
    cycle(eng, T0 + 300)
    fleet.write(T0 + 360, {inst: 50.0})
    cycle(eng, T0 + 360)
    assert store.open_alerts().empty and len(store.alerts()) == 1


def test_ack_stops_repeats_and_escalation_silence_stops_paging(fleet):
    store = fleet.store
    a, b = fleet.instance("biz3"), fleet.instance("biz4")
    cfg = {"grouping": {"repeat_interval": "10m", "group_interval": "5m"},
           "routes": [{"name": "core", "stars": [4, 5], "to": ["oncall"], "escalate_after": "5m",
                       "escalate_to": ["+8613700000000"]}]}
    eng = engine(store, cfg)
    for k in range(0, 16):
        t = T0 + 60 * k
        fleet.write(t, {a: 97.0, b: 97.0})
        if k == 1:
            aid = int(open_by_key(store).loc[f"biz3|mem_util|{a}", "id"])
            assert store.acknowledge(aid, "li.wei", t, "failing over")
            store.add_silence({"business": "biz4"}, t, t + 7200, "li.wei", t, "load test")
        cycle(eng, t)
    out = store.outbox()
    per = out.groupby(["recipient", "kind"]).size().to_dict()
    assert per == {(phone(3), "firing"): 1, (phone(4), "firing"): 1}        # nothing after ack / silence
    alerts = open_by_key(store)
    assert alerts.loc[f"biz3|mem_util|{a}", "state"] == "acknowledged"
    assert alerts.loc[f"biz4|mem_util|{b}", "silenced_by"] == 1


def test_unacked_alerts_escalate_once_and_repeat_on_the_repeat_interval(fleet):
    store = fleet.store
    a = fleet.instance("biz3")
    cfg = {"grouping": {"repeat_interval": "10m", "group_interval": "5m"},
           "routes": [{"name": "core", "stars": [4, 5], "to": ["oncall"], "escalate_after": "5m",
                       "escalate_to": ["Backup <+8613700000000>"]}]}
    eng = engine(store, cfg)
    for k in range(0, 22):
        fleet.write(T0 + 60 * k, {a: 97.0})
        cycle(eng, T0 + 60 * k)
    out = store.outbox()
    firing = out[(out["kind"] == "firing")].sort_values("created_at")
    assert list(firing["created_at"] - T0) == [0, 600, 1200]                # repeat every 10 min
    esc = out[out["kind"] == "escalation"]
    assert list(esc["recipient"]) == ["+8613700000000"] and int(esc["created_at"].iloc[0]) == T0 + 300


def test_a_new_alert_in_a_notified_group_waits_for_the_group_interval(fleet):
    store = fleet.store
    a0, a1 = fleet.instance("biz3", 0), fleet.instance("biz3", 1)
    eng = engine(store, {"grouping": {"group_interval": "5m", "repeat_interval": "4h"}})
    fleet.write(T0, {a0: 97.0})
    cycle(eng, T0)
    for k in range(1, 7):
        fleet.write(T0 + 60 * k, {a0: 97.0, a1: 97.0})
        cycle(eng, T0 + 60 * k)
    firing = store.outbox().sort_values("created_at")
    assert list(firing["created_at"] - T0) == [0, 300]
    assert "+1 more" in firing.iloc[1]["body"]


def test_quiet_hours_hold_low_star_pages_until_morning(fleet):
    store = fleet.store
    night = T0 - T0 % 86400 + 86400 - 8 * 3600 + 2 * 3600 + 86400   # 02:00 Asia/Shanghai
    eng = engine(store, {"routes": [{"name": "all", "to": ["oncall"]}]})
    fleet.write(night, {fleet.instance("biz1"): 97.0, fleet.instance("biz4"): 97.0})
    cycle(eng, night)
    assert list(store.outbox()["recipient"]) == [phone(4)]                  # star 5 now, star 2 waits
    morning = night + 6 * 3600
    fleet.write(morning, {fleet.instance("biz1"): 97.0, fleet.instance("biz4"): 97.0})
    cycle(eng, morning)
    assert phone(1) in set(store.outbox()["recipient"])


def test_watchdog_one_crit_for_peakwatch_and_stale_flags_inhibited(fleet):
    store = fleet.store
    fleet.write(T0)
    eng = engine(store, {"self_oncall": ["DBA <+8613600000000>"],
                         "routes": [{"name": "all", "to": ["oncall"], "severities": ["stale", "warn", "crit"]}]})
    cycle(eng, T0)
    assert store.open_alerts().empty
    later = T0 + 11 * 60                                   # 11 intervals of silence
    cycle(eng, later)
    alerts = store.open_alerts()
    watchdog = alerts[alerts["rule"] == "watchdog"]
    assert len(watchdog) == 1 and watchdog.iloc[0]["severity"] == "crit"
    stale = alerts[alerts["rule"].isin(["stale", "cluster_stale"])]
    assert len(stale) > 0 and stale["inhibited"].all()      # grey on the wall, not paged
    out = store.outbox()
    assert list(out["recipient"]) == ["+8613600000000"] and "no data from synthetic" in out.iloc[0]["body"]


def test_zabbix_problems_fire_and_an_acknowledged_one_is_not_paged(fleet):
    store = fleet.store
    fleet.write(T0)
    store.replace_problems([
        {"eventid": "1", "clock": T0 - 60, "name": "Redis is down", "severity": 5, "acknowledged": False,
         "host": "r", "instance": fleet.instance("biz3"), "tags": {}},
        {"eventid": "2", "clock": T0 - 60, "name": "Replication lag", "severity": "high", "acknowledged": True,
         "host": "r", "instance": fleet.instance("biz4"), "tags": {}}])
    cycle(engine(store), T0)
    alerts = store.open_alerts().set_index("business")
    assert alerts.loc["biz3", "state"] == "firing" and alerts.loc["biz3", "reason"] == "zabbix: Redis is down"
    assert alerts.loc["biz4", "state"] == "acknowledged"
    assert list(store.outbox()["recipient"]) == [phone(3)]


def test_a_flood_is_capped_per_recipient_with_one_digest(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'f.sqlite'}")
    fleet = Fleet(store, n=250)
    everyone = ["DBA <+8613800138000>"]
    eng = engine(store, {"limits": {"per_hour": 10, "per_day": 40},
                         "routes": [{"name": "all", "to": everyone}]})
    fleet.write(T0, default=97.0)                          # 500 instances breach at once
    cycle(eng, T0)
    fleet.write(T0 + 60, default=97.0)
    cycle(eng, T0 + 60)
    out = store.outbox()
    assert len(out) == 10                                   # 9 messages + 1 digest
    digest = out[out["kind"] == "digest"].iloc[0]
    assert "more alerts" in digest["body"] and str(250 - 9 - 50) not in "" and int(digest["next_at"]) > T0
    assert len(__import__("json").loads(digest["alert_ids"])) >= 240
    store.close()


def test_a_silent_instance_keeps_its_alert_open_no_data_is_not_a_recovery(fleet):
    store = fleet.store
    inst = fleet.instance("biz3")
    eng = engine(store)
    fleet.write(T0, {inst: 97.0})
    cycle(eng, T0)
    others = [x.name for x in fleet.inv.instances if x.name != inst]
    for k in range(1, 8):                                   # biz3-0 stops reporting; the rest goes on
        fleet.write(T0 + 60 * k, only=others)
        cycle(eng, T0 + 60 * k)
    alerts = open_by_key(store)
    assert alerts.loc[f"biz3|mem_util|{inst}", "state"] == "firing"
    assert alerts.loc[f"biz3|stale|{inst}", "severity"] == "stale"
    assert "resolved" not in set(store.outbox()["kind"])


def test_a_contact_without_an_e164_number_is_not_texted_and_noted_once(fleet):
    import dataclasses
    store = fleet.store
    inv = fleet.inv
    inv.businesses = [dataclasses.replace(b, oncall=("Desk <ext 1234>", f"Owner <{phone(3)}>"))
                      if b.name == "biz3" else b for b in inv.businesses]
    store.upsert_inventory(inv)
    cfg = {"gateways": {"sms": {"type": "http", "url": "http://127.0.0.1:9/send"}},
           "routes": [{"name": "sms", "to": ["oncall"], "gateway": "sms"}]}
    eng = engine(store, cfg)
    for k in range(3):
        fleet.write(T0 + 60 * k, {fleet.instance("biz3"): 97.0})
        cycle(eng, T0 + 60 * k)
    assert list(store.outbox()["recipient"]) == [phone(3)]
    aid = int(store.open_alerts().iloc[0]["id"])
    ev = store.alert_events(aid)
    assert list(ev.loc[ev["kind"] == "unroutable", "detail"]) == ["'ext 1234' is not an E.164 number"]
