"""The ``[alerting]`` table of the config file, validated at load: rules, Zabbix problems, deviation,
watchdog, grouping, limits, quiet hours, routes, on-call schedules and gateways.

Every mistake is one :class:`ConfigError` line naming the key (``alerting.rules[2].warn``) and the
fix. With no ``[alerting]`` table the built-in rules (``alerting.flags.RULES``) and one default
route (stars 2..5, crit and warn, to the business's on-call contacts, console gateway) apply.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from alerting import flags as fl
from core.errors import ConfigError

DURATION = re.compile(r"^(\d+)([smhdw]?)$")
UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
FLAG_LEVELS = ("ok", "warn", "crit")
SEVERITIES = ("stale", "warn", "crit")
GATEWAY_TYPES = ("console", "http", "aliyun", "tencent", "dingtalk", "wecom", "feishu")
DEFAULT_ZABBIX = {"not classified": "ok", "information": "ok", "warning": "warn", "average": "warn",
                  "high": "crit", "disaster": "crit"}


@dataclass(frozen=True)
class Route:
    name: str
    to: tuple[str, ...]                       # "oncall", "schedule:NAME", or an address (E.164, robot)
    gateway: str
    stars: tuple[int, ...] = (1, 2, 3, 4, 5)
    severities: tuple[str, ...] = ("warn", "crit")
    product_lines: tuple[str, ...] = ()
    businesses: tuple[str, ...] = ()
    escalate_after_s: int = 0                 # 0: no escalation
    escalate_to: tuple[str, ...] = ()
    continue_: bool = False


@dataclass(frozen=True)
class Schedule:
    name: str
    members: tuple[str, ...]
    start: int                                # epoch of the first rotation's start
    rotation_s: int = 604800
    overrides: tuple[tuple[int, int, str], ...] = ()   # (start, end, member)


@dataclass(frozen=True)
class Config:
    enabled: bool = True
    interval_s: int = 60
    language: str = ""                        # message language (empty: the `language` setting)
    link_base: str = ""                       # empty: http://<host>:<port>
    rules: tuple[fl.Rule, ...] = fl.RULES
    tighten: dict = field(default_factory=lambda: dict(fl.TIGHTEN))
    zabbix_map: dict = field(default_factory=lambda: dict(DEFAULT_ZABBIX))
    zabbix_honour_ack: bool = True
    deviation: dict = field(default_factory=lambda: {"enabled": True, "metric": "qps", "weeks": 4, "warn_z": 5.0,
                                                     "crit_z": 8.0, "min_change": 0.5, "min_star": 3})
    watchdog_intervals: int = 10
    self_oncall: tuple[str, ...] = ()         # told about Peakwatch itself (the watchdog), as route "oncall"
    group_wait_s: int = 0
    group_interval_s: int = 300
    repeat_interval_s: int = 4 * 3600
    send_resolved: bool = True
    per_hour: int = 10
    per_day: int = 40
    quiet_start: int = 23 * 60                # minutes after local midnight
    quiet_end: int = 8 * 60
    quiet_max_star: int = 2                   # stars up to this wait for the end of quiet hours
    routes: tuple[Route, ...] = (Route("default", ("oncall",), "console", stars=(2, 3, 4, 5)),)
    schedules: dict = field(default_factory=dict)
    gateways: dict = field(default_factory=lambda: {"console": {"type": "console"}})


def parse_duration(value: Any, key: str) -> int:
    """``90``, ``"5m"``, ``"4h"``, ``"1w"`` -> seconds."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    m = DURATION.match(str(value).strip()) if isinstance(value, str) else None
    if not m:
        raise ConfigError(f"{key} = {value!r} is not a duration; write seconds or e.g. \"90s\", \"5m\", \"4h\", \"1w\".")
    return int(m.group(1)) * UNITS[m.group(2)]


class _Table:
    """A TOML table being read: every key taken is checked, the rest are unknown keys."""

    def __init__(self, data: Any, where: str):
        if not isinstance(data, dict):
            raise ConfigError(f"{where} must be a table ([{where}]); got {type(data).__name__}.")
        self.data, self.where, self.taken = data, where, set()

    def get(self, key: str, default: Any = None, kind: type | tuple | None = None) -> Any:
        self.taken.add(key)
        if key not in self.data:
            return default
        value = self.data[key]
        if kind is not None and (not isinstance(value, kind) or (isinstance(value, bool) and kind in (int, float))):
            names = {bool: "true or false", int: "a whole number", float: "a number", str: "text",
                     list: "a list", dict: "a table"}
            want = ("a number" if kind == (int, float) else
                    " or ".join(names.get(k, k.__name__) for k in (kind if isinstance(kind, tuple) else (kind,))))
            raise ConfigError(f"{self.key(key)} = {value!r} must be {want}.")
        return value

    def number(self, key: str, default: float | None = None) -> float | None:
        return self.get(key, default, (int, float))

    def key(self, key: str) -> str:
        return f"{self.where}.{key}"

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.taken)
        if unknown:
            import difflib
            close = difflib.get_close_matches(unknown[0], sorted(self.taken), n=1)
            hint = f" Did you mean '{close[0]}'?" if close else f" Known keys: {', '.join(sorted(self.taken))}."
            raise ConfigError(f"unknown key '{self.key(unknown[0])}' in the config file.{hint}")


def _strs(t: _Table, key: str, allowed: tuple | None = None) -> tuple[str, ...]:
    value = t.get(key, [], list)
    for v in value:
        if not isinstance(v, str) or not v:
            raise ConfigError(f"{t.key(key)} must be a list of names (text); got {v!r}.")
        if allowed is not None and v not in allowed:
            raise ConfigError(f"{t.key(key)}: {v!r} is not one of {', '.join(allowed)}.")
    return tuple(value)


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


def _tighten(value: Any, key: str) -> dict[int, float]:
    out = dict(fl.TIGHTEN)
    if not isinstance(value, dict):
        raise ConfigError(f"{key} must be a table of star = factor, e.g. {{ 4 = 0.94, 5 = 0.88 }}.")
    for star, k in value.items():
        if str(star) not in {"1", "2", "3", "4", "5"} or not isinstance(k, (int, float)) or not 0 < k <= 1:
            raise ConfigError(f"{key}.{star} = {k!r}: stars are 1..5 and factors in (0, 1] (0.9 = 10% tighter).")
        out[int(star)] = float(k)
    return out


def _clock(value: Any, key: str) -> int:
    m = re.match(r"^(\d{1,2}):(\d{2})$", str(value))
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise ConfigError(f"{key} = {value!r} is not a time of day; write e.g. \"23:00\".")
    return int(m.group(1)) * 60 + int(m.group(2))


def load(settings) -> Config:
    """The alerting configuration from ``settings.section("alerting")``; ConfigError on any mistake."""
    return parse(settings.section("alerting"), getattr(settings, "timezone", "Asia/Shanghai"))


def parse(section: dict, tz: str = "Asia/Shanghai") -> Config:
    from alerting import config_routes as cr
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
