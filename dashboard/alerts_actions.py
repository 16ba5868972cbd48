"""What operators do on /alerts: plain form posts (each with its CSRF token, checked by
dashboard.auth) to acknowledge, silence and unsilence, answered with a redirect back to the page
and a one-line message; and the history's CSV. A viewer's post is refused (403) and changes
nothing. Every action is audited by the store in the same transaction."""
from __future__ import annotations

import logging

import flask

from core.errors import StoreInputError
from dashboard import alerts_data as ad
from dashboard import auth, context
from dashboard import labels as lb
from store.alert_types import SILENCE_MATCHERS

log = logging.getLogger("peakwatch.dashboard.alerts")
#: silence durations offered on the page, in seconds
DURATIONS = {"30m": 1800, "1h": 3600, "2h": 7200, "4h": 14400, "8h": 28800, "24h": 86400, "3d": 259200}
MAX_COMMENT = 500
MAX_DAYS = 90


def install(server: flask.Flask) -> None:
    bp = flask.Blueprint("peakwatch_alerts", __name__)
    bp.add_url_rule("/alerts/<int:alert_id>/acknowledge", view_func=acknowledge, methods=["POST"])
    bp.add_url_rule("/alerts/silence", view_func=silence, methods=["POST"])
    bp.add_url_rule("/alerts/silences/<int:silence_id>/expire", view_func=unsilence, methods=["POST"])
    bp.add_url_rule("/alerts.csv", view_func=history_csv, methods=["GET"])
    server.register_blueprint(bp)


def _refuse(lang: str):
    return flask.Response(f"{lb.t('not_allowed', lang)}\n", status=403, mimetype="text/plain; charset=utf-8")


def _back(alert_id=None):
    return flask.redirect("/alerts" + (f"?alert={int(alert_id)}" if alert_id else ""), code=303)


def _field(name: str, max_len: int = MAX_COMMENT) -> str:
    return str(flask.request.form.get(name, "")).strip()[:max_len]


def acknowledge(alert_id: int):
    ctx = context.current()
    lang = ctx.lang
    if not auth.may("acknowledge"):
        return _refuse(lang)
    who = auth.current_name()
    if ctx.store.acknowledge(alert_id, who, ctx.now(), _field("comment"), via="web"):
        flask.flash(lb.t("done_acknowledged", lang).format(id=alert_id), "ok")
        return _back(alert_id)
    row = ctx.store.alert(alert_id)
    if row is None:
        flask.flash(lb.t("unknown_alert", lang).format(id=alert_id), "error")
        return _back()
    flask.flash(lb.t("taken", lang).format(id=alert_id, who=row["acked_by"] or "-"), "error")
    return _back(alert_id)


def silence():
    ctx = context.current()
    lang = ctx.lang
    if not auth.may("silence"):
        return _refuse(lang)
    matchers = {k: _field(k, 200) for k in SILENCE_MATCHERS if _field(k, 200)}
    duration = DURATIONS.get(_field("duration", 10))
    reason = _field("reason")
    alert_id = _field("alert", 20)
    now = ctx.now()
    try:
        if duration is None:
            raise StoreInputError(f"pick a duration ({', '.join(DURATIONS)}).")
        if not reason:
            raise StoreInputError("say why (the reason is shown to everyone who sees the silence).")
        sid = ctx.store.add_silence(matchers, now, now + duration, auth.current_name(), now, reason, via="web")
    except StoreInputError as exc:
        flask.flash(lb.t("bad_silence", lang).format(why=str(exc)), "error")
        return _back(alert_id if alert_id.isdigit() else None)
    flask.flash(lb.t("done_silenced", lang).format(id=sid), "ok")
    return _back(alert_id if alert_id.isdigit() else None)


def unsilence(silence_id: int):
    ctx = context.current()
    lang = ctx.lang
    if not auth.may("silence"):
        return _refuse(lang)
    if ctx.store.expire_silence(silence_id, auth.current_name(), ctx.now(), via="web"):
        flask.flash(lb.t("done_unsilenced", lang).format(id=silence_id), "ok")
    return _back()


def parse_filters(args) -> ad.Filters:
    """The history's filters from query parameters; a bad one falls back to its default."""
    def text(name):
        value = args.get(name, "")
        return value[:200] if isinstance(value, str) else ""
    days = args.get("days", "7")
    days = int(days) if isinstance(days, str) and days.isdigit() and 1 <= int(days) <= MAX_DAYS else 7
    return ad.Filters(business=text("business"), product_line=text("product_line"), rule=text("rule"), days=days)


def history_csv():
    ctx = context.current()
    filters = parse_filters(flask.request.args)
    df = ad.history(ctx.store, filters, ctx.now(), limit=ad.CSV_LIMIT)
    body = ad.history_csv(df, ctx.tz)
    return flask.Response(body, mimetype="text/csv; charset=utf-8",
                          headers={"Content-Disposition": f'attachment; filename="alerts-{filters.days}d.csv"'})
