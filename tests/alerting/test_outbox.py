"""The durable outbox against loopback gateways: faults and recovery, 4xx, garbage, kill -9."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from alertkit import Clock

from alerting.gateways import build
from alerting.sender import Sender
from store import Store

ROOT = Path(__file__).resolve().parents[2]
T0 = 1_764_000_000


def queue(store, n: int, gateway: str = "sms", t: int = T0) -> None:
    store.enqueue([{"idem_key": f"firing|biz-{i}|+861380013{i:04d}|1", "created_at": t, "kind": "firing",
                    "recipient": f"+861380013{i:04d}", "gateway": gateway, "body": f"[CRIT] biz-{i} (5*): mem_util 97"}
                   for i in range(n)])


def http_gateway(lb, timeout: float = 1.0):
    return build("sms", {"type": "http", "url": lb.url + "/alert/send", "timeout": timeout, "ok_field": "code=0"})


def rounds(sender: Sender, clock: Clock, n: int) -> None:
    for _ in range(n):
        sender.drain()
        clock.advance(700)             # past the longest backoff: every retry is due again


def test_500s_and_timeouts_then_recovery_deliver_everything_once(tmp_path, loopback):
    lb = loopback(mode="500", fail_first=6)
    store = Store.open(f"sqlite:///{tmp_path / 'o.sqlite'}")
    queue(store, 5)
    clock = Clock(T0)
    sender = Sender(store, {"sms": http_gateway(lb)}, clock)
    rounds(sender, clock, 4)
    out = store.outbox()
    assert set(out["state"]) == {"sent"} and len(lb.delivered) == 5 and lb.duplicates == 0
    log = store.deliveries()
    assert (log["status"] == "retried").sum() == 6 and (log["status"] == "sent").sum() == 5
    assert log.loc[log["status"] == "retried", "answer"].str.contains("HTTP 500").all()
    # timeouts: the gateway answers after the client gave up; retried with the same key, accepted once
    lb.mode, lb.fail_first, lb.delay = "timeout", 2, 2.0
    queue(store, 2, t=T0 + 1)
    store.enqueue([{"idem_key": "late-1", "created_at": T0, "kind": "firing", "recipient": "+8613800138000",
                    "gateway": "sms", "body": "x"}])
    rounds(sender, clock, 3)
    assert set(store.outbox()["state"]) == {"sent"}
    assert store.deliveries()["answer"].str.contains("timeout").sum() == 2
    store.close()


def test_backoff_doubles_between_retries(tmp_path, loopback):
    lb = loopback(mode="500")
    store = Store.open(f"sqlite:///{tmp_path / 'o.sqlite'}")
    queue(store, 1)
    clock = Clock(T0)
    sender = Sender(store, {"sms": http_gateway(lb)}, clock)
    waits = []
    for _ in range(4):
        sender.drain()
        row = store.outbox().iloc[0]
        waits.append(int(row["next_at"]) - int(clock()))
        clock.t = row["next_at"]
    assert waits == [5, 10, 20, 40] and len(lb.requests) == 4
    store.close()


def test_a_4xx_is_failed_at_once_with_the_answer_kept(tmp_path, loopback):
    lb = loopback(mode="400")
    store = Store.open(f"sqlite:///{tmp_path / 'o.sqlite'}")
    queue(store, 1)
    clock = Clock(T0)
    rounds(Sender(store, {"sms": http_gateway(lb)}, clock), clock, 3)
    row = store.outbox().iloc[0]
    assert row["state"] == "failed" and "MOBILE_NUMBER_ILLEGAL" in row["answer"] and len(lb.requests) == 1
    store.close()


def test_a_garbage_answer_keeps_the_message_and_records_the_answer(tmp_path, loopback):
    lb = loopback(mode="garbage", fail_first=2)
    store = Store.open(f"sqlite:///{tmp_path / 'o.sqlite'}")
    queue(store, 1)
    clock = Clock(T0)
    sender = Sender(store, {"sms": http_gateway(lb)}, clock)
    sender.drain()
    row = store.outbox().iloc[0]
    assert row["state"] == "retry" and "gateway maintenance" in row["answer"]
    rounds(sender, clock, 3)
    assert store.outbox().iloc[0]["state"] == "sent" and len(lb.delivered) == 1 and lb.duplicates == 0
    store.close()


def test_an_answer_without_success_is_not_taken_as_sent(tmp_path, loopback):
    lb = loopback(kind="wecom")
    store = Store.open(f"sqlite:///{tmp_path / 'o.sqlite'}")
    queue(store, 1, gateway="robot")
    gw = build("robot", {"type": "wecom", "url": lb.url + "/cgi-bin/webhook/send?key=wrong-key"})
    Sender(store, {"robot": gw}, Clock(T0)).drain()
    row = store.outbox().iloc[0]
    assert row["state"] == "failed" and "93000" in row["answer"]
    store.close()


SENDER = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {root!r})
    from alerting.gateways import build
    from alerting.sender import Sender
    from store import Store
    store = Store.open({url!r})
    gw = build("sms", {{"type": "http", "url": {gw!r}, "timeout": 5, "ok_field": "code=0"}})
    Sender(store, {{"sms": gw}}).drain()
""")


def test_kill_9_mid_send_then_restart_delivers_the_rest_exactly_once(tmp_path, loopback):
    lb = loopback(answer_delay=0.3)            # the gateway accepts, then answers 0.3 s later
    url = f"sqlite:///{tmp_path / 'o.sqlite'}"
    store = Store.open(url)
    queue(store, 20, t=int(time.time()))
    code = SENDER.format(root=str(ROOT), url=url, gw=lb.url + "/alert/send")
    proc = subprocess.Popen([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.monotonic() + 60
    while len(lb.requests) < 6 and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)           # mid-send: one message accepted, its answer never recorded
    proc.wait(10)
    before = store.outbox()
    assert 0 < (before["state"] == "sent").sum() < 20
    assert (before["state"] == "sending").sum() >= 1          # the killed sender's claim
    # the restarted sender waits for the dead claim to run out (here: its clock is past it)
    later = Clock(time.time() + 3600)
    Sender(store, {"sms": http_gateway(lb, timeout=5)}, later).drain()
    after = store.outbox()
    assert set(after["state"]) == {"sent"}
    assert len(lb.delivered) == 20                            # every message reached the gateway...
    assert lb.duplicates <= 1                                 # ...once: the in-flight resend carried its key
    assert len(lb.requests) <= 21
    store.close()
