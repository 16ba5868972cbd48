"""/api/v1 as a script or a colleague's tool uses it: reads open like the pages, writes need a
token of a role that may act, bad input is a 4xx naming the field and writes nothing, two
operators acknowledging at once: one wins, the other gets 409."""
from __future__ import annotations

import threading
import time

import pytest


def firing_id(api) -> int:
    df = api.store.open_alerts(include_pending=False)
    return int(df[df["state"] == "firing"].sort_values("id")["id"].iloc[0])


def test_every_business_has_a_status_and_a_business_its_alerts_values_and_instances(api):
    c = api.client()
    listed = c.get("/api/v1/businesses").get_json()["businesses"]
    assert {b["name"] for b in listed} == set(api.store.businesses()["name"])
    alert = api.store.alert(firing_id(api))
    mine = next(b for b in listed if b["name"] == alert["business"])
    assert mine["status"] == alert["severity"] and mine["open_alerts"] >= 1
    detail = c.get(f"/api/v1/businesses/{alert['business']}/status").get_json()
    assert alert["id"] in [a["id"] for a in detail["alerts"]]
    assert detail["latest"]["qps"] > 0
    inst = c.get(f"/api/v1/businesses/{alert['business']}/instances").get_json()["instances"]
    assert len(inst) == (api.store.instances()["business"] == alert["business"]).sum()
    assert c.get("/api/v1/businesses/no-such/status").status_code == 404


def test_writes_need_a_token_and_a_role_that_may_act_and_nothing_changes_otherwise(api):
    c = api.client()
    aid = firing_id(api)
    ack = f"/api/v1/alerts/{aid}/acknowledge"
    assert c.post(ack, json={}).status_code == 401
    assert c.post(ack, json={}, headers=api.auth("pw_wrong")).status_code == 401
    assert c.post(ack, json={}, headers={"Authorization": api.operator}).status_code == 401   # no "Bearer"
    assert c.post(ack, json={}, headers=api.auth(api.viewer)).status_code == 403
    silence = {"matchers": {"business": "pay-core"}, "ends_at": int(time.time()) + 600, "comment": "drill"}
    assert c.post("/api/v1/silences", json=silence, headers=api.auth(api.viewer)).status_code == 403
    assert c.post("/api/v1/alerts/send", json={"business": "pay-core", "text": "x"}).status_code == 401
    assert api.store.alert(aid)["state"] == "firing"
    assert api.store.silences().empty
    assert api.store.outbox(state=None)["kind"].ne("manual").all()
    assert set(api.store.audit_log()["action"]) == {"user.add", "token.add"}


def test_a_logged_in_browser_session_is_not_an_api_token(api):
    """A cross-site form rides on the session cookie; the API ignores cookies, so it cannot act."""
    import re
    c = api.client()
    page = c.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert c.post("/login", data={"name": "li.wei", "password": "correct horse battery",
                                  "csrf_token": token}).status_code == 302
    aid = firing_id(api)
    assert c.post(f"/api/v1/alerts/{aid}/acknowledge", json={}).status_code == 401
    assert api.store.alert(aid)["state"] == "firing"


def test_a_revoked_token_or_a_disabled_user_is_refused(api):
    c = api.client()
    assert c.get("/api/v1/whoami", headers=api.auth(api.operator)).get_json() == {"name": "li.wei",
                                                                                  "role": "operator"}
    api.store.set_user_disabled("li.wei", True, int(time.time()), by="admin")
    assert c.post(f"/api/v1/alerts/{firing_id(api)}/acknowledge", json={},
                  headers=api.auth(api.operator)).status_code == 401
    assert c.get("/api/v1/whoami", headers=api.auth(api.operator)).status_code == 401


def test_an_operator_acknowledges_silences_and_pages_and_each_is_audited(api):
    c = api.client()
    h = api.auth(api.operator)
    aid = firing_id(api)
    got = c.post(f"/api/v1/alerts/{aid}/acknowledge", json={"comment": "on it"}, headers=h)
    assert got.status_code == 200 and got.get_json()["state"] == "acknowledged"
    assert got.get_json()["acked_by"] == "li.wei"
    business = api.store.alert(aid)["business"]
    made = c.post("/api/v1/silences", headers=h, json={"matchers": {"business": business, "rule": "mem_util"},
                                                        "ends_at": int(time.time()) + 3600, "comment": "drill"})
    assert made.status_code == 201
    sid = made.get_json()["id"]
    assert [s["id"] for s in c.get("/api/v1/silences").get_json()["silences"]] == [sid]
    assert c.post(f"/api/v1/silences/{sid}/expire", headers=h).status_code == 200
    assert c.post(f"/api/v1/silences/{sid}/expire", headers=h).status_code == 404
    sent = c.post("/api/v1/alerts/send", headers=h, json={"business": business, "text": "call the DBA",
                                                           "key": "incident-42"})
    assert sent.status_code == 200 and sent.get_json()["queued"]
    assert all("****" in q["recipient"] for q in sent.get_json()["queued"])
    again = c.post("/api/v1/alerts/send", headers=h, json={"business": business, "text": "call the DBA",
                                                            "key": "incident-42"})
    assert again.get_json() == sent.get_json()                # the same key pages nobody twice
    manual = api.store.outbox()
    assert (manual["kind"] == "manual").sum() == len(sent.get_json()["queued"])
    log = api.store.audit_log()
    assert list(log[log["via"] == "api"]["action"])[::-1] == ["alert.acknowledge", "silence.add", "silence.expire",
                                                                "alert.send"]


def test_two_operators_acknowledging_at_once_one_wins_the_other_gets_409(api):
    from accounts.users import add_user, issue_token
    add_user(api.store, "zhao.lei", "correct horse battery", "operator", int(time.time()))
    other = issue_token(api.store, "zhao.lei", int(time.time()))
    aid = firing_id(api)
    answers: dict[str, int] = {}
    start = threading.Barrier(2)

    def ack(name, token):
        c = api.client()
        start.wait()
        answers[name] = c.post(f"/api/v1/alerts/{aid}/acknowledge", json={"comment": name},
                               headers=api.auth(token)).status_code
    threads = [threading.Thread(target=ack, args=a) for a in (("li.wei", api.operator), ("zhao.lei", other))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(answers.values()) == [200, 409]
    winner = next(n for n, code in answers.items() if code == 200)
    assert api.store.alert(aid)["acked_by"] == winner
    events = api.store.alert_events(aid)
    assert (events["kind"] == "acknowledged").sum() == 1


@pytest.mark.parametrize("body, field", [
    ({"matchers": {"business": "pay-core"}, "comment": "x"}, "ends_at"),                       # no expiry
    ({"matchers": {"business": "pay-core"}, "ends_at": 1000, "comment": "x"}, "ends_at"),      # in the past
    ({"matchers": {}, "ends_at": 4_000_000_000, "comment": "x"}, "matchers"),                  # matches everything
    ({"matchers": {"colour": "red"}, "ends_at": 4_000_000_000, "comment": "x"}, "colour"),     # unknown matcher
    ({"matchers": {"business": "pay-core"}, "ends_at": 4_000_000_000}, "comment"),             # no reason
])
def test_a_bad_silence_is_a_4xx_naming_the_field_and_writes_nothing(api, body, field):
    answer = api.client().post("/api/v1/silences", json=body, headers=api.auth(api.operator))
    assert 400 <= answer.status_code < 500
    assert field in answer.get_data(as_text=True)
    assert api.store.silences().empty


@pytest.mark.parametrize("body, status, field", [
    ({"business": "no-such", "text": "x"}, 404, "business"),
    ({"business": "pay-core", "text": "x", "to": ["13800138000"]}, 422, "to"),                  # not E.164
    ({"business": "pay-core", "text": ""}, 422, "text"),
    ({"business": "pay-core", "text": "x", "severity": "meh"}, 422, "severity"),
])
def test_a_bad_page_request_is_refused_and_pages_nobody(api, body, status, field):
    before = len(api.store.outbox())
    answer = api.client().post("/api/v1/alerts/send", json=body, headers=api.auth(api.operator))
    assert answer.status_code == status and field in answer.get_data(as_text=True)
    assert len(api.store.outbox()) == before


def test_unknown_alerts_and_paths_are_json_404s_and_big_bodies_413(api):
    c = api.client()
    h = api.auth(api.operator)
    assert c.get("/api/v1/alerts/999999").get_json()["field"] == "alert_id"
    assert c.post("/api/v1/alerts/999999/acknowledge", json={}, headers=h).status_code == 404
    missing = c.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and "docs" in missing.get_json()["error"]
    big = c.post("/api/v1/alerts/send", data="{" + " " * 70_000 + "}", headers={**h, "Content-Type": "application/json"})
    assert big.status_code == 413 and big.is_json


def test_writes_are_rate_limited_per_token(api_factory):
    api = api_factory(api_write_limit="3/minute")
    c = api.client()
    codes = [c.post("/api/v1/silences/999/expire", headers=api.auth(api.operator)).status_code for _ in range(5)]
    assert codes == [404, 404, 404, 429, 429]
    assert c.get("/api/v1/businesses").status_code == 200          # reads are not limited
    assert c.post("/api/v1/silences/999/expire", headers=api.auth(api.admin)).status_code == 404   # another token


def test_closed_read_pages_close_the_api_reads_too(api_factory):
    api = api_factory(read_pages_open=False)
    c = api.client()
    assert c.get("/api/v1/businesses").status_code == 401
    assert c.get("/api/v1/businesses", headers=api.auth(api.viewer)).status_code == 200


def test_the_document_and_the_docs_page(api):
    c = api.client()
    doc = c.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    assert {"/api/v1/businesses", "/api/v1/alerts/{alert_id}/acknowledge", "/api/v1/silences",
            "/api/v1/alerts/send"} <= set(doc["paths"])
    assert "/login" not in doc["paths"] and "/alerts/silence" not in doc["paths"]
    page = c.get("/api/v1/docs").get_data(as_text=True)
    assert "/api/v1/alerts/send" in page and "<script" not in page


def test_an_admin_issues_a_token_shown_once_and_revokes_it_an_operator_may_not(api):
    c = api.client()
    made = c.post("/api/v1/tokens", json={"user": "li.wei", "label": "ci", "days": 7}, headers=api.auth(api.admin))
    assert made.status_code == 201
    token = made.get_json()["token"]
    assert c.get("/api/v1/whoami", headers=api.auth(token)).get_json()["name"] == "li.wei"
    assert token not in str(api.store.tokens().to_dict())
    assert c.post("/api/v1/tokens", json={"user": "li.wei"}, headers=api.auth(api.operator)).status_code == 403
    assert c.post("/api/v1/tokens", json={"user": "ghost"}, headers=api.auth(api.admin)).status_code == 404
    tid = made.get_json()["id"]
    assert c.post(f"/api/v1/tokens/{tid}/revoke", headers=api.auth(api.operator)).status_code == 403
    assert c.post(f"/api/v1/tokens/{tid}/revoke", headers=api.auth(api.admin)).status_code == 200
    assert c.get("/api/v1/whoami", headers=api.auth(token)).status_code == 401


def test_an_expired_session_cannot_act_on_the_alerts_page(api):
    """Logged in, then the session outlives session_minutes: the acknowledge form (with its valid
    CSRF token) is refused and the alert stays firing."""
    import re
    c = api.client()
    page = c.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert c.post("/login", data={"name": "li.wei", "password": "correct horse battery",
                                  "csrf_token": token}).status_code == 302
    token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").get_data(as_text=True)).group(1)
    with c.session_transaction() as s:
        s["login_at"] = time.time() - 481 * 60          # session_minutes defaults to 480
    aid = firing_id(api)
    answer = c.post(f"/alerts/{aid}/acknowledge", data={"csrf_token": token, "comment": "late"})
    assert answer.status_code == 403
    assert api.store.alert(aid)["state"] == "firing"
    assert "alert.acknowledge" not in set(api.store.audit_log()["action"])
