"""Logging in to the web app (Flask test client on an empty store): the right password logs in
for ``session_minutes``, a wrong one or a form without its CSRF token changes nothing, a disabled
user is out at the next request, and ``read_pages_open = false`` closes every page to strangers."""
from __future__ import annotations

import re
import time

import pytest

from accounts.users import add_user
from core.settings import load_settings
from dashboard.app import create_app
from store import Store

PASSWORD = "correct horse battery"


@pytest.fixture
def store(tmp_path):
    with Store.open(f"sqlite:///{tmp_path / 'store.sqlite'}") as s:
        add_user(s, "li.wei", PASSWORD, "operator", int(time.time()))
        yield s


def client_for(store, **settings):
    env = {"PEAKWATCH_STORE_URL": store.url, "PEAKWATCH_CACHE_TYPE": "simple", "PEAKWATCH_WALL_WARM_SECONDS": "0"}
    app = create_app(store, load_settings(cli=settings, env=env))
    return app.server.test_client()


def form_token(client, path="/login") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def log_in(client, name="li.wei", password=PASSWORD, token=None):
    token = form_token(client) if token is None else token
    return client.post("/login", data={"name": name, "password": password, "csrf_token": token, "next": "/fleet"})


def logged_in_as(client) -> str | None:
    """The user id the session holds after one more request (which ends an expired session)."""
    client.get("/login").close()
    with client.session_transaction() as s:
        return s.get("_user_id")


def test_the_right_password_logs_in_and_goes_where_the_user_was_going(store):
    client = client_for(store)
    answer = log_in(client)
    assert answer.status_code == 302 and answer.headers["Location"] == "/fleet"
    assert logged_in_as(client) == "1"
    assert store.user("li.wei")["last_login_at"] is not None
    assert list(store.audit_log()["action"])[0] == "login"


def test_a_wrong_password_is_refused_with_a_message_and_no_session(store):
    client = client_for(store)
    answer = log_in(client, password="wrong password!")
    assert answer.status_code == 401
    assert "Wrong user name or password" in answer.get_data(as_text=True)
    assert logged_in_as(client) is None


def test_a_login_form_without_its_csrf_token_is_refused_and_logs_nobody_in(store):
    client = client_for(store)
    answer = client.post("/login", data={"name": "li.wei", "password": PASSWORD})
    assert answer.status_code == 400 and "expired" in answer.get_data(as_text=True)
    assert log_in(client, token="forged").status_code == 400
    assert logged_in_as(client) is None
    assert "login" not in list(store.audit_log()["action"])


def test_a_session_ends_session_minutes_after_login(store):
    client = client_for(store, session_minutes=5)
    log_in(client)
    with client.session_transaction() as s:
        s["login_at"] = time.time() - 5 * 60 - 1
    assert logged_in_as(client) is None


def test_a_disabled_user_is_out_at_the_next_request(store):
    client = client_for(store)
    log_in(client)
    store.set_user_disabled("li.wei", True, int(time.time()), by="admin")
    assert logged_in_as(client) is None


def test_log_out_needs_a_form_post_with_its_token(store):
    client = client_for(store)
    log_in(client)
    client.get("/logout").close()          # a link (or an image on another site) logs nobody out
    assert logged_in_as(client) == "1"
    assert client.post("/logout").status_code == 400 and logged_in_as(client) == "1"
    assert client.post("/logout", data={"csrf_token": form_token(client)}).status_code == 302
    assert logged_in_as(client) is None


def test_closed_read_pages_send_strangers_to_the_login_page(store):
    client = client_for(store, read_pages_open=False)
    answer = client.get("/fleet?days=7")
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/login?next=/fleet")
    assert client.post("/_dash-update-component", json={}).status_code == 401
    assert client.get("/login").status_code == 200
    with client.get("/assets/peakwatch.css") as css:
        assert css.status_code == 200
    log_in(client)
    assert client.get("/fleet").status_code == 200


def test_open_read_pages_need_no_login(store):
    client = client_for(store)
    assert client.get("/fleet").status_code == 200


@pytest.mark.parametrize("target", ["//evil.example/x", "/\\evil.example/x", "https://evil.example/", "javascript:x"])
def test_login_never_redirects_to_another_site(store, target):
    client = client_for(store)
    token = form_token(client)
    answer = client.post("/login", data={"name": "li.wei", "password": PASSWORD, "csrf_token": token,
                                          "next": target})
    assert answer.headers["Location"] == "/"
