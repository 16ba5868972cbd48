"""The Zabbix client against a scripted local HTTP server: error mapping, retries, re-login.

A real HTTP server on loopback answers what a broken Zabbix frontend answers (HTML, PHP memory
errors, 5xx, expired sessions), so the whole requests/pyzabbix path runs; no private attribute is
patched.
"""
from __future__ import annotations

import inspect
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from pyzabbix import ZabbixAPIException
from requests import exceptions as rex

from collectors.zabbix.client import ZabbixClient, map_exception
from collectors.zabbix.history import Fetcher, PassReport
from core.errors import (ZabbixAPIError, ZabbixAuthError, ZabbixError, ZabbixProtocolError, ZabbixTooLarge,
                         ZabbixUnavailable)

URL = "http://127.0.0.1:1/api_jsonrpc.php"


class Scripted(BaseHTTPRequestHandler):
    """Answers with ``server.script(request_json) -> (status, body, content_type)``."""

    def do_POST(self):  # noqa: N802 - http.server API
        doc = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if doc.get("method") == "apiinfo.version" and self.server.version:   # asked once per client
            status, body, ctype = ok(doc, self.server.version)
        else:
            self.server.requests.append(doc)
            status, body, ctype = self.server.script(doc)
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_zabbix():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Scripted)
    server.requests = []
    server.version = "6.0.14"
    server.script = lambda doc: (200, {"jsonrpc": "2.0", "result": [], "id": doc["id"]}, "application/json")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()
    server.server_close()


def ok(doc, result):
    return 200, {"jsonrpc": "2.0", "result": result, "id": doc["id"]}, "application/json"


def api_error(doc, message, data):
    return 200, {"jsonrpc": "2.0", "error": {"code": -32602, "message": message, "data": data}, "id": doc["id"]}, \
        "application/json"


def client(url, sleeps=None, **kw):
    kw.setdefault("token", "t0ken-value")
    return ZabbixClient(url, timeout=5, retries=kw.pop("retries", 3), backoff=1.0,
                        sleep=(sleeps.append if sleeps is not None else (lambda s: None)), **kw)


def _all_request_exceptions():
    return sorted({obj for _, obj in inspect.getmembers(rex, inspect.isclass)
                   if issubclass(obj, rex.RequestException)}, key=lambda c: c.__name__)


@pytest.mark.parametrize("exc_type", _all_request_exceptions(), ids=lambda c: c.__name__)
def test_every_requests_exception_becomes_a_zabbix_error_naming_the_api(exc_type):
    exc = exc_type("boom", "<html>", 0) if issubclass(exc_type, ValueError) else exc_type("boom")
    err = map_exception(exc, URL, "history.get")
    assert isinstance(err, ZabbixError)
    text = str(err)
    assert "history.get" in text or "zabbix_url" in text
    assert "boom" in text or "HTTP" in text


@pytest.mark.parametrize("text, expected", [
    ("Unable to parse json: <html><body>Bad gateway</body></html>", ZabbixProtocolError),
    ("Unable to parse json: <br />Fatal error: Allowed memory size of 134217728 bytes exhausted", ZabbixTooLarge),
    ("Received empty response", ZabbixProtocolError),
    ("Error -32602: Invalid params., Session terminated, re-login, please.", ZabbixAuthError),
    ("Error -32602: Invalid params., Not authorized.", ZabbixAuthError),
    ("Error -32500: Application error., Incorrect user name or password or account is temporarily blocked.",
     ZabbixAuthError),
    ("Error -32602: Invalid params., Invalid parameter \"/1\": unexpected parameter \"foo\".", ZabbixAPIError),
])
def test_pyzabbix_errors_are_mapped_by_meaning(text, expected):
    assert type(map_exception(ZabbixAPIException(text), URL, "host.get")) is expected


def test_timeouts_and_refused_connections_are_unavailable_and_say_what_to_check():
    err = map_exception(rex.ReadTimeout("read timed out"), URL, "history.get")
    assert isinstance(err, ZabbixUnavailable) and "zabbix_timeout" in str(err)
    err = map_exception(rex.SSLError("certificate verify failed"), URL, "history.get")
    assert isinstance(err, ZabbixUnavailable) and "zabbix_verify_tls" in str(err)


def test_a_closed_port_is_retried_with_growing_backoff_then_reported():
    sleeps: list[float] = []
    c = client("http://127.0.0.1:9/", sleeps, retries=3)
    with pytest.raises(ZabbixUnavailable, match="unreachable"):
        c.call("host.get", {})
    assert sleeps == [1.0, 2.0, 4.0]


def test_a_url_without_scheme_names_the_setting():
    with pytest.raises(ZabbixProtocolError, match="zabbix_url"):
        client("127.0.0.1:8090").call("host.get", {})


def test_missing_credentials_are_refused_before_any_call():
    with pytest.raises(ZabbixAuthError, match="zabbix_token"):
        ZabbixClient("http://127.0.0.1:8090", "", "", "")


def test_5xx_is_retried_and_the_call_then_succeeds(fake_zabbix):
    answers = iter([(502, "<html>Bad Gateway</html>", "text/html"), (503, "busy", "text/plain")])
    fake_zabbix.script = lambda doc: next(answers, None) or ok(doc, [{"hostid": "1"}])
    sleeps: list[float] = []
    assert client(fake_zabbix.url, sleeps).call("host.get", {}) == [{"hostid": "1"}]
    assert sleeps == [1.0, 2.0]


def test_html_instead_of_json_is_a_protocol_error_not_retried(fake_zabbix):
    fake_zabbix.script = lambda doc: (200, "<html><title>Zabbix</title>Database error</html>", "text/html")
    sleeps: list[float] = []
    with pytest.raises(ZabbixProtocolError, match="HTML or a PHP error"):
        client(fake_zabbix.url, sleeps).call("host.get", {})
    assert sleeps == []


def test_a_404_says_the_url_is_not_the_frontend(fake_zabbix):
    fake_zabbix.script = lambda doc: (404, "not found", "text/plain")
    with pytest.raises(ZabbixProtocolError, match="HTTP 404"):
        client(fake_zabbix.url).call("host.get", {})


def test_wrong_token_is_an_auth_error(fake_zabbix):
    fake_zabbix.script = lambda doc: api_error(doc, "Invalid params.", "Not authorized.")
    with pytest.raises(ZabbixAuthError, match="zabbix_token"):
        client(fake_zabbix.url).call("host.get", {})


def test_an_expired_session_logs_in_again_once(fake_zabbix):
    sessions = iter(["s1", "s2"])

    def script(doc):
        if doc["method"] == "user.login":
            return ok(doc, next(sessions))
        if doc.get("auth") == "s1":
            return api_error(doc, "Invalid params.", "Session terminated, re-login, please.")
        return ok(doc, [{"hostid": "7"}])
    fake_zabbix.script = script
    c = client(fake_zabbix.url, token="", user="Admin", password="zabbix")
    assert c.call("host.get", {}) == [{"hostid": "7"}]
    assert [r["method"] for r in fake_zabbix.requests] == ["user.login", "host.get", "user.login", "host.get"]


def test_a_session_that_expires_twice_is_an_auth_error(fake_zabbix):
    def script(doc):
        if doc["method"] == "user.login":
            return ok(doc, "sess")
        return api_error(doc, "Invalid params.", "Session terminated, re-login, please.")
    fake_zabbix.script = script
    with pytest.raises(ZabbixAuthError, match="expired twice"):
        client(fake_zabbix.url, token="", user="Admin", password="zabbix").call("host.get", {})


def test_the_token_goes_in_the_auth_field_for_zabbix_6_0(fake_zabbix):
    client(fake_zabbix.url, token="abcd1234").call("host.get", {"output": ["hostid"]})
    assert fake_zabbix.requests[-1]["auth"] == "abcd1234"


def test_history_split_when_php_runs_out_of_memory(fake_zabbix):
    """A history.get too big for PHP is split by items until it fits, and nothing is lost."""
    def script(doc):
        ids = doc["params"]["itemids"]
        if len(ids) > 1:
            return 500, "PHP Fatal error:  Allowed memory size of 134217728 bytes exhausted", "text/html"
        return ok(doc, [{"itemid": ids[0], "clock": "100", "value": "1.5"}])
    fake_zabbix.script = script
    rows = Fetcher(client(fake_zabbix.url), PassReport()).history({"1": 0, "2": 0, "3": 0, "4": 0}, 0, 200)
    assert sorted(r["itemid"] for r in rows) == ["1", "2", "3", "4"]


def test_a_call_that_needs_no_retry_makes_one_request(fake_zabbix):
    c = client(fake_zabbix.url)
    c.call("host.get", {})
    assert len(fake_zabbix.requests) == 1


def test_requests_session_keeps_tls_verification_on_by_default():
    c = ZabbixClient("https://zabbix.example", token="x" * 8)
    assert c.api.session.verify is True
    assert isinstance(c.api.session, requests.Session)
