"""The console gateway (demo): prints each message, phone numbers masked, and counts it sent."""
from __future__ import annotations

import sys
from typing import Mapping

from alerting.gateways.base import DeliveryResult, Message
from core.logs import mask_text


class ConsoleGateway:
    kind = "console"

    def __init__(self, name: str, conf: dict, env: Mapping[str, str], stream=None):
        self.name = name
        self.stream = stream

    def send(self, message: Message) -> DeliveryResult:
        out = self.stream or sys.stdout
        print(mask_text(f"[peakwatch {message.kind} -> {message.recipient}] {message.body}"), file=out, flush=True)
        return DeliveryResult("sent", "printed", message.idem_key)
