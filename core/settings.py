"""The one settings table.

Precedence: CLI option > ``PEAKWATCH_<NAME>`` environment variable > TOML config file > default.
The config file is ``--config PATH`` or ``PEAKWATCH_CONFIG``; its top-level keys are setting
names, plus optional tables (``[keymap]``, ``[promotions]``...) that their owners read through
:meth:`Settings.section`. An unknown key anywhere is a :class:`ConfigError` that names it.
Secret settings are masked by :func:`Settings.describe` and by the log filter.
"""
from __future__ import annotations

import difflib
import math
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from core.errors import ConfigError


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    type: type = str
    secret: bool = False
    choices: tuple | None = None
    minimum: float | None = None
    maximum: float | None = None


SETTINGS: tuple[Setting, ...] = (
    # store
    Setting("store_url", "sqlite:///data/peakwatch.sqlite",
            "Database URL: SQLite file (embedded default) or postgresql+psycopg://user@host/db."),
    Setting("store_busy_timeout", 10.0, "Seconds to wait for a store locked by another process before giving up.",
            float, minimum=0.1, maximum=600),
    Setting("raw_retention_days", 14, "Days of raw (about 1-minute) samples kept; hourly rollups are kept for ever.",
            int, minimum=1),
    # demo / synthetic fleet
    Setting("scale", 3000, "Synthetic fleet size in instances (demo mode).", int, minimum=30, maximum=30000),
    Setting("seed", 7, "Seed of the synthetic fleet; the same seed gives the same fleet and samples.", int),
    Setting("demo_history_days", 730, "Days of hourly history the demo generates (covers two years of promotions).",
            int, minimum=1, maximum=1500),
    Setting("demo_raw_hours", 6, "Hours of 1-minute raw samples the demo generates before going live.", int,
            minimum=1, maximum=336),
    # web
    Setting("host", "127.0.0.1", "Address the web app listens on."),
    Setting("port", 8050, "Port the web app listens on.", int, minimum=1, maximum=65535),
    Setting("timezone", "Asia/Shanghai", "Display time zone (promotions start at Beijing midnight)."),
    Setting("language", "en", "Label language of the pages.", choices=("en", "zh")),
    Setting("refresh_seconds", 15, "Wall auto-refresh interval in seconds.", int, minimum=2, maximum=3600),
    Setting("wall_warm_seconds", 3.0, "How often a background thread in each web process checks the store for new "
            "data and precomputes the wall (one worker at a time), so viewers never wait for it; 0 disables.",
            float, minimum=0, maximum=300),
    Setting("cache_type", "filesystem", "Dashboard cache shared by viewers: filesystem (shared by gunicorn workers) "
            "or simple (one process).", choices=("filesystem", "simple")),
    Setting("cache_dir", "", "Directory of the filesystem cache, private to the user (0700, owner checked; "
            "empty: ~/.cache/peakwatch/cache-<store digest>)."),
    Setting("wall_playlist", "", "Wall page rotation: comma-separated paths shown in turn in kiosk mode, "
            "e.g. '/?kiosk=1,/fleet?kiosk=1' (empty: no rotation)."),
    Setting("wall_rotate_seconds", 60, "Seconds each playlist page stays on screen.", int, minimum=5, maximum=3600),
    Setting("wall_sound", False, "Beep on a new critical flag on the wall (the wall has a mute button).", bool),
    Setting("calendar_editable", True, "Allow adding and removing promotions on the /promotions page (anyone "
            "who can open the page can; turn off for wall screens).", bool),
    # accounts (accounts/, dashboard/auth.py)
    Setting("read_pages_open", True, "Let anyone who reaches the web app read its pages without logging in (a wall "
            "screen); off: every page asks for a login. Acting (acknowledge, silence, send) always needs one.", bool),
    Setting("session_minutes", 480, "Minutes a web login lasts; then the user logs in again.", int, minimum=5,
            maximum=43200),
    Setting("secret_key", "", "Key signing web sessions and form tokens, the same for every worker (empty: one is "
            "made at first start and kept in the store).", secret=True),
    Setting("api_write_limit", "30/minute", "Rate limit of writes to /api/v1 per token (or address), per web "
            "process, e.g. '30/minute' or '5/second;100/hour'."),
    Setting("allowed_hosts", "", "Host names the web app answers to besides localhost/127.0.0.1/::1 and `host`, "
            "comma-separated (the names viewers type, e.g. behind a reverse proxy); * for any. Others get "
            "HTTP 400 (DNS rebinding)."),
    # collection
    Setting("collect_interval", 60, "Seconds between collection passes (demo live points and Zabbix).", int,
            minimum=5, maximum=3600),
    Setting("stale_after_intervals", 5, "A series with no data for this many collection intervals is stale (grey).",
            int, minimum=1),
    # zabbix
    Setting("zabbix_url", "", "Zabbix frontend URL, e.g. http://127.0.0.1:8090 (empty: demo mode)."),
    Setting("zabbix_token", "", "Zabbix API token (preferred over user/password).", secret=True),
    Setting("zabbix_user", "", "Zabbix user when no token is set."),
    Setting("zabbix_password", "", "Zabbix password when no token is set.", secret=True),
    Setting("zabbix_token_file", "", "File holding the Zabbix API token (keeps it out of `ps` and the "
            "environment); used when zabbix_token is empty."),
    Setting("zabbix_verify_tls", True, "Verify the Zabbix frontend's TLS certificate.", bool),
    Setting("zabbix_timeout", 30.0, "Seconds before one Zabbix API call is abandoned.", float, minimum=1),
    Setting("zabbix_retries", 4, "Retries of a Zabbix API call that failed to connect, timed out or got a 5xx.",
            int, minimum=0, maximum=20),
    Setting("zabbix_backoff", 1.0, "Seconds before the first retry of a Zabbix API call; doubles each retry (max 60).",
            float, minimum=0),
    Setting("zabbix_batch_items", 500, "Items per history.get / trend.get call.", int, minimum=1, maximum=100000),
    Setting("zabbix_batch_window", 21600, "Seconds of history per history.get call; longer ranges are split.", int,
            minimum=60),
    Setting("zabbix_overlap", 300, "Seconds re-read before each series' newest sample on every pass; writes "
            "are idempotent.", int, minimum=0),
    Setting("zabbix_parallel_calls", 2, "history.get calls in flight at once (one per value type of a window; "
            "1: one after another).", int, minimum=1, maximum=8),
    Setting("zabbix_pass_seconds", 300.0, "Longest time one collection pass may take (calls and retries "
            "included; 0: no limit); what it wrote stays and the next pass continues from there.", float,
            minimum=0),
    Setting("zabbix_late_window", 7200, "Seconds before the end of the last read within which values may "
            "still arrive with older clocks (a Zabbix proxy's buffer after a network cut): a series waiting "
            "for data is re-read this far back, never less than from its newest sample.", int, minimum=0),
    Setting("zabbix_first_window", 3600, "Seconds of history the first incremental pass reads for a new series.",
            int, minimum=60),
    Setting("zabbix_host_group", "", "Collect only hosts in this Zabbix host group (empty: all monitored hosts)."),
    # logs
    Setting("log_level", "INFO", "Log level.", choices=("DEBUG", "INFO", "WARNING", "ERROR")),
    Setting("log_format", "text", "Log format: text for people, json for log shippers.", choices=("text", "json")),
    # capacity planning (forecasting/capacity.py)
    Setting("capacity_redis_qps", 80000, "QPS one Redis shard is sized for, when its cluster sets no per-instance limit.",
            int, minimum=1),
    Setting("capacity_memcached_qps", 100000, "QPS one Memcached instance is sized for, when its cluster sets none.",
            int, minimum=1),
    Setting("capacity_proxy_qps", 50000, "QPS one Twemproxy proxy is sized for.", int, minimum=1),
    Setting("capacity_headroom", "0.15,0.20,0.25,0.30,0.40",
            "Share of capacity kept free at the predicted peak, for star 1..5 (a 5-star business keeps more)."),
    Setting("capacity_lead_days", 7, "Days before a promotion's start by which capacity changes must be done "
            "(the change freeze): the capacity page and the forecast CLI show this deadline.", int,
            minimum=0, maximum=90),
)

BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}
ENV_PREFIX = "PEAKWATCH_"
#: config-file tables owned by packages (read with Settings.section)
SECTIONS: set[str] = {"keymap", "alerting"}
#: tables a config file may one day hold but nothing reads yet: an error, not silently ignored
NOT_YET: dict[str, str] = {
    "thresholds": "thresholds are rules in [[alerting.rules]], see docs/alerting.md: move them there",
    "promotions": "the promotion calendar is edited with `python app.py promotions` (import takes a TOML "
                  "or CSV file) or on /promotions",
    "capacity": "use the capacity_* settings",
}


def _suggest(name: str) -> str:
    close = difflib.get_close_matches(name, BY_NAME, n=1)
    return f" Did you mean '{close[0]}'?" if close else ""


def _convert(setting: Setting, raw: Any, origin: str) -> Any:
    where = f"setting '{setting.name}' (from {origin})"
    value = raw
    try:
        if setting.type is bool:
            if isinstance(raw, bool):
                value = raw
            elif str(raw).strip().lower() in ("1", "true", "yes", "on"):
                value = True
            elif str(raw).strip().lower() in ("0", "false", "no", "off"):
                value = False
            else:
                raise ValueError
        elif setting.type is int:
            if isinstance(raw, bool):
                raise ValueError
            value = int(str(raw).strip())
        elif setting.type is float:
            if isinstance(raw, bool):
                raise ValueError
            value = float(str(raw).strip())
            if not math.isfinite(value):
                raise ValueError
        else:
            value = str(raw)
    except ValueError:
        kind = {bool: "true or false", int: "a whole number", float: "a number"}.get(setting.type, "text")
        raise ConfigError(f"{where}: {raw!r} is not {kind}; set it to {kind} "
                          f"(default {setting.default!r}).") from None
    if setting.choices and value not in setting.choices:
        raise ConfigError(f"{where}: {value!r} is not one of {', '.join(map(str, setting.choices))}.")
    if setting.minimum is not None and value < setting.minimum:
        raise ConfigError(f"{where}: {value!r} is below the minimum {setting.minimum:g}; "
                          f"use a value from {setting.minimum:g}"
                          + (f" to {setting.maximum:g}." if setting.maximum is not None else " up."))
    if setting.maximum is not None and value > setting.maximum:
        raise ConfigError(f"{where}: {value!r} is above the maximum {setting.maximum:g}; "
                          f"use a value from {setting.minimum if setting.minimum is not None else 0:g} "
                          f"to {setting.maximum:g}.")
    return value


def read_config_file(path: str | os.PathLike) -> dict[str, Any]:
    """Read a TOML config file; a missing or malformed file is a ConfigError."""
    p = Path(path)
    try:
        with p.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file {p} does not exist; fix the path given to --config "
                          f"or PEAKWATCH_CONFIG.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {p} is not valid TOML ({exc}); fix that line.") from exc


class Settings(Mapping[str, Any]):
    """Resolved settings with attribute access and the origin of each value."""

    def __init__(self, values: dict[str, Any], origins: dict[str, str], sections: dict[str, Any],
                 path: str | os.PathLike | None = None):
        self._values = values
        self._origins = origins
        self._sections = sections
        self._path = path

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def origin(self, name: str) -> str:
        return self._origins[name]

    def section(self, name: str) -> dict[str, Any]:
        """A config-file table such as ``[keymap]`` (empty when absent)."""
        return dict(self._sections.get(name, {}))

    def replace(self, **changes: Any) -> "Settings":
        values = dict(self._values)
        origins = dict(self._origins)
        for key, raw in changes.items():
            if key not in BY_NAME:
                raise ConfigError(f"unknown setting '{key}'.{_suggest(key)}")
            values[key] = _convert(BY_NAME[key], raw, "code")
            origins[key] = "code"
        return Settings(values, origins, self._sections, self._path)

    def with_sections_reread(self) -> "Settings":
        """The same settings with the config file's tables (``[alerting]``, ...) read again, for a
        reload without a restart; ConfigError naming the mistake when the file no longer parses.
        Without a config file the tables stay empty (the built-in defaults)."""
        if not self._path:
            return Settings(dict(self._values), dict(self._origins), {}, None)
        return Settings(dict(self._values), dict(self._origins), _read_file(self._path)[1], self._path)

    def secrets(self) -> list[str]:
        """Values never to be shown: secret settings and passwords inside URL settings."""
        out = [str(self._values[s.name]) for s in SETTINGS if s.secret and self._values[s.name]]
        for value in self._values.values():
            for m in URL_PASSWORD.finditer(str(value)):
                out.append(m.group("pw"))
        return out

    def describe(self) -> list[tuple[str, str, str]]:
        """(name, shown value, origin) rows; secrets masked."""
        rows = []
        for s in SETTINGS:
            value = self._values[s.name]
            shown = "********" if (s.secret and value) else mask_url(repr(value))
            rows.append((s.name, shown, self._origins[s.name]))
        return rows


def load_settings(cli: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None,
                  config_path: str | os.PathLike | None = None) -> Settings:
    """Resolve every setting. ``cli`` holds only options the user gave (None values are ignored)."""
    env = os.environ if env is None else env
    cli = {k: v for k, v in (cli or {}).items() if v is not None}
    for key in cli:
        if key not in BY_NAME:
            raise ConfigError(f"unknown setting '{key}'.{_suggest(key)}")
    for key in env:
        if key.startswith(ENV_PREFIX) and key != ENV_PREFIX + "CONFIG" \
                and not key.startswith(ENV_PREFIX + "TEST_"):
            name = key[len(ENV_PREFIX):].lower()
            if name not in BY_NAME:
                raise ConfigError(f"unknown setting '{name}' in environment variable {key}.{_suggest(name)} "
                                  f"Unset it or fix its name.")
    path = config_path or env.get(ENV_PREFIX + "CONFIG")
    file_values, sections = _read_file(path) if path else ({}, {})
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for s in SETTINGS:
        env_key = ENV_PREFIX + s.name.upper()
        if s.name in cli:
            values[s.name] = _convert(s, cli[s.name], f"option --{s.name.replace('_', '-')}")
            origins[s.name] = "cli"
        elif env_key in env:
            values[s.name] = _convert(s, env[env_key], f"environment {env_key}")
            origins[s.name] = "env"
        elif s.name in file_values:
            values[s.name] = _convert(s, file_values[s.name], f"config file {path}")
            origins[s.name] = "file"
        else:
            values[s.name] = s.default
            origins[s.name] = "default"
    _check_timezone(values["timezone"], origins["timezone"])
    _read_token_file(values, origins)
    return Settings(values, origins, sections, path)


def _read_file(path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(setting values, tables) of a config file; ConfigError for what Peakwatch does not read."""
    file_values: dict[str, Any] = {}
    sections: dict[str, Any] = {}
    for key, value in read_config_file(path).items():
        if key in NOT_YET:
            raise ConfigError(f"config file {path}: the [{key}] table is not read by Peakwatch yet "
                              f"({NOT_YET[key]}); remove it.")
        if key in SECTIONS and isinstance(value, dict):
            sections[key] = value
        elif key in BY_NAME:
            file_values[key] = value
        else:
            raise ConfigError(f"unknown setting '{key}' in config file {path}.{_suggest(key)} "
                              f"Remove it or fix its name.")
    return file_values, sections


def _check_timezone(name: str, origin: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"setting 'timezone' (from {origin}): {name!r} is not a time zone; use an IANA "
                          f"name such as Asia/Shanghai or UTC.") from None


def _read_token_file(values: dict[str, Any], origins: dict[str, str]) -> None:
    """``zabbix_token_file``: the token read from the file when ``zabbix_token`` is empty."""
    path = values.get("zabbix_token_file")
    if not path or values.get("zabbix_token"):
        return
    try:
        token = Path(path).expanduser().read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"setting 'zabbix_token_file': cannot read {path} "
                          f"({getattr(exc, 'strerror', None) or exc}); fix the path or its permissions.") from None
    if not token:
        raise ConfigError(f"setting 'zabbix_token_file': {path} is empty; put the Zabbix API token in it.")
    values["zabbix_token"] = token
    origins["zabbix_token"] = "zabbix_token_file"


#: the password of a URL such as postgresql+psycopg://user:password@host/db
URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]+:)(?P<pw>\S+)(?P<at>@)")


def mask_url(text: str) -> str:
    """A URL with its password (if any) replaced by ********."""
    return URL_PASSWORD.sub(lambda m: m.group("head") + "********" + m.group("at"), text)
