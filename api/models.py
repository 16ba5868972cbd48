"""Request and response models of /api/v1: the OpenAPI document is generated from these."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

Severity = Literal["ok", "warn", "crit", "stale"]
AlertState = Literal["pending", "firing", "acknowledged", "resolved"]
Name = Field(min_length=1, max_length=200)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Error(BaseModel):
    """Every error but a body or query that fails its model (422, spectree's list naming the field)."""
    error: str = Field(description="what went wrong and how to fix it")
    field: str | None = Field(None, description="the field at fault, when one is")


class BusinessStatus(BaseModel):
    name: str
    product_line: str
    star: int
    status: Severity = Field(description="worst open alert (firing or acknowledged): crit, warn, stale; ok when none")
    open_alerts: int
    acknowledged: bool = Field(description="every alert at the worst severity is acknowledged")
    silenced: bool = Field(description="every alert at the worst severity is silenced")


class BusinessList(BaseModel):
    businesses: list[BusinessStatus]
    generated_at: int


class Problem(BaseModel):
    eventid: str
    name: str
    severity: str
    clock: int
    host: str
    instance: str | None
    acknowledged: bool


class AlertOut(BaseModel):
    id: int
    business: str
    product_line: str
    star: int
    cluster: str | None
    instance: str | None
    rule: str
    metric: str
    severity: str
    state: AlertState
    value: float | None
    threshold: float | None
    reason: str
    fired_at: int | None
    acked_by: str | None
    acked_at: int | None
    ack_comment: str | None
    resolved_at: int | None
    silenced_by: int | None


class AlertList(BaseModel):
    alerts: list[AlertOut]


class BusinessDetail(BusinessStatus):
    alerts: list[AlertOut]
    latest: dict[str, float | None] = Field(description="latest value per metric, summed (qps) or worst (mem_util) "
                                                        "over the business's instances")
    zabbix_problems: list[Problem]


class Instance(BaseModel):
    name: str
    cluster: str
    service: str
    role: str
    host: str
    port: int
    shard: int
    status: Severity


class InstanceList(BaseModel):
    business: str
    instances: list[Instance]


class AlertsQuery(Strict):
    state: Literal["open", "firing", "acknowledged", "resolved", "all"] = "open"
    business: str | None = Field(None, min_length=1, max_length=200)
    limit: int = Field(200, ge=1, le=5000)


class AckIn(Strict):
    comment: str = Field("", max_length=500)


class Silence(BaseModel):
    id: int
    matchers: dict[str, str]
    starts_at: int
    ends_at: int
    created_by: str
    comment: str


class SilenceList(BaseModel):
    silences: list[Silence]


class Matchers(Strict):
    """At least one; globs such as ``pay-*`` allowed."""
    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})
    business: str = Field(None, min_length=1, max_length=200)
    product_line: str = Field(None, min_length=1, max_length=200)
    cluster: str = Field(None, min_length=1, max_length=200)
    instance: str = Field(None, min_length=1, max_length=200)
    rule: str = Field(None, min_length=1, max_length=100)
    severity: Literal["warn", "crit", "stale"] = None


class SilenceIn(Strict):
    matchers: Matchers
    ends_at: int = Field(description="UTC epoch seconds; must be in the future", ge=0, le=2**32)
    starts_at: int | None = Field(None, description="UTC epoch seconds (default now; later: a maintenance window)",
                                  ge=0, le=2**32)
    comment: str = Field(min_length=1, max_length=500, description="why (shown to everyone who sees the silence)")


class Created(BaseModel):
    id: int


class SendIn(Strict):
    business: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1, max_length=500)
    severity: Literal["warn", "crit"] = "crit"
    key: str | None = Field(None, min_length=1, max_length=100, description="idempotency key: a repeat with the "
                                                                            "same key pages nobody again")
    to: list[Annotated[str, Field(pattern=r"^\+[1-9][0-9]{6,14}$")]] | None = Field(
        None, max_length=20, description="E.164 numbers to page instead of the business's on-call (the routes' "
                                         "gateway is used)")


class SentTo(BaseModel):
    recipient: str = Field(description="masked")
    gateway: str
    outbox_id: int | None


class SendOut(BaseModel):
    queued: list[SentTo]


class ForecastOut(BaseModel):
    business: str
    promotion: str | None
    starts_at: int | None
    peak_qps: float | None
    peak_low: float | None
    peak_high: float | None
    method: str | None
    confidence: str | None
    note: str = ""


class ZabbixEventIn(Strict):
    """What the Peakwatch webhook media type (contrib/zabbix/peakwatch_mediatype.yaml) posts."""
    eventid: str = Field(pattern=r"^[0-9]{1,20}$", description="{EVENT.ID}")
    value: Literal["1", "0"] = Field(description="{EVENT.VALUE}: 1 problem, 0 recovery")
    severity: int = Field(ge=0, le=5, description="{EVENT.NSEVERITY}")
    name: str = Field(min_length=1, max_length=500, description="{EVENT.NAME}")
    host: str = Field("", max_length=200, description="{HOST.HOST}")
    hostid: str = Field("", pattern=r"^[0-9]{0,20}$", description="{HOST.ID}")
    clock: int = Field(ge=0, le=2**32, description="{EVENT.TIMESTAMP} (UTC epoch seconds)")
    acknowledged: bool = False


class ZabbixEventOut(BaseModel):
    eventid: str
    active: bool = Field(description="the problem is in the active set after this event")
    instance: str | None = Field(description="the Peakwatch instance of the host; None: not collected, no flag")
    business: str | None


class TokenIn(Strict):
    user: str = Field(min_length=1, max_length=100, description="whose token (an enabled user)")
    label: str = Field("", max_length=100, description="what it is for")
    days: int | None = Field(None, ge=1, le=3650, description="expires after this many days (default never)")


class TokenOut(BaseModel):
    id: int
    user: str
    token: str = Field(description="shown once: only its hash is kept")
    expires_at: int | None


class ReloadOut(BaseModel):
    rules: int
    routes: int
    gateways: int
    requested_at: int


class Whoami(BaseModel):
    name: str | None
    role: str


class Empty(RootModel[dict]):
    pass
