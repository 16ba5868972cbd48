"""Alerting's vocabulary in the store: problem severities, alert and outbox states, silence
matchers, and what one evaluation cycle writes (the packages above the store use these, and the
Store methods of store/alerts.py)."""
from __future__ import annotations

from dataclasses import dataclass, field

#: Zabbix trigger severities by level 0..5: the store's vocabulary for problems
PROBLEM_SEVERITIES = ("not classified", "information", "warning", "average", "high", "disaster")
ALERT_STATES = ("pending", "firing", "acknowledged", "resolved")
OPEN_STATES = ("pending", "firing", "acknowledged")
OUTBOX_STATES = ("queued", "sending", "retry", "sent", "failed")


@dataclass
class CycleWrite:
    """Everything one evaluation cycle changes, written in one transaction (the transactional
    outbox: an alert's change and the notifications it causes are committed together or not at all).

    ``new``: alert rows (dicts of alerts columns, without id); ``changed``: dicts with ``id`` plus
    the columns to set; ``deleted``: ids of pending alerts that cleared before firing; ``events``:
    (alert id or open_key of a new alert, ts, kind, who, detail); ``outbox``: outbox rows (dicts,
    ``alert_ids`` may name new alerts by open_key); ``groups``: notify_state rows to upsert;
    ``groups_done``: (group_key, recipient) to forget.
    """
    new: list[dict] = field(default_factory=list)
    changed: list[dict] = field(default_factory=list)
    deleted: list[int] = field(default_factory=list)
    events: list[tuple] = field(default_factory=list)
    outbox: list[dict] = field(default_factory=list)
    groups: list[dict] = field(default_factory=list)
    groups_done: list[tuple[str, str]] = field(default_factory=list)


SILENCE_MATCHERS = ("business", "product_line", "cluster", "instance", "rule", "severity")
