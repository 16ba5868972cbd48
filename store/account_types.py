"""Accounts' vocabulary in the store: roles, in rising order of what they may do (the packages
above the store use these, and the Store methods of store/accounts.py)."""
from __future__ import annotations

#: viewer: reads (no login needed while read pages are open); operator: acknowledge, silence,
#: send; admin: also API tokens and a reload of the alerting rules (``reload``)
ROLES = ("viewer", "operator", "admin")
#: what each role may do beyond reading
ROLE_ACTIONS = {
    "viewer": frozenset({"read"}),
    "operator": frozenset({"read", "acknowledge", "silence", "send"}),
    "admin": frozenset({"read", "acknowledge", "silence", "send", "tokens", "reload", "users"}),
}
USER_NAME_MAX = 100
