"""API tokens: 256 random bits, shown once; the store keeps their SHA-256 (a token is random, so a
fast hash is enough and a request's check costs one indexed look-up)."""
from __future__ import annotations

import hashlib
import secrets

PREFIX = "pw_"


def new_token() -> tuple[str, str, str]:
    """(token to show once, its hash to store, its first characters to list)."""
    token = PREFIX + secrets.token_urlsafe(32)
    return token, hash_token(token), token[:10]


def hash_token(token: str) -> str:
    return hashlib.sha256(str(token).encode("utf-8")).hexdigest()
