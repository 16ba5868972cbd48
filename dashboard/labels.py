"""Labels in English and Chinese, and value/time formatting in the display time zone."""
from __future__ import annotations

import math
import re
from datetime import datetime
from zoneinfo import ZoneInfo

LABELS: dict[str, tuple[str, str]] = {
    # key: (en, zh)
    "wall": ("NOC wall", "监控大屏"),
    "fleet": ("Fleet", "全局"),
    "business": ("Business", "业务"),
    "flags": ("Red flags", "告警"),
    "no_flags": ("No red flags", "无告警"),
    "ok": ("ok", "正常"), "warn": ("warn", "警告"), "crit": ("crit", "严重"), "stale": ("stale", "数据过期"),
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
    "daily_rw_total": ("Reads and writes per day, whole fleet", "全局每日读写量"),
    "daily_reads": ("Reads per day by product line", "各产品线每日读请求"),
    "daily_writes": ("Writes per day by product line", "各产品线每日写请求"),
    "reads": ("reads", "读"), "writes": ("writes", "写"),
    "rw_coverage": ("Read/write split known for {n} of {m} clusters; the others count in neither.",
                    "{m} 个集群中 {n} 个有读写拆分数据，其余不计入读写。"),
    "rw_missing": ("No read/write split in this store yet (Redis needs the Peakwatch add-on template in "
                   "Zabbix, Memcached has it from its template): showing all requests.",
                   "当前数据中还没有读写拆分（Redis 需要在 Zabbix 中导入 Peakwatch 附加模板，Memcached 模板自带）：显示全部请求。"),
    "instances_over_line": ("Instances by product line over time", "各产品线实例数变化"),
    "instances_over_service": ("Instances by service type over time", "各服务类型实例数变化"),
    "instances_by": ("Instances by product line and service (now)", "当前各产品线实例数（按服务类型）"),
    "fleet_days": ("Last", "最近"), "days_unit": ("days", "天"),
    "not_found": ("Page not found", "页面不存在"),
    "not_found_text": ("There is no page at this address. The wall lists every business.",
                       "此地址没有页面。监控大屏列出了所有业务。"),
    "no_current_qps": ("no business has a current QPS (the data is stale: is the collector running?).",
                       "没有业务有当前 QPS（数据已过期：采集器是否在运行？）。"),
    "one_day_yet": ("less than two days of history yet.", "历史数据不足两天。"),
    "top_qps": ("Top businesses by QPS", "QPS 最高的业务"),
    "top_growth": ("Top businesses by growth (vs 30 days ago)", "增长最快的业务（对比30天前）"),
    "bad_input": ("Bad input", "参数错误"),
    "store_empty": ("The store has no data yet: start a collector or the demo.",
                    "存储中还没有数据：请启动采集器或演示模式。"),
    # promotions and capacity pages
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
    "calendar": ("Promotion calendar", "大促日历"),
    "calendar_help": ("The forecasts and the comparison use these promotions: the yearly 11.11, 12.12 and 6.18 "
                      "are built in; add your own (an anniversary sale) or remove those your fleet did not run.",
                      "预测和对比使用这些大促：内置每年的 11.11、12.12 和 6.18；可添加自己的大促（如周年庆），或删除未举办的大促。"),
    "calendar_readonly": ("Editing the calendar is off on this server (setting calendar_editable); use "
                          "`python app.py promotions`.",
                          "此服务器未开启日历编辑（设置 calendar_editable）；请使用 `python app.py promotions`。"),
    "add_promotion": ("Add a promotion", "添加大促"),
    "col_days": ("days", "天数"), "col_preheat": ("pre-heat days", "预热天数"), "col_origin": ("from", "来源"),
    "col_when": ("when", "时间"), "upcoming": ("upcoming", "未来"), "past": ("past", "已过"),
    "origin_user": ("entered", "手工添加"), "origin_import": ("imported", "导入"),
    "origin_suggestion": ("confirmed suggestion", "确认的建议"), "origin_synthetic": ("demo fleet", "演示数据"),
    "origin_yearly": ("yearly", "每年"),
    "remove": ("remove", "删除"), "add": ("add", "添加"), "every_year": ("every year (MM-DD)", "每年（月-日）"),
    "suggestions": ("Suggestions from the fleet's traffic", "根据流量发现的大促"),
    "suggestions_help": ("Days whose peak stood far above the days around them and that no promotion covers.",
                         "峰值远高于前后日期且未被任何大促覆盖的日期。"),
    "find_suggestions": ("Find suggestions", "查找"),
    "no_suggestions": ("No suggestion: every day that stands out is in the calendar.",
                       "没有建议：所有流量突出的日期都已在日历中。"),
    "no_past_promotion": ("No past promotion in the calendar has data in this store yet: add the promotions your "
                          "fleet ran below (or with `python app.py promotions`).",
                          "日历中还没有有数据的历史大促：请在下方添加（或使用 `python app.py promotions`）。"),
    # instance tables (business page)
    "h_instance": ("instance", "实例"), "h_role_link": ("role / link", "角色 / 复制"), "h_role": ("role", "角色"),
    "h_shard": ("shard", "分片"), "h_ops": ("ops/s", "操作/秒"), "h_memory": ("memory used / limit", "内存 已用 / 上限"),
    "h_mem_pct": ("mem %", "内存 %"), "h_hit": ("hit %", "命中率 %"), "h_evicted": ("evicted/s", "驱逐/秒"),
    "h_expired": ("expired/s", "过期/秒"), "h_clients": ("clients", "客户端"), "h_net": ("net in / out", "网络 入 / 出"),
    "h_frag": ("frag", "碎片率"), "h_slowlog": ("slowlog/s", "慢日志/秒"), "h_cpu": ("cpu %", "CPU %"),
    "h_flag": ("flag", "告警"), "h_zabbix": ("Zabbix", "Zabbix"), "h_getset": ("get+set/s", "get+set/秒"),
    "h_connections": ("connections", "连接数"), "h_proxy": ("proxy", "代理"), "h_req": ("req/s", "请求/秒"),
    "h_timeouts": ("backend timeouts/s", "后端超时/秒"), "h_ejects": ("ejects/s", "摘除/秒"),
    "h_backend_err": ("backend errors/s", "后端错误/秒"), "h_in_queue": ("in queue", "入队列"),
    "h_out_queue": ("out queue", "出队列"),
    "assumed": ("Assumed from the Zabbix tags (fix the tags to make them certain)",
                "根据 Zabbix 标签推定（修正标签后即为确定值）"),
    "readiness_report": ("Readiness report", "大促准备报告"),
    "size_title": ("Size a new business", "新业务容量规划"),
    "size_intro": ("Shards, proxies and memory per shard for a new business: its expected normal peak raised by "
                   "the promotions' lift of similar businesses, the fleet's per-instance capacity, and the headroom "
                   "its star level keeps free.",
                   "根据同类业务的大促放大倍数、集群单实例容量和星级预留余量，估算新业务所需的分片数、代理数和单分片内存。"),
    "size_qps": ("Expected peak QPS", "预计日常峰值 QPS"), "size_memory": ("Memory (GiB)", "内存（GiB）"),
    "size_star": ("Star", "星级"), "size_service": ("Service", "服务类型"),
    "size_line": ("Similar to product line", "参照产品线"), "size_kind": ("Promotion", "大促"),
    "size_any_line": ("the whole fleet", "全部业务"), "size_biggest": ("the biggest lift", "放大倍数最大的"),
    "size_button": ("Size it", "计算"),
    "size_shards": ("shards × instances each", "分片数 × 每分片实例数"), "size_mem_per_shard": ("memory per shard", "单分片内存"),
    "size_proxies": ("proxies", "代理数"), "size_instances": ("instances in all", "实例总数"),
    "size_why_peak": ("peak {peak} QPS = {qps} x lift {lift}", "峰值 {peak} QPS = {qps} × 放大倍数 {lift}"),
    "size_why_similar": (" ({kind} of {n} similar businesses)", "（{n} 个相似业务的 {kind}）"),
    "size_why_util": ("a {star}-star business may use {util} of capacity", "{star} 星业务最多使用容量的 {util}"),
    "size_why_shards": ("{by_qps} shard(s) for QPS at {qps_inst} per instance, {by_mem} for memory at {mem_inst} GiB "
                        "per instance", "按 QPS 需 {by_qps} 个分片（单实例 {qps_inst}），按内存需 {by_mem} 个（单实例 {mem_inst} GiB）"),
    "size_why_proxies": ("{proxies} proxies at {proxy_qps} QPS each (at least {least})",
                         "{proxies} 个代理，每个 {proxy_qps} QPS（至少 {least} 个）"),
    "size_peak": ("peak to carry", "需承载峰值"), "size_lift": ("lift applied", "放大倍数"),
    "size_similar": ("similar businesses", "同类业务"), "size_why": ("how", "计算依据"),

    "col_method": ("method", "预测方法"), "col_past_error": ("past error", "历史误差"),
    "col_confidence": ("confidence", "可信度"), "low_confidence": ("low", "低"), "confident": ("ok", "正常"),
    "low_conf_summary": ("{n} of the {m} clusters to change rest on a low-confidence forecast (marked low; "
                         "see why in the CSV's confidence_note).",
                         "{m} 个需调整的集群中有 {n} 个依据的是低可信度预测（标为“低”；原因见 CSV 的 confidence_note）。"),
    "computing": ("Forecasting the whole fleet (once per hour of new data)…", "正在预测全部集群（每小时新数据计算一次）…"),
    # capacity page (issue 12): the plan from the background warmer, what to do, how sure, by when
    "cap_pending": ("The capacity plan for {name} is being computed in the background (a minute or more for a "
                    "large fleet; once per hour of new data for every viewer). This page fills in by itself when "
                    "it is ready.",
                    "{name} 的容量规划正在后台计算（大规模集群需要一分钟以上；每小时新数据只为所有用户计算一次）。"
                    "完成后本页会自动显示。"),
    "cap_stale_plan": ("Plan computed from data up to {at}; a plan with newer data is being computed.",
                       "该规划基于截至 {at} 的数据；基于更新数据的规划正在计算。"),
    "cap_summary": ("{name} starts {start}; data up to {cutoff} (times in {tz}). {n} clusters: {over} over, "
                    "{watch} watch, {ok} ok.",
                    "{name} 开始于 {start}；数据截至 {cutoff}（时间为 {tz}）。共 {n} 个集群：{over} 个超限，"
                    "{watch} 个需关注，{ok} 个正常。"),
    "cap_no_forecast": ("{n} without a forecast.", "{n} 个无预测。"),
    "cap_deadline": ("Act by {date}: changes done {lead} days before the start (setting capacity_lead_days={lead}); "
                     "{left} days left.",
                     "请在 {date} 前完成：大促开始前 {lead} 天完成变更（设置 capacity_lead_days={lead}）；还剩 {left} 天。"),
    "cap_deadline_passed": ("The deadline to act, {date} ({lead} days before the start, setting "
                            "capacity_lead_days={lead}), passed {ago} days ago: change only what is over.",
                            "变更截止日 {date}（大促开始前 {lead} 天，设置 capacity_lead_days={lead}）已过去 {ago} 天："
                            "只处理超限的集群。"),
    "cap_accuracy": ("How sure: the chosen methods missed the peak by a median {err} on these clusters' past "
                     "promotions (column “method (past error)”); {weak} of the {m} clusters to change rest on a "
                     "low-confidence forecast.",
                     "可信度：所选方法在这些集群以往大促上的峰值误差中位数为 {err}（见“预测方法（历史误差）”列）；"
                     "{m} 个需调整的集群中有 {weak} 个依据的是低可信度预测。"),
    "cap_backtest": ("Backtest of every past promotion, forecast 7 days ahead from the data before it "
                     "({n} business forecasts): median error {mdape}, the 80% interval held the real peak "
                     "{coverage} of the time. Details: the readiness report.",
                     "回测所有历史大促（提前 7 天、仅用当时之前的数据，共 {n} 次业务预测）：误差中位数 {mdape}，"
                     "80% 区间覆盖真实峰值的比例为 {coverage}。详见大促准备报告。"),
    "cap_backtest_pending": ("The backtest of past promotions is computed in the background; the readiness "
                             "report has it.",
                             "历史大促回测在后台计算中；大促准备报告中包含回测结果。"),
    "cap_definitions": ("What the words mean", "名词说明"),
    "def_over": ("over: at the predicted peak the cluster already uses more than its star level allows "
                 "(allowed = 100% minus the headroom the star keeps free). Act.",
                 "超限：在预测峰值时，集群的使用率已超过其星级允许的上限（允许 = 100% 减去该星级保留的余量）。需要处理。"),
    "def_watch": ("watch: the predicted peak fits, but the upper end of its 80% interval does not. Act if the "
                  "business cannot take the risk.",
                  "关注：预测峰值在允许范围内，但 80% 区间的上限超出。若业务不能承担风险则需处理。"),
    "def_ok": ("ok: even the upper end of the 80% interval fits.", "正常：80% 区间的上限也在允许范围内。"),
    "def_risk": ("risk: utilisation of the tightest resource at the upper bound ÷ the allowed utilisation; "
                 "above 1.00 the upper bound does not fit. Rows are ranked over, watch, ok, then by risk.",
                 "风险：区间上限时最紧张资源的利用率 ÷ 允许利用率；大于 1.00 表示上限超出。排序：超限、关注、正常，"
                 "再按风险。"),
    "def_action": ("action: a split keeps each shard's maxmemory, so the new shards cover the memory too; "
                   "“raise maxmemory … or split” is a choice of one.",
                   "操作：拆分时每个分片的 maxmemory 不变，新增分片同时满足内存需求；“调大 maxmemory … 或拆分”二选一。"),
    "col_utilisation": ("util. at peak / upper (allowed)", "利用率 峰值 / 上限（允许）"),
    "col_method_error": ("method (past error)", "预测方法（历史误差）"),
    "col_shards": ("shards now", "分片数"), "col_proxies": ("proxies now", "代理数"),
    "col_action": ("action", "操作"),
    "act_none": ("no change", "无需变更"),
    "act_split": ("split {a} → {b} shards (+{n})", "拆分 {a} → {b} 个分片（+{n}）"),
    "act_mem": ("raise maxmemory to {to} per shard (+{add} each)", "每个分片 maxmemory 调大到 {to}（各 +{add}）"),
    "act_mem_or_split": ("{mem}, or {split}", "{mem}，或{split}"),
    "act_proxies": ("proxies {a} → {b} (+{n})", "代理 {a} → {b} 个（+{n}）"),
    "why_over": ("{res} at {pct} at the predicted peak; {allowed} allowed for a {star}-star business",
                 "{res} 在预测峰值时为 {pct}；{star} 星业务允许 {allowed}"),
    "why_watch": ("{res} up to {pct} at the upper bound; {allowed} allowed for a {star}-star business",
                  "{res} 在区间上限时达 {pct}；{star} 星业务允许 {allowed}"),
    "why_ok": ("worst {res} {pct} at the upper bound; {allowed} allowed for a {star}-star business",
               "最紧张的 {res} 在区间上限时为 {pct}；{star} 星业务允许 {allowed}"),
    "why_none": ("no forecast for qps, proxy_qps or mem_used", "QPS、代理 QPS、内存均无预测"),
    "why_weak": ("rests on a low-confidence forecast: check the confidence note in the CSV before acting",
                 "依据的是低可信度预测：处理前请查看 CSV 中的可信度说明"),
    "why_unlimited": ("{n} of {m} shards have no memory limit (maxmemory 0): their memory is not sized",
                      "{m} 个分片中 {n} 个没有内存上限（maxmemory 0）：不计算其内存"),
    "cap_rows_all": ("Showing every cluster to change ({n}), then the ok clusters closest to their limit ({k}); "
                     "all {total} clusters are in the CSV (Export CSV).",
                     "显示全部 {n} 个需调整的集群，以及最接近上限的 {k} 个正常集群；全部 {total} 个集群见 CSV（导出 CSV）。"),
    "cap_rows_shown": ("Showing the {shown} riskiest of the {n} clusters to change, then the ok clusters closest "
                       "to their limit ({k}); all {total} clusters are in the CSV (Export CSV).",
                       "显示 {n} 个需调整集群中风险最高的 {shown} 个，以及最接近上限的 {k} 个正常集群；"
                       "全部 {total} 个集群见 CSV（导出 CSV）。"),
    "forecast_title": ("{title} · {name} · {metric} per {level}{shown}", "{title} · {name} · 每个{level}的 {metric}{shown}"),
    "top_of": (" (top {top} of {n})", "（共 {n} 个，显示前 {top} 个）"),
    "cap_bad_level": ("level={value!r} is not one of {choices}; showing business.",
                      "level={value!r} 不是 {choices} 之一；显示业务。"),
    "bad_promotion": ("promotion={value!r} is not an upcoming promotion; showing {name}.",
                      "promotion={value!r} 不是即将到来的大促；显示 {name}。"),
    "no_upcoming": ("The promotion calendar has no promotion after the newest data; add the next one on the "
                    "Promotions page (or with `python app.py promotions`).",
                    "大促日历中没有晚于最新数据的大促；请在“大促对比”页（或用 `python app.py promotions`）添加下一次大促。"),
    "sizing_missing": ("Give {what} as a positive number.", "请把{what}填写为正数。"),
    "sizing_qps": ("the expected peak QPS", "预计峰值 QPS"), "sizing_mem": ("the memory in GiB", "内存（GiB）"),
    "sizing_star": ("the star", "星级"), "sizing_and": (" and ", "和"),
    "readiness_title": ("one HTML file for the change ticket: forecast, clusters at risk, changes and their cost, "
                        "accuracy on past promotions (prints to A4 PDF)",
                        "用于变更工单的单个网页文件：预测、风险集群、变更及成本、历史大促准确度（可直接打印）"),
    # alerting (issue 13): acknowledged / silenced flags on the wall and the business page
    "acked": ("acknowledged", "已确认"),
    "silenced": ("silenced", "已静默"),
    "alert_state": ("state", "状态"),
    # accounts (issue 14)
    "login": ("Log in", "登录"), "logout": ("Log out", "退出"),
    "login_title": ("Log in to Peakwatch", "登录 Peakwatch"),
    "user_name": ("User name", "用户名"), "password": ("Password", "密码"),
    "login_failed": ("Wrong user name or password (or the account is disabled).", "用户名或密码错误（或账号已停用）。"),
    "login_needed": ("Log in to see this page (read pages are closed on this server).",
                     "请登录后查看（此服务器的页面需要登录）。"),
    "session_expired": ("Your session expired; log in again.", "会话已过期，请重新登录。"),
    "form_expired": ("The form expired or came from another page; try again.", "表单已过期或来源不明，请重试。"),
    "alerts": ("Alerts", "告警"), "open_alerts": ("Open alerts", "未恢复告警"),
    "no_open_alerts": ("No open alerts.", "没有未恢复的告警。"),
    "col_severity": ("severity", "级别"), "col_what": ("what", "内容"),
    "col_since": ("since", "开始"), "col_value": ("value / threshold", "当前值 / 阈值"),
    "col_state": ("state", "状态"), "col_notified": ("notified", "通知"), "col_actions": ("actions", "操作"),
    "col_rule": ("rule", "规则"), "col_resolved": ("resolved", "恢复时间"), "col_by": ("by", "操作人"),
    "firing": ("firing", "告警中"), "acknowledged": ("acknowledged", "已确认"), "resolved": ("resolved", "已恢复"),
    "pending": ("pending", "待定"),
    "gw_console": ("console", "控制台"),
    "ev_fired": ("fired", "触发"), "ev_notified": ("notified", "已通知"), "ev_escalated": ("escalated", "已升级"),
    "ev_acknowledged": ("acknowledged", "已确认"), "ev_resolved": ("resolved", "已恢复"),
    "acknowledge": ("Acknowledge", "确认"), "ack_comment": ("comment", "备注"),
    "silence": ("Silence", "静默"), "unsilence": ("Unsilence", "取消静默"),
    "silence_for": ("for", "时长"), "silence_reason": ("reason", "原因"),
    "silence_matchers": ("matching", "匹配"),
    "silences": ("Silences in force", "生效中的静默"), "no_silences": ("No silences in force.", "没有生效的静默。"),
    "timeline": ("Timeline", "时间线"), "details": ("details", "详情"),
    "not_notified": ("not notified", "未通知"),
    "delivered": ("delivered", "已送达"), "failed": ("failed", "失败"), "queued": ("queued", "排队中"),
    "history_title": ("History", "历史告警"), "filter": ("Filter", "筛选"), "any": ("any", "全部"),
    "day_range": ("days", "天数"), "csv": ("CSV", "CSV"),
    "no_history": ("No alerts in this period.", "该时段内没有告警。"),
    "read_only_note": ("Log in as an operator to acknowledge or silence.", "以值班员身份登录后可确认或静默。"),
    "done_acknowledged": ("Alert {id} acknowledged.", "告警 {id} 已确认。"),
    "taken": ("Alert {id} was already acknowledged by {who} (or is no longer firing); nothing changed.",
              "告警 {id} 已被 {who} 确认（或已不在告警中），未做更改。"),
    "done_silenced": ("Silence {id} added.", "已添加静默 {id}。"),
    "done_unsilenced": ("Silence {id} ended.", "静默 {id} 已结束。"),
    "not_allowed": ("Your role cannot do this; log in as an operator.", "当前角色无权操作，请以值班员身份登录。"),
    "bad_silence": ("The silence was not added: {why}", "未添加静默：{why}"),
    "unknown_alert": ("There is no alert {id}.", "没有编号为 {id} 的告警。"),
    "role_viewer": ("viewer", "只读"), "role_operator": ("operator", "值班员"), "role_admin": ("admin", "管理员"),
    # issue 12: the rest of what the pages show, so that zh is whole
    "h_where": ("where", "位置"), "h_metric": ("metric", "指标"), "h_severity": ("severity", "级别"),
    "h_what": ("what", "原因"), "h_since": ("since", "开始时间"), "h_state": ("state", "状态"),
    "same_range_last_year": ("same range last year", "去年同期"),
    "median": ("median", "中位数"),
    "pct_of_capacity": ("% of capacity", "占容量 %"),
    "points": ("points", "个点"),
    "cannot_show": ("Peakwatch cannot show this page", "Peakwatch 无法显示此页面"),
    "see_log": ("the page could not be built; see the server log.", "页面生成失败；详情见服务器日志。"),
    "link_up": ("link up", "链路正常"), "link_down": ("LINK DOWN", "链路断开"),
    "role_master": ("master", "主"), "role_slave": ("replica", "从"), "role_replica": ("replica", "从"),
    "role_proxy": ("proxy", "代理"),
    "status_over": ("over", "超限"), "status_watch": ("watch", "关注"), "status_ok": ("ok", "正常"),
    "status_no forecast": ("no forecast", "无预测"),
    "note_short_history": ("too little normal history before the event", "大促前的日常历史数据不足"),
    "method_pooled": ("pooled", "同类合并"), "method_last_lift": ("last_lift", "上次提升倍数"),
    "method_year_growth": ("year_growth", "同比增长"), "method_combined": ("combined", "组合"),
    "note_no_event_data": ("no data in the event window", "大促期间无数据"),
    "note_no_peak": ("peak is not positive", "峰值不为正"),
    "hours_short": ("h", "小时"),
    "fleet_group": ("fleet", "全局"),
    "today_hover": ("today", "今天"),
    "normal_peak_hover": ("normal peak", "日常峰值"),
    "growth_needs": ("needs 37 days of history.", "需要37天的历史数据。"),
    "growth_axis": ("growth, last 7 days vs 30 days before", "增长（最近7天对比30天前）"),
    "qps_axis": ("QPS now", "当前 QPS"),
    "rw_axis": ("reads + writes per day", "每日读写次数"),
    "reads_axis": ("reads per day", "每日读请求数"), "writes_axis": ("writes per day", "每日写请求数"),
    "requests_axis": ("requests per day", "每日请求数"),
    "axis_with_unit": ("{title} ({unit})", "{title}（{unit}）"),
    "days_not_whole": ("days={value!r} is not a whole number of days; use {lo} to {hi}, e.g. ?days=365.",
                       "days={value!r} 不是整数天数；请使用 {lo} 到 {hi}，例如 ?days=365。"),
    "days_outside": ("days={value} is outside {lo}..{hi}; the fleet page shows at most two years.",
                     "days={value} 超出 {lo}..{hi}；全局页面最多显示两年。"),
    "bad_level": ("level={value!r} is not one of {choices}; showing the fleet.",
                  "level={value!r} 不是 {choices} 之一；显示全局。"),
    "bad_group": ("group={value!r} is not a {level} in the store; showing {shown}.",
                  "group={value!r} 不是存储中的{level}；显示 {shown}。"),
    "bad_metric": ("metric={value!r} is not one of {choices}; showing qps.",
                   "metric={value!r} 不是 {choices} 之一；显示 QPS。"),
    "bad_kind": ("kind={value!r} has no past promotion; pick one of {choices}.",
                 "kind={value!r} 没有历史大促；请选择 {choices} 之一。"),
    "none": ("none", "无"),
    # NOC wall (issue 12 items 2-5): flag strip, tiles, the full flag list
    "more_flags": ("+{n} more flags", "另有 {n} 条告警"),
    "all_flags": ("All red flags", "全部告警"),
    "last_data": ("last data {d} ago", "最后数据 {d}前"),
    "tile_no_data": ("no data {d}", "无数据 {d}"),
    "clearing": ("clearing", "恢复中"),
    "all_silent": ("every instance silent", "所有实例均无数据"),
    "no_promotion_in_history": ("No {kind} promotion inside {group}'s {metric} history.",
                                "{group} 的{metric}历史中没有 {kind} 大促。"),
    # business page and charts (issue 12, items 6, 7)
    "unknown_business_text": ("No business named “{name}” is in the store. Check the link or pick it on the wall.",
                              "存储中没有名为“{name}”的业务。请检查链接，或在监控大屏上选择。"),
    "no_series_yet": ("{name}: no series yet; they appear after the next collection.",
                      "{name}：暂无监控数据，下次采集后出现。"),
    "bad_window": ("window={window} is not one of {allowed} hours; showing 3 h.",
                   "window={window} 不是 {allowed} 小时之一；显示 3 小时。"),
    "bad_range": ("History range: {error} Showing the last {days} days.", "历史范围：{error} 显示最近 {days} 天。"),
    "bad_range_short": ("History range: {error}", "历史范围：{error}"),
    "bf_where": ("where", "位置"), "bf_metric": ("metric", "指标"), "bf_severity": ("severity", "级别"),
    "bf_what": ("what", "原因"), "bf_since": ("since", "开始时间"), "bf_state": ("state", "状态"),
    "n_instances": ("{n} instances", "{n} 个实例"), "worst": ("worst", "最差"),
    "quick_range": ("Last", "最近"),
    "preset_1h": ("1 h", "1 小时"), "preset_24h": ("24 h", "24 小时"), "preset_7d": ("7 d", "7 天"),
    "preset_30d": ("30 d", "30 天"),
    "last_year": ("same range last year", "去年同期"),
    "no_data_in_range": ("No {metric} data for {name} in this range.", "{name} 在此时间范围内没有 {metric} 数据。"),
    "n_points": ("{n} points", "{n} 个数据点"),
    "agg_sum": ("sum", "合计"), "agg_mean": ("mean", "平均"), "agg_max": ("max (worst)", "最大（最差）"),
    "band_min_max": ("min–max of the series", "各序列最小–最大"),
    "time_axis": ("time ({tz}, {offset})", "时间（{tz}，{offset}）"),
    "no_current_shards": ("No shard has a current value (the data is stale).", "没有分片有当前数值（数据已过期）。"),
    "reason_all_silent": ("every instance silent", "所有实例均无数据"),
    "rule_stale": ("no data", "无数据"), "rule_cluster_stale": ("cluster silent", "集群无数据"),
    "rule_watchdog": ("collector silent", "采集器无数据"), "rule_deviation": ("unusual traffic", "流量异常"),
    # instance view (issue 12, item 11)
    "unknown_instance": ("Unknown instance", "未知实例"),
    "unknown_instance_text": ("No live instance named “{name}” is in the store. Open it from its business page's "
                              "instance table (names look like 10.0.0.1:6379).",
                              "存储中没有名为“{name}”的在用实例。请从业务页面的实例表打开（名称形如 10.0.0.1:6379）。"),
    "zabbix_host_n": ("host {id}", "主机 {id}"),
    "iv_replication": ("Role and replication", "角色与复制"),
    "iv_proxy_text": ("A Twemproxy proxy of cluster {cluster}: it forwards to the cluster's shards (no replication).",
                      "集群 {cluster} 的 Twemproxy 代理：将请求转发到集群各分片（无复制）。"),
    "iv_link": ("master link", "主从链路"),
    "iv_address": ("address", "地址"),
    "iv_no_replica": ("This shard has no replica in the store.", "该分片在存储中没有从实例。"),
    "iv_limits": ("Limits", "限制"), "iv_limit": ("limit", "项目"), "iv_value": ("value", "值"),
    "iv_memory": ("memory used / maxmemory", "内存 已用 / 上限"),
    "iv_qps_capacity": ("planned ops/s per instance", "单实例规划 QPS"),
    "iv_mem_capacity": ("planned memory per instance", "单实例规划内存"),
    "iv_shards": ("shards in the cluster", "集群分片数"),
    "iv_series": ("Series", "监控曲线"),
    "iv_zabbix": ("Zabbix items", "Zabbix 监控项"), "iv_host": ("Zabbix host", "Zabbix 主机"),
    "iv_source": ("source", "来源"), "iv_all_items": ("all items in Zabbix", "在 Zabbix 中查看全部监控项"),
    "iv_backend": ("backend", "后端"), "iv_series_key": ("series key", "序列键"), "iv_units": ("units", "单位"),
    "iv_item": ("Zabbix item", "Zabbix 监控项编号"),
    "iv_no_zabbix_url": ("No Zabbix frontend is configured (setting zabbix_url): the items are not linked.",
                         "未配置 Zabbix 前端地址（设置 zabbix_url）：监控项没有链接。"),
}

#: metric names as a page shows them (en: the metric's id, as in the URL and the CSV)
METRIC_NAMES: dict[str, str] = {
    "qps": "QPS", "mem_used": "内存已用", "mem_max": "内存上限", "mem_util": "内存利用率", "conns": "连接数",
    "hit_ratio": "命中率", "evictions": "驱逐", "expired": "过期", "net_in": "网络入流量", "net_out": "网络出流量",
    "cpu": "CPU", "frag_ratio": "碎片率", "repl_ok": "主从链路", "slowlog": "慢日志", "proxy_qps": "代理 QPS",
    "proxy_timeouts": "后端超时", "server_ejects": "后端摘除", "server_err": "后端错误", "in_queue": "入队列",
    "out_queue": "出队列", "reads": "读", "writes": "写", "memory": "内存",
}

#: alert rules without a metric (alerting.evaluate), in Chinese
RULE_NAMES: dict[str, str] = {"stale": "数据过期", "cluster_stale": "集群无数据", "watchdog": "采集中断",
                              "deviation": "偏离常值"}

#: units of store.metrics in Chinese (en: as they are)
UNIT_NAMES: dict[str, str] = {
    "ops/s": "次/秒", "B": "字节", "%": "%", "conns": "个连接", "keys/s": "键/秒", "B/s": "字节/秒",
    "ratio": "比值", "bool": "", "entries/s": "条/秒", "req/s": "请求/秒", "1/s": "次/秒", "req": "个请求",
}

#: large counts in words: (divisor, en, zh); Chinese groups digits by 10^4 (万) and 10^8 (亿)
COUNT_UNITS = {"en": ((1e9, "billions"), (1e6, "millions"), (1e3, "thousands")),
               "zh": ((1e12, "万亿次"), (1e8, "亿次"), (1e4, "万次"))}

#: a date axis in Chinese: plotly's defaults ("Jan 2025", "Nov 15") by zoom level, in Chinese
ZH_DATE_TICKS = (
    (None, 60_000, "%H:%M:%S"),
    (60_000, 86_400_000, "%H:%M<br>%-m月%-d日"),
    (86_400_000, "M1", "%-m月%-d日<br>%Y年"),
    ("M1", "M12", "%Y年%-m月"),
    ("M12", None, "%Y年"),
)


def t(key: str, lang: str = "en") -> str:
    en, zh = LABELS[key]
    return zh if lang == "zh" else en


def metric_name(metric: str, lang: str = "en") -> str:
    """'mem_util' in en (the id a DBA types), '内存利用率' in zh."""
    if lang != "zh":
        return metric
    return METRIC_NAMES.get(metric) or RULE_NAMES.get(metric, metric)


def unit_name(units: str, lang: str = "en") -> str:
    return UNIT_NAMES.get(units, units) if lang == "zh" else units


def named(kind: str, value, lang: str = "en") -> str:
    """A stored value of a kind the label table names (``{kind}_{value}``: role_master,
    status_over, method_pooled) in ``lang``; any other value as it is."""
    key = f"{kind}_{value}"
    return t(key, lang) if key in LABELS else str(value)


def role(value: str, lang: str = "en") -> str:
    """An instance's role ('master', 'slave', 'proxy'); Redis 'slave' reads 'replica'."""
    return named("role", value, lang)


def status(value: str, lang: str = "en") -> str:
    """A capacity plan status: over, watch, ok, no forecast."""
    return named("status", value, lang)


#: notes and reasons the engines write in English, by their text
_NOTES = {"too little normal history before the event": "note_short_history",
          "no data in the event window": "note_no_event_data", "peak is not positive": "note_no_peak",
          "no data": "no_data", "no series": "no_series_short", "every instance silent": "all_silent"}
#: reasons with numbers in them: pattern, Chinese template (groups by name)
_PATTERNS = (
    (re.compile(r"^(?P<metric>\w+) (?P<v>\S+) vs usual (?P<m>\S+) \(z (?P<z>\S+)\)$"),
     "{metric} {v}，常值 {m}（z {z}）"),
    (re.compile(r"^no data from (?P<source>.+) for (?P<age>\S+)$"), "{source} 已 {age} 无数据"),
    # forecasting.sizing's notes
    (re.compile(r"^the fleet has no (?P<service>\w+) cluster: per-instance capacity from the settings$"),
     "全局没有 {service} 集群：单实例容量取自设置"),
    (re.compile(r"^no business in product line (?P<line>.+): the fleet's lifts are used$"),
     "产品线 {line} 中没有业务：使用全局的放大倍数"),
    (re.compile(r"^no past promotion measured: no lift applied \(size for the peak you expect\)$"),
     "没有测得历史大促：不乘放大倍数（请按预期峰值规划）"),
    (re.compile(r"^no past (?P<kind>.+) promotion measured: no lift applied$"), "没有测得历史 {kind} 大促：不乘放大倍数"),
)


def note(text, lang: str = "en") -> str:
    """A note or flag reason from the engines ('no data', 'mem_util 97.2', 'zabbix: <problem>')
    in ``lang``; a problem's own name (from Zabbix) stays as it is."""
    if not isinstance(text, str) or not text:
        return ""
    if text in _NOTES:
        return t(_NOTES[text], lang)
    if lang == "zh":
        for pattern, template in _PATTERNS:
            m = pattern.match(text)
            if m:
                parts = m.groupdict()
                if "metric" in parts:
                    parts["metric"] = metric_name(parts["metric"], lang)
                return template.format(**parts)
    head, _, rest = text.partition(" ")
    if head in METRIC_NAMES and rest:
        return f"{metric_name(head, lang)} {rest}"
    if text.startswith("zabbix: "):
        return "Zabbix" + ("：" if lang == "zh" else ": ") + text[len("zabbix: "):]
    return text


def count_unit(largest: float, lang: str = "en") -> tuple[float, str]:
    """(divisor, unit words) that show counts up to ``largest`` without an SI letter ('500B'
    would read as bytes): billions / 亿次, ...; (1, '') for small counts."""
    for div, words in COUNT_UNITS["zh" if lang == "zh" else "en"]:
        if abs(largest) >= div:
            return div, words
    return 1.0, ""


def axis_title(key: str, unit: str, lang: str = "en") -> str:
    return t("axis_with_unit", lang).format(title=t(key, lang), unit=unit) if unit else t(key, lang)
def _g3(x: float) -> str:
    """3 significant digits, never in exponent form (1023.6 -> '1024', not '1.02e+03')."""
    return f"{x:.0f}" if abs(x) >= 999.5 else f"{x:.3g}"


def si(value: float | None, unit: str = "") -> str:
    """3 significant digits with k/M/G: 12345 -> '12.3k'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= div:
            return f"{_g3(value / div)}{suffix}{unit}"
    return f"{_g3(value)}{unit}"


def bytes_(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    for div, suffix in ((1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")):
        if abs(value) >= div:
            return f"{_g3(value / div)} {suffix}"
    return f"{value:.0f} B"


def change(now: float | None, before: float | None) -> tuple[str, str]:
    """('+12%', 'up') of now against before; ('', '') when either is missing or before is 0."""
    if now is None or before is None or not before or math.isnan(now) or math.isnan(before):
        return "", ""
    pct = (now / before - 1) * 100
    return f"{pct:+.0f}%", ("up" if pct >= 0 else "down")


def when(ts: int | float, tz: str, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return datetime.fromtimestamp(int(ts), ZoneInfo(tz)).strftime(fmt)


DURATION_UNITS = {"en": ("s", "m", "h", "d"), "zh": ("秒", "分钟", "小时", "天")}


def duration(seconds: float, lang: str = "en") -> str:
    """'42s', '23m', '2h05m', '3d'; in zh '42秒', '23分钟', '2小时05分钟', '3天'."""
    sec, mins, hours, days = DURATION_UNITS["zh" if lang == "zh" else "en"]
    s = int(max(seconds, 0))
    if s < 90:
        return f"{s}{sec}"
    if s < 5400:
        return f"{s // 60}{mins}"
    if s < 2 * 86400:
        return f"{s // 3600}{hours}{s % 3600 // 60:02d}{mins}"
    return f"{s // 86400}{days}"
