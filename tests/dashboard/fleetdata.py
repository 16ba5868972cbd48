"""The hand-placed fleet of the dashboard tests lives in the product's synthetic package
(``collectors.synthetic.scenarios``) so the dashboard benchmark need not import from tests/."""
from collectors.synthetic.scenarios import *  # noqa: F401,F403


def evaluate(store, now: int, **settings):
    """One alert-engine cycle at ``now`` (cycles of one second, so each distinct ``now`` is a new
    one): the wall and the business page show what the engine stored, as in the running app."""
    from alerting import config as acfg
    from alerting.engine import Engine
    from core.settings import load_settings
    env = {"PEAKWATCH_STORE_URL": store.url}
    return Engine(store, load_settings(cli=settings, env=env), acfg.parse({"interval": 1}),
                  holder="tests").run_once(now)
