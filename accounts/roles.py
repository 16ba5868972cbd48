"""Who may do what: roles from the store's vocabulary (store.account_types)."""
from __future__ import annotations

from store.account_types import ROLE_ACTIONS, ROLES

ACTIONS = frozenset().union(*ROLE_ACTIONS.values())


def can(role: str | None, action: str) -> bool:
    """``role`` (None: not logged in, a viewer) may do ``action``."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; one of {', '.join(sorted(ACTIONS))}")
    return action in ROLE_ACTIONS.get(role or "viewer", ROLE_ACTIONS["viewer"])


__all__ = ["ROLES", "ACTIONS", "can"]
