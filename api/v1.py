"""``/api/v1`` on the web app's Flask server.

Reads are open while ``read_pages_open`` is on (as the pages are), else they need a token; writes
always need ``Authorization: Bearer <token>`` (``python app.py users token NAME``) of a user whose
role allows them: 401 without a valid token (a browser's session cookie is not one, so a
cross-site form cannot act), 403 for a role that may not. Writes are rate limited per token
(``api_write_limit``) and bodies capped at 64 KiB. Every error is JSON: a body or query that does
not fit its model is a 422 listing the fields at fault (spectree), any other error
``{"error": ..., "field": ...}`` with its status (400: the values fit but cannot be done, e.g. a
silence ending in the past).
"""
from __future__ import annotations

import logging
import time
from typing import Callable

import flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from markupsafe import escape
from spectree import Response, SecurityScheme, SpecTree
from spectree.models import SecuritySchemeData
from werkzeug.exceptions import HTTPException

from accounts import roles
from accounts.users import issue_token, token_user
from alerting import config as acfg
from alerting import manual
from alerting import reload as rules_reload
from api import models as m
from api import status as st
from core.errors import ConfigError, StoreInputError

log = logging.getLogger("peakwatch.api")
PREFIX = "/api/v1"
MAX_BODY = 64 * 1024
AUTH = [{"bearer": []}]
#: reads: a token, or none while read pages are open (OpenAPI's empty requirement)
READ_AUTH = [{"bearer": []}, {}]
READ_ERRORS = {"HTTP_401": m.Error, "HTTP_404": m.Error}
WRITE_ERRORS = {"HTTP_400": m.Error, "HTTP_401": m.Error, "HTTP_403": m.Error, "HTTP_404": m.Error, "HTTP_413": m.Error,
                "HTTP_429": m.Error}


class ApiError(Exception):
    def __init__(self, status: int, error: str, field: str | None = None):
        super().__init__(error)
        self.status, self.error, self.field = status, error, field


def error(status: int, text: str, field: str | None = None) -> flask.Response:
    body = {"error": text, "field": field}
    return flask.make_response(flask.jsonify(body), status)


def bearer() -> str | None:
    header = flask.request.headers.get("Authorization", "")
    return header[7:].strip() if header[:7].lower() == "bearer " else None


def install(server: flask.Flask, store, settings, clock: Callable[[], float] = time.time) -> SpecTree:
    """The API's routes, its OpenAPI document (``/api/v1/openapi.json``) and docs page (``/api/v1/docs``)."""
    loaded = rules_reload.Loaded(store, settings)
    spec = SpecTree("flask", app=server, mode="strict", path="api/v1/_spectree", page_templates={},
                    title="Peakwatch ops API", version="1", annotations=True,
                    security_schemes=[SecurityScheme(name="bearer", data=SecuritySchemeData(type="http", scheme="bearer"))])

    def now() -> int:
        return int(clock())

    def current_cfg() -> acfg.Config:
        """The alerting configuration, read again once an admin asked for a reload (any process)."""
        loaded.refresh()
        return loaded.cfg

    def caller(action: str) -> dict:
        """The user of the request's token when they may ``action``; ApiError 401/403 otherwise."""
        token = bearer()
        user = token_user(store, token, now()) if token else None
        if action == "read" and settings.read_pages_open:
            return user or {"name": None, "role": "viewer"}
        if user is None:
            raise ApiError(401, "a valid API token is needed: send 'Authorization: Bearer <token>' "
                                "(python app.py users token NAME).")
        if not roles.can(user["role"], action):
            least = next(r for r in roles.ROLES if roles.can(r, action))
            raise ApiError(403, f"user {user['name']!r} ({user['role']}) may not {action}; an {least} may.")
        return user

    limiter = Limiter(key_func=lambda: bearer() or get_remote_address(), app=server, storage_uri="memory://",
                      default_limits=[], headers_enabled=True)
    write_limit = limiter.limit(settings.api_write_limit, methods=["POST"])
    bp = flask.Blueprint("peakwatch_api", __name__, url_prefix=PREFIX)

    @bp.before_request
    def _size():
        flask.request.max_content_length = MAX_BODY

    @bp.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return error(exc.status, exc.error, exc.field)

    # ------------------------------------------------------------------ businesses
    @bp.get("/businesses")
    @spec.validate(resp=Response(HTTP_200=m.BusinessList, **READ_ERRORS), tags=["businesses"], security=READ_AUTH)
    def businesses():
        """Every business with its status (worst open alert, acknowledged, silenced): the wall in one call."""
        caller("read")
        df = st.statuses(store, now())
        return m.BusinessList(businesses=df.to_dict("records"), generated_at=now())

    def business_row(name: str) -> dict:
        df = st.statuses(store, now())
        row = df[df["name"] == name]
        if row.empty:
            raise ApiError(404, f"no business {name!r}; GET {PREFIX}/businesses lists them.", "name")
        return row.iloc[0].to_dict()

    @bp.get("/businesses/<name>/status")
    @spec.validate(resp=Response(HTTP_200=m.BusinessDetail, **READ_ERRORS), tags=["businesses"], security=READ_AUTH)
    def business_status(name: str):
        """A business's flags, open alerts, latest values and active Zabbix problems (the reference
        platform's /zabbix/status)."""
        caller("read")
        row = business_row(name)
        alerts = store.open_alerts(include_pending=False)
        alerts = [st.alert_dict(a) for a in alerts[alerts["business"] == name].to_dict("records")]
        return m.BusinessDetail(**row, alerts=alerts, latest=st.latest_values(store, name),
                                zabbix_problems=st.problems_of(store, name))

    @bp.get("/businesses/<name>/instances")
    @spec.validate(resp=Response(HTTP_200=m.InstanceList, **READ_ERRORS), tags=["businesses"], security=READ_AUTH)
    def business_instances(name: str):
        """The business's instances with their status (the reference platform's /cluster/instances)."""
        caller("read")
        business_row(name)
        return m.InstanceList(business=name, instances=st.instances_of(store, name, now()))

    forecasts: dict[tuple, dict] = {}      # (business, newest data hour) -> forecast, this process

    @bp.get("/businesses/<name>/forecast")
    @spec.validate(resp=Response(HTTP_200=m.ForecastOut, **READ_ERRORS), tags=["businesses"], security=READ_AUTH)
    def business_forecast(name: str):
        """The next promotion's qps peak forecast for the business (80% interval), from its own
        history; ``note`` says why when there is none."""
        caller("read")
        business_row(name)
        key = (name, now() // 3600)
        if key not in forecasts:
            if len(forecasts) > 512:
                forecasts.clear()
            forecasts[key] = st.forecast_of(store, name)
        return m.ForecastOut(**forecasts[key])

    # ------------------------------------------------------------------ alerts
    @bp.get("/alerts")
    @spec.validate(query=m.AlertsQuery, resp=Response(HTTP_200=m.AlertList, **READ_ERRORS), tags=["alerts"],
                   security=READ_AUTH)
    def alerts_list(query: m.AlertsQuery):
        """Open alerts (default), or by state; newest first."""
        caller("read")
        if query.state == "open":
            df = store.open_alerts(include_pending=False)
            if query.business:
                df = df[df["business"] == query.business]
            df = df.sort_values("id", ascending=False).head(query.limit)
        else:
            df = store.alerts(business=query.business, state=None if query.state == "all" else query.state,
                              limit=query.limit)
        return m.AlertList(alerts=[st.alert_dict(r) for r in df.to_dict("records")])

    def one_alert(alert_id: int) -> dict:
        row = store.alert(alert_id) if 0 < alert_id < 2**62 else None
        if row is None:
            raise ApiError(404, f"no alert {alert_id}.", "alert_id")
        return row

    @bp.get("/alerts/<int:alert_id>")
    @spec.validate(resp=Response(HTTP_200=m.AlertOut, **READ_ERRORS), tags=["alerts"], security=READ_AUTH)
    def alert_get(alert_id: int):
        caller("read")
        return m.AlertOut(**st.alert_dict(one_alert(alert_id)))

    @bp.post("/alerts/<int:alert_id>/acknowledge")
    @write_limit
    @spec.validate(json=m.AckIn, resp=Response(HTTP_200=m.AlertOut, HTTP_409=m.Error, **WRITE_ERRORS),
                   tags=["alerts"], security=AUTH)
    def alert_ack(alert_id: int, json: m.AckIn):
        """Acknowledge a firing alert; 409 when someone else did first (or it is no longer firing)."""
        user = caller("acknowledge")
        one_alert(alert_id)
        if not store.acknowledge(alert_id, user["name"], now(), json.comment, via="api"):
            row = one_alert(alert_id)
            who = f" by {row['acked_by']}" if row["acked_by"] else ""
            raise ApiError(409, f"alert {alert_id} is {row['state']}{who}; nothing changed.", "alert_id")
        return m.AlertOut(**st.alert_dict(one_alert(alert_id)))

    @bp.post("/alerts/send")
    @write_limit
    @spec.validate(json=m.SendIn, resp=Response(HTTP_200=m.SendOut, **WRITE_ERRORS), tags=["alerts"],
                   security=AUTH)
    def alert_send(json: m.SendIn):
        """Page a business's on-call (or the numbers in ``to``) through the routes and the outbox
        (the reference platform's /alert/send)."""
        user = caller("send")
        key = json.key or f"{now()}"
        try:
            queued = manual.page(store, current_cfg(), json.business, json.text, json.severity, user["name"],
                                 f"{user['name']}|{key}", now(), to=json.to, via="api")
        except manual.UnknownBusiness as exc:
            raise ApiError(404, str(exc), "business") from exc
        except manual.NoRoute as exc:
            raise ApiError(400, str(exc), "business") from exc
        return m.SendOut(queued=[vars(q) for q in queued])

    # ------------------------------------------------------------------ rules
    @bp.post("/rules/reload")
    @write_limit
    @spec.validate(resp=Response(HTTP_200=m.ReloadOut, **WRITE_ERRORS), tags=["rules"], security=AUTH)
    def rules_reload_now():
        """Read the config file's alerting rules, routes and gateways again (admins): checked now, a
        file with a mistake is refused (400, the mistake named, the running rules stay); a good one
        is taken up by every process's alert scheduler at its next check."""
        user = caller("reload")
        t = now()
        try:
            new = rules_reload.request(store, settings, user["name"], t)
        except ConfigError as exc:
            raise ApiError(400, f"the config file was not reloaded: {exc}", "config") from exc
        loaded.cfg, loaded.at = new, t
        return m.ReloadOut(rules=len(new.rules), routes=len(new.routes), gateways=len(new.gateways), requested_at=t)

    # ------------------------------------------------------------------ silences
    def silence_dict(r) -> dict:
        return {"id": int(r.id), "matchers": dict(r.matchers), "starts_at": int(r.starts_at),
                "ends_at": int(r.ends_at), "created_by": r.created_by, "comment": r.comment or ""}

    @bp.get("/silences")
    @spec.validate(resp=Response(HTTP_200=m.SilenceList, **READ_ERRORS), tags=["silences"], security=READ_AUTH)
    def silences_list():
        """Silences in force and maintenance windows to come."""
        caller("read")
        return m.SilenceList(silences=[silence_dict(r) for r in store.silences(active_at=now()).itertuples()])

    @bp.post("/silences")
    @write_limit
    @spec.validate(json=m.SilenceIn, resp=Response(HTTP_201=m.Created, **WRITE_ERRORS),
                   tags=["silences"], security=AUTH)
    def silence_create(json: m.SilenceIn):
        """Silence alerts matching every matcher until ``ends_at`` (a maintenance window when
        ``starts_at`` is later)."""
        user = caller("silence")
        t = now()
        matchers = {k: v for k, v in json.matchers.model_dump().items() if v is not None}
        if not matchers:
            raise ApiError(400, "give at least one matcher; silencing everything is not allowed.", "matchers")
        starts = t if json.starts_at is None else json.starts_at
        if json.ends_at <= t:
            raise ApiError(400, "ends_at must be in the future (UTC epoch seconds).", "ends_at")
        if json.ends_at <= starts:
            raise ApiError(400, "ends_at must be after starts_at.", "ends_at")
        try:
            sid = store.add_silence(matchers, starts, json.ends_at, user["name"], t, json.comment, via="api")
        except StoreInputError as exc:
            raise ApiError(400, str(exc), "matchers") from exc
        return m.Created(id=sid), 201

    @bp.post("/silences/<int:silence_id>/expire")
    @write_limit
    @spec.validate(resp=Response(HTTP_200=m.Created, **WRITE_ERRORS), tags=["silences"], security=AUTH)
    def silence_expire(silence_id: int):
        """End a silence now; 404 when it is unknown or no longer in force."""
        user = caller("silence")
        if not (0 < silence_id < 2**62) or not store.expire_silence(silence_id, user["name"], now(), via="api"):
            raise ApiError(404, f"no silence {silence_id} in force.", "silence_id")
        return m.Created(id=silence_id)

    # ------------------------------------------------------------------ Zabbix's webhook
    @bp.post("/zabbix/events")
    @write_limit
    @spec.validate(json=m.ZabbixEventIn, resp=Response(HTTP_200=m.ZabbixEventOut, **WRITE_ERRORS), tags=["zabbix"],
                   security=AUTH)
    def zabbix_event(json: m.ZabbixEventIn):
        """A Zabbix problem or recovery as it happens (the webhook media type in contrib/zabbix):
        the alert engine's next cycle flags it with the same routing, grouping, caps and delivery
        log as every alert."""
        user = caller("send")
        inst = store.instances()
        mine = inst[(inst["zabbix_hostid"] == json.hostid) & inst["removed_at"].isna()] if json.hostid else inst[:0]
        if mine.empty and json.host:
            mine = inst[(inst["name"] == json.host) & inst["removed_at"].isna()]
        instance = str(mine["name"].iloc[0]) if not mine.empty else None
        business = str(mine["business"].iloc[0]) if not mine.empty else None
        if json.value == "1":
            store.upsert_problem({"eventid": json.eventid, "clock": json.clock, "name": json.name,
                                  "severity": json.severity, "acknowledged": json.acknowledged, "host": json.host,
                                  "instance": instance}, source="webhook")
            active = True
        else:
            store.resolve_problem(json.eventid)
            active = False
        store.audit(user["name"], "zabbix.problem" if active else "zabbix.recovery", now(), f"event#{json.eventid}",
                    json.name[:200], "api")
        return m.ZabbixEventOut(eventid=json.eventid, active=active, instance=instance, business=business)

    # ------------------------------------------------------------------ tokens (admin)
    @bp.post("/tokens")
    @write_limit
    @spec.validate(json=m.TokenIn, resp=Response(HTTP_201=m.TokenOut, **WRITE_ERRORS), tags=["accounts"],
                   security=AUTH)
    def token_create(json: m.TokenIn):
        """Issue an API token for a user (admin): the answer holds it once."""
        user = caller("tokens")
        t = now()
        expires = None if json.days is None else t + json.days * 86400
        if store.user(json.user) is None:
            raise ApiError(404, f"no user {json.user!r}; add one with `python app.py users add`.", "user")
        try:
            token = issue_token(store, json.user, t, name=json.label, expires_at=expires, by=user["name"], via="api")
        except ConfigError as exc:
            raise ApiError(400, str(exc), "user") from exc
        tid = int(store.tokens(store.user(json.user)["id"])["id"].max())
        return m.TokenOut(id=tid, user=json.user, token=token, expires_at=expires), 201

    @bp.post("/tokens/<int:token_id>/revoke")
    @write_limit
    @spec.validate(resp=Response(HTTP_200=m.Created, **WRITE_ERRORS), tags=["accounts"], security=AUTH)
    def token_revoke(token_id: int):
        """Revoke an API token (admin); 404 when unknown or already revoked."""
        user = caller("tokens")
        if not (0 < token_id < 2**62) or not store.revoke_token(token_id, now(), by=user["name"], via="api"):
            raise ApiError(404, f"no live token {token_id}.", "token_id")
        return m.Created(id=token_id)

    @bp.get("/whoami")
    @spec.validate(resp=Response(HTTP_200=m.Whoami, HTTP_401=m.Error), tags=["accounts"], security=READ_AUTH)
    def whoami():
        """Whose token this is and their role (viewer without one)."""
        user = token_user(store, bearer(), now()) if bearer() else None
        if bearer() and user is None:
            raise ApiError(401, "this API token is unknown, revoked or expired, or its user is disabled.")
        return m.Whoami(name=user["name"] if user else None, role=user["role"] if user else "viewer")

    # ------------------------------------------------------------------ document
    @bp.get("/openapi.json")
    def openapi():
        doc = dict(spec.spec)
        doc["paths"] = {p: v for p, v in doc["paths"].items() if p.startswith(PREFIX)}
        return flask.jsonify(doc)

    @bp.get("/docs")
    def docs():
        return flask.Response(docs_page(spec.spec), mimetype="text/html")

    @bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def unknown(rest: str):
        return error(404, f"no API endpoint {PREFIX}/{rest[:100]}; see {PREFIX}/docs.")

    server.register_blueprint(bp)

    @server.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if flask.request.path.startswith(PREFIX):
            text = {413: f"the request body is over {MAX_BODY // 1024} KiB.",
                    429: f"too many writes ({settings.api_write_limit}); wait and retry.",
                    405: "this endpoint does not take that method; see the document."}.get(exc.code, exc.description)
            return error(exc.code or 500, text)
        return exc
    return spec


def docs_page(doc: dict) -> str:
    """A plain docs page from the generated document (no script from another site)."""
    rows = []
    for path, ops in sorted(doc.get("paths", {}).items()):
        if not path.startswith(PREFIX):
            continue
        for method, op in ops.items():
            text = escape(op.get("description") or op.get("summary") or "")
            codes = ", ".join(sorted(op.get("responses", {})))
            rows.append(f"<tr><td><code>{method.upper()}</code></td><td><code>{escape(path)}</code></td>"
                        f"<td>{text}</td><td>{codes}</td></tr>")
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>Peakwatch API</title>"
            "<link rel='stylesheet' href='/assets/peakwatch.css'></head><body class='page'>"
            f"<h1>Peakwatch ops API v1</h1><p>OpenAPI document: <a href='{PREFIX}/openapi.json'>{PREFIX}/openapi.json"
            "</a>. Writes need <code>Authorization: Bearer &lt;token&gt;</code> "
            "(<code>python app.py users token NAME</code>).</p>"
            "<table class='grid'><thead><tr><th>method</th><th>path</th><th>what</th><th>answers</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></body></html>")
