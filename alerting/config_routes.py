"""Sub-tables of ``[alerting]``: Zabbix, deviation, grouping, limits, quiet hours, gateways, on-call
schedules and routes (read by ``alerting.config.parse``; same one-line errors)."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from alerting.config_base import (DEFAULT_ZABBIX, FLAG_LEVELS, GATEWAY_TYPES, SEVERITIES, Route, Schedule, _clock,
                             _strs, _Table, parse_duration)
from core.errors import ConfigError

#: keys each gateway type accepts (secrets only as *_env / *_file: never in the file itself)
GATEWAY_KEYS = {
    "console": set(),
    "http": {"url", "headers", "body", "idempotency_header", "timeout", "ok_field", "id_field"},
    "aliyun": {"endpoint", "access_key_id_env", "access_key_secret_env", "sign_name", "template_code", "timeout"},
    "tencent": {"endpoint", "secret_id_env", "secret_key_env", "sdk_app_id", "sign_name", "template_id", "region",
                "timeout"},
    "dingtalk": {"url", "secret_env", "timeout"},
    "wecom": {"url", "timeout"},
    "feishu": {"url", "secret_env", "timeout"},
}
REQUIRED = {"http": ("url",), "aliyun": ("access_key_id_env", "access_key_secret_env", "sign_name", "template_code"),
            "tencent": ("secret_id_env", "secret_key_env", "sdk_app_id", "sign_name", "template_id"),
            "dingtalk": ("url",), "wecom": ("url",), "feishu": ("url",)}


def parse_zabbix(data, where: str) -> dict:
    t = _Table(data, where)
    mapping = dict(DEFAULT_ZABBIX)
    for name, level in t.get("severity", {}, dict).items():
        if name not in DEFAULT_ZABBIX:
            raise ConfigError(f"{where}.severity: {name!r} is not a Zabbix severity ({', '.join(DEFAULT_ZABBIX)}).")
        if level not in FLAG_LEVELS:
            raise ConfigError(f"{where}.severity.{name} = {level!r} is not one of {', '.join(FLAG_LEVELS)}.")
        mapping[name] = level
    out = {"zabbix_map": mapping, "zabbix_honour_ack": t.get("honour_acknowledged", True, bool)}
    t.done()
    return out


def parse_deviation(data, where: str, default: dict) -> dict:
    t = _Table(data, where)
    out = dict(default)
    out["enabled"] = t.get("enabled", default["enabled"], bool)
    out["metric"] = t.get("metric", default["metric"], str)
    out["weeks"] = t.get("weeks", default["weeks"], int)
    if not 2 <= out["weeks"] <= 12:
        raise ConfigError(f"{where}.weeks must be 2..12 past weeks.")
    for key in ("warn_z", "crit_z", "min_change"):
        out[key] = float(t.number(key, default[key]))
    if not 0 < out["warn_z"] < out["crit_z"]:
        raise ConfigError(f"{where}: warn_z ({out['warn_z']:g}) must be above 0 and below crit_z ({out['crit_z']:g}).")
    out["min_star"] = t.get("min_star", default["min_star"], int)
    t.done()
    return out


def parse_grouping(data, where: str) -> dict:
    t = _Table(data, where)
    out = {"group_wait_s": parse_duration(t.get("group_wait", 0), f"{where}.group_wait"),
           "group_interval_s": parse_duration(t.get("group_interval", "5m"), f"{where}.group_interval"),
           "repeat_interval_s": parse_duration(t.get("repeat_interval", "4h"), f"{where}.repeat_interval"),
           "send_resolved": t.get("send_resolved", True, bool)}
    if out["repeat_interval_s"] < out["group_interval_s"]:
        raise ConfigError(f"{where}.repeat_interval must not be shorter than group_interval.")
    t.done()
    return out


def parse_limits(data, where: str) -> dict:
    t = _Table(data, where)
    out = {"per_hour": t.get("per_hour", 10, int), "per_day": t.get("per_day", 40, int)}
    if out["per_hour"] < 2 or out["per_day"] < out["per_hour"]:
        raise ConfigError(f"{where}: per_hour must be at least 2 (one message and the digest) and per_day at least "
                          f"per_hour.")
    t.done()
    return out


def parse_quiet(data, where: str) -> dict:
    t = _Table(data, where)
    out = {"quiet_start": _clock(t.get("start", "23:00"), f"{where}.start"),
           "quiet_end": _clock(t.get("end", "08:00"), f"{where}.end"),
           "quiet_max_star": t.get("max_star", 2, int)}
    if not 0 <= out["quiet_max_star"] <= 5:
        raise ConfigError(f"{where}.max_star must be 0 (no quiet hours) to 5.")
    t.done()
    return out


def parse_gateways(data, where: str) -> dict:
    t = _Table(data, where)
    out = {"console": {"type": "console"}}
    for name in list(t.data):
        g = _Table(t.get(name), f"{where}.{name}")
        kind = g.get("type", None, str)
        if kind not in GATEWAY_TYPES:
            raise ConfigError(f"{g.key('type')} = {kind!r}: use one of {', '.join(GATEWAY_TYPES)}.")
        conf = {"type": kind}
        for key in GATEWAY_KEYS[kind]:
            if key in g.data:
                conf[key] = g.get(key)
        for key in REQUIRED.get(kind, ()):
            if key not in conf:
                raise ConfigError(f"{g.key(key)} is missing: a {kind} gateway needs "
                                  f"{', '.join(REQUIRED[kind])}.")
        for key in [k for k in g.data if k not in GATEWAY_KEYS[kind] and k != "type"]:
            if key in ("secret", "access_key_secret", "secret_key", "token", "password"):
                raise ConfigError(f"{g.key(key)}: secrets never go in the config file; name an environment "
                                  f"variable with {key}_env instead.")
        g.done()
        out[name] = conf
    return out


def _epoch(value, key: str, tz: str) -> int:
    try:
        dt = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"{key} = {value!r} is not a date and time; write e.g. 2026-01-05T09:00.") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=ZoneInfo(tz))
    return int(dt.timestamp())


def parse_schedules(data, where: str, tz: str) -> dict:
    if not isinstance(data, list):
        raise ConfigError(f"{where} must be a list of tables ([[alerting.schedules]]).")
    out = {}
    for i, raw in enumerate(data):
        t = _Table(raw, f"{where}[{i}]")
        name = t.get("name", None, str)
        members = _strs(t, "members")
        if not name or not members:
            raise ConfigError(f"{t.where} needs a name and at least one member, e.g. members = "
                              f"[\"Li Wei <+8613800138000>\"].")
        overrides = []
        for j, o in enumerate(t.get("overrides", [], list)):
            ot = _Table(o, f"{t.where}.overrides[{j}]")
            s, e = _epoch(ot.get("start"), ot.key("start"), tz), _epoch(ot.get("end"), ot.key("end"), tz)
            member = ot.get("member", None, str)
            if not member or e <= s:
                raise ConfigError(f"{ot.where} needs a member and an end after its start.")
            ot.done()
            overrides.append((s, e, member))
        out[name] = Schedule(name, members, _epoch(t.get("start", "2026-01-05T09:00"), t.key("start"), tz),
                             parse_duration(t.get("rotation", "1w"), t.key("rotation")), tuple(overrides))
        if out[name].rotation_s < 3600:
            raise ConfigError(f"{t.key('rotation')} must be at least one hour.")
        t.done()
    return out


def parse_route(data, where: str) -> Route:
    t = _Table(data, where)
    to = _strs(t, "to")
    if not to:
        raise ConfigError(f"{where}.to is empty; name recipients: \"oncall\" (the business's contacts), "
                          f"\"schedule:NAME\" or an address such as \"+8613800138000\".")
    stars = tuple(t.get("stars", [1, 2, 3, 4, 5], list))
    if not stars or any(not isinstance(s, int) or isinstance(s, bool) or not 1 <= s <= 5 for s in stars):
        raise ConfigError(f"{where}.stars = {list(stars)!r} must list star levels 1..5.")
    route = Route(t.get("name", where, str), to, t.get("gateway", "console", str), stars,
                  _strs(t, "severities", SEVERITIES) or ("warn", "crit"), _strs(t, "product_lines"),
                  _strs(t, "businesses"), parse_duration(t.get("escalate_after", 0), f"{where}.escalate_after"),
                  _strs(t, "escalate_to"), t.get("continue", False, bool))
    if route.escalate_after_s and not route.escalate_to:
        raise ConfigError(f"{where}.escalate_to is empty; name who is told after escalate_after.")
    t.done()
    return route


def check_references(cfg) -> None:
    """Routes name gateways and schedules that exist; addresses are valid for their gateway."""
    from alerting.messages import check_address
    for i, r in enumerate(cfg.routes):
        if r.gateway not in cfg.gateways:
            raise ConfigError(f"alerting.routes[{i}].gateway = {r.gateway!r} is not a configured gateway "
                              f"({', '.join(sorted(cfg.gateways))}); add [alerting.gateways.{r.gateway}].")
        for who in r.to + r.escalate_to:
            if who.startswith("schedule:"):
                if who[9:] not in cfg.schedules:
                    raise ConfigError(f"alerting.routes[{i}] names {who!r} but no [[alerting.schedules]] is named "
                                      f"{who[9:]!r}.")
            elif who != "oncall":
                check_address(who, cfg.gateways[r.gateway]["type"], f"alerting.routes[{i}]")
