"""Alerting's persisted state behind the Store facade: Zabbix problems, alerts (lifecycle and
history), silences, the notification outbox with its delivery log, notification group state and
leases. ``AlertsMixin`` adds these methods to :class:`store.Store` (see docs/store-api.md).

Alert lifecycle: ``pending`` (breaching, its rule's ``for`` not yet elapsed; not red anywhere) ->
``firing`` -> ``acknowledged`` -> ``resolved``; an alert is keyed by ``dedup_key`` (business, rule,
cluster/instance) and ``open_key`` equals it while the alert is open, so one open alert per key is a
unique constraint of the database, not a promise of the evaluator. Every change is an
``alert_events`` row (who, when, what).
"""
from __future__ import annotations

import json
from typing import Iterable

import pandas as pd
from sqlalchemy import and_, delete, insert, or_, select, update

from core.errors import StoreInputError
from store import schema
from store.accounts import audit_row
from store.alert_types import (ALERT_STATES, OPEN_STATES, OUTBOX_STATES, PROBLEM_SEVERITIES,  # noqa: F401
                               SILENCE_MATCHERS, CycleWrite)

ALERT_COLUMNS = [c.name for c in schema.alerts.columns]
OUTBOX_COLUMNS = [c.name for c in schema.outbox.columns]


def severity_name(value) -> str:
    """A Zabbix severity (0..5 or its name) in the store's vocabulary."""
    if isinstance(value, str) and not value.strip().isdigit():
        name = value.strip().lower()
        if name not in PROBLEM_SEVERITIES:
            raise StoreInputError(f"problem severity {value!r} is not one of {', '.join(PROBLEM_SEVERITIES)}.")
        return name
    level = int(value)
    if not 0 <= level <= 5:
        raise StoreInputError(f"problem severity {value!r} is not a Zabbix level 0..5.")
    return PROBLEM_SEVERITIES[level]


def check_silence(matchers: dict, starts_at: int, ends_at: int, who: str, now: int) -> None:
    """A silence must match something, name its author and end in the future, after its start."""
    if not matchers:
        raise StoreInputError("a silence needs at least one matcher (business, product_line, cluster, instance, "
                              "rule or severity); silencing everything is not allowed.")
    for key, value in matchers.items():
        if key not in SILENCE_MATCHERS:
            raise StoreInputError(f"silence matcher {key!r} is not one of {', '.join(SILENCE_MATCHERS)}.")
        if not isinstance(value, str) or not value.strip():
            raise StoreInputError(f"silence matcher {key!r} needs a value (a name, or a glob such as 'pay-*').")
    if not str(who).strip():
        raise StoreInputError("a silence needs its author (who).")
    if int(ends_at) <= int(now):
        raise StoreInputError("a silence must end in the future; give an expiry after now.")
    if int(ends_at) <= int(starts_at):
        raise StoreInputError("a silence must end after it starts.")


def _chunks(items: list, size: int = 500):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _frame(rows, columns) -> pd.DataFrame:
    return pd.DataFrame([tuple(r) for r in rows], columns=columns)


class AlertsMixin:
    """Store methods for alerting (the Store provides ``_tx`` and ``_ro``)."""

    # ------------------------------------------------------------------ Zabbix problems
    def replace_problems(self, problems: Iterable[dict], source: str = "zabbix") -> int:
        """Replace ``source``'s active problems with ``problems`` (dicts: eventid, clock, name,
        severity (0..5 or name), acknowledged, host, instance (None when not collected), tags)."""
        rows = []
        for p in problems:
            rows.append({"eventid": str(p["eventid"]), "source": source, "clock": int(p["clock"]),
                         "name": str(p["name"]), "severity": severity_name(p["severity"]),
                         "acknowledged": int(bool(p.get("acknowledged"))), "host": str(p.get("host") or ""),
                         "instance": p.get("instance"), "tags": json.dumps(p.get("tags") or {}, ensure_ascii=False)})
        t = schema.zabbix_problems
        with self._tx() as conn:
            conn.execute(delete(t).where(t.c.source == source))
            for chunk in _chunks([r["eventid"] for r in rows]):   # one event told by the webhook too
                conn.execute(delete(t).where(t.c.eventid.in_(chunk)))
            if rows:
                conn.execute(insert(t), rows)
        return len(rows)

    def upsert_problem(self, problem: dict, source: str = "webhook") -> None:
        """One active problem (as :meth:`replace_problems` takes them), told as it happens (Zabbix's
        webhook media type); the same eventid again replaces it."""
        row = {"eventid": str(problem["eventid"]), "source": source, "clock": int(problem["clock"]),
               "name": str(problem["name"]), "severity": severity_name(problem["severity"]),
               "acknowledged": int(bool(problem.get("acknowledged"))), "host": str(problem.get("host") or ""),
               "instance": problem.get("instance"),
               "tags": json.dumps(problem.get("tags") or {}, ensure_ascii=False)}
        t = schema.zabbix_problems
        with self._tx() as conn:
            conn.execute(delete(t).where(t.c.eventid == row["eventid"]))
            conn.execute(insert(t), [row])

    def resolve_problem(self, eventid: str) -> bool:
        """A problem that recovered leaves the active set; False when it was not there."""
        t = schema.zabbix_problems
        with self._tx() as conn:
            return bool(conn.execute(delete(t).where(t.c.eventid == str(eventid))).rowcount)

    def problems(self) -> pd.DataFrame:
        """Active problems [eventid, clock, name, severity (name), level (0..5), acknowledged (bool),
        host, instance, tags (dict), source], most severe first, then newest."""
        t = schema.zabbix_problems
        cols = ["eventid", "clock", "name", "severity", "acknowledged", "host", "instance", "tags", "source"]
        with self._ro() as conn:
            rows = conn.execute(select(*[t.c[c] for c in cols])).fetchall()
        df = _frame(rows, cols)
        df["level"] = df["severity"].map({s: i for i, s in enumerate(PROBLEM_SEVERITIES)}).astype("int64")
        df["acknowledged"] = df["acknowledged"].astype(bool)
        df["tags"] = df["tags"].map(json.loads)
        return df.sort_values(["level", "clock"], ascending=[False, False], kind="stable").reset_index(drop=True)

    # ------------------------------------------------------------------ alerts
    def open_alerts(self, include_pending: bool = True) -> pd.DataFrame:
        """Open alerts (every alerts column); firing and acknowledged ones are the red flags."""
        states = OPEN_STATES if include_pending else ("firing", "acknowledged")
        with self._ro() as conn:
            rows = conn.execute(select(schema.alerts).where(schema.alerts.c.state.in_(states))).fetchall()
        return _frame(rows, ALERT_COLUMNS)

    def alert(self, alert_id: int) -> dict | None:
        """One alert (every alerts column), open or not; None when unknown."""
        with self._ro() as conn:
            row = conn.execute(select(schema.alerts).where(schema.alerts.c.id == int(alert_id))).first()
        return None if row is None else dict(zip(ALERT_COLUMNS, row))

    def alerts(self, since: int | None = None, business: str | None = None, state: str | None = None,
               limit: int = 1000) -> pd.DataFrame:
        """Alert history, newest first (fired alerts only: pending ones that cleared left none)."""
        t = schema.alerts
        q = select(t).where(t.c.fired_at.is_not(None))
        if since is not None:
            q = q.where(or_(t.c.fired_at >= since, t.c.resolved_at.is_(None), t.c.resolved_at >= since))
        if business is not None:
            q = q.where(t.c.business == business)
        if state is not None:
            q = q.where(t.c.state == state)
        with self._ro() as conn:
            rows = conn.execute(q.order_by(t.c.fired_at.desc(), t.c.id.desc()).limit(limit)).fetchall()
        return _frame(rows, ALERT_COLUMNS)

    def alert_events(self, alert_id: int | None = None, since: int | None = None) -> pd.DataFrame:
        """[id, alert_id, ts, kind, who, detail]: an alert's timeline (or every alert's since ``since``)."""
        t = schema.alert_events
        q = select(t)
        if alert_id is not None:
            q = q.where(t.c.alert_id == int(alert_id))
        if since is not None:
            q = q.where(t.c.ts >= since)
        with self._ro() as conn:
            rows = conn.execute(q.order_by(t.c.ts, t.c.id)).fetchall()
        return _frame(rows, [c.name for c in t.columns])

    def acknowledge(self, alert_id: int, who: str, now: int, comment: str = "", via: str = "") -> bool:
        """Acknowledge a firing alert; False when it is not firing (already acknowledged by someone
        else, resolved, or unknown): of two operators acknowledging at once, one wins. Audited."""
        if not who.strip():
            raise StoreInputError("acknowledge needs who acknowledges (a user name).")
        t = schema.alerts
        with self._tx() as conn:
            res = conn.execute(update(t).where(and_(t.c.id == int(alert_id), t.c.state == "firing"))
                               .values(state="acknowledged", acked_by=who, acked_at=int(now), ack_comment=comment,
                                       updated_at=int(now)))
            if not res.rowcount:
                return False
            conn.execute(insert(schema.alert_events), [{"alert_id": int(alert_id), "ts": int(now),
                                                        "kind": "acknowledged", "who": who, "detail": comment}])
            audit_row(conn, now, who, "alert.acknowledge", f"alert#{int(alert_id)}", comment, via)
        return True

    def commit_cycle(self, write: CycleWrite, lease: str, holder: str, cycle: int) -> bool:
        """Write one evaluation cycle if ``holder`` still holds ``lease`` and ``cycle`` was not run
        yet; False (nothing written) otherwise. One transaction: alerts, events and outbox together."""
        lt = schema.leases
        with self._tx() as conn:
            res = conn.execute(update(lt).where(and_(lt.c.name == lease, lt.c.holder == holder,
                                                     lt.c.last_run < int(cycle))).values(last_run=int(cycle)))
            if not res.rowcount:
                return False
            _write_cycle(conn, write)
        return True

    # ------------------------------------------------------------------ silences
    def add_silence(self, matchers: dict[str, str], starts_at: int, ends_at: int, who: str, now: int,
                    comment: str = "", via: str = "") -> int:
        """A silence (or a maintenance window: one that starts later) of alerts matching every
        matcher (business, product_line, cluster, instance, rule, severity)."""
        check_silence(matchers, starts_at, ends_at, who, now)
        with self._tx() as conn:
            res = conn.execute(insert(schema.silences).values(
                matchers=json.dumps(dict(sorted(matchers.items())), ensure_ascii=False), starts_at=int(starts_at),
                ends_at=int(ends_at), created_by=who, comment=comment, created_at=int(now)))
            sid = int(res.inserted_primary_key[0])
            audit_row(conn, now, who, "silence.add", f"silence#{sid}",
                   json.dumps(dict(sorted(matchers.items())), ensure_ascii=False) + (f" {comment}" if comment else ""), via)
            return sid

    def silences(self, active_at: int | None = None) -> pd.DataFrame:
        """[id, matchers (dict), starts_at, ends_at, created_by, comment, created_at, expired_at];
        with ``active_at``: those in force then (and maintenance windows yet to come)."""
        t = schema.silences
        q = select(t)
        if active_at is not None:
            q = q.where(and_(t.c.ends_at > int(active_at), t.c.expired_at.is_(None)))
        with self._ro() as conn:
            rows = conn.execute(q.order_by(t.c.id)).fetchall()
        df = _frame(rows, [c.name for c in t.columns])
        df["matchers"] = df["matchers"].map(json.loads)
        return df

    def expire_silence(self, silence_id: int, who: str, now: int, via: str = "") -> bool:
        """End a silence now (audited); False when it is unknown or no longer in force."""
        t = schema.silences
        with self._tx() as conn:
            res = conn.execute(update(t).where(and_(t.c.id == int(silence_id), t.c.expired_at.is_(None),
                                                    t.c.ends_at > int(now))).values(expired_at=int(now)))
            if res.rowcount:
                audit_row(conn, now, who, "silence.expire", f"silence#{int(silence_id)}", "", via)
            return bool(res.rowcount)

    # ------------------------------------------------------------------ outbox
    def enqueue(self, rows: list[dict]) -> int:
        """Outbox rows outside a cycle (test messages); a row whose idem_key exists is skipped."""
        with self._tx() as conn:
            return _insert_outbox(conn, rows, {})

    def claim_outbox(self, holder: str, now: int, lease_s: int = 60, limit: int = 50) -> list[dict]:
        """Claim due messages for sending (queued or retry and due, or claimed by a sender whose
        claim ran out: it crashed) in one conditional update, so two senders never hold one message."""
        t = schema.outbox
        due = or_(and_(t.c.state.in_(("queued", "retry")), t.c.next_at <= int(now)),
                  and_(t.c.state == "sending", t.c.claimed_until < int(now)))
        until = int(now) + int(lease_s)
        pick = select(t.c.id).where(due).order_by(t.c.next_at, t.c.id).limit(limit).scalar_subquery()
        with self._tx() as conn:
            # one statement claims the batch (no read-then-write race on SQLite); a row another
            # sender claimed meanwhile no longer matches ``due`` (PostgreSQL re-checks it after the
            # row lock) and stays theirs
            conn.execute(update(t).where(and_(t.c.id.in_(pick), due)).values(
                state="sending", claimed_by=holder, claimed_until=until))
            rows = conn.execute(select(t).where(and_(t.c.claimed_by == holder, t.c.state == "sending",
                                                     t.c.claimed_until == until)).order_by(t.c.id)).fetchall()
        return [dict(zip(OUTBOX_COLUMNS, r)) for r in rows]

    def record_attempt(self, outbox_id: int, holder: str, now: int, status: str, answer: str = "",
                       gateway_id: str | None = None, next_at: int | None = None,
                       elapsed_ms: float | None = None) -> bool:
        """Record one send attempt of a claimed message: ``sent``, ``retried`` (due again at
        ``next_at``) or ``failed``; False when ``holder`` no longer holds the claim (nothing written)."""
        if status not in ("sent", "retried", "failed"):
            raise StoreInputError(f"delivery status {status!r} is not sent, retried or failed.")
        t = schema.outbox
        state = {"sent": "sent", "retried": "retry", "failed": "failed"}[status]
        values = {"state": state, "attempts": t.c.attempts + 1, "answer": answer[:2000], "claimed_by": None,
                  "claimed_until": None}
        if status == "sent":
            values.update(sent_at=int(now), gateway_id=gateway_id)
        if status == "retried":
            values["next_at"] = int(next_at if next_at is not None else now)
        with self._tx() as conn:
            res = conn.execute(update(t).where(and_(t.c.id == int(outbox_id), t.c.state == "sending",
                                                    t.c.claimed_by == holder)).values(**values))
            if not res.rowcount:
                return False
            row = conn.execute(select(t.c.attempts, t.c.gateway).where(t.c.id == int(outbox_id))).one()
            conn.execute(insert(schema.deliveries), [{"outbox_id": int(outbox_id), "ts": int(now), "attempt": row[0],
                                                      "status": status, "gateway": row[1], "gateway_id": gateway_id,
                                                      "answer": answer[:2000], "elapsed_ms": elapsed_ms}])
        return True

    def outbox(self, state: str | None = None, since: int | None = None, limit: int = 1000) -> pd.DataFrame:
        """Outbox rows, newest first."""
        t = schema.outbox
        q = select(t)
        if state is not None:
            q = q.where(t.c.state == state)
        if since is not None:
            q = q.where(t.c.created_at >= int(since))
        with self._ro() as conn:
            rows = conn.execute(q.order_by(t.c.id.desc()).limit(limit)).fetchall()
        return _frame(rows, OUTBOX_COLUMNS)

    def deliveries(self, outbox_id: int | None = None, limit: int = 1000) -> pd.DataFrame:
        t = schema.deliveries
        q = select(t)
        if outbox_id is not None:
            q = q.where(t.c.outbox_id == int(outbox_id))
        with self._ro() as conn:
            rows = conn.execute(q.order_by(t.c.id.desc()).limit(limit)).fetchall()
        return _frame(rows, [c.name for c in t.columns])

    def sent_counts(self, since: int) -> dict[str, int]:
        """Recipient -> messages queued for it since ``since`` (rate limits and daily caps)."""
        from sqlalchemy import func
        t = schema.outbox
        with self._ro() as conn:
            rows = conn.execute(select(t.c.recipient, func.count()).where(and_(t.c.created_at >= int(since),
                                                                                t.c.kind != "test"))
                                .group_by(t.c.recipient)).fetchall()
        return {r: int(n) for r, n in rows}

    def queued_digests(self) -> dict[str, int]:
        """idem_key -> alerts held in each digest not yet sent (routing adds the next overflow)."""
        t = schema.outbox
        with self._ro() as conn:
            rows = conn.execute(select(t.c.idem_key, t.c.alert_ids).where(and_(t.c.kind == "digest",
                                                                              t.c.state == "queued"))).fetchall()
        return {k: len(json.loads(v)) for k, v in rows}

    def notify_groups(self) -> pd.DataFrame:
        t = schema.notify_state
        with self._ro() as conn:
            rows = conn.execute(select(t)).fetchall()
        return _frame(rows, [c.name for c in t.columns])

    # ------------------------------------------------------------------ leases
    def acquire_lease(self, name: str, holder: str, now: int, ttl_s: int) -> bool:
        """Take or renew the lease ``name`` until ``now + ttl_s``; False while another holder's
        lease runs. Atomic on SQLite and PostgreSQL (one conditional update or insert)."""
        t = schema.leases
        with self._tx() as conn:
            res = conn.execute(update(t).where(and_(t.c.name == name, or_(t.c.holder == holder,
                                                                          t.c.expires_at < int(now))))
                               .values(holder=holder, expires_at=int(now) + int(ttl_s)))
            if res.rowcount:
                return True
            from store.writer import _sql
            res = conn.exec_driver_sql(_sql(conn, "INSERT INTO leases (name, holder, expires_at, last_run) "
                                                  "VALUES (?, ?, ?, 0) ON CONFLICT (name) DO NOTHING"),
                                       (name, holder, int(now) + int(ttl_s)))
            return bool(res.rowcount)

    def release_lease(self, name: str, holder: str) -> None:
        t = schema.leases
        with self._tx() as conn:
            conn.execute(update(t).where(and_(t.c.name == name, t.c.holder == holder)).values(expires_at=0))

    def lease(self, name: str) -> dict | None:
        t = schema.leases
        with self._ro() as conn:
            row = conn.execute(select(t).where(t.c.name == name)).first()
        return None if row is None else dict(zip([c.name for c in t.columns], row))


def _write_cycle(conn, write: CycleWrite) -> None:
    t = schema.alerts
    if write.deleted:
        conn.execute(delete(schema.alert_events).where(schema.alert_events.c.alert_id.in_(write.deleted)))
        conn.execute(delete(t).where(t.c.id.in_(write.deleted)))
    if write.changed:
        by_cols: dict[tuple, list[dict]] = {}
        for row in write.changed:
            by_cols.setdefault(tuple(sorted(row)), []).append(row)
        for cols, rows in by_cols.items():
            from sqlalchemy import bindparam
            stmt = update(t).where(t.c.id == bindparam("_id")).values(
                {c: bindparam(f"_{c}") for c in cols if c != "id"})
            conn.execute(stmt, [{f"_{k}": v for k, v in r.items()} | {"_id": r["id"]} for r in rows])
    ids: dict[str, int] = {}
    if write.new:
        conn.execute(insert(t), write.new)
        for chunk in _chunks([r["open_key"] for r in write.new]):
            ids.update({k: int(v) for k, v in conn.execute(select(t.c.open_key, t.c.id).where(t.c.open_key.in_(chunk)))})
    if write.events:
        rows = [{"alert_id": ids[a] if isinstance(a, str) else int(a), "ts": int(ts), "kind": kind, "who": who,
                 "detail": detail} for a, ts, kind, who, detail in write.events]
        conn.execute(insert(schema.alert_events), rows)
    _insert_outbox(conn, write.outbox, ids)
    ns = schema.notify_state
    for key, recipient in write.groups_done:
        conn.execute(delete(ns).where(and_(ns.c.group_key == key, ns.c.recipient == recipient)))
    if write.groups:
        from store.writer import upsert_rows
        upsert_rows(conn, "notify_state", ("group_key", "recipient", "first_at", "last_sent_at", "last_hash"),
                    ("group_key", "recipient"),
                    [(g["group_key"], g["recipient"], g["first_at"], g["last_sent_at"], g["last_hash"])
                     for g in write.groups])


def _insert_outbox(conn, rows: list[dict], ids: dict[str, int]) -> int:
    if not rows:
        return 0
    t = schema.outbox
    keys = [r["idem_key"] for r in rows]
    existing = {k: (i, kind, state, ids_) for chunk in _chunks(keys) for k, i, kind, state, ids_ in conn.execute(
        select(t.c.idem_key, t.c.id, t.c.kind, t.c.state, t.c.alert_ids).where(t.c.idem_key.in_(chunk)))}
    fresh = []
    for r in rows:
        if r["idem_key"] in existing:
            oid, kind, state, old_ids = existing[r["idem_key"]]
            if kind == "digest" and state == "queued":   # a digest not yet sent takes the new overflow
                more = [ids[a] if isinstance(a, str) else int(a) for a in r.get("alert_ids", [])]
                conn.execute(update(t).where(and_(t.c.id == oid, t.c.state == "queued")).values(
                    body=r["body"], alert_ids=json.dumps(json.loads(old_ids) + more)))
            continue
        existing[r["idem_key"]] = (None, r["kind"], "new", "[]")
        alert_ids = [ids[a] if isinstance(a, str) else int(a) for a in r.get("alert_ids", [])]
        fresh.append({"idem_key": r["idem_key"], "created_at": int(r["created_at"]), "kind": r["kind"],
                      "recipient": r["recipient"], "gateway": r["gateway"], "group_key": r.get("group_key", ""),
                      "body": r["body"], "alert_ids": json.dumps(alert_ids), "state": "queued", "attempts": 0,
                      "next_at": int(r.get("next_at", r["created_at"]))})
    if fresh:
        conn.execute(insert(t), fresh)
        got = {k: v for chunk in _chunks([f["idem_key"] for f in fresh])
               for k, v in conn.execute(select(t.c.idem_key, t.c.id).where(t.c.idem_key.in_(chunk)))}
        conn.execute(insert(schema.deliveries), [{"outbox_id": got[f["idem_key"]], "ts": f["created_at"], "attempt": 0,
                                                  "status": "queued", "gateway": f["gateway"], "answer": ""}
                                                 for f in fresh])
    return len(fresh)
