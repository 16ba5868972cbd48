"""Reloading the alerting rules, routes and gateways without a restart.

An admin asks (``POST /api/v1/rules/reload``): the config file is read and checked in that request,
so a file that no longer parses is refused with the mistake named and nothing changes. A good file
is recorded in the store as a reload request; every process's scheduler (web workers, the demo)
sees the request at its next check and swaps in the new configuration, keeping its lease holder so
no cycle is evaluated twice. A scheduler that finds the file broken by then keeps the rules it runs
and says so in the log.
"""
from __future__ import annotations

import logging

from alerting import config as acfg
from core.errors import ConfigError

log = logging.getLogger("peakwatch.alerting")

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


class Loaded:
    """A process's alerting configuration (and the settings it came from), read again by
    :meth:`refresh` once a reload was asked for since it was loaded."""

    def __init__(self, store, settings, cfg: acfg.Config | None = None):
        self.store, self.settings = store, settings
        self.cfg = cfg or acfg.load(settings)
        self.at = requested_at(store)          # this configuration is newer than any earlier request

    def refresh(self) -> bool:
        """True when a newer configuration was taken; a broken file keeps the running one (logged)."""
        asked = requested_at(self.store)
        if asked <= self.at:
            return False
        self.at = asked
        try:
            self.settings, self.cfg = read(self.settings)
        except ConfigError as exc:
            log.error("alerting rules not reloaded, the running ones stay: %s", exc)
            return False
        return True
