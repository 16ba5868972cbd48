"""Logging set-up: text or JSON lines, with secrets and phone numbers masked."""
from __future__ import annotations

import json
import logging
import re
import sys
import time
from typing import Iterable

#: mainland mobile numbers, also written with dashes or spaces (138-1234-5678, +86 138 1234 5678)
PHONE = re.compile(r"(?<![\d])(\+?86[-\s]?)?(1[3-9]\d)([-\s]?)(\d{4})([-\s]?)(\d{4})(?![\d])")
KEYLIKE = re.compile(r"(?i)((?:token|password|secret|auth|apikey|api_key|accesskey)[\"']?\s*[:=]\s*[\"']?)([^\s\"',}]+)")


def mask_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Mask known secrets, key=value credentials and mobile numbers in a string."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "********")
    text = KEYLIKE.sub(lambda m: m.group(1) + "********", text)
    return mask_phones(text)


def mask_phones(text: str) -> str:
    """Mobile numbers with their middle four digits masked, however they are spaced."""
    return PHONE.sub(lambda m: (m.group(1) or "") + m.group(2) + m.group(3) + "****" + m.group(5) + m.group(6),
                     text)


class SensitiveFilter(logging.Filter):
    """Masks secrets in the final message (arguments included), like zabbix-utils' filter."""

    def __init__(self, secrets: Iterable[str] = ()):
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = mask_text(record.getMessage(), self.secrets)
        record.msg, record.args = message, None
        if record.exc_info:
            # the traceback is formatted (and masked) here: frames and exception messages may hold
            # a URL with its password, a token or a phone number
            record.exc_text = mask_text(logging.Formatter().formatException(record.exc_info), self.secrets)
            record.exc_info = None
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info, self.secrets)
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            record.fields = {k: self._mask_value(v) for k, v in fields.items()}
        return True

    def _mask_value(self, value):
        if isinstance(value, str):
            return mask_text(value, self.secrets)
        if isinstance(value, (int, float, bool)) or value is None:
            return value
        return mask_text(json.dumps(value, ensure_ascii=False, default=str), self.secrets)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc = {"ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + "Z",
               "level": record.levelname, "logger": record.name, "msg": record.getMessage()}
        for key, value in getattr(record, "fields", {}).items():
            doc[key] = value
        if record.exc_text or record.exc_info:
            doc["exc"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(doc, ensure_ascii=False, default=str)


def setup_logging(level: str = "INFO", fmt: str = "text", secrets: Iterable[str] = (), stream=None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(SensitiveFilter(secrets))
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("alembic", "werkzeug", "urllib3"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))


def add_secrets(values: Iterable[str]) -> None:
    """Mask more secrets (gateway credentials read at start) in every installed log filter."""
    for handler in logging.getLogger().handlers:
        for f in handler.filters:
            if isinstance(f, SensitiveFilter):
                f.secrets.extend(v for v in values if v and v not in f.secrets)
