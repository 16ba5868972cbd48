"""Aliyun SendSms through the official SDK against a loopback server that checks the ACS3
signature and the required parameters; faults retried, refusals failed, nothing lost."""
from __future__ import annotations

import json

import pytest
from alertkit import Clock
from gatewaykit import ALIYUN_KEY

from alerting.gateways import Message, build
from alerting.sender import Sender
from core.errors import ConfigError
from store import Store

ENV = {"ALI_ID": ALIYUN_KEY[0], "ALI_SECRET": ALIYUN_KEY[1]}


def gateway(lb, env=ENV):
    return build("ali", {"type": "aliyun", "endpoint": lb.url, "access_key_id_env": "ALI_ID",
                         "access_key_secret_env": "ALI_SECRET", "sign_name": "Peakwatch",
                         "template_code": "SMS_900001", "timeout": 2}, env)


def test_send_sms_is_signed_and_carries_number_text_and_out_id(loopback):
    lb = loopback(kind="aliyun")
    res = gateway(lb).send(Message("+8613800138000", "[CRIT] pay (5*): mem_util 97", "firing|pay|1"))
    assert res.status == "sent" and res.gateway_id.endswith("^0"), res.answer
    sent = lb.delivered["firing|pay|1"]
    assert sent["PhoneNumbers"] == "13800138000" and sent["SignName"] == "Peakwatch"
    assert json.loads(sent["TemplateParam"]) == {"text": "[CRIT] pay (5*): mem_util 97"}


def test_a_wrong_secret_is_refused_and_not_retried(loopback):
    lb = loopback(kind="aliyun")
    res = gateway(lb, {"ALI_ID": ALIYUN_KEY[0], "ALI_SECRET": "wrong"}).send(Message("+8613800138000", "x", "k"))
    assert res.status == "failed" and "SignatureDoesNotMatch" in res.answer and not lb.delivered


def test_500s_then_recovery_deliver_once_through_the_outbox(tmp_path, loopback):
    lb = loopback(kind="aliyun", mode="500", fail_first=2)
    store = Store.open(f"sqlite:///{tmp_path / 'a.sqlite'}")
    store.enqueue([{"idem_key": "k1", "created_at": 0, "kind": "firing", "recipient": "+8613800138000",
                    "gateway": "ali", "body": "[CRIT] pay"}])
    clock = Clock(1000)
    sender = Sender(store, {"ali": gateway(lb)}, clock)
    for _ in range(4):
        sender.drain()
        clock.advance(700)
    assert store.outbox().iloc[0]["state"] == "sent" and len(lb.delivered) == 1
    assert list(store.deliveries()["status"]) == ["sent", "retried", "retried", "queued"]
    store.close()


def test_garbage_and_silence_are_retried(loopback):
    lb = loopback(kind="aliyun", mode="garbage")
    assert gateway(lb).send(Message("+8613800138000", "x", "k")).status == "retry"
    lb.mode, lb.delay = "timeout", 4
    res = gateway(lb).send(Message("+8613800138000", "x", "k2"))
    assert res.status == "retry" and "timed out" in res.answer


def test_a_missing_credential_is_one_clear_line():
    with pytest.raises(ConfigError, match="ALI_SECRET"):
        build("ali", {"type": "aliyun", "access_key_id_env": "ALI_ID", "access_key_secret_env": "ALI_SECRET",
                      "sign_name": "S", "template_code": "T"}, {"ALI_ID": "x"})
