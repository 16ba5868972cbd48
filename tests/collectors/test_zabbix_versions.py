"""Zabbix 6.0 to 7.2, answers of the wrong shape and the pass deadline, against a loopback stand-in.

Only Zabbix 6.0 runs here; the stand-in checks what each newer version checks (from the API
changelogs): 6.4 removed ``user.login``'s ``user`` parameter (``username`` since 5.4) and added the
``Authorization: Bearer`` header; 7.2 removed the JSON body's ``auth`` field; 6.0 knows no Bearer
header ("Not authorized."); ``apiinfo.version`` must come without credentials.
"""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from collectors.zabbix.client import ZabbixClient
from collectors.zabbix.history import Fetcher, PassReport
from collectors.zabbix.inventory import discover
from collectors.zabbix.keymap import KeyMap
from core.errors import ZabbixProtocolError, ZabbixUnavailable

TOKEN, SESSION = "a" * 64, "0424bd59b807674191e7d77572075f33"


def _v(text: str) -> tuple[int, int]:
    major, minor = text.split(".")[:2]
    return int(major), int(minor)


class StandIn(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server API
        doc = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        time.sleep(self.server.delay)
        bearer = self.headers.get("Authorization", "")
        result = self.server.answer(doc, bearer)
        data = json.dumps(result).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            self.wfile.write(data)
        except BrokenPipeError:       # the client gave up (the deadline test)
            pass

    def log_message(self, *args):
        pass


def error(doc, data):
    return {"jsonrpc": "2.0", "error": {"code": -32602, "message": "Invalid params.", "data": data}, "id": doc["id"]}


def zabbix(version: str):
    """What Zabbix ``version`` answers (only what the client uses)."""
    v = _v(version)

    def answer(doc, bearer):
        method, params = doc["method"], doc.get("params") or {}
        if method == "apiinfo.version":
            if "auth" in doc or bearer:
                return error(doc, 'The "apiinfo.version" method must be called without the "auth" parameter.')
            return {"jsonrpc": "2.0", "result": version, "id": doc["id"]}
        if "auth" in doc and v >= (7, 2):
            return error(doc, 'Invalid parameter "/": unexpected parameter "auth".')
        if method == "user.login":
            if "user" in params and v >= (6, 4):
                return error(doc, 'Invalid parameter "/": unexpected parameter "user".')
            who = params.get("username", params.get("user"))
            if who != "Admin" or params.get("password") != "zabbix":
                return error(doc, "Incorrect user name or password or account is temporarily blocked.")
            return {"jsonrpc": "2.0", "result": SESSION, "id": doc["id"]}
        given = doc.get("auth") or (bearer.removeprefix("Bearer ") if v >= (6, 4) else None)
        if given not in (TOKEN, SESSION):
            return error(doc, "Not authorized.")
        return {"jsonrpc": "2.0", "result": [], "id": doc["id"]}
    return answer


@pytest.fixture
def stand_in():
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandIn)
    server.delay = 0.0
    server.answer = zabbix("6.0.14")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("version", ["6.0.14", "6.4.21", "7.0.5", "7.2.3"])
@pytest.mark.parametrize("credentials", [{"token": TOKEN}, {"user": "Admin", "password": "zabbix"}],
                         ids=["token", "password"])
def test_each_supported_version_is_spoken_to_as_it_expects(stand_in, version, credentials):
    stand_in.answer = zabbix(version)
    client = ZabbixClient(stand_in.url, timeout=5, retries=0, **credentials)
    assert client.call("host.get", {"output": ["hostid"]}) == []
    assert str(client.server_version) == version


def test_the_stand_in_refuses_what_the_real_versions_refuse(stand_in):
    """The checks above mean something: the old way of talking fails where Zabbix would refuse it."""
    from pyzabbix import ZabbixAPI, ZabbixAPIException
    stand_in.answer = zabbix("7.2.3")
    api = ZabbixAPI(stand_in.url, detect_version=False)
    api.login(api_token=TOKEN)
    with pytest.raises(ZabbixAPIException, match='unexpected parameter "auth"'):
        api.host.get(output=["hostid"])
    stand_in.answer = zabbix("6.4.21")
    with pytest.raises(ZabbixAPIException, match='unexpected parameter "user"'):
        ZabbixAPI(stand_in.url, detect_version=False).login(user="Admin", password="zabbix")


@pytest.mark.parametrize("answer, where", [
    ({"jsonrpc": "2.0", "id": 1}, "without a result"),
    ({"jsonrpc": "2.0", "result": "oops", "id": 1}, "answered str"),
    ({"jsonrpc": "2.0", "result": [{"itemid": "1", "value": "2"}], "id": 1}, "without clock"),
    ({"jsonrpc": "2.0", "result": [7], "id": 1}, "without itemid, clock, value"),
])
def test_an_answer_of_the_wrong_shape_is_a_protocol_error_naming_it(stand_in, answer, where):
    base = zabbix("6.0.14")
    stand_in.answer = lambda doc, bearer: base(doc, bearer) if doc["method"] == "apiinfo.version" \
        else {**answer, "id": doc["id"]}
    fetch = Fetcher(ZabbixClient(stand_in.url, token=TOKEN, timeout=5, retries=0), PassReport())
    with pytest.raises(ZabbixProtocolError, match=where):
        fetch.history({"1": 0}, 0, 60)


def test_discovery_of_the_wrong_shape_is_a_protocol_error(stand_in):
    base = zabbix("6.0.14")
    stand_in.answer = lambda doc, bearer: base(doc, bearer) if doc["method"] == "apiinfo.version" \
        else {"jsonrpc": "2.0", "result": {"hosts": []}, "id": doc["id"]}
    with pytest.raises(ZabbixProtocolError, match="host.get answered dict"):
        discover(ZabbixClient(stand_in.url, token=TOKEN, timeout=5, retries=0), KeyMap())


def test_a_pass_deadline_bounds_slow_answers_and_retries(stand_in):
    """Each answer takes 1.5 s: with a 1 s timeout and 4 retries a call could take ~20 s; the pass
    deadline of 2 s ends it near 2 s with an error that names the setting."""
    client = ZabbixClient(stand_in.url, token=TOKEN, timeout=1.0, retries=4, backoff=0.5)
    client.login()
    stand_in.delay = 1.5
    client.start_pass(2.0)
    t0 = time.monotonic()
    with pytest.raises(ZabbixUnavailable, match="zabbix_pass_seconds"):
        client.call("host.get", {})
    assert time.monotonic() - t0 < 3.0
    client.end_pass()
    stand_in.delay = 0.0
    assert client.call("host.get", {}) == []            # the next pass starts afresh
