"""The gateway protocol and the one place HTTP answers become delivery results.

``send`` never raises for a delivery problem: timeouts, connection errors, 5xx and 429 are
``retry`` (the outbox tries again with backoff); other 4xx are ``failed`` (retrying cannot help; the
answer is recorded); a 2xx the gateway's own check does not accept, or an answer that is not what
the service sends (garbage), is ``retry`` with the answer kept: nothing is lost, and the idempotency
key makes the resend harmless where the service honours it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Protocol

import requests

from core.errors import ConfigError

ANSWER_MAX = 500


@dataclass(frozen=True)
class Message:
    recipient: str
    body: str
    idem_key: str
    kind: str = "firing"


@dataclass(frozen=True)
class DeliveryResult:
    status: str                     # sent, retry, failed
    answer: str = ""
    gateway_id: str | None = None


class Gateway(Protocol):
    name: str
    kind: str

    def send(self, message: Message) -> DeliveryResult: ...


def secret(conf: dict, key: str, env: Mapping[str, str], gateway: str) -> str:
    """The credential named by ``conf[key]`` (an environment variable); ConfigError when unset."""
    var = conf.get(key)
    if not var:
        raise ConfigError(f"alerting.gateways.{gateway}.{key} is missing; name the environment variable that "
                          f"holds the credential.")
    value = env.get(var, "")
    if not value:
        raise ConfigError(f"gateway {gateway!r}: environment variable {var} (from {key}) is not set; export the "
                          f"credential there (it is never read from the config file).")
    from core.logs import add_secrets
    add_secrets([value])
    return value


def post(url: str, *, json_body=None, data=None, headers=None, timeout: float = 10.0,
         accept: Callable[[dict], tuple[bool, str | None, bool]] | None = None) -> DeliveryResult:
    """POST and classify. ``accept(doc) -> (ok, gateway_id, retryable)`` judges a 2xx JSON answer."""
    try:
        r = requests.post(url, json=json_body, data=data, headers=headers, timeout=timeout)
    except requests.Timeout as exc:
        return DeliveryResult("retry", f"timeout after {timeout:g}s ({type(exc).__name__})")
    except requests.RequestException as exc:
        return DeliveryResult("retry", f"no answer: {type(exc).__name__}: {str(exc)[:200]}")
    text = r.text[:ANSWER_MAX]
    if r.status_code >= 500 or r.status_code == 429:
        return DeliveryResult("retry", f"HTTP {r.status_code}: {text}")
    if r.status_code >= 400:
        return DeliveryResult("failed", f"HTTP {r.status_code}: {text}")
    try:
        doc = r.json()
    except ValueError:
        return DeliveryResult("retry", f"HTTP {r.status_code}, not JSON: {text!r}")
    if not isinstance(doc, dict):
        return DeliveryResult("retry", f"HTTP {r.status_code}, unexpected answer: {text!r}")
    if accept is None:
        return DeliveryResult("sent", text)
    ok, gid, retryable = accept(doc)
    if ok:
        return DeliveryResult("sent", text, gid)
    return DeliveryResult("retry" if retryable else "failed", f"HTTP {r.status_code}: {text}")
