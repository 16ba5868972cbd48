"""A loopback stand-in for SMS and chat gateways: a real HTTP server on 127.0.0.1 that checks what
the real service checks (JSON body, required fields, DingTalk's signature within an hour,
WeCom's key) and, like a real SMS gateway, accepts a message once per idempotency key.

``mode`` plays faults: ``ok``, ``500``, ``timeout`` (answers after ``delay`` s), ``garbage`` (200,
not JSON), ``400``. ``fail_first`` answers the fault that many times, then recovers.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, parse_qsl, quote, urlparse

ALIYUN_KEY = ("AKID-test", "aliyun-secret")
TENCENT_KEY = ("AKID-tc-test", "tencent-secret")


def tc3_signature(headers, body: bytes, secret: str, date: str, service: str, signed: list[str]) -> str:
    """Tencent Cloud's TC3-HMAC-SHA256 signature of a POST to /, computed as the service does."""
    ch = "".join(f"{h}:{headers.get(h, '').strip().lower() if h == 'content-type' else headers.get(h, '').strip()}\n"
                 for h in signed)
    canonical = "\n".join(["POST", "/", "", ch, ";".join(signed), hashlib.sha256(body).hexdigest()])
    scope = f"{date}/{service}/tc3_request"
    to_sign = "\n".join(["TC3-HMAC-SHA256", headers.get("X-TC-Timestamp", ""), scope,
                          hashlib.sha256(canonical.encode()).hexdigest()])
    k = hmac.new(("TC3" + secret).encode(), date.encode(), hashlib.sha256).digest()
    k = hmac.new(k, service.encode(), hashlib.sha256).digest()
    k = hmac.new(k, b"tc3_request", hashlib.sha256).digest()
    return hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()


def acs3_signature(method: str, path: str, query: str, headers, body: bytes, secret: str, signed: list[str]) -> str:
    """Aliyun's ACS3-HMAC-SHA256 signature of a request, computed as the service does."""
    enc = lambda s: quote(s, safe="-_.~")  # noqa: E731 - RFC 3986, as the spec says
    cq = "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted(parse_qsl(query, keep_blank_values=True)))
    ch = "".join(f"{h}:{headers.get(h, '').strip()}\n" for h in signed)
    canonical = "\n".join([method, path or "/", cq, ch, ";".join(signed), hashlib.sha256(body).hexdigest()])
    to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
    return hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()


class Loopback:
    def __init__(self, kind: str = "http", secret: str = "", mode: str = "ok", fail_first: int = 0,
                 delay: float = 3.0, answer_delay: float = 0.0):
        self.kind, self.secret, self.mode, self.fail_first, self.delay = kind, secret, mode, fail_first, delay
        self.answer_delay = answer_delay      # accepted at once, answered later (a crash can fall between)
        self.lock = threading.Lock()
        self.requests: list[dict] = []          # every request that arrived
        self.delivered: dict[str, dict] = {}    # idempotency key -> first accepted body
        self.duplicates = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # ---------------------------------------------------------------- what the real service checks
    def check_aliyun(self, method: str, raw_path: str, headers, body: bytes) -> tuple[int, dict]:
        u = urlparse(raw_path)
        auth = headers.get("Authorization", "")
        fields = dict(p.split("=", 1) for p in auth.removeprefix("ACS3-HMAC-SHA256 ").split(",") if "=" in p)
        if fields.get("Credential") != ALIYUN_KEY[0]:
            return 404, {"Code": "InvalidAccessKeyId.NotFound", "Message": "Specified access key is not found."}
        signed = fields.get("SignedHeaders", "").split(";")
        want = acs3_signature(method, u.path, u.query, headers, body, ALIYUN_KEY[1], signed)
        if not hmac.compare_digest(fields.get("Signature", ""), want) or headers.get("x-acs-action") != "SendSms":
            return 400, {"Code": "SignatureDoesNotMatch", "Message": "Specified signature is not matched."}
        q = dict(parse_qsl(u.query))
        for p in ("PhoneNumbers", "SignName", "TemplateCode"):
            if not q.get(p):
                return 400, {"Code": "MissingParameter", "Message": f"{p} is mandatory for this action."}
        if not q["PhoneNumbers"].isdigit():
            return 200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "invalid mobile number"}
        text = json.loads(q.get("TemplateParam", "{}")).get("text", "")
        return 200, {"Code": "OK", "Message": "OK", "BizId": f"{abs(hash(q.get('OutId'))) % 10**12}^0",
                     "RequestId": "F655A8D5", "_key": q.get("OutId") or text, "_body": q}

    def check_tencent(self, headers, raw: bytes) -> tuple[int, dict]:
        def error(code, msg):
            return 200, {"Response": {"Error": {"Code": code, "Message": msg}, "RequestId": "r-1"}}
        auth = headers.get("Authorization", "")
        fields = dict(p.strip().split("=", 1) for p in auth.removeprefix("TC3-HMAC-SHA256 ").split(",") if "=" in p)
        sid, _, rest = fields.get("Credential", "").partition("/")
        date, service = (rest.split("/") + ["", ""])[:2]
        if sid != TENCENT_KEY[0]:
            return error("AuthFailure.SecretIdNotFound", "The SecretId is not found.")
        want = tc3_signature(headers, raw, TENCENT_KEY[1], date, service, fields.get("SignedHeaders", "").split(";"))
        if not hmac.compare_digest(fields.get("Signature", ""), want) or headers.get("X-TC-Action") != "SendSms":
            return error("AuthFailure.SignatureFailure", "The provided credentials could not be validated.")
        body = json.loads(raw)
        for p in ("PhoneNumberSet", "SmsSdkAppId", "TemplateId"):
            if not body.get(p):
                return error("MissingParameter", f"The request is missing a required parameter `{p}`.")
        number = body["PhoneNumberSet"][0]
        code = "Ok" if number.startswith("+") and number[1:].isdigit() else "InvalidParameterValue.IncorrectPhoneNumber"
        return 200, {"Response": {"SendStatusSet": [{"SerialNo": "2433:338", "PhoneNumber": number, "Fee": 1,
                                                     "SessionContext": body.get("SessionContext", ""), "Code": code,
                                                     "Message": "send success" if code == "Ok" else "bad number",
                                                     "IsoCode": "CN"}], "RequestId": "r-1"},
                     "_key": body.get("SessionContext") if code == "Ok" else None, "_body": body}

    def check(self, path: str, query: dict, headers, body: dict) -> tuple[int, dict]:
        if self.kind == "http":
            key = headers.get("Idempotency-Key")
            if not key or not body.get("to") or not body.get("text"):
                return 400, {"code": 400, "message": "to, text and an Idempotency-Key header are required"}
            return 200, {"code": 0, "id": f"gw-{hashlib.sha1(key.encode()).hexdigest()[:10]}", "_key": key}
        if self.kind == "dingtalk":
            ts, sign = query.get("timestamp", [""])[0], query.get("sign", [""])[0]
            if self.secret:
                want = base64.b64encode(hmac.new(self.secret.encode(), f"{ts}\n{self.secret}".encode(),
                                                 hashlib.sha256).digest()).decode()
                if sign != want or abs(time.time() * 1000 - int(ts or 0)) > 3600_000:
                    return 200, {"errcode": 310000, "errmsg": "sign not match"}
            if body.get("msgtype") != "text" or not body.get("text", {}).get("content"):
                return 200, {"errcode": 40035, "errmsg": "missing text content"}
            return 200, {"errcode": 0, "errmsg": "ok", "_key": body["text"]["content"]}
        if self.kind == "feishu":
            if self.secret:
                key = f"{body.get('timestamp', '')}\n{self.secret}".encode()
                want = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
                if body.get("sign") != want or abs(time.time() - int(body.get("timestamp") or 0)) > 3600:
                    return 200, {"code": 19021, "msg": "sign match fail or timestamp is not within one hour"}
            if body.get("msg_type") != "text" or not body.get("content", {}).get("text"):
                return 200, {"code": 9499, "msg": "Bad Request"}
            return 200, {"code": 0, "msg": "success", "_key": body["content"]["text"]}
        if self.kind == "wecom":
            if query.get("key", [""])[0] != "robot-key":
                return 200, {"errcode": 93000, "errmsg": "invalid webhook url"}
            if not body.get("text", {}).get("content"):
                return 200, {"errcode": 44004, "errmsg": "empty content"}
            return 200, {"errcode": 0, "errmsg": "ok", "_key": body["text"]["content"]}
        raise AssertionError(self.kind)

    def _handler(self):
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802 - http.server API
                self.do_POST()

            def do_POST(self):  # noqa: N802 - http.server API
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
                u = urlparse(self.path)
                with outer.lock:
                    outer.requests.append({"path": u.path, "headers": dict(self.headers), "raw": raw})
                    fault = outer.mode if outer.fail_first > 0 or outer.mode != "ok" else "ok"
                    if outer.fail_first > 0:
                        outer.fail_first -= 1
                        if outer.fail_first == 0:
                            outer.mode = "ok"
                if fault == "timeout":
                    time.sleep(outer.delay)
                    return self._answer(200, {"code": 0, "late": True})   # too late: the client gave up
                if fault == "500":
                    return self._answer(500, {"message": "internal error"})
                if fault == "400":
                    return self._answer(400, {"code": "isv.MOBILE_NUMBER_ILLEGAL", "message": "bad number"})
                if fault == "garbage":
                    return self._answer(200, None, b"<html>gateway maintenance</html>")
                if outer.kind in ("aliyun", "tencent"):
                    status, doc = (outer.check_aliyun(self.command, self.path, self.headers, raw)
                                   if outer.kind == "aliyun" else outer.check_tencent(self.headers, raw))
                    body = doc.pop("_body", {})
                else:
                    try:
                        body = json.loads(raw)
                    except ValueError:
                        return self._answer(400, {"message": "body is not JSON"})
                    status, doc = outer.check(u.path, parse_qs(u.query), self.headers, body)
                key = doc.pop("_key", None)
                if key is not None:
                    with outer.lock:
                        if key in outer.delivered:
                            outer.duplicates += 1
                        else:
                            outer.delivered[key] = body
                time.sleep(outer.answer_delay)
                self._answer(status, doc)

            def _answer(self, status, doc, raw=None):
                data = raw if raw is not None else json.dumps(doc).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass
        return Handler
