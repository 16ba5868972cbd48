"""The cache layer: each page's data (``wall_data``, ``fleet_data``, the capacity plan from
``forecast_data``) through the shared cache, one computation per interval for every viewer and
gunicorn worker sharing it. Pages read their data here; ``dashboard.warmer`` fills it in the
background (the capacity plan only there: it takes minutes at 3,000 instances)."""
from __future__ import annotations

import time

from dashboard import fleet_data as fd
from dashboard import forecast_data as fcd
from dashboard import wall_data as q
from dashboard import tiles as tl
from dashboard.context import Context
from forecasting.capacity import CapacityLimits


def wall_snapshot(ctx: Context, allow_previous: bool = False) -> dict:
    """The wall's data, computed once per refresh interval.

    ``allow_previous``: a page being opened may show the previous interval's snapshot rather than
    wait for the new one (its first refresh brings it up to date). While a background warmer
    (``dashboard.warmer``) keeps the snapshot warm, refreshes do the same: they never compute, they
    read the newest snapshot the warmer stored (at most a few seconds behind the data)."""
    refresh = ctx.settings.refresh_seconds
    now = ctx.now()
    key = f"wall:snap:{now // refresh}"
    if allow_previous or warmer_alive(ctx):
        snap = ctx.cache.get(key) or ctx.cache.get("wall:snap:last")
        if snap is not None and now - snap["now"] <= 2 * refresh:
            return snap
    return ctx.cached(key, refresh * 2, lambda: compute_wall_snapshot(ctx, now, store=False))


HEARTBEAT_KEY = "wall:warmer"     # set by a live warmer (dashboard.warmer); requests trust it


def warmer_alive(ctx: Context) -> bool:
    """Some worker's warmer is keeping the snapshot warm (requests may then serve the previous
    snapshot for a moment rather than compute)."""
    return ctx.cache.get(HEARTBEAT_KEY) is not None


def compute_wall_snapshot(ctx: Context, now: int, store: bool = True) -> dict:
    """Compute the snapshot at ``now`` and share it (``store``: also as this interval's snapshot,
    replacing an older one: the warmer calls this when new data arrived mid-interval)."""
    refresh = ctx.settings.refresh_seconds
    inv = plan(ctx)
    every = ctx.settings.collect_interval
    trends = ctx.cached(f"wall:trends:{now // every}", every * 2, lambda: q.traffic_trends(ctx.store, inv, now))
    snap = q.wall_snapshot(ctx.store, ctx.settings, now, ctx.cache.get("wall:onsets"), inv, trends)
    ctx.cache.set("wall:onsets", snap["onsets"], timeout=q.HOLD_S)   # unseen longer: a new flag
    ctx.cache.set(views_key(ctx, snap["version"]), tl.views(snap["tiles"], ctx.lang, snap["now"]), timeout=refresh * 20)
    ctx.cache.set("wall:snap:last", snap, timeout=refresh * 4)
    if store:
        ctx.cache.set(f"wall:snap:{now // refresh}", snap, timeout=refresh * 2)
    return snap


def views_key(ctx: Context, version: str | None) -> str:
    """The cache key of a snapshot's tile views in this viewer's language."""
    return f"wall:views:{ctx.lang}:{version}"


def wall_views(ctx: Context, snap: dict) -> list[dict]:
    """What each tile shows for this snapshot (kept a while: refreshes diff against it)."""
    return ctx.cached(views_key(ctx, snap["version"]), ctx.settings.refresh_seconds * 20,
                      lambda: tl.views(snap["tiles"], ctx.lang, snap["now"]))


def latest_flags(ctx: Context):
    """Every live series with its latest value and flag, once per refresh interval."""
    refresh = ctx.settings.refresh_seconds
    now = ctx.now()
    return ctx.cached(f"flags:{now // refresh}", refresh * 2,
                      lambda: q.latest_flags(ctx.store, ctx.settings, now, plan(ctx)))


def problems(ctx: Context):
    """Active Zabbix problems of collected instances as flags, once per refresh interval."""
    refresh = ctx.settings.refresh_seconds
    return ctx.cached(f"problems:{ctx.now() // refresh}", refresh * 2, lambda: q.problem_flags(ctx.store, plan(ctx)))


PLAN_TTL = 120   # inventory changes (new instances, new businesses) reach the wall within two minutes


def plan(ctx: Context) -> q.Plan:
    """The inventory side of the wall, prepared once per ``PLAN_TTL`` for every viewer."""
    found = ctx.cached("wall:plan", PLAN_TTL, lambda: q.inventory_plan(ctx.store))
    if found.businesses.empty:
        # nothing collected yet: look again on the next request rather than in two minutes
        ctx.cache.delete("wall:plan")
        ctx.store.series(fresh=True)
    return found


# ---- the fleet page: computed once per FLEET_TTL; the warmer computes the day counts viewed lately
FLEET_TTL = 300
FLEET_VIEWED = "fleet:viewed"      # {days: epoch of the last view}
FLEET_WARM_FOR = 900               # the warmer keeps a day count warm this long after its last view


def fleet_key(days: int, now: int) -> str:
    return f"fleet:{days}:{now // FLEET_TTL}"


def fleet_page(ctx: Context, days: int, now: int, viewed: bool = True) -> dict:
    """The fleet page's data for ``days`` (dashboard.fleet_data), shared by every viewer."""
    if viewed:
        seen = dict(ctx.cache.get(FLEET_VIEWED) or {})
        if now - seen.get(days, 0) > 60:          # at most one cache write a minute per day count
            seen[days] = now
            ctx.cache.set(FLEET_VIEWED, seen, timeout=FLEET_WARM_FOR * 2)
    return ctx.cached(fleet_key(days, now), FLEET_TTL, lambda: fd.fleet_data(
        ctx.store, now, days, ctx.tz, wall_snapshot(ctx)["tiles"], memo=ctx.cached))


def fleet_due(ctx: Context, now: int) -> list[int]:
    """Day counts viewed in the last FLEET_WARM_FOR seconds whose data this interval lacks."""
    seen = ctx.cache.get(FLEET_VIEWED) or {}
    return sorted(d for d, t in seen.items()
                  if now - t <= FLEET_WARM_FOR and ctx.cache.get(fleet_key(d, now)) is None)


# ---- the capacity page: the whole fleet's forecast takes minutes at 3,000 instances, so a request
# never computes it; the warmer (dashboard.warmer) computes the plan of each promotion viewed in
# the last CAP_WARM_FOR seconds once per data version, and pages read the newest stored one
CAP_VIEWED = "cap:viewed"          # {promotion name: epoch of the last view}
CAP_WARM_FOR = 7 * 86400           # planning season: a viewed promotion's plan stays fresh a week
CAP_BACKTEST = "cap:backtest"      # the newest backtest summary (every past promotion, 7 days ahead)


def capacity_key(ctx: Context, name: str) -> str:
    return f"cap:result:{name}:{CapacityLimits.from_settings(ctx.settings)}"


def capacity_result(ctx: Context, name: str, viewed: bool = True) -> dict | None:
    """The newest stored capacity result of promotion ``name`` (possibly from older data: see its
    ``version``), or None while none was computed yet. Never computes; marks the promotion viewed
    so the warmer keeps it fresh."""
    if viewed:
        seen = dict(ctx.cache.get(CAP_VIEWED) or {})
        now = ctx.now()
        if now - seen.get(name, 0) > 60:
            seen[name] = now
            ctx.cache.set(CAP_VIEWED, seen, timeout=CAP_WARM_FOR * 2)
    return ctx.cache.get(capacity_key(ctx, name))


def capacity_due(ctx: Context) -> list[str]:
    """Promotions viewed lately whose stored result is missing or older than the data."""
    seen = ctx.cache.get(CAP_VIEWED) or {}
    now = ctx.now()
    names = [n for n, t in seen.items() if now - t <= CAP_WARM_FOR]
    if not names:
        return []
    version = fcd.data_version(ctx)
    upcoming = {e.name for e in fcd.calendar(ctx)["upcoming"]}
    due = []
    for name in names:
        have = ctx.cache.get(capacity_key(ctx, name))
        if name in upcoming and (have is None or have["version"] != version):
            due.append(name)
    return due


def compute_capacity(ctx: Context, name: str) -> dict:
    """Forecast the fleet for promotion ``name``, plan its capacity and store the result for the
    page (also under the keys the CSV export and readiness report read)."""
    t0 = time.monotonic()
    version = fcd.data_version(ctx)
    cal = fcd.calendar(ctx)
    target = fcd.pick_target(cal, name)
    fc, plan_ = fcd.compute_plan(ctx, target, version)
    t = fc.table
    slim = t[["level", "group", "metric", "point", "lower", "upper", "baseline", "low_confidence"]].reset_index(drop=True)
    result = {"version": version, "name": target.name, "cutoff": int(cal["cutoff"].timestamp()),
              "computed_at": ctx.now(), "seconds": round(time.monotonic() - t0, 1), "plan": plan_,
              "forecast": slim, "failed": int((t["error"] != "").sum()), "series": int(len(t))}
    ctx.cache.set(capacity_key(ctx, target.name), result, timeout=0)   # kept until a newer one replaces it
    return result


def backtest_summary(ctx: Context) -> dict | None:
    """The newest stored backtest summary (None until the warmer computed one)."""
    return ctx.cache.get(CAP_BACKTEST)


def compute_backtest(ctx: Context) -> dict:
    """Backtest every past promotion (business qps) and store its summary for the page."""
    summary = fcd.backtest_summary(ctx)
    ctx.cache.set(CAP_BACKTEST, summary, timeout=0)
    return summary
