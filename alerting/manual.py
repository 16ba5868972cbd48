"""Paging a business's on-call by hand (``POST /api/v1/alerts/send``, the reference platform's
``/alert/send``): the routes that would take an alert of that business and severity pick the
recipients and the gateway; the messages go through the outbox (same delivery log, retries and
idempotency as the engine's); the rate caps of ``[alerting.limits]`` count them."""
from __future__ import annotations

from dataclasses import dataclass

from alerting import messages as msg
from alerting import routing
from alerting.config_base import Config
from core.errors import AlertingError, ConfigError

SEVERITIES = ("warn", "crit")
MAX_TEXT = 500


class UnknownBusiness(AlertingError):
    pass


class NoRoute(AlertingError):
    pass


@dataclass(frozen=True)
class Queued:
    recipient: str          # masked
    gateway: str
    outbox_id: int | None   # a repeat of the request (same key) names the rows queued the first time


def page(store, cfg: Config, business: str, text: str, severity: str, who: str, key: str, now: int,
         to: list[str] | None = None, via: str = "api") -> list[Queued]:
    """Queue one message per recipient the routes give for ``business`` at ``severity`` (or per
    number of ``to``, through the same routes' gateways); a repeat
    with the same ``key`` queues nothing new (and audits nothing). Raises UnknownBusiness, NoRoute,
    ConfigError."""
    if severity not in SEVERITIES:
        raise ConfigError(f"severity {severity!r} is not one of {', '.join(SEVERITIES)}.")
    biz = store.businesses()
    row = biz[biz["name"] == business]
    if row.empty:
        raise UnknownBusiness(f"no business {business!r}; GET /api/v1/businesses lists them.")
    r = row.iloc[0]
    alert = {"business": business, "product_line": r["product_line"], "star": int(r["star"]), "severity": severity,
             "rule": "manual", "cluster": None, "instance": None}
    oncall = {business: [c for c in str(r["oncall"] or "").splitlines() if c.strip()]}
    body = f"[{severity.upper()}] {business} ({int(r['star'])}*): {text.strip()[:MAX_TEXT]} -- {who}"
    rows, out = [], []
    for route in routing.routes_for(alert, cfg):
        kind = cfg.gateways.get(route.gateway, {}).get("type", route.gateway)
        for rcp in (list(to) if to else routing.recipients(route.to, alert, oncall, cfg, now)):
            if kind in msg.SMS_GATEWAYS and not msg.is_e164(rcp):
                continue            # a contact without a number cannot get an SMS (as in the engine)
            rows.append({"idem_key": f"manual|{business}|{rcp}|{key}"[:200], "created_at": now, "kind": "manual",
                         "recipient": rcp, "gateway": route.gateway, "group_key": f"{business}|manual",
                         "body": msg.fit(body), "alert_ids": []})
    if not rows:
        raise NoRoute(f"no route pages business {business!r} ({int(r['star'])}*) at {severity} with a recipient; "
                      f"add one in [[alerting.routes]] or give the business on-call contacts.")
    fresh = store.enqueue(rows)
    ids = store.outbox(since=now - 86400, limit=5000)
    by_key = dict(zip(ids["idem_key"], ids["id"]))
    for row_ in rows:
        out.append(Queued(msg.mask(row_["recipient"]), row_["gateway"], int(by_key[row_["idem_key"]])
                          if row_["idem_key"] in by_key else None))
    if fresh:
        store.audit(who, "alert.send", now, business, f"{severity}: {text.strip()[:200]}", via)
    return out
