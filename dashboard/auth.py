"""Logins on the web app's Flask server: Flask-Login sessions for users kept in the store
(accounts.users checks passwords), CSRF tokens on every form post (Flask-WTF), sessions that end
``session_minutes`` after login, and the ``read_pages_open`` gate.

Who may act is decided here (``may(action)``) from the logged-in user's role; a viewer (nobody
logged in) only reads. Dash's own callback requests carry no form and change nothing: they are
JSON posts that a cross-site form cannot make (and the session cookie is SameSite=Lax).
"""
from __future__ import annotations

import logging
import secrets
import time
from datetime import timedelta
from urllib.parse import urlsplit

import flask
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf
from markupsafe import escape

from accounts import roles
from accounts.users import authenticate
from dashboard import labels as lb

log = logging.getLogger("peakwatch.dashboard.auth")
BLUEPRINT = "peakwatch_auth"
#: paths any visitor may reach when read pages are closed
OPEN_PATHS = ("/login", "/logout", "/assets/", "/_favicon.ico", "/api/")
#: Dash's callback endpoint and the API (bearer tokens, no cookies) take no CSRF form token
NO_FORM_PATHS = ("/_dash-update-component", "/api/")


class User(UserMixin):
    def __init__(self, uid: int, name: str, role: str):
        self.id, self.name, self.role = uid, name, role

    def get_id(self) -> str:
        return str(self.id)


def current_role() -> str:
    """The role of whoever makes this request: ``viewer`` when nobody is logged in."""
    return current_user.role if current_user.is_authenticated else "viewer"


def current_name() -> str | None:
    return current_user.name if current_user.is_authenticated else None


def may(action: str) -> bool:
    return roles.can(current_role(), action)


def csrf_token() -> str:
    """The form token to put in a hidden ``csrf_token`` field of a form on a page."""
    return generate_csrf()


def install(server: flask.Flask, store, settings, clock=time.time) -> None:
    """Sessions, CSRF and the login routes on ``server``."""
    server.secret_key = settings.secret_key or store.web_secret(secrets.token_urlsafe(48))
    lifetime = timedelta(minutes=int(settings.session_minutes))
    server.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                         PERMANENT_SESSION_LIFETIME=lifetime, SESSION_REFRESH_EACH_REQUEST=False,
                         WTF_CSRF_CHECK_DEFAULT=False, WTF_CSRF_TIME_LIMIT=int(lifetime.total_seconds()),
                         REMEMBER_COOKIE_DURATION=timedelta(0))
    csrf = CSRFProtect(server)
    manager = LoginManager(server)

    @manager.user_loader
    def _load(uid: str):
        # a session older than session_minutes, or of a user disabled since, logs nobody in
        if time.time() - float(flask.session.get("login_at", 0)) > lifetime.total_seconds():
            flask.session.pop("_user_id", None)
            flask.g.session_expired = True
            return None
        user = store.user(user_id=int(uid)) if uid.isdigit() else None
        if user is None or user["disabled_at"] is not None:
            flask.session.pop("_user_id", None)
            return None
        return User(user["id"], user["name"], user["role"])

    @server.before_request
    def _gate():
        path = flask.request.path
        if flask.request.method == "POST" and not path.startswith(NO_FORM_PATHS):
            csrf.protect()
        # read first: a session that expired or whose user was disabled ends here, on any request
        if current_user.is_authenticated or settings.read_pages_open or path.startswith(OPEN_PATHS):
            return None
        if path.startswith("/_dash"):
            return flask.Response("log in first\n", status=401, mimetype="text/plain")
        return flask.redirect(flask.url_for(f"{BLUEPRINT}.login", next=flask.request.full_path.rstrip("?")))

    @server.errorhandler(CSRFError)
    def _csrf_failed(exc):
        log.info("refused a form post without a valid CSRF token: %s %s", flask.request.path, exc.description)
        return login_page(settings.language, lb.t("form_expired", settings.language), status=400)

    bp = flask.Blueprint(BLUEPRINT, __name__)

    @bp.route("/login", methods=["GET", "POST"])
    def login():
        lang = settings.language
        target = safe_next(flask.request.values.get("next", "/"))
        if flask.request.method == "GET":
            note = "session_expired" if flask.request.args.get("expired") else (
                "login_needed" if not settings.read_pages_open and target != "/" else "")
            return login_page(lang, lb.t(note, lang) if note else "", target=target)
        user = authenticate(store, flask.request.form.get("name", ""), flask.request.form.get("password", ""))
        if user is None:
            log.info("failed login for %r", str(flask.request.form.get("name", ""))[:100])
            return login_page(lang, lb.t("login_failed", lang), target=target, status=401,
                              name=str(flask.request.form.get("name", "")))
        flask.session.clear()          # a fresh session (no fixation)
        flask.session.permanent = True
        flask.session["login_at"] = time.time()
        login_user(User(user["id"], user["name"], user["role"]))
        store.record_login(user["id"], int(clock()), via="web")
        return flask.redirect(target)

    @bp.route("/logout", methods=["POST"])
    def logout():
        logout_user()
        flask.session.clear()
        return flask.redirect("/")

    server.register_blueprint(bp)


def safe_next(target: str | None) -> str:
    """Only a path on this site (``/alerts``), never another host (an open redirect)."""
    parts = urlsplit(str(target or "/"))
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path[1:2] in ("/", "\\"):
        return "/"
    return parts.path + (f"?{parts.query}" if parts.query else "")


def login_page(lang: str, note: str = "", target: str = "/", status: int = 200, name: str = "") -> flask.Response:
    """A plain HTML form (works without JavaScript; the password never goes through a callback)."""
    t = lambda key: escape(lb.t(key, lang))  # noqa: E731
    note_html = f'<p class="login-note" id="login-note">{escape(note)}</p>' if note else ""
    html = f"""<!DOCTYPE html>
<html lang="{'zh' if lang == 'zh' else 'en'}"><head><meta charset="utf-8"><title>Peakwatch · {t('login')}</title>
<link rel="stylesheet" href="/assets/peakwatch.css"></head>
<body class="login-body"><form method="post" action="/login" class="login-form" id="login-form">
<h2>{t('login_title')}</h2>{note_html}
<input type="hidden" name="csrf_token" value="{escape(generate_csrf())}">
<input type="hidden" name="next" value="{escape(target)}">
<label>{t('user_name')}<input name="name" id="login-name" autocomplete="username" required maxlength="100"
 value="{escape(name[:100])}"></label>
<label>{t('password')}<input name="password" id="login-password" type="password" autocomplete="current-password"
 required maxlength="1024"></label>
<button type="submit" id="login-submit">{t('login')}</button>
<a href="/" class="back-link">{t('back_to_wall')}</a></form></body></html>"""
    return flask.Response(html, status=status, mimetype="text/html")
