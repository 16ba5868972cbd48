"""/alerts in real Chromium: an operator logs in, acknowledges an alert with a comment, silences
another from its timeline and ends the silence, sees the wall mark the acknowledged flag, logs
out; a viewer sees the same alerts without a button and a forged post is refused. English and
Chinese, screenshots in artifacts/screenshots."""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import requests

import fleetdata
from accounts.users import add_user
from store import Store

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery"
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


@pytest.fixture
def incident(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 's.sqlite'}")
    now = int(time.time())
    fleetdata.write_fleet(store, fleetdata.build_inventory(60), now, raw_hours=0.5)
    fleetdata.evaluate(store, now)
    add_user(store, "li.wei", PASSWORD, "operator", now)
    yield store
    store.close()


def firing(store):
    df = store.open_alerts(include_pending=False)
    return df[df["state"] == "firing"].sort_values("id")


@pytest.mark.parametrize("lang, ack_word, done_word", [("en", "Acknowledge", "acknowledged"), ("zh", "确认", "已确认")])
def test_an_operator_acknowledges_and_silences_and_the_wall_shows_it(page, serve, incident, lang, ack_word, done_word):
    store = incident
    server = serve(store, language=lang)
    SHOTS.mkdir(parents=True, exist_ok=True)
    # a viewer reads the same alerts but has no button
    page.goto(server.url + "/alerts")
    page.wait_for_selector("#open-alerts tr[id^=alert-]", timeout=30_000)
    assert page.locator(".ack-button").count() == 0
    assert page.locator("#read-only-note").count() == 1
    page.screenshot(path=str(SHOTS / f"alerts-viewer-{lang}.png"), full_page=True)
    # the operator logs in
    page.goto(server.url + "/login?next=/alerts")
    page.fill("#login-name", "li.wei")
    page.fill("#login-password", "wrong password")
    page.click("#login-submit")
    page.wait_for_selector("#login-note", timeout=10_000)
    page.screenshot(path=str(SHOTS / f"login-failed-{lang}.png"))
    page.fill("#login-name", "li.wei")
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_selector("#open-alerts .ack-button", timeout=30_000)
    assert "li.wei" in page.locator("#account-name").inner_text()
    target = firing(store).iloc[0]
    aid = int(target["id"])
    row = page.locator(f"#alert-{aid}")
    assert ack_word in row.locator(".ack-button").inner_text()
    page.fill(f"#ack-comment-{aid}", "failing over to the replica")
    page.click(f"#ack-{aid}")
    page.wait_for_selector(f"#alert-detail", timeout=30_000)
    page.wait_for_selector(".flash-ok", timeout=10_000)
    after = store.alert(aid)
    assert after["state"] == "acknowledged" and after["acked_by"] == "li.wei"
    assert after["ack_comment"] == "failing over to the replica"
    assert done_word in page.locator("#alert-timeline").inner_text()
    page.goto(server.url + "/alerts")
    page.wait_for_selector(f"#alert-{aid}.acked", timeout=30_000)
    assert page.locator(f"#alert-{aid} .ack-button").count() == 0
    assert done_word in page.locator(f"#alert-{aid}").inner_text()
    page.screenshot(path=str(SHOTS / f"alerts-operator-{lang}.png"), full_page=True)
    # silence another alert from its timeline, then end the silence
    other = int(firing(store).iloc[0]["id"])
    page.goto(f"{server.url}/alerts?alert={other}")
    page.wait_for_selector("#silence-form", timeout=30_000)
    assert page.locator("#silence-business").input_value() == store.alert(other)["business"]
    page.screenshot(path=str(SHOTS / f"alerts-detail-{lang}.png"), full_page=True)
    page.fill("#silence-reason", "failover drill")
    page.click("#silence-submit")
    page.wait_for_selector(".flash-ok", timeout=30_000)
    silences = store.silences(active_at=int(time.time()))
    assert len(silences) == 1 and silences.iloc[0]["created_by"] == "li.wei"
    assert silences.iloc[0]["matchers"]["business"] == store.alert(other)["business"]
    sid = int(silences.iloc[0]["id"])
    page.goto(server.url + "/alerts")
    page.click(f"#unsilence-{sid}")
    page.wait_for_selector(".flash-ok", timeout=30_000)
    assert store.silences(active_at=int(time.time())).empty
    # the wall marks the acknowledged flag
    page.goto(server.url + "/")
    page.wait_for_selector("#wall-flags a.flag.acked", timeout=30_000)
    assert target["business"] in page.locator("#wall-flags a.flag.acked").first.inner_text()
    page.screenshot(path=str(SHOTS / f"alerts-wall-after-ack-{lang}.png"))
    # the business page dims it too, and its row leads to the alert
    page.goto(f"{server.url}/business/{target['business']}")
    page.wait_for_selector("#flags-table tr.acked", timeout=30_000)
    page.locator(f"#flags-table a[href='/alerts?alert={aid}']").first.click()
    page.wait_for_selector("#alert-timeline", timeout=30_000)
    # log out: the buttons are gone
    page.click("#logout-button")
    page.goto(server.url + "/alerts")
    page.wait_for_selector("#open-alerts", timeout=30_000)
    assert page.locator(".ack-button").count() == 0
    actions = list(store.audit_log()["action"])
    assert {"login", "alert.acknowledge", "silence.add", "silence.expire"} <= set(actions)
    assert not page.errors


def test_a_viewer_cannot_act_even_with_a_valid_form_token(serve, incident):
    store = incident
    server = serve(store)
    aid = int(firing(store).iloc[0]["id"])
    with requests.Session() as http:
        login = http.get(server.url + "/login", timeout=30).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
        answer = http.post(f"{server.url}/alerts/{aid}/acknowledge", data={"csrf_token": token, "comment": "x"},
                           allow_redirects=False, timeout=30)
        assert answer.status_code == 403
        answer = http.post(f"{server.url}/alerts/silence", data={"csrf_token": token, "business": "pay",
                                                                 "duration": "1h", "reason": "x"},
                           allow_redirects=False, timeout=30)
        assert answer.status_code == 403
        # logged in but without the form's token: refused too
        http.post(server.url + "/login", data={"name": "li.wei", "password": PASSWORD, "csrf_token": token},
                  timeout=30)
        answer = http.post(f"{server.url}/alerts/{aid}/acknowledge", data={"comment": "x"}, allow_redirects=False,
                           timeout=30)
        assert answer.status_code == 400
    assert store.alert(aid)["state"] == "firing"
    assert store.silences().empty
    assert "alert.acknowledge" not in set(store.audit_log()["action"])


def test_the_history_filters_and_its_csv(serve, incident):
    store = incident
    server = serve(store)
    business = firing(store).iloc[0]["business"]
    csv = requests.get(f"{server.url}/alerts.csv", params={"business": business, "days": "2"}, timeout=30)
    assert csv.status_code == 200 and csv.headers["Content-Type"].startswith("text/csv")
    lines = csv.text.strip().splitlines()
    assert lines[0].startswith("id,business,product_line,star")
    assert len(lines) > 1 and all(f",{business}," in line for line in lines[1:])
    everything = requests.get(f"{server.url}/alerts.csv", timeout=30).text.strip().splitlines()
    assert len(everything) > len(lines)
