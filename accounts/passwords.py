"""Password hashing with argon2id (argon2-cffi's PasswordHasher with its RFC 9106 low-memory
defaults): no hand-written crypto. A password never reaches the store, a log or a page."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from core.errors import ConfigError

MIN_LENGTH = 10
_HASHER = PasswordHasher()
#: verified against when the user is unknown, so an unknown name costs as long as a wrong password
_DUMMY = _HASHER.hash("peakwatch-no-such-user")


def check_password(password: str) -> str:
    """A password long enough to keep; ConfigError naming the rule otherwise."""
    if not isinstance(password, str) or len(password) < MIN_LENGTH:
        raise ConfigError(f"a password needs at least {MIN_LENGTH} characters; choose a longer one "
                          f"(a few words work well).")
    if len(password) > 1024:
        raise ConfigError("a password of more than 1024 characters is refused.")
    return password


def hash_password(password: str) -> str:
    return _HASHER.hash(check_password(password))


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; an unknown user (``None``) takes as long and is False."""
    try:
        return _HASHER.verify(password_hash or _DUMMY, password or "") and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _HASHER.check_needs_rehash(password_hash)
