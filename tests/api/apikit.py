"""What the API tests share: the test fleet's stored alerts in SQLite, an operator, a viewer and an
admin with tokens, and the web app (pages and /api/v1) as app.py builds it, without the alert
engine's thread."""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dashboard"))
import fleetdata  # noqa: E402

from accounts.users import add_user, issue_token  # noqa: E402
from core.settings import load_settings  # noqa: E402
from store import Store  # noqa: E402

PASSWORD = "correct horse battery"


@dataclass
class Api:
    store: Store
    app: object
    operator: str      # tokens
    viewer: str
    admin: str

    def client(self):
        return self.app.server.test_client()

    def auth(self, token: str) -> dict:
        return {"Authorization": f"Bearer {token}"}


def build(tmp_path, **settings) -> Api:
    import app as appmod
    store = Store.open(f"sqlite:///{tmp_path / 'api.sqlite'}")
    now = int(time.time())
    fleetdata.write_fleet(store, fleetdata.build_inventory(60), now, raw_hours=0.5)
    fleetdata.evaluate(store, now)
    tokens = {}
    for name, role in (("li.wei", "operator"), ("zhang.min", "viewer"), ("wang.fang", "admin")):
        add_user(store, name, PASSWORD, role, now)
        tokens[role] = issue_token(store, name, now)
    env = {"PEAKWATCH_STORE_URL": store.url, "PEAKWATCH_CACHE_TYPE": "simple", "PEAKWATCH_WALL_WARM_SECONDS": "0"}
    web = appmod.make_web_app(store, load_settings(cli=settings, env=env), alerting=False)
    return Api(store, web, tokens["operator"], tokens["viewer"], tokens["admin"])


