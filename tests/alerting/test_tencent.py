"""Tencent Cloud SMS through the official SDK against a loopback server that checks the TC3
signature and the required parameters; faults retried, refusals failed, nothing lost."""
from __future__ import annotations

import pytest
from gatewaykit import TENCENT_KEY

from alerting.gateways import Message, build
from core.errors import ConfigError

ENV = {"TC_ID": TENCENT_KEY[0], "TC_KEY": TENCENT_KEY[1]}


def gateway(lb, env=ENV):
    return build("tc", {"type": "tencent", "endpoint": lb.url, "secret_id_env": "TC_ID", "secret_key_env": "TC_KEY",
                        "sdk_app_id": "1400000000", "sign_name": "Peakwatch", "template_id": "100001",
                        "timeout": 2}, env)


def test_send_sms_is_signed_and_carries_number_text_and_session_context(loopback):
    lb = loopback(kind="tencent")
    res = gateway(lb).send(Message("+8613800138000", "[CRIT] pay (5*): mem_util 97", "firing|pay|1"))
    assert res.status == "sent" and res.gateway_id == "2433:338", res.answer
    sent = lb.delivered["firing|pay|1"]
    assert sent["PhoneNumberSet"] == ["+8613800138000"] and sent["TemplateParamSet"] == ["[CRIT] pay (5*): mem_util 97"]


def test_a_wrong_key_is_refused_and_a_bad_number_failed(loopback):
    lb = loopback(kind="tencent")
    res = gateway(lb, {"TC_ID": TENCENT_KEY[0], "TC_KEY": "wrong"}).send(Message("+8613800138000", "x", "k"))
    assert res.status == "failed" and "AuthFailure.SignatureFailure" in res.answer and not lb.delivered
    res = gateway(lb).send(Message("13800138000", "x", "k2"))
    assert res.status == "failed" and "IncorrectPhoneNumber" in res.answer


def test_500_garbage_and_timeout_are_retried(loopback):
    for mode in ("500", "garbage", "timeout"):
        lb = loopback(kind="tencent", mode=mode, delay=4)
        res = gateway(lb).send(Message("+8613800138000", "x", "k"))
        assert res.status == "retry", (mode, res.answer)


def test_a_missing_credential_is_one_clear_line():
    with pytest.raises(ConfigError, match="TC_KEY"):
        build("tc", {"type": "tencent", "secret_id_env": "TC_ID", "secret_key_env": "TC_KEY", "sdk_app_id": "1",
                     "sign_name": "S", "template_id": "T"}, {"TC_ID": "x"})
