"""The pieces of the ``[alerting]`` configuration that ``alerting.config`` (rules, the top table)
and ``alerting.config_routes`` (sub-tables) share: value types, the table reader and the parsers of
durations and clock times. Every mistake is a ConfigError of one line naming the key and the fix."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
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


