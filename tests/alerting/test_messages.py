"""Message text: one SMS segment (GSM-7 160 / UCS-2 70) or deliberately split, zh and en, E.164,
masking; robot gateways against loopback servers that check what the services check."""
from __future__ import annotations

import logging

import pytest
from alertkit import Clock

from alerting import messages as msg
from alerting.gateways import Message, build
from alerting.sender import Sender
from core.logs import SensitiveFilter, setup_logging
from store import Store

T = 1_764_000_000
ALERT = {"business": "pay-core", "star": 5, "severity": "crit", "metric": "mem_util", "value": 97.25,
         "threshold": 83.6, "instance": "pay-core-re01-3:6379", "cluster": "pay-core-re01", "fired_at": T,
         "dedup_key": "k", "reason": "mem_util 97.25"}
BASE = "https://pw.example.com"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_an_alert_fits_one_segment_or_is_split_deliberately(lang):
    body = msg.render("firing", [ALERT, dict(ALERT, instance="x")], lang, "Asia/Shanghai", BASE, T)
    parts = body.split("\n")
    for part in parts:
        used, limit = msg.sms_length(part)
        assert used <= limit
    assert "pay-core" in body and "97.25" in body and "83.6" in body and "/business/pay-core?end=2025-11-25" in body
    if lang == "en":
        assert len(parts) == 1 and msg.is_gsm7(body) and "[CRIT] pay-core (5*)" in body and "since 00:00" in body
    else:
        assert len(parts) == 2 and "严重" in parts[0] and parts[1].startswith(BASE)   # text, then the link
        assert "自00:00" in parts[0] and "另1项" in parts[0]


def test_long_text_is_cut_with_an_ellipsis_and_the_link_kept():
    long = dict(ALERT, instance="x" * 300)
    body = msg.render("firing", [long], "en", "Asia/Shanghai", BASE, T)
    assert msg.sms_length(body)[0] <= 160 and "…" in body and body.endswith("?end=2025-11-25")


def test_segments_split_with_markers():
    text = "告警" * 60
    parts = msg.segments(text)
    assert len(parts) == 2 and parts[0].endswith("(1/2)") and all(msg.sms_length(p)[0] <= 70 for p in parts)
    assert msg.segments("short") == ["short"]
    assert msg.sms_length("a{b}")[0] == 6                 # GSM-7 extension characters take two septets


@pytest.mark.parametrize("number, ok", [("+8613800138000", True), ("+14155552671", True), ("13800138000", False),
                                        ("+86 138 0013 8000", False), ("+0123456789", False), ("+86", False)])
def test_e164(number, ok):
    assert msg.is_e164(number) is ok


def test_phone_numbers_are_masked_in_logs_and_log_lines(capsys):
    assert msg.mask("+8613800138000") == "+86138****8000"
    import io
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    stream = io.StringIO()
    try:
        setup_logging("INFO", "text", stream=stream)
        logging.getLogger("peakwatch.test").info("sent to %s", "+8613800138000")
        assert any(isinstance(f, SensitiveFilter) for h in root.handlers for f in h.filters)
    finally:
        for h in list(root.handlers):
            root.removeHandler(h)
        for h in saved[0]:
            root.addHandler(h)
        root.setLevel(saved[1])
    assert "13800138000" not in stream.getvalue() and "****" in stream.getvalue()


def test_dingtalk_signed_webhook_is_accepted_and_a_wrong_secret_is_refused(tmp_path, loopback):
    lb = loopback(kind="dingtalk", secret="SEC-abc")
    store = Store.open(f"sqlite:///{tmp_path / 'd.sqlite'}")
    store.enqueue([{"idem_key": "k1", "created_at": T, "kind": "firing", "recipient": "+8613800138000",
                    "gateway": "ding", "body": "[CRIT] pay-core"}])
    good = build("ding", {"type": "dingtalk", "url": lb.url + "/robot/send?access_token=t", "secret_env": "S"},
                 {"S": "SEC-abc"})
    Sender(store, {"ding": good}, Clock(T)).drain()
    assert store.outbox().iloc[0]["state"] == "sent"
    sent = list(lb.delivered.values())[0]
    assert sent["at"]["atMobiles"] == ["13800138000"] and sent["text"]["content"] == "[CRIT] pay-core"
    bad = build("ding", {"type": "dingtalk", "url": lb.url + "/robot/send?access_token=t", "secret_env": "S"},
                {"S": "wrong"})
    res = bad.send(Message("+8613800138000", "x", "k2"))
    assert res.status == "failed" and "sign not match" in res.answer
    store.close()


def test_wecom_robot(loopback):
    lb = loopback(kind="wecom")
    gw = build("w", {"type": "wecom", "url": lb.url + "/cgi-bin/webhook/send?key=robot-key"})
    res = gw.send(Message("+8613800138000", "[WARN] feed", "k"))
    assert res.status == "sent"
    assert list(lb.delivered.values())[0]["text"]["mentioned_mobile_list"] == ["13800138000"]


def test_console_gateway_prints_with_numbers_masked():
    import io
    out = io.StringIO()
    from alerting.gateways.console import ConsoleGateway
    res = ConsoleGateway("console", {}, {}, stream=out).send(Message("Li Wei +8613800138000", "[CRIT] x", "k"))
    assert res.status == "sent" and "+86138****8000" in out.getvalue() and "13800138000" not in out.getvalue()


def test_feishu_signed_bot(loopback):
    lb = loopback(kind="feishu", secret="fs-secret")
    good = build("fs", {"type": "feishu", "url": lb.url + "/open-apis/bot/v2/hook/x", "secret_env": "S"},
                 {"S": "fs-secret"})
    assert good.send(Message("+8613800138000", "[CRIT] pay", "k")).status == "sent"
    bad = build("fs", {"type": "feishu", "url": lb.url + "/open-apis/bot/v2/hook/x", "secret_env": "S"}, {"S": "x"})
    res = bad.send(Message("+8613800138000", "[CRIT] pay", "k2"))
    assert res.status == "failed" and "19021" in res.answer and len(lb.delivered) == 1
