"""Aliyun SMS (``SendSms``) through Alibaba Cloud's official SDK (alibabacloud-dysmsapi20170525).

The message text goes in the template parameter (``TemplateParam = {"text": ...}``: the
template's one variable), ``OutId`` carries the outbox's idempotency key (Aliyun echoes it in
delivery receipts; it does not drop repeats by it). The endpoint is configurable
(``dysmsapi.aliyuncs.com`` by default), so tests point the SDK at a loopback server that checks the
ACS3-HMAC-SHA256 signature and the required parameters as Aliyun does.
"""
from __future__ import annotations

import json
from typing import Mapping

from alerting.gateways.base import DeliveryResult, Message, secret

RETRY_CODES = {"isv.BUSINESS_LIMIT_CONTROL", "Throttling", "Throttling.User", "ServiceUnavailable",
               "InternalError", "isp.SYSTEM_ERROR", "isp.RAM_PERMISSION_DENY_RETRY"}


def aliyun_number(e164: str) -> str:
    """+8613800138000 -> 13800138000 (mainland numbers go bare); others keep their country code."""
    return e164[3:] if e164.startswith("+86") else e164.lstrip("+")


class AliyunGateway:
    kind = "aliyun"

    def __init__(self, name: str, conf: dict, env: Mapping[str, str]):
        from alibabacloud_dysmsapi20170525.client import Client
        from alibabacloud_tea_openapi.models import Config
        self.name = name
        self.sign_name, self.template_code = conf["sign_name"], conf["template_code"]
        self.timeout = float(conf.get("timeout", 10))
        endpoint = conf.get("endpoint", "https://dysmsapi.aliyuncs.com")
        protocol, _, host = endpoint.rpartition("://")
        self.client = Client(Config(access_key_id=secret(conf, "access_key_id_env", env, name),
                                    access_key_secret=secret(conf, "access_key_secret_env", env, name),
                                    endpoint=host.rstrip("/"), protocol=protocol or "https"))

    def send(self, message: Message) -> DeliveryResult:
        from alibabacloud_dysmsapi20170525 import models
        from alibabacloud_tea_util.models import RuntimeOptions
        from Tea.exceptions import TeaException, UnretryableException
        req = models.SendSmsRequest(phone_numbers=aliyun_number(message.recipient), sign_name=self.sign_name,
                                    template_code=self.template_code, out_id=message.idem_key[:64],
                                    template_param=json.dumps({"text": message.body}, ensure_ascii=False))
        ms = int(self.timeout * 1000)
        try:
            resp = self.client.send_sms_with_options(req, RuntimeOptions(read_timeout=ms, connect_timeout=ms,
                                                                         autoretry=False))
        except TeaException as exc:
            status = (exc.data or {}).get("statusCode") if isinstance(exc.data, dict) else None
            # no code: the SDK could not read the answer (garbage): keep the message and retry
            retry = exc.code in RETRY_CODES or exc.code is None or (isinstance(status, int) and status >= 500)
            return DeliveryResult("retry" if retry else "failed", f"{exc.code}: {exc.message}"[:500])
        except UnretryableException as exc:        # connection refused, timeout: the SDK's own wrapper
            return DeliveryResult("retry", f"no answer: {str(exc.inner_exception or exc)[:200]}")
        except Exception as exc:  # noqa: BLE001 - garbage answers surface as parse errors inside the SDK
            return DeliveryResult("retry", f"unexpected answer: {type(exc).__name__}: {str(exc)[:200]}")
        body = resp.body.to_map() if resp.body is not None else {}
        answer = json.dumps(body, ensure_ascii=False)[:500]
        if body.get("Code") == "OK":
            return DeliveryResult("sent", answer, body.get("BizId"))
        return DeliveryResult("retry" if body.get("Code") in RETRY_CODES else "failed", answer)
