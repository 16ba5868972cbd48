"""The hand-placed fleet of the dashboard tests lives in the product's synthetic package
(``collectors.synthetic.scenarios``) so the dashboard benchmark need not import from tests/."""
from collectors.synthetic.scenarios import *  # noqa: F401,F403
