"""The ``[alerting]`` table of the config file, validated at load: rules, Zabbix problems, deviation,
watchdog, grouping, limits, quiet hours, routes, on-call schedules and gateways.

Every mistake is one :class:`ConfigError` line naming the key (``alerting.rules[2].warn``) and the
fix. With no ``[alerting]`` table the built-in rules (``alerting.flags.RULES``) and one default
route (stars 2..5, crit and warn, to the business's on-call contacts, console gateway) apply.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from alerting import config_routes as cr
from alerting import flags as fl
from alerting.config_base import (DEFAULT_ZABBIX, FLAG_LEVELS, GATEWAY_TYPES, SEVERITIES, Config,  # noqa: F401
                                  Route, Schedule, _clock, _strs, _Table, _tighten, parse_duration)
from core.errors import ConfigError

def parse_rule(data: Any, where: str) -> fl.Rule:
    t = _Table(data, where)
    name = t.get("name", None, str)
    metric = t.get("metric", None, str)
    if not metric:
        raise ConfigError(f"{t.key('metric')} is missing; name the canonical metric, e.g. metric = \"mem_util\".")
    warn, crit = t.number("warn"), t.number("crit")
    if warn is None or crit is None:
        raise ConfigError(f"{where} needs both warn and crit thresholds (numbers), e.g. warn = 85, crit = 95.")
    below = t.get("below", False, bool)
    if (crit < warn) if not below else (crit > warn):
        side = "below warn (below = true)" if below else "above warn"
        raise ConfigError(f"{t.key('crit')} = {crit:g} must be {side}; swap warn and crit or set 'below'.")
    clear = t.number("clear")
    if clear is not None and ((clear > warn) if not below else (clear < warn)):
        raise ConfigError(f"{t.key('clear')} = {clear:g} must be on the good side of warn ({warn:g}): it is where "
                          f"a firing alert resolves (hysteresis).")
    rule = fl.Rule(metric, float(warn), float(crit), above=not below,
                   services=_strs(t, "services", ("redis", "memcached", "twemproxy")),
                   roles=_strs(t, "roles", ("master", "slave", "proxy")), tightens=t.get("tighten", True, bool),
                   name=name or metric, for_s=parse_duration(t.get("for", 0), t.key("for")),
                   clear=None if clear is None else float(clear))
    t.done()
    return rule


def load(settings) -> Config:
    """The alerting configuration from ``settings.section("alerting")``; ConfigError on any mistake."""
    return parse(settings.section("alerting"), getattr(settings, "timezone", "Asia/Shanghai"))


def parse(section: dict, tz: str = "Asia/Shanghai") -> Config:
    t = _Table(section, "alerting")
    cfg = Config()
    changes: dict[str, Any] = {}
    changes["enabled"] = t.get("enabled", True, bool)
    changes["interval_s"] = parse_duration(t.get("interval", 60), t.key("interval"))
    if not 1 <= changes["interval_s"] <= 3600:
        raise ConfigError(f"{t.key('interval')} must be between 1 s and 1 h (default 60 s).")
    lang = t.get("language", "", str)
    if lang not in ("", "en", "zh"):
        raise ConfigError(f"{t.key('language')} = {lang!r} is not en or zh.")
    changes["language"] = lang
    changes["link_base"] = t.get("link_base", "", str).rstrip("/")
    changes["tighten"] = _tighten(t.get("tighten", {}), t.key("tighten"))
    rules = {r.name: r for r in (fl.RULES if t.get("builtin_rules", True, bool) else ())}
    for i, raw in enumerate(t.get("rules", [], list)):
        rule = parse_rule(raw, f"alerting.rules[{i}]")
        rules[rule.name] = rule                      # a rule named like a built-in one replaces it
    changes["rules"] = tuple(rules.values())
    changes["watchdog_intervals"] = int(t.get("watchdog_intervals", cfg.watchdog_intervals, int))
    if changes["watchdog_intervals"] < 2:
        raise ConfigError(f"{t.key('watchdog_intervals')} must be at least 2 collection intervals.")
    changes["self_oncall"] = _strs(t, "self_oncall")
    changes.update(cr.parse_zabbix(t.get("zabbix", {}), "alerting.zabbix"))
    changes["deviation"] = cr.parse_deviation(t.get("deviation", {}), "alerting.deviation", cfg.deviation)
    changes.update(cr.parse_grouping(t.get("grouping", {}), "alerting.grouping"))
    changes.update(cr.parse_limits(t.get("limits", {}), "alerting.limits"))
    changes.update(cr.parse_quiet(t.get("quiet_hours", {}), "alerting.quiet_hours"))
    changes["gateways"] = cr.parse_gateways(t.get("gateways", {}), "alerting.gateways")
    changes["schedules"] = cr.parse_schedules(t.get("schedules", []), "alerting.schedules", tz)
    routes = t.get("routes", None, list)
    changes["routes"] = (cfg.routes if routes is None else
                         tuple(cr.parse_route(r, f"alerting.routes[{i}]") for i, r in enumerate(routes)))
    t.done()
    out = replace(cfg, **changes)
    cr.check_references(out)
    return out
