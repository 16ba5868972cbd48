"""Human-readable `store info`."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo


def _when(ts: int | None, tz: ZoneInfo) -> str:
    return "-" if ts is None else datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d %H:%M %Z")


def _bytes(n: int | None) -> str:
    if n is None:
        return "-"
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def format_info(info: dict, timezone: str = "Asia/Shanghai") -> str:
    tz = ZoneInfo(timezone)
    raw, roll = info["raw"], info["rollups"]
    per = (raw["bytes"] / raw["samples"]) if raw["samples"] else 0.0
    lines = [
        f"store: {info['url']}  ({_bytes(info.get('file_bytes'))} on disk)",
        "inventory: " + ", ".join(f"{info[k]} {k.replace('_', ' ')}" for k in
                                  ("product_lines", "businesses", "clusters", "instances", "series", "promotions")),
        f"raw tier:    {raw['samples']:,} samples in {raw['chunks']:,} chunks, {_bytes(raw['bytes'])} "
        f"({per:.2f} B/sample), {_when(raw['first'], tz)} .. {_when(raw['last'], tz)}",
        f"rollup tier: {roll['day_rows']:,} series-days, {_bytes(roll['bytes'])}, "
        f"{_when(roll['first'], tz)} .. {_when(roll['last'], tz)}",
    ]
    return "\n".join(lines)
