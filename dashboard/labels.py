"""Labels in English and Chinese, and value/time formatting in the display time zone."""
from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

LABELS: dict[str, tuple[str, str]] = {
    # key: (en, zh)
    "wall": ("NOC wall", "监控大屏"),
    "fleet": ("Fleet", "全局"),
    "business": ("Business", "业务"),
    "flags": ("Red flags", "告警"),
    "no_flags": ("No red flags", "无告警"),
    "ok": ("ok", "正常"), "warn": ("warn", "警告"), "crit": ("crit", "严重"), "stale": ("stale", "无数据"),
    "no_data": ("no data", "无数据"),
    "data_age": ("data age", "数据延迟"),
    "no_data_yet": ("no data yet", "暂无数据"),
    "vs_last_week": ("vs last week", "同比上周"),
    "sound_on": ("Sound on", "声音开"), "sound_off": ("Muted", "已静音"),
    "realtime": ("Realtime", "实时"), "history": ("History", "历史"),
    "window": ("Window", "时间窗口"), "metric": ("Metric", "指标"), "range": ("Range", "时间范围"),
    "summed": ("sum", "合计"), "per_instance": ("per instance", "按实例"),
    "shard_balance": ("Shard balance", "分片均衡"), "instances": ("Instances", "实例"),
    "current_flags": ("Current flags", "当前告警"),
    "zabbix_problems": ("Zabbix problems", "Zabbix 问题"),
    "no_zabbix_problems": ("No active Zabbix problems", "无活动的 Zabbix 问题"),
    "zp_severity": ("severity", "级别"), "zp_host": ("host", "主机"), "zp_instance": ("instance", "实例"),
    "zp_name": ("problem", "问题"), "zp_since": ("since", "开始时间"),
    "unknown_business": ("Unknown business", "未知业务"),
    "back_to_wall": ("Back to the wall", "返回大屏"),
    "no_series": ("This business has no series in the store yet.", "该业务暂无监控数据。"),
    "no_limit": ("no limit", "无限制"),
    "no_series_short": ("no series", "无监控项"),
    "open_zabbix": ("Zabbix", "Zabbix"),
    "hot_shard": ("hot shard", "热点分片"),
    "star": ("star", "星级"), "oncall": ("on call", "值班"),
    "product_line": ("product line", "产品线"),
    "daily_requests": ("Daily requests by product line", "各产品线日请求量"),
    "instances_by": ("Instances by product line and service", "各产品线实例数（按服务类型）"),
    "top_qps": ("Top businesses by QPS", "QPS 最高的业务"),
    "top_growth": ("Top businesses by growth (vs 30 days ago)", "增长最快的业务（对比30天前）"),
    "bad_input": ("Bad input", "参数错误"),
    "store_empty": ("The store has no data yet: start a collector or the demo.",
                    "存储中还没有数据：请启动采集器或演示模式。"),
}


def t(key: str, lang: str = "en") -> str:
    en, zh = LABELS[key]
    return zh if lang == "zh" else en


def si(value: float | None, unit: str = "") -> str:
    """3 significant digits with k/M/G: 12345 -> '12.3k'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= div:
            return f"{value / div:.3g}{suffix}{unit}"
    return f"{value:.3g}{unit}"


def bytes_(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    for div, suffix in ((1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")):
        if abs(value) >= div:
            return f"{value / div:.3g} {suffix}"
    return f"{value:.0f} B"


def change(now: float | None, before: float | None) -> tuple[str, str]:
    """('+12%', 'up') of now against before; ('', '') when either is missing or before is 0."""
    if now is None or before is None or not before or math.isnan(now) or math.isnan(before):
        return "", ""
    pct = (now / before - 1) * 100
    return f"{pct:+.0f}%", ("up" if pct >= 0 else "down")


def when(ts: int | float, tz: str, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return datetime.fromtimestamp(int(ts), ZoneInfo(tz)).strftime(fmt)


def duration(seconds: float) -> str:
    s = int(max(seconds, 0))
    if s < 90:
        return f"{s}s"
    if s < 5400:
        return f"{s // 60}m"
    if s < 2 * 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d"
