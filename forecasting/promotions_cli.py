"""``python app.py promotions``: the promotion calendar the forecasts and pages use.

    python app.py promotions list                         the calendar and the yearly kinds
    python app.py promotions add "anniversary 2026" --kind anniversary --start 2026-04-19 --preheat-days 2
    python app.py promotions add --yearly 04-19 --kind anniversary --preheat-days 2
    python app.py promotions remove "12.12 2025"          one promotion (a yearly one is skipped)
    python app.py promotions remove --kind 12.12          a yearly kind (a built-in one is disabled)
    python app.py promotions import promotions.toml       a .csv or .toml file (all rows or none)
    python app.py promotions suggest                      days the fleet's traffic says were promotions
"""
from __future__ import annotations

import argparse
import datetime as dt
from zoneinfo import ZoneInfo

import pandas as pd

from core.errors import ConfigError, StoreInputError
from forecasting import calendar_edit as ce
from forecasting import calendar_input as ci


def register(subparsers, parent: argparse.ArgumentParser | None = None) -> None:
    """Add the ``promotions`` command to the app's sub-commands."""
    parents = [parent] if parent else []
    p = subparsers.add_parser("promotions", parents=parents, help="the promotion calendar: list, add, remove, "
                              "import, suggest", description=__doc__.split("\n\n")[0],
                              epilog=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="promotions_command", required=True, parser_class=type(p))
    ls = sub.add_parser("list", parents=parents, help="the calendar (entered and yearly promotions) and the kinds")
    ls.add_argument("--years", type=int, default=3, help="years back shown (default 3)")
    ls.set_defaults(func=cmd_list)
    add = sub.add_parser("add", parents=parents, help="enter a promotion, or a yearly one with --yearly MM-DD")
    add.add_argument("name", nargs="?", default=None, help="name (default '<kind> <year>')")
    add.add_argument("--kind", required=True, help="what repeats: 11.11, 6.18, anniversary ... (same kinds compare)")
    add.add_argument("--start", help="local start: 2026-04-19 (midnight) or '2026-04-19 20:00'")
    add.add_argument("--yearly", metavar="MM-DD", help="a promotion every year on this day instead of one date")
    add.add_argument("--days", type=int, default=1, help="length in days (default 1)")
    add.add_argument("--preheat-days", type=int, default=0, help="days of pre-sale before the start (default 0)")
    add.add_argument("--tz", default=None, help="its time zone (default: the timezone setting)")
    add.set_defaults(func=cmd_add)
    rm = sub.add_parser("remove", parents=parents, help="remove a promotion by name, or a yearly kind with --kind")
    rm.add_argument("name", nargs="?", default=None)
    rm.add_argument("--kind", dest="remove_kind", default=None, help="stop a yearly kind (built-in: disabled)")
    rm.set_defaults(func=cmd_remove)
    imp = sub.add_parser("import", parents=parents, help="enter every promotion of a .csv or .toml file",
                         description=ci.__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    imp.add_argument("file")
    imp.set_defaults(func=cmd_import)
    sg = sub.add_parser("suggest", parents=parents, help="days whose traffic peak stands far above normal")
    sg.add_argument("--min-lift", type=float, default=1.5, help="peak over the normal daily peak (default 1.5)")
    sg.set_defaults(func=cmd_suggest)


def _store(settings):
    from store import Store
    return Store.open(settings.store_url, raw_retention_days=settings.raw_retention_days,
                      busy_timeout_s=settings.store_busy_timeout)


def _local(ts: int, tz: str) -> str:
    return dt.datetime.fromtimestamp(int(ts), ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def format_calendar(cal: pd.DataFrame, kinds: pd.DataFrame) -> str:
    """The calendar as a table (local start times, each in the promotion's own time zone)."""
    lines = [f"{'name':<24} {'kind':<14} {'start (local)':<17} {'days':>4} {'pre-heat':>8}  origin"]
    for r in cal.to_dict("records"):
        days = (int(r["end"]) - int(r["start"])) / 86400
        lines.append(f"{r['name']:<24} {r['kind']:<14} {_local(r['start'], r['tz']):<17} {days:>4g} "
                     f"{int(r['preheat_days']):>8}  {r['origin']}")
    lines.append("")
    lines.append(f"yearly kinds: {'kind':<14} {'day':<6} {'days':>4} {'pre-heat':>8}  {'tz':<16} state")
    for k in kinds.to_dict("records"):
        state = "on" if k["enabled"] else "off"
        lines.append(f"{'':<14}{k['kind']:<14} {k['month']:02d}-{k['day']:02d}  {k['length_days']:>4} "
                     f"{k['preheat_days']:>8}  {k['tz']:<16} {state} ({k['origin']})")
    return "\n".join(lines)


def cmd_list(args, settings) -> int:
    with _store(settings) as store:
        year = dt.datetime.now(dt.timezone.utc).year
        print(format_calendar(store.calendar(first_year=year - max(0, args.years)), store.promotion_kinds()))
    return 0


def cmd_add(args, settings) -> int:
    tz = args.tz or settings.timezone
    fields = {"kind": args.kind, "days": args.days, "preheat_days": args.preheat_days, "tz": tz}
    with _store(settings) as store:
        if args.yearly:
            if args.start or args.name:
                raise ConfigError("promotions add --yearly takes a kind and a day, not a name or --start; "
                                  "enter one dated promotion without --yearly.")
            print(ce.add_yearly(store, {**fields, "date": args.yearly}, "promotions add --yearly"))
            return 0
        if not args.start:
            raise ConfigError("promotions add needs --start (e.g. --start 2026-04-19) or --yearly MM-DD.")
        print(ce.add_dated(store, {**fields, "name": args.name, "start": args.start}, "user", "promotions add"))
    return 0


def cmd_remove(args, settings) -> int:
    if bool(args.name) == bool(args.remove_kind):
        raise ConfigError("promotions remove takes a promotion name or --kind KIND (one of them).")
    with _store(settings) as store:
        print(ce.remove_kind(store, args.remove_kind) if args.remove_kind else ce.remove_by_name(store, args.name))
    return 0


def cmd_import(args, settings) -> int:
    promos, kinds = ci.read_file(args.file)
    if not promos and not kinds:
        raise ConfigError(f"{args.file}: no promotion in it; see `python app.py promotions import --help`.")
    with _store(settings) as store:
        try:
            for k in kinds:
                store.set_promotion_kind(k)
            store.upsert_promotions(promos, origin="import")
        except StoreInputError as exc:
            raise ConfigError(f"{args.file}: {exc}") from exc
    print(f"{len(promos)} promotions and {len(kinds)} yearly kinds imported from {args.file}")
    return 0


def cmd_suggest(args, settings) -> int:
    from forecasting.suggest import suggest_from_store
    with _store(settings) as store:
        found = suggest_from_store(store, settings.timezone, args.min_lift)
    if found.empty:
        print("no suggestion: every day whose peak stands out is already in the calendar")
        return 0
    print(f"{len(found)} days stand out and are not in the calendar (peak over the normal daily peak):")
    for r in found.to_dict("records"):
        print(f"  {r['date']}  x{r['lift']:.2f}   to confirm: python app.py promotions add --kind {r['kind']} "
              f"--start {r['date']}")
        if r["years"] > 1:
            print(f"{'':14}seen {r['years']} years: python app.py promotions add --kind {r['kind']} "
                  f"--yearly {r['date'][5:]}")
    return 0
