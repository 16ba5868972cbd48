"""Reloading the alerting rules, routes and gateways without a restart.

An admin asks (``POST /api/v1/rules/reload``): the config file is read and checked in that request,
so a file that no longer parses is refused with the mistake named and nothing changes. A good file
is recorded in the store as a reload request; every process's scheduler (web workers, the demo)
sees the request at its next check and swaps in the new configuration, keeping its lease holder so
no cycle is evaluated twice. A scheduler that finds the file broken by then keeps the rules it runs
and says so in the log.
"""
from __future__ import annotations

from alerting import config as acfg

META_KEY = "alerting.reload_requested_at"


def read(settings):
    """(settings with the config file's tables read again, the alerting configuration from them);
    ConfigError naming the mistake."""
    fresh = settings.with_sections_reread()
    return fresh, acfg.load(fresh)


def request(store, settings, who: str, now: int, via: str = "api") -> acfg.Config:
    """Check the file and ask every process to reload it; the new configuration (ConfigError,
    nothing recorded, when the file is wrong)."""
    _, cfg = read(settings)
    store.set_meta(META_KEY, str(int(now)))
    store.audit(who, "reload", now, target="alerting",
                detail=f"{len(cfg.rules)} rules, {len(cfg.routes)} routes, {len(cfg.gateways)} gateways", via=via)
    return cfg


def requested_at(store) -> int:
    """When a reload was last asked for (0: never)."""
    value = store.get_meta(META_KEY)
    return int(value) if value else 0
