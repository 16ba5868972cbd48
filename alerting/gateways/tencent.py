"""Tencent Cloud SMS (``SendSms``, API 2021-01-11) through Tencent Cloud's official SDK
(tencentcloud-sdk-python-sms).

The message text is the template's one parameter (``TemplateParamSet = [text]``);
``SessionContext`` carries the outbox's idempotency key (echoed back; Tencent does not drop
repeats by it). The endpoint is configurable (``sms.tencentcloudapi.com`` by default), so tests
point the SDK at a loopback server that checks the TC3-HMAC-SHA256 signature and the required
parameters as Tencent does.
"""
from __future__ import annotations

from typing import Mapping

from alerting.gateways.base import DeliveryResult, Message, secret

# refusals: retrying the same request cannot help (anything else, including an answer the SDK could
# not read, is retried: the message stays in the outbox)
FAIL_PREFIXES = ("AuthFailure", "InvalidParameter", "MissingParameter", "UnknownParameter", "FailedOperation",
                 "UnauthorizedOperation", "UnsupportedOperation", "InvalidAction")
# per-number limits are not a fault of the gateway: retrying later can succeed
RETRY_NUMBER_CODES = ("LimitExceeded.PhoneNumberThirtySecondLimit", "LimitExceeded.PhoneNumberOneHourLimit",
                      "LimitExceeded.DeliveryFrequencyLimit")


class TencentGateway:
    kind = "tencent"

    def __init__(self, name: str, conf: dict, env: Mapping[str, str]):
        from tencentcloud.common import credential
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile
        from tencentcloud.sms.v20210111 import sms_client
        self.name = name
        self.app_id, self.sign_name = str(conf["sdk_app_id"]), conf["sign_name"]
        self.template_id = str(conf["template_id"])
        self.timeout = float(conf.get("timeout", 10))
        endpoint = conf.get("endpoint", "https://sms.tencentcloudapi.com")
        protocol, _, host = endpoint.rpartition("://")
        profile = HttpProfile(endpoint=host.rstrip("/"), protocol=protocol or "https", reqTimeout=int(self.timeout))
        cred = credential.Credential(secret(conf, "secret_id_env", env, name), secret(conf, "secret_key_env", env, name))
        self.client = sms_client.SmsClient(cred, conf.get("region", "ap-guangzhou"), ClientProfile(httpProfile=profile))

    def send(self, message: Message) -> DeliveryResult:
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
        from tencentcloud.sms.v20210111 import models
        req = models.SendSmsRequest()
        req.PhoneNumberSet = [message.recipient]
        req.SmsSdkAppId, req.SignName, req.TemplateId = self.app_id, self.sign_name, self.template_id
        req.TemplateParamSet = [message.body]
        req.SessionContext = message.idem_key[:512]
        try:
            resp = self.client.SendSms(req)
        except TencentCloudSDKException as exc:
            code = str(exc.get_code() or "")
            retry = not code.startswith(FAIL_PREFIXES)
            return DeliveryResult("retry" if retry else "failed", f"{code}: {exc.get_message()}"[:500])
        except Exception as exc:  # noqa: BLE001 - garbage answers surface as parse errors inside the SDK
            return DeliveryResult("retry", f"unexpected answer: {type(exc).__name__}: {str(exc)[:200]}")
        answer = resp.to_json_string()[:500]
        status = (resp.SendStatusSet or [None])[0]
        if status is None:
            return DeliveryResult("retry", answer)
        if status.Code == "Ok":
            return DeliveryResult("sent", answer, status.SerialNo)
        return DeliveryResult("retry" if status.Code in RETRY_NUMBER_CODES else "failed", answer)
