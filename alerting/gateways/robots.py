"""Group chat robots: DingTalk (signed webhook), WeCom and Feishu (signed). Each mentions the
recipient's mobile number when the recipient is one. These services keep no idempotency key: a
crash between their answer and the outbox's record may repeat one chat message (SMS gateways with
keys do not)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Mapping
from urllib.parse import quote_plus

from alerting.gateways.base import DeliveryResult, Message, post, secret
from alerting.messages import is_e164

DINGTALK_RETRY = {130101, -1}          # sending too fast, system busy
WECOM_RETRY = {45009, -1}              # API frequency limit, system busy
FEISHU_RETRY = {11232}                  # frequency limited (9499 is a bad request: not retried)


def _mobile(recipient: str) -> list[str]:
    return [recipient.lstrip("+")[2:] if recipient.startswith("+86") else recipient] if is_e164(recipient) else []


class _Robot:
    def __init__(self, name: str, conf: dict, env: Mapping[str, str], clock=time.time):
        self.name = name
        self.url = conf["url"]
        self.timeout = float(conf.get("timeout", 10))
        self.secret = secret(conf, "secret_env", env, name) if conf.get("secret_env") else ""
        self.clock = clock


class DingTalkGateway(_Robot):
    kind = "dingtalk"

    def signed_url(self) -> str:
        """DingTalk's signature: timestamp (ms) and base64 HMAC-SHA256 of "timestamp\\nsecret"."""
        if not self.secret:
            return self.url
        ts = str(int(self.clock() * 1000))
        digest = hmac.new(self.secret.encode(), f"{ts}\n{self.secret}".encode(), hashlib.sha256).digest()
        sep = "&" if "?" in self.url else "?"
        return f"{self.url}{sep}timestamp={ts}&sign={quote_plus(base64.b64encode(digest))}"

    def send(self, message: Message) -> DeliveryResult:
        body = {"msgtype": "text", "text": {"content": message.body}, "at": {"atMobiles": _mobile(message.recipient)}}
        return post(self.signed_url(), json_body=body, timeout=self.timeout,
                    accept=lambda d: (d.get("errcode") == 0, None, d.get("errcode") in DINGTALK_RETRY))


class WeComGateway(_Robot):
    kind = "wecom"

    def send(self, message: Message) -> DeliveryResult:
        body = {"msgtype": "text", "text": {"content": message.body,
                                            "mentioned_mobile_list": _mobile(message.recipient)}}
        return post(self.url, json_body=body, timeout=self.timeout,
                    accept=lambda d: (d.get("errcode") == 0, None, d.get("errcode") in WECOM_RETRY))


class FeishuGateway(_Robot):
    kind = "feishu"

    def send(self, message: Message) -> DeliveryResult:
        body: dict = {"msg_type": "text", "content": {"text": message.body}}
        if self.secret:
            ts = str(int(self.clock()))
            key = f"{ts}\n{self.secret}".encode()
            body.update(timestamp=ts, sign=base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode())
        return post(self.url, json_body=body, timeout=self.timeout,
                    accept=lambda d: (d.get("code", d.get("StatusCode")) == 0, None, d.get("code") in FEISHU_RETRY))
