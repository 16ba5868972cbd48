"""English and Chinese labels of the ``/promotions`` and ``/capacity`` pages (``t`` falls back
to :mod:`dashboard.labels` for the shared ones)."""
from __future__ import annotations

from dashboard import labels as lb

LABELS: dict[str, tuple[str, str]] = {
    # key: (en, zh)
    "promotions": ("Promotions", "大促对比"),
    "capacity": ("Capacity", "容量规划"),
    "level": ("Level", "维度"), "group": ("Group", "对象"), "kind": ("Promotion kind", "大促类型"),
    "scale": ("Scale", "刻度"), "absolute": ("absolute", "绝对值"), "relative": ("÷ normal peak", "÷ 日常峰值"),
    "level_business": ("business", "业务"), "level_cluster": ("cluster", "集群"),
    "level_product_line": ("product line", "产品线"), "level_fleet": ("fleet", "全局"),
    "aligned_on_start": ("aligned on the start hour", "按开始时刻对齐"),
    "hours_from_start": ("hours from the start (the promotion's time zone)", "距开始的小时数（大促所在时区）"),
    "start_hour": ("start", "开始"), "today": ("today", "今天"),
    "x_normal_peak": ("× normal daily peak", "× 日常峰值"),
    "lift_table": ("Lift per promotion", "历次大促提升倍数"),
    "col_name": ("promotion", "大促"), "col_kind": ("kind", "类型"), "col_start": ("start", "开始时间"),
    "col_baseline": ("baseline (normal peak)", "基线（日常峰值）"), "col_peak": ("peak", "峰值"),
    "col_lift": ("lift = peak / baseline", "提升 = 峰值 / 基线"), "col_peak_time": ("time of peak", "峰值时间"),
    "col_peak_offset": ("hour of peak", "峰值时刻"), "col_note": ("note", "备注"),
    "promotion": ("Promotion", "大促"),
    "forecast": ("Peak forecast", "峰值预测"),
    "forecast_80": ("predicted peak (80% interval)", "预测峰值（80% 区间）"),
    "normal_peak": ("normal peak", "日常峰值"),
    "utilisation_title": ("Utilisation of the tightest resource at the peak", "峰值时最紧张资源的利用率"),
    "at_point": ("at the predicted peak", "预测峰值时"), "at_upper": ("at the upper bound", "区间上限时"),
    "allowed": ("allowed for the star level", "星级允许上限"),
    "recommendations": ("Recommendations, ranked by risk", "扩容建议（按风险排序）"),
    "export_csv": ("Export CSV", "导出 CSV"),
    "col_rank": ("#", "#"), "col_cluster": ("cluster", "集群"), "col_business": ("business", "业务"),
    "col_star": ("star", "星级"), "col_service": ("service", "类型"), "col_status": ("status", "状态"),
    "col_risk": ("risk", "风险"), "col_resource": ("tightest", "瓶颈资源"),
    "col_util_point": ("util. at peak", "峰值利用率"), "col_util_upper": ("util. at upper", "上限利用率"),
    "col_allowed": ("allowed", "允许"), "col_add_shards": ("+ shards", "+ 分片"),
    "col_add_proxies": ("+ proxies", "+ 代理"), "col_add_mem": ("+ memory", "+ 内存"),
    "col_reason": ("why", "原因"),
    "computing": ("Forecasting the whole fleet (once per hour of new data)…", "正在预测全部集群（每小时新数据计算一次）…"),
}


def t(key: str, lang: str = "en") -> str:
    if key not in LABELS:
        return lb.t(key, lang)
    en, zh = LABELS[key]
    return zh if lang == "zh" else en
