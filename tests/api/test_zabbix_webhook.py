"""The Zabbix webhook media type (contrib/zabbix/peakwatch_mediatype.yaml): its script, run in
Node with Zabbix's HttpRequest stood in for, posts what the API takes; a problem then becomes a
flagged, routed, outboxed alert in the engine's next cycle, and its recovery resolves it.
(On the real Zabbix stack: test_zabbix_webhook_live.py.)"""
from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import yaml

import fleetdata

MEDIA = Path(__file__).resolve().parents[2] / "contrib" / "zabbix" / "peakwatch_mediatype.yaml"
HARNESS = """
const fs = require('fs');
const [script, params, status] = [fs.readFileSync(process.argv[2], 'utf8'), process.argv[3], +process.argv[4]];
const sent = {headers: []};
function HttpRequest() {}
HttpRequest.prototype.addHeader = function (h) { sent.headers.push(h); };
HttpRequest.prototype.post = function (url, body) { sent.url = url; sent.body = body; return '{"ok":1}'; };
HttpRequest.prototype.getStatus = function () { return status; };
const Zabbix = {log: function () {}};
try {
  const out = new Function('value', 'HttpRequest', 'Zabbix', script)(params, HttpRequest, Zabbix);
  console.log(JSON.stringify({out: out, sent: sent}));
} catch (e) {
  console.log(JSON.stringify({error: String(e), sent: sent}));
}
"""


def media_type() -> dict:
    return yaml.safe_load(MEDIA.read_text())["zabbix_export"]["media_types"][0]


def run_script(tmp_path, params: dict, status: int = 200) -> dict:
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        pytest.skip("Node.js is not installed (the webhook's script runs in Zabbix's JavaScript engine)")
    script = tmp_path / "script.js"
    script.write_text(media_type()["script"])
    harness = tmp_path / "harness.js"
    harness.write_text(HARNESS)
    done = subprocess.run([node, str(harness), str(script), json.dumps(params), str(status)],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def macro_params(**values) -> dict:
    """The media type's parameters as Zabbix fills them (macros expanded to ``values``)."""
    out = {p["name"]: p["value"] for p in media_type()["parameters"]}
    out.update(values)
    return out


def test_the_media_type_sends_every_parameter_the_api_takes():
    mt = media_type()
    assert mt["type"] == "WEBHOOK"
    names = {p["name"] for p in mt["parameters"]}
    assert {"eventid", "value", "severity", "name", "host", "hostid", "clock", "acknowledged"} <= names
    assert {t["operation_mode"] for t in mt["message_templates"]} == {"PROBLEM", "RECOVERY"}


def test_an_unset_url_or_token_is_a_clear_error_and_posts_nothing(tmp_path):
    got = run_script(tmp_path, macro_params())
    assert "peakwatch_url" in got["error"] and "url" not in got["sent"]


def test_a_problem_and_its_recovery_flag_and_resolve_an_alert_with_the_same_delivery(tmp_path, api):
    c = api.client()
    alerts = api.store.open_alerts(include_pending=False)
    biz = api.store.businesses()
    paged = set(biz.loc[biz["star"] >= 2, "name"]) - set(alerts["business"])     # the default route pages 2..5 stars
    inst = api.store.instances()
    instance = inst[inst["business"].isin(paged)].iloc[0]
    quiet = instance["name"]
    now = int(time.time())
    params = macro_params(peakwatch_url="http://peakwatch.test:8050/", peakwatch_token=api.operator,
                          eventid="90001", value="1", severity="4", name="Redis is down", host=quiet, hostid="",
                          clock=str(now), acknowledged="No")
    posted = run_script(tmp_path, params)
    assert posted["out"] == "OK"
    sent = posted["sent"]
    assert sent["url"] == "http://peakwatch.test:8050/api/v1/zabbix/events"
    assert f"Authorization: Bearer {api.operator}" in sent["headers"]
    auth = next(h for h in sent["headers"] if h.startswith("Authorization"))
    answer = c.post("/api/v1/zabbix/events", data=sent["body"],
                    headers={"Content-Type": "application/json", "Authorization": auth.split(": ", 1)[1]})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json() == {"eventid": "90001", "active": True, "instance": quiet,
                                 "business": instance["business"]}
    fleetdata.evaluate(api.store, now + 1)
    mine = api.store.open_alerts(include_pending=False)
    mine = mine[(mine["instance"] == quiet) & mine["rule"].str.startswith("zabbix:")]
    assert len(mine) == 1 and mine.iloc[0]["severity"] == "crit" and "Redis is down" in mine.iloc[0]["reason"]
    told = api.store.outbox()
    assert told["alert_ids"].map(lambda ids: int(mine.iloc[0]["id"]) in json.loads(ids)).any()
    # recovery: the script sends value 0, the next cycle resolves the alert
    posted = run_script(tmp_path, {**params, "value": "0"})
    assert c.post("/api/v1/zabbix/events", data=posted["sent"]["body"],
                  headers={"Content-Type": "application/json",
                           "Authorization": f"Bearer {api.operator}"}).get_json()["active"] is False
    fleetdata.evaluate(api.store, now + 2)
    assert api.store.alert(int(mine.iloc[0]["id"]))["state"] == "resolved"
    assert {"zabbix.problem", "zabbix.recovery"} <= set(api.store.audit_log()["action"])


def test_a_refusing_peakwatch_fails_the_zabbix_alert_with_its_answer(tmp_path, api):
    got = run_script(tmp_path, macro_params(peakwatch_url="http://x", peakwatch_token="pw_x", eventid="1", value="1",
                                            severity="2", name="n", host="h", hostid="1", clock="0",
                                            acknowledged="No"), status=401)
    assert "Peakwatch answered 401" in got["error"]


def test_the_api_refuses_a_webhook_post_without_an_operator_token(api):
    body = {"eventid": "5", "value": "1", "severity": 4, "name": "x", "host": "h", "hostid": "", "clock": 1}
    assert api.client().post("/api/v1/zabbix/events", json=body).status_code == 401
    assert api.client().post("/api/v1/zabbix/events", json=body, headers=api.auth(api.viewer)).status_code == 403
    assert api.store.problems().empty
