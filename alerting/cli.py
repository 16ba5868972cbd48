"""``python app.py alerts``: evaluate once, send a test message, silence, acknowledge, show the log.

    app.py alerts --once                      evaluate this cycle (unless another evaluator did) and send
    app.py alerts test --to +8613800138000 [--gateway NAME]
    app.py alerts silence --match business=pay --for 2h --by li.wei [--comment ...] [--start ...]
    app.py alerts silence --list | --expire ID --by NAME
    app.py alerts ack ID --by NAME [--comment ...]
    app.py alerts log [--limit 20]
"""
from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from core.errors import ConfigError


def register(subparsers, parent: argparse.ArgumentParser | None = None) -> None:
    """Add the ``alerts`` command to app.py's CLI."""
    parents = [parent] if parent else []
    p = subparsers.add_parser("alerts", parents=parents, help="alert engine: evaluate, test a gateway, silence, log",
                              description="Evaluate alerts, send notifications, manage silences ([alerting]).")
    p.add_argument("--once", action="store_true", help="evaluate this cycle and send what is due, then exit")
    p.set_defaults(func=cmd_once, with_store="migrated", check_settings=check_setup)
    sub = p.add_subparsers(dest="alerts_command", parser_class=type(p))
    t = sub.add_parser("test", parents=parents, help="send one test message and show the gateway's answer")
    t.add_argument("--to", required=True, help="recipient: E.164 number (+8613800138000) or robot address")
    t.add_argument("--gateway", default=None, help="gateway name from [alerting.gateways] (default: first route's)")
    t.set_defaults(func=cmd_test, with_store="migrated", check_settings=check_setup)
    s = sub.add_parser("silence", parents=parents, help="add, list or expire silences (maintenance windows)")
    s.add_argument("--match", action="append", default=[], metavar="KEY=VALUE",
                   help="business, product_line, cluster, instance, rule or severity (globs allowed); repeatable")
    s.add_argument("--for", dest="duration", default=None, help="how long, e.g. 2h (required with --match)")
    s.add_argument("--start", default=None, help="start (display time zone, e.g. 2026-11-10T22:00; default now)")
    s.add_argument("--by", default=None, help="who silences (recorded)")
    s.add_argument("--comment", default="", help="why")
    s.add_argument("--list", action="store_true", help="silences in force or to come")
    s.add_argument("--expire", type=int, default=None, metavar="ID", help="end a silence now")
    s.set_defaults(func=cmd_silence, with_store="migrated", check_settings=None)
    a = sub.add_parser("ack", parents=parents, help="acknowledge an alert (stops repeats and escalation)")
    a.add_argument("alert_id", type=int)
    a.add_argument("--by", required=True, help="who acknowledges")
    a.add_argument("--comment", default="")
    a.set_defaults(func=cmd_ack, with_store="migrated", check_settings=None)
    lg = sub.add_parser("log", parents=parents, help="recent notifications and their delivery")
    lg.add_argument("--limit", type=int, default=20)
    lg.set_defaults(func=cmd_log, with_store="migrated", check_settings=None)


def check_setup(args, settings) -> None:
    """Config and gateways before the store is opened (app.py calls this first): a bad file or a
    missing credential stops here, nothing opened or sent."""
    from alerting import config as acfg
    from alerting.gateways import build_all
    args.alerting_cfg = acfg.load(settings)
    args.alerting_gateways = build_all(args.alerting_cfg.gateways)


def cmd_once(args, settings, store) -> int:
    from alerting.engine import Engine
    from alerting.sender import Sender
    cfg, gateways = args.alerting_cfg, args.alerting_gateways
    engine = Engine(store, settings, cfg)
    report = engine.run_once()
    if report is None:
        lease = store.lease("alerting.evaluator") or {}
        print(f"cycle {engine.cycle_of(int(time.time()))} already evaluated (evaluator {lease.get('holder', '?')}); "
              f"nothing evaluated")
    else:
        print(report.line())
    print(f"{Sender(store, gateways).drain()} messages delivered")
    return 0


def cmd_test(args, settings, store) -> int:
    from alerting.messages import check_address, render
    from alerting.sender import Sender
    cfg, gateways = args.alerting_cfg, args.alerting_gateways
    name = args.gateway or cfg.routes[0].gateway
    if name not in gateways:
        raise ConfigError(f"unknown gateway {name!r}; configured: {', '.join(sorted(gateways))} "
                          f"(add [alerting.gateways.{name}]).")
    to = check_address(args.to, gateways[name].kind, "--to")
    now = int(time.time())
    body = render("test", [], cfg.language or settings.language, settings.timezone, "", now)
    key = f"test|{to}|{now}"
    store.enqueue([{"idem_key": key, "created_at": now, "kind": "test", "recipient": to, "gateway": name,
                    "body": body}])
    row = store.outbox(limit=50)
    row = row[row["idem_key"] == key].iloc[0].to_dict()
    sender = Sender(store, gateways)
    claimed = [r for r in store.claim_outbox(sender.holder, now, sender.claim_s(), 50) if r["id"] == row["id"]]
    status = sender.deliver(claimed[0]) if claimed else "queued"
    out = store.outbox(limit=50).set_index("id").loc[row["id"]]
    print(f"{status}: {out['answer'] or ''}" + (f" (gateway id {out['gateway_id']})" if out["gateway_id"] else ""))
    return 0 if status == "sent" else 1


def _parse_when(text: str | None, tz: str, now: int) -> int:
    if not text:
        return now
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--start {text!r} is not a date and time; write e.g. 2026-11-10T22:00.") from None
    return int((dt if dt.tzinfo else dt.replace(tzinfo=ZoneInfo(tz))).timestamp())


def cmd_silence(args, settings, store) -> int:
    from alerting.config import parse_duration
    from alerting.messages import local
    from core.errors import StoreInputError
    now = int(time.time())
    if args.list:
        for r in store.silences(active_at=now).itertuples():
            print(f"{r.id}  {local(r.starts_at, settings.timezone)} -> {local(r.ends_at, settings.timezone)}  "
                  f"{' '.join(f'{k}={v}' for k, v in r.matchers.items())}  by {r.created_by}  {r.comment}")
        return 0
    if not args.by:
        raise ConfigError("--by is missing; say who silences (it is recorded).")
    if args.expire is not None:
        ok = store.expire_silence(args.expire, args.by, now, via="cli")
        print(f"silence {args.expire} expired" if ok else f"silence {args.expire} is not in force")
        return 0 if ok else 1
    matchers = {}
    for m in args.match:
        key, sep, value = m.partition("=")
        if not sep:
            raise ConfigError(f"--match {m!r} is not KEY=VALUE; write e.g. --match business=pay.")
        matchers[key.strip()] = value.strip()
    if not args.duration:
        raise ConfigError("--for is missing; give how long the silence lasts, e.g. --for 2h.")
    start = _parse_when(args.start, settings.timezone, now)
    try:
        sid = store.add_silence(matchers, start, start + parse_duration(args.duration, "--for"), args.by, now,
                                args.comment, via="cli")
    except StoreInputError as exc:
        raise ConfigError(str(exc)) from exc
    print(f"silence {sid} until {local(start + parse_duration(args.duration, '--for'), settings.timezone)}")
    return 0


def cmd_ack(args, settings, store) -> int:
    ok = store.acknowledge(args.alert_id, args.by, int(time.time()), args.comment, via="cli")
    print(f"alert {args.alert_id} acknowledged by {args.by}" if ok else
          f"alert {args.alert_id} is not firing (already acknowledged, resolved or unknown)")
    return 0 if ok else 1


def cmd_log(args, settings, store) -> int:
    from alerting.messages import local, mask
    rows = store.outbox(limit=args.limit)
    for r in rows.itertuples():
        print(f"{r.id}  {local(r.created_at, settings.timezone)}  {r.kind:<10} {r.state:<7} "
              f"{mask(r.recipient)} via {r.gateway} (attempts {r.attempts})  {r.body.splitlines()[0][:70]}"
              + (f"  [{(r.answer or '')[:60]}]" if r.state != "sent" and r.answer else ""))
    if rows.empty:
        print("no notifications yet", file=sys.stderr)
    return 0
