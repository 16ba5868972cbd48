"""Who is told what (pure): silences, routes, on-call recipients, grouping per business with
Alertmanager's group wait / group interval / repeat interval, resolved notices, escalation after N
unacknowledged minutes, quiet hours for low stars, per-recipient hourly and daily caps whose
overflow is folded into one digest.

The result is outbox rows plus notify_state changes, committed in the same transaction as the
alerts' changes (``Store.commit_cycle``). Idempotency keys name the group, recipient and cycle, so
a cycle can never queue the same message twice.
"""
from __future__ import annotations

import fnmatch
import hashlib
from datetime import datetime
from zoneinfo import ZoneInfo

from alerting import messages as msg
from alerting.config import Config, Route, Schedule
from store.alert_types import CycleWrite


def silenced_by(alert: dict, silences: list[dict], now: int) -> int | None:
    """The id of the first silence in force that matches every matcher (globs allowed)."""
    for s in silences:
        if not (s["starts_at"] <= now < s["ends_at"]) or s.get("expired_at"):
            continue
        if all(fnmatch.fnmatchcase(str(alert.get(k) or ""), v) for k, v in s["matchers"].items()):
            return int(s["id"])
    return None


def on_duty(schedule: Schedule, now: int, offset: int = 0) -> str:
    """The member on call at ``now`` (an override wins); ``offset`` 1 is the next one (the backup)."""
    if offset == 0:
        for start, end, member in schedule.overrides:
            if start <= now < end:
                return member
    turn = (now - schedule.start) // schedule.rotation_s
    return schedule.members[(turn + offset) % len(schedule.members)]


def recipients(targets: tuple[str, ...], alert: dict, oncall: dict[str, list[str]], cfg: Config,
               now: int) -> list[str]:
    """Addresses for ``targets``: ``oncall`` (the business's contacts), ``schedule:NAME`` (on duty),
    ``schedule:NAME:next`` (the backup), or an address as written."""
    out: list[str] = []
    for t in targets:
        if t == "oncall":
            people = oncall.get(alert["business"], [])
        elif t.startswith("schedule:"):
            name, _, nxt = t[9:].partition(":")
            people = [on_duty(cfg.schedules[name], now, 1 if nxt == "next" else 0)]
        else:
            people = [t]
        for p in people:
            addr = msg.parse_contact(p)[1]
            if addr and addr not in out:
                out.append(addr)
    return out


def matches(route: Route, alert: dict) -> bool:
    return (int(alert["star"]) in route.stars and alert["severity"] in route.severities
            and (not route.product_lines or alert["product_line"] in route.product_lines)
            and (not route.businesses or any(fnmatch.fnmatchcase(alert["business"], b) for b in route.businesses)))


def routes_for(alert: dict, cfg: Config) -> list[Route]:
    out = []
    for r in cfg.routes:
        if matches(r, alert):
            out.append(r)
            if not r.continue_:
                break
    return out


def quiet(cfg: Config, star: int, now: int, tz: str) -> bool:
    if star > cfg.quiet_max_star or cfg.quiet_start == cfg.quiet_end:
        return False
    t = datetime.fromtimestamp(now, ZoneInfo(tz))
    m = t.hour * 60 + t.minute
    if cfg.quiet_start < cfg.quiet_end:
        return cfg.quiet_start <= m < cfg.quiet_end
    return m >= cfg.quiet_start or m < cfg.quiet_end


def _ref(a: dict):
    return a.get("ref") or int(a["id"])


def _hash(alerts: list[dict]) -> str:
    text = ",".join(sorted(f"{a['dedup_key']}={a['severity']}" for a in alerts))
    return hashlib.sha1(text.encode()).hexdigest()


def _order(alerts: list[dict]) -> list[dict]:
    rank = {"crit": 0, "warn": 1, "stale": 2}
    return sorted(alerts, key=lambda a: (rank.get(a["severity"], 3), a.get("fired_at") or 0, a["dedup_key"]))


class Router:
    """One cycle's routing; ``counts`` (recipient -> messages this hour / today) come from the store."""

    def __init__(self, cfg: Config, tz: str, base: str, lang: str, oncall: dict, silences: list[dict],
                 groups: dict, hour_counts: dict, day_counts: dict, now: int, cycle: int,
                 digest_counts: dict | None = None):
        self.cfg, self.tz, self.base, self.lang = cfg, tz, base, lang
        self.oncall, self.silences, self.groups = oncall, silences, groups
        self.hour, self.day = dict(hour_counts), dict(day_counts)
        self.now, self.cycle = now, cycle
        self.digests: dict[tuple[str, str], list[dict]] = {}
        self.unroutable: set = set()
        self.digest_counts = digest_counts or {}     # idem_key -> alerts already held in a queued digest

    def run(self, after: list[dict], resolved: list[dict], write: CycleWrite) -> None:
        active: dict[tuple[str, str], dict] = {}
        for a in after:
            sid = silenced_by(a, self.silences, self.now)
            old = a.get("silenced_by")
            if sid != (None if old is None or old != old else int(old)):      # old != old: NaN
                self._set(a, write, silenced_by=sid)
                if sid is not None:
                    write.events.append((_ref(a), self.now, "silenced", "", f"silence {sid}"))
            a["silenced_by"] = sid
            if a["state"] not in ("firing", "acknowledged") or sid is not None or a.get("inhibited"):
                continue
            for route in routes_for(a, self.cfg):
                self._escalate(a, route, write)
                if a["state"] != "firing":
                    continue                       # acknowledged: no more notifications
                for rcp in self._addresses(route, route.to, a, write):
                    g = active.setdefault((f"{a['business']}|{route.name}", rcp),
                                          {"route": route, "alerts": [], "star": int(a["star"])})
                    g["alerts"].append(a)
        for (gkey, rcp), g in active.items():
            self._group(gkey, rcp, g, write)
        self._resolved(active, resolved, write)
        self._flush_digests(write)

    def _addresses(self, route: Route, targets: tuple, a: dict, write: CycleWrite) -> list[str]:
        """Recipients that suit the route's gateway (an SMS gateway needs E.164 numbers: a contact
        without one is recorded on the alert's timeline, not sent to)."""
        kind = self.cfg.gateways.get(route.gateway, {}).get("type", "console")
        out = []
        for rcp in recipients(targets, a, self.oncall, self.cfg, self.now):
            if kind in msg.SMS_GATEWAYS and not msg.is_e164(rcp):
                # noted once, when the alert fires (not every cycle)
                if (a["dedup_key"], rcp) not in self.unroutable and (a.get("ref") or a.get("fired_at") == self.now):
                    self.unroutable.add((a["dedup_key"], rcp))
                    write.events.append((_ref(a), self.now, "unroutable", "", f"{rcp!r} is not an E.164 number"))
                continue
            out.append(rcp)
        return out

    def _set(self, a: dict, write: CycleWrite, **values) -> None:
        if "id" in a and a.get("ref") is None:
            write.changed.append({"id": int(a["id"]), **values})
        else:                                       # a new alert: set on its insert row
            for row in write.new:
                if row["open_key"] == a["ref"]:
                    row.update(values)

    def _group(self, gkey: str, rcp: str, g: dict, write: CycleWrite) -> None:
        st = self.groups.get((gkey, rcp))
        h = _hash(g["alerts"])
        first = st["first_at"] if st else self.now
        last = st["last_sent_at"] if st else None
        due = ((last is None and self.now - first >= self.cfg.group_wait_s)
               or (last is not None and h != st["last_hash"] and self.now - last >= self.cfg.group_interval_s)
               or (last is not None and self.now - last >= self.cfg.repeat_interval_s))
        if due and quiet(self.cfg, g["star"], self.now, self.tz):
            due = False                             # held until quiet hours end (still on the wall)
        if due:
            self._send("firing", gkey, rcp, g["route"].gateway, _order(g["alerts"]), write)
            write.groups.append({"group_key": gkey, "recipient": rcp, "first_at": first, "last_sent_at": self.now,
                                 "last_hash": h})
        elif st is None:
            write.groups.append({"group_key": gkey, "recipient": rcp, "first_at": first, "last_sent_at": None,
                                 "last_hash": ""})

    def _resolved(self, active: dict, resolved: list[dict], write: CycleWrite) -> None:
        by_group: dict[str, list[dict]] = {}
        for a in resolved:
            by_group.setdefault(a["business"], []).append(a)
        for (gkey, rcp), st in self.groups.items():
            if (gkey, rcp) in active:
                continue
            write.groups_done.append((gkey, rcp))
            gone = by_group.get(gkey.split("|", 1)[0], [])
            if st["last_sent_at"] is not None and self.cfg.send_resolved and gone:
                route = next((r for r in self.cfg.routes if f"{gone[0]['business']}|{r.name}" == gkey), None)
                if route is not None:
                    self._send("resolved", gkey, rcp, route.gateway, _order(gone), write)

    def _escalate(self, a: dict, route: Route, write: CycleWrite) -> None:
        if (not route.escalate_after_s or a["state"] != "firing" or a.get("escalated_at")
                or self.now - int(a["fired_at"]) < route.escalate_after_s):
            return
        for rcp in self._addresses(route, route.escalate_to, a, write):
            self._send("escalation", f"{a['business']}|{route.name}|esc", rcp, route.gateway, [a], write)
        self._set(a, write, escalated_at=self.now)
        a["escalated_at"] = self.now
        write.events.append((_ref(a), self.now, "escalated", "", ", ".join(route.escalate_to)))

    def _send(self, kind: str, gkey: str, rcp: str, gateway: str, alerts: list[dict], write: CycleWrite) -> None:
        hour, day = self.hour.get(rcp, 0), self.day.get(rcp, 0)
        if hour >= self.cfg.per_hour - 1 or day >= self.cfg.per_day - 1:
            self.digests.setdefault((rcp, gateway), []).extend(alerts)
            return
        self.hour[rcp], self.day[rcp] = hour + 1, day + 1
        body = msg.render(kind, alerts, self.lang, self.tz, self.base, self.now)
        write.outbox.append({"idem_key": f"{kind}|{gkey}|{rcp}|{self.cycle}"[:200], "created_at": self.now,
                             "kind": kind, "recipient": rcp, "gateway": gateway, "group_key": gkey, "body": body,
                             "alert_ids": [_ref(a) for a in alerts]})
        for a in alerts:
            write.events.append((_ref(a), self.now, "notified", "", f"{kind} via {gateway} to {msg.mask(rcp)}"))

    def _flush_digests(self, write: CycleWrite) -> None:
        """One digest per recipient and cap window (hour, or day once the daily cap is reached):
        queued once per window, at its end, saying how many alerts it held back."""
        for (rcp, gateway), alerts in self.digests.items():
            daily = self.day.get(rcp, 0) >= self.cfg.per_day - 1
            window = 86400 if daily else 3600
            start = self.now - self.now % window
            top: dict[str, int] = {}
            for a in alerts:
                top[a["business"]] = top.get(a["business"], 0) + 1
            best = ", ".join(f"{b} {n}" for b, n in sorted(top.items(), key=lambda x: -x[1])[:3])
            label = msg.local(start, self.tz, "%H:00") + ("" if not daily else "+24h")
            key = f"digest|{rcp}|{start}|{window}"
            held = self.digest_counts.get(key, 0) + len(alerts)
            write.outbox.append({"idem_key": key, "created_at": self.now, "kind": "digest", "recipient": rcp,
                                 "gateway": gateway, "group_key": "digest",
                                 "body": msg.render_digest(held, label, best, self.lang),
                                 "alert_ids": [_ref(a) for a in alerts], "next_at": start + window})
