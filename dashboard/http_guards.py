"""What every HTTP request and answer of the web app goes through: the Host header is checked
(DNS rebinding: a page on another site resolving its own name to 127.0.0.1 must not read the
dashboard), request bodies are capped, answers carry a content security policy and refuse
framing, and a malformed callback request is a 400, not a 500."""
from __future__ import annotations

import logging

import flask
from werkzeug.exceptions import HTTPException

log = logging.getLogger("peakwatch.dashboard.http")

#: the largest callback request the pages send is a few kilobytes
MAX_BODY = 256 * 1024
CALLBACK_PATH = "/_dash-update-component"


def allowed_hosts(settings) -> set[str] | None:
    """Host names (without port) the app answers to; None means any (``allowed_hosts = *``)."""
    raw = [h.strip().lower() for h in str(settings.allowed_hosts).split(",") if h.strip()]
    if "*" in raw:
        return None
    hosts = set(raw) | {"127.0.0.1", "localhost", "::1"}
    if settings.host not in ("0.0.0.0", "::", ""):
        hosts.add(settings.host.lower().strip("[]"))
    return hosts


def host_name(header: str) -> str:
    """``example.com:8050`` -> ``example.com``; ``[::1]:8050`` -> ``::1``."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def content_security_policy(script_hashes: list[str]) -> str:
    scripts = " ".join(["'self'", *script_hashes])      # Dash gives them quoted
    return ("default-src 'self'; "
            f"script-src {scripts} 'unsafe-eval'; "      # plotly.js compiles some number formats
            "style-src 'self' 'unsafe-inline'; "          # React and plotly set inline styles
            "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
            "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def install(app, settings) -> None:
    """Attach the checks to a Dash app's Flask server."""
    server = app.server
    server.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    hosts = allowed_hosts(settings)
    # Dash adds inline scripts (the pages' clientside callback) while serving its first request:
    # the policy hashes them from then on, computed once
    csp: list[str] = []

    def policy() -> str:
        if not csp:
            csp.append(content_security_policy(app.csp_hashes()))
        return csp[0]

    @server.before_request
    def _check_host():
        if hosts is None:
            return None
        name = host_name(flask.request.host or "")
        if name not in hosts:
            log.warning("refused a request for host %r (allowed_hosts)", name[:100])
            return flask.Response(f"Host {name[:100]!r} is not served here; add it to the allowed_hosts setting.\n",
                                  status=400, mimetype="text/plain")
        return None

    @server.after_request
    def _headers(response):
        response.headers.setdefault("Content-Security-Policy", policy())
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    @server.errorhandler(Exception)
    def _error(exc):
        if isinstance(exc, HTTPException):
            return exc
        if flask.request.path == CALLBACK_PATH:
            # our callbacks catch their own failures (dashboard.inputs): what reaches here is a
            # request Dash could not take apart (missing keys, wrong shapes)
            log.info("malformed callback request: %s: %s", type(exc).__name__, str(exc)[:200])
            return flask.Response("malformed callback request\n", status=400, mimetype="text/plain")
        log.exception("request %s failed", flask.request.path)
        if flask.request.path.startswith("/api/"):
            return flask.jsonify({"error": "internal error; see the server log", "field": None}), 500
        return flask.Response("internal error; see the server log\n", status=500, mimetype="text/plain")
