"""Notification text: what, which business (star), how bad, since when, value vs threshold and a
link to the business page at that moment, in English or Chinese, sized for one SMS segment.

An SMS segment holds 160 GSM-7 characters, or 70 UCS-2 characters as soon as one character is
outside GSM-7 (any Chinese text); a longer text is split deliberately into parts of 153 / 67
characters with a "(1/2)" marker, never cut by the carrier. Phone numbers are E.164 (``+`` and up
to 15 digits); contacts look like ``Li Wei <+8613800138000>``.
"""
from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

from core.errors import ConfigError

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
CONTACT = re.compile(r"^\s*(?P<name>[^<]*?)\s*<(?P<addr>[^>]+)>\s*$")
GSM7 = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
           "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM7_EXT = set("^{}\\[~]|€")          # two septets each
SMS_GATEWAYS = ("aliyun", "tencent", "http")          # recipients are E.164 numbers

TEXT = {
    "en": {"firing": "[{SEV}] {biz} ({star}*): {what} since {since}", "more": " +{n} more",
           "resolved": "[OK] {biz} ({star}*): {what} resolved at {at}",
           "escalation": "[ESCALATED {SEV}] {biz} ({star}*): {what} unacked since {since}",
           "digest": "[DIGEST] {n} more alerts in {window} (top: {top})", "test": "Peakwatch test message {at}",
           "vs": "{metric} {value} > {thr}", "vs_below": "{metric} {value} < {thr}"},
    "zh": {"firing": "【{SEV}】{biz} ★{star}：{what}，自{since}", "more": " 另{n}项",
           "resolved": "【恢复】{biz} ★{star}：{what} 已于{at}恢复",
           "escalation": "【升级 {SEV}】{biz} ★{star}：{what} 自{since}未确认",
           "digest": "【汇总】{window}内另有{n}条告警（最多：{top}）", "test": "Peakwatch 测试消息 {at}",
           "vs": "{metric} {value}>{thr}", "vs_below": "{metric} {value}<{thr}"},
}
SEV_TEXT = {"en": {"crit": "CRIT", "warn": "WARN", "stale": "STALE"},
            "zh": {"crit": "严重", "warn": "警告", "stale": "无数据"}}


def parse_contact(text: str) -> tuple[str, str]:
    """``Li Wei <+8613800138000>`` -> (name, address); a bare address is its own name."""
    m = CONTACT.match(text)
    return (m.group("name") or m.group("addr"), m.group("addr").strip()) if m else (text.strip(), text.strip())


def is_e164(number: str) -> bool:
    return bool(E164.match(number))


def check_address(who: str, gateway_type: str, where: str) -> str:
    """The address in ``who`` if it suits the gateway: an E.164 number for SMS gateways."""
    _, addr = parse_contact(who)
    if gateway_type in SMS_GATEWAYS and not is_e164(addr):
        raise ConfigError(f"{where}: {addr!r} is not an E.164 phone number; write it as +8613800138000.")
    return addr


def mask(addr: str) -> str:
    """+8613800138000 -> +86138****8000 (logs and pages never show a whole number)."""
    if is_e164(addr) and len(addr) >= 9:
        return addr[:-8] + "****" + addr[-4:]
    return addr


def is_gsm7(text: str) -> bool:
    return all(c in GSM7 or c in GSM7_EXT for c in text)


def sms_length(text: str) -> tuple[int, int]:
    """(units used, units in one segment): GSM-7 septets of 160, else UCS-2 characters of 70."""
    if is_gsm7(text):
        return sum(2 if c in GSM7_EXT else 1 for c in text), 160
    return sum(2 if ord(c) > 0xFFFF else 1 for c in text), 70


def segments(text: str) -> list[str]:
    """``text`` as SMS parts: itself when it fits one segment, else parts marked (i/n)."""
    used, limit = sms_length(text)
    if used <= limit:
        return [text]
    part = (153 if limit == 160 else 67) - 6          # room for the " (i/n)" marker
    chunks = [text[i:i + part] for i in range(0, len(text), part)]
    return [f"{c} ({i + 1}/{len(chunks)})" for i, c in enumerate(chunks)]


def shorten(text: str) -> str:
    """``text`` cut (with …) to one segment of its own encoding."""
    used, limit = sms_length(text)
    if used <= limit:
        return text
    out = text
    while out and sms_length(out + "…")[0] > limit:
        out = out[:-1]
    return out + "…"


def fit(text: str, link: str = "") -> str:
    """``text`` and ``link`` in one segment when they fit together (the text shortened with … to
    make room, as long as half a segment of text survives); otherwise deliberately two segments:
    the text (one segment) and the link on its own line (a second one)."""
    if not link:
        return shorten(text)
    full = f"{text} {link}"
    used, limit = sms_length(full)
    if used <= limit:
        return full
    room = limit - sms_length(" " + link)[0]
    if room >= limit // 2:
        return f"{shorten_to(text, room)} {link}"
    return f"{shorten(text)}\n{link}"


def shorten_to(text: str, units: int) -> str:
    out = text
    while out and sms_length(out + "…")[0] > units:
        out = out[:-1]
    return out if out == text else out + "…"


def local(ts: int, tz: str, fmt: str = "%m-%d %H:%M") -> str:
    return datetime.fromtimestamp(int(ts), ZoneInfo(tz)).strftime(fmt)


def link(base: str, business: str, ts: int, tz: str, metric: str = "") -> str:
    """The business page on the alert's day (the page's history shows that day)."""
    tail = f"&metric={metric}" if metric else ""
    return f"{base}/business/{quote(business)}?end={local(ts, tz, '%Y-%m-%d')}{tail}"


def what(alert: dict, lang: str, values: bool = True) -> str:
    """``mem_util 97.3 > 95 @pay-cache-0:6379`` (value vs threshold where the rule has them; with
    ``values`` False just what and where, for resolved notices)."""
    where = alert.get("instance") or alert.get("cluster") or ""
    if not values:
        text = alert.get("metric") or alert.get("rule", "")
    elif alert.get("threshold") is not None and alert.get("value") is not None and alert.get("metric"):
        below = alert.get("below", False)
        key = "vs_below" if below else "vs"
        text = TEXT[lang][key].format(metric=alert["metric"], value=f"{alert['value']:.4g}",
                                      thr=f"{alert['threshold']:.4g}")
    else:
        text = alert.get("reason") or alert.get("rule", "")
    return f"{text} @{where}" if where and where != alert.get("business") else text


def render(kind: str, alerts: list[dict], lang: str, tz: str, base: str, now: int) -> str:
    """One message for a group of alerts of one business (the worst first)."""
    lang = lang if lang in TEXT else "en"
    tpl = TEXT[lang]
    if kind == "test":
        return tpl["test"].format(at=local(now, tz))
    top = alerts[0]
    sev = SEV_TEXT[lang].get(top["severity"], top["severity"].upper())
    fields = {"SEV": sev, "biz": top["business"], "star": top.get("star", 3),
              "what": what(top, lang, values=kind != "resolved"),
              "since": local(top.get("fired_at") or top.get("started_at") or now, tz, "%H:%M"),
              "at": local(now, tz, "%H:%M")}
    text = tpl[kind].format(**fields)
    if len(alerts) > 1:
        text += tpl["more"].format(n=len(alerts) - 1)
    return fit(text, link(base, top["business"], top.get("fired_at") or now, tz) if base else "")


def render_digest(n: int, window: str, top: str, lang: str) -> str:
    lang = lang if lang in TEXT else "en"
    return fit(TEXT[lang]["digest"].format(n=n, window=window, top=top))
