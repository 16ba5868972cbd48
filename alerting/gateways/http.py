"""Generic HTTP/JSON gateway: what an in-house SMS gateway (the reference platform's
``/alert/send``) looks like. The body is a JSON template whose strings may hold ``{to}``, ``{text}``
and ``{key}``; the idempotency key also goes in a header (``Idempotency-Key`` by default)."""
from __future__ import annotations

from typing import Any, Mapping

from alerting.gateways.base import DeliveryResult, Message, post

DEFAULT_BODY = {"to": "{to}", "text": "{text}", "id": "{key}"}


def fill(template: Any, values: dict) -> Any:
    if isinstance(template, str):
        out = template
        for k, v in values.items():
            out = out.replace("{" + k + "}", v)
        return out
    if isinstance(template, dict):
        return {k: fill(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [fill(v, values) for v in template]
    return template


class HttpGateway:
    kind = "http"

    def __init__(self, name: str, conf: dict, env: Mapping[str, str]):
        self.name = name
        self.url = conf["url"]
        self.headers = dict(conf.get("headers", {}))
        self.body = conf.get("body", DEFAULT_BODY)
        self.idem_header = conf.get("idempotency_header", "Idempotency-Key")
        self.timeout = float(conf.get("timeout", 10))
        self.ok_field = conf.get("ok_field", "")       # e.g. "code=0": the answer's success test
        self.id_field = conf.get("id_field", "id")

    def _accept(self, doc: dict):
        if self.ok_field:
            field, _, want = self.ok_field.partition("=")
            if str(doc.get(field)) != want:
                return False, None, False
        gid = doc.get(self.id_field)
        return True, None if gid is None else str(gid), False

    def send(self, message: Message) -> DeliveryResult:
        body = fill(self.body, {"to": message.recipient, "text": message.body, "key": message.idem_key})
        headers = {**self.headers, self.idem_header: message.idem_key}
        return post(self.url, json_body=body, headers=headers, timeout=self.timeout, accept=self._accept)
