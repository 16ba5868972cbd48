"""End to end on the real Zabbix 6.0 stack: a Zabbix trigger fires, Zabbix's action sends the
problem through Peakwatch's webhook media type (imported by scripts/zabbix-up.sh) to a running
Peakwatch, whose alert engine flags it and pages through a loopback SMS gateway; the recovery
resolves the alert. The stack's action covers the host group Peakwatch/Webhook (fixtures.json
``webhook``): this test points the media type at its own Peakwatch and fires that group's trigger."""
from __future__ import annotations

import fcntl
import json
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS / "collectors"))
sys.path.insert(0, str(TESTS / "alerting"))
from gatewaykit import Loopback  # noqa: E402
from zabbixkit import client, sender, source, stack_or_skip  # noqa: E402

from accounts.users import add_user, issue_token  # noqa: E402
from alerting import config as acfg  # noqa: E402
from alerting.scheduler import Scheduler  # noqa: E402
from core.settings import load_settings  # noqa: E402
from store import Store  # noqa: E402

pytestmark = pytest.mark.zabbix
PORTS = range(8670, 8680)         # this test's loopback ports
WAIT_S = 120
PAGER = "+8613800138000"


def free_port() -> int:
    for port in PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what: str, check, timeout: float = WAIT_S, every: float = 1.0):
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout:.0f} s for {what}")
        time.sleep(every)


class Peakwatch:
    """The web app (pages and /api/v1) on a real werkzeug server, with the alert engine and outbox
    sender threads as app.py starts them, paging through ``gateway_url``."""

    def __init__(self, tmp_path: Path, gateway_url: str):
        import app as appmod
        from werkzeug.serving import make_server
        self.store = Store.open(f"sqlite:///{tmp_path / 'pw.sqlite'}")
        now = int(time.time())
        add_user(self.store, "zabbix", "correct horse battery", "operator", now)
        self.token = issue_token(self.store, "zabbix", now, name="zabbix webhook")
        env = {"PEAKWATCH_STORE_URL": self.store.url, "PEAKWATCH_CACHE_TYPE": "simple",
               "PEAKWATCH_WALL_WARM_SECONDS": "0"}
        # collected once by the test, as if the collector ran every 10 minutes: neither stale nor silent
        self.settings = load_settings(cli={"collect_interval": 600}, env=env)
        cfg = acfg.parse({"interval": 2,
                          "gateways": {"sms": {"type": "http", "url": gateway_url + "/alert/send",
                                               "ok_field": "code=0"}},
                          "routes": [{"name": "dba", "severities": ["crit", "warn"],
                                      "to": [f"DBA <{PAGER}>"], "gateway": "sms"}]})
        web = appmod.make_web_app(self.store, self.settings, alerting=False)
        self.alerting = Scheduler(self.store, self.settings, cfg).start()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = make_server("127.0.0.1", self.port, web.server, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.web = web

    def close(self) -> None:
        self.alerting.stop()
        warmer = self.web.server.extensions.get("peakwatch_warmer")
        if warmer is not None:
            warmer.stop(timeout=5)
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
        self.store.close()


def set_media_params(cl, mtid: str, url: str, token: str) -> None:
    mt = cl.call("mediatype.get", {"mediatypeids": [mtid], "output": ["parameters"]})[0]
    params = [{"name": p["name"],
               "value": url if p["name"] == "peakwatch_url" else token if p["name"] == "peakwatch_token"
               else p["value"]} for p in mt["parameters"]]
    cl.call("mediatype.update", {"mediatypeid": mtid, "parameters": params})


def trigger_value(cl, triggerid: str) -> str:
    return cl.call("trigger.get", {"triggerids": [triggerid], "output": ["value"]})[0]["value"]


def push(wh: dict, value: int) -> None:
    processed, failed = sender().send([{"host": wh["host"], "key": wh["key"], "value": str(value)}])
    assert (processed, failed) == (1, 0), "the Zabbix trapper refused the value (run scripts/zabbix-up.sh)"


@pytest.fixture
def webhook_stack():
    stack = stack_or_skip()
    if "webhook" not in stack:
        pytest.fail("fixtures.json has no webhook part: run `bash scripts/zabbix-up.sh` (it imports the media type)")
    # one test at a time points the stack's media type at its Peakwatch
    with open(Path(tempfile.gettempdir()) / "peakwatch-zabbix-webhook.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        cl = client(stack)
        wh = stack["webhook"]
        pushed = int(time.time())
        push(wh, 100)                             # a problem left by an interrupted run recovers first
        wait_for("the webhook trigger to be OK", lambda: trigger_value(cl, wh["triggerid"]) == "0")
        # and the value is in Zabbix's history before Peakwatch reads it: read too early, the host
        # has no data in the window and Peakwatch rightly flags it stale (a second alert, a second page)
        wait_for("Zabbix to store the value", lambda: int(cl.call("item.get", {
            "hostids": [wh["hostid"]], "filter": {"key_": [wh["key"]]}, "output": ["lastclock"]})[0]["lastclock"]) >= pushed)
        try:
            yield stack, cl, wh
        finally:
            push(wh, 100)
            set_media_params(cl, wh["mediatypeid"], "<PEAKWATCH_URL>", "<PEAKWATCH_TOKEN>")


def test_a_zabbix_problem_pages_through_peakwatch_once_and_its_recovery_resolves_it(tmp_path, webhook_stack):
    stack, cl, wh = webhook_stack
    lb = Loopback("http")
    pw = Peakwatch(tmp_path, lb.url)
    try:
        source(stack, pw.store, host_group=wh["group"], first_window=600).collect()   # Peakwatch collects the host
        assert pw.store.latest()["ts"].notna().any(), "the host's value was not collected"
        inst = pw.store.instances()
        assert list(inst["name"]) == ["coupon-redis-01:6379"] and list(inst["business"]) == ["coupon"]
        set_media_params(cl, wh["mediatypeid"], pw.url, pw.token)
        since = int(time.time())
        push(wh, 9000)
        event = wait_for("Zabbix's problem event", lambda: cl.call(
            "event.get", {"objectids": [wh["triggerid"]], "source": 0, "object": 0, "value": 1, "time_from": since,
                          "output": ["eventid", "name"]}))
        assert len(event) == 1
        eventid = event[0]["eventid"]

        def paged():
            alerts = pw.store.open_alerts()
            mine = alerts[alerts["rule"] == "zabbix:" + wh["trigger"]]
            return (mine,) if len(mine) and lb.delivered else None
        [alerts] = wait_for("Peakwatch's page through the loopback gateway", paged)
        assert len(alerts) == 1
        alert = alerts.iloc[0]
        assert alert["instance"] == "coupon-redis-01:6379" and alert["business"] == "coupon"
        assert alert["severity"] == "crit" and alert["state"] == "firing"
        firing = pw.store.outbox()
        assert list(firing["kind"]) == ["firing"] and json.loads(firing.iloc[0]["alert_ids"]) == [int(alert["id"])]
        [page] = lb.delivered.values()
        assert page["to"] == PAGER and "coupon" in page["text"] and "too many client connections" in page["text"]

        push(wh, 100)
        wait_for("the alert to be resolved", lambda: pw.store.alert(int(alert["id"]))["state"] == "resolved")
        # Zabbix sent both through the media type, each once, and says they were delivered
        action = cl.call("action.get", {"filter": {"name": [wh["action"]]}, "output": ["actionid"]})[0]["actionid"]

        def zabbix_done():
            got = cl.call("alert.get", {"actionids": [action], "time_from": since, "mediatypeids": [wh["mediatypeid"]],
                                        "output": ["status", "error", "eventid", "p_eventid"]})
            return len(got) >= 2 and all(a["status"] in ("1", "2") for a in got) and got
        told = wait_for("Zabbix's two webhook deliveries", zabbix_done)
        assert sorted((a["eventid"] == eventid, a["p_eventid"] == eventid, a["status"]) for a in told) == [
            (False, True, "1"), (True, False, "1")]            # the recovery's and the problem's, both sent
        wait_for("the resolved page", lambda: (pw.store.outbox()["state"] == "sent").sum() == 2)
        pw.alerting.engine.run_once()          # one more cycle of each: nothing new, nothing sent again
        pw.alerting.sender.run_once()
        out = pw.store.outbox()
        assert sorted(out["kind"]) == ["firing", "resolved"] and set(out["state"]) == {"sent"}
        pages = sorted(p["text"] for p in lb.delivered.values())
        assert len(pages) == 2 and pages[0].startswith("[CRIT] coupon (4*)") and pages[1].startswith("[OK] coupon")
        assert lb.duplicates == 0 and len(lb.requests) == 2                     # nothing sent twice
        assert pw.store.open_alerts().empty
        assert {"zabbix.problem", "zabbix.recovery"} <= set(pw.store.audit_log()["action"])
    finally:
        pw.close()
        lb.close()
