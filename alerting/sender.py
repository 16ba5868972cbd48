"""The outbox sender: claims due messages, sends them through their gateway, records every attempt.

Retries with exponential backoff (``retry_base_s`` doubling up to ``retry_max_s``) on timeouts,
connection errors, 5xx, 429 and garbage answers; none on other 4xx (failed, the answer kept). A
message is claimed for a limited time: a sender killed mid-send leaves its claim to run out, and
the next sender sends it again with the same idempotency key (the gateway drops the repeat), so
every message is delivered once across crashes and restarts.
"""
from __future__ import annotations

import logging
import time

from alerting.engine import holder_id
from alerting.gateways.base import DeliveryResult, Message
from alerting.messages import mask

log = logging.getLogger("peakwatch.alerting.sender")
RETRY_BASE_S = 5
RETRY_MAX_S = 600
MAX_ATTEMPTS = 12
BATCH = 10


class Sender:
    def __init__(self, store, gateways: dict, clock=time.time, holder: str | None = None,
                 retry_base_s: float = RETRY_BASE_S, retry_max_s: float = RETRY_MAX_S, max_attempts: int = MAX_ATTEMPTS):
        self.store = store
        self.gateways = gateways
        self.clock = clock
        self.holder = holder or holder_id("sender")
        self.retry_base_s, self.retry_max_s, self.max_attempts = retry_base_s, retry_max_s, max_attempts

    def claim_s(self) -> int:
        timeout = max([getattr(g, "timeout", 10.0) for g in self.gateways.values()] + [10.0])
        return int(BATCH * timeout + 30)

    def run_once(self, limit: int = BATCH) -> int:
        """Send what is due now; returns how many messages were delivered."""
        now = int(self.clock())
        sent = 0
        for row in self.store.claim_outbox(self.holder, now, self.claim_s(), limit):
            sent += self.deliver(row) == "sent"
        return sent

    def drain(self, max_rounds: int = 1000) -> int:
        """Send until nothing is due (one CLI pass; the scheduler calls run_once in a loop)."""
        total = 0
        for _ in range(max_rounds):
            rows = self.store.claim_outbox(self.holder, int(self.clock()), self.claim_s(), BATCH)
            if not rows:
                break
            total += sum(self.deliver(r) == "sent" for r in rows)
        return total

    def deliver(self, row: dict) -> str:
        gw = self.gateways.get(row["gateway"])
        started = time.perf_counter()
        if gw is None:
            res = DeliveryResult("failed", f"gateway {row['gateway']!r} is not configured any more; add it back "
                                           f"under [alerting.gateways] and re-queue")
        else:
            try:
                res = gw.send(Message(row["recipient"], row["body"], row["idem_key"], row["kind"]))
            except Exception as exc:  # noqa: BLE001 - a gateway bug must not lose the message
                res = DeliveryResult("retry", f"gateway error: {type(exc).__name__}: {exc}")
        ms = (time.perf_counter() - started) * 1000
        now = int(self.clock())
        attempts = int(row["attempts"]) + 1
        status = {"sent": "sent", "failed": "failed"}.get(res.status, "retried")
        next_at = None
        if status == "retried":
            if attempts >= self.max_attempts:
                status = "failed"
            else:
                next_at = now + int(min(self.retry_max_s, self.retry_base_s * 2 ** (attempts - 1)))
        if not self.store.record_attempt(int(row["id"]), self.holder, now, status, res.answer, res.gateway_id,
                                         next_at, ms):
            log.warning("outbox message %s: claim lost before its result was recorded", row["id"])
        log.info("outbox %s %s to %s via %s (attempt %d): %s", row["id"], status, mask(row["recipient"]),
                 row["gateway"], attempts, res.answer[:120])
        return status
