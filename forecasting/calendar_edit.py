"""Changes to the promotion calendar, the same from the CLI and from the /promotions page.

Each function checks its input fully before it writes (a bad date, kind or time zone changes
nothing), writes through the Store, logs what changed and returns a sentence for the user.
"""
from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

from core.errors import ConfigError, StoreInputError
from forecasting import calendar_input as ci
from store.inventory_types import Promotion

log = logging.getLogger("peakwatch.promotions")


def _local(ts: int, tz: str) -> str:
    return dt.datetime.fromtimestamp(int(ts), ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def add_dated(store, fields: dict, origin: str = "user", where: str = "promotion") -> str:
    """Enter one dated promotion (fields as :func:`calendar_input.promotion` reads them)."""
    promo = ci.promotion(fields, where)
    store.upsert_promotions([promo], origin=origin)
    log.info("promotion entered", extra={"fields": {"name": promo.name, "kind": promo.kind, "origin": origin}})
    return f"promotion {promo.name!r} ({promo.kind}) starts {_local(promo.start, promo.tz)} {promo.tz}"


def add_yearly(store, fields: dict, where: str = "yearly promotion") -> str:
    """Add or change a yearly kind (fields as :func:`calendar_input.yearly` reads them)."""
    kind = ci.yearly(fields, where)
    try:
        store.set_promotion_kind(kind)
    except StoreInputError as exc:
        raise ConfigError(f"{where}: {exc}") from exc
    log.info("yearly promotion kind set", extra={"fields": {"kind": kind.kind, "month": kind.month, "day": kind.day}})
    return f"yearly promotion {kind.kind} on {kind.month:02d}-{kind.day:02d} (local midnight, {kind.tz})"


def remove_by_name(store, name: str) -> str:
    """Remove an entered promotion, or leave a yearly occurrence out; the sentence says which."""
    if name in set(store.promotions()["name"]):
        store.delete_promotion(name)
        log.info("promotion removed", extra={"fields": {"name": name}})
        return f"promotion {name!r} removed"
    cal = store.calendar(first_year=1970, last_year=dt.datetime.now(dt.timezone.utc).year + 1)
    hit = cal[cal["name"] == name]
    if hit.empty:
        recent = ", ".join(cal["name"].tail(6))
        raise ConfigError(f"no promotion named {name!r}; `python app.py promotions list` shows them "
                          f"(latest: {recent}).")
    r = hit.iloc[0]
    store.skip_promotion(Promotion(r["name"], r["kind"], int(r["start"]), int(r["end"]), int(r["preheat_days"]),
                                   r["tz"]))
    log.info("yearly promotion skipped", extra={"fields": {"name": name}})
    return f"yearly promotion {name!r} left out of the calendar (kind {r['kind']} goes on in other years)"


def remove_kind(store, kind: str) -> str:
    """Stop a yearly kind (a built-in one is disabled, a user's deleted)."""
    if not store.remove_promotion_kind(kind):
        known = ", ".join(store.promotion_kinds()["kind"])
        raise ConfigError(f"no yearly kind {kind!r}; the yearly kinds are: {known}.")
    log.info("yearly promotion kind removed", extra={"fields": {"kind": kind}})
    return f"yearly kind {kind} no longer adds promotions"
