"""Password hashing (argon2), bearer tokens, and authentication of either."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import utcnow
from app.errors import AuthenticationError
from app.identity.actor import Actor
from app.identity.models import ApiToken, User

_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def _check_password(password_hash: str, password: str) -> bool:
    try:
        return bool(_HASHER.verify(password_hash, password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


class _ActorCache:
    """Recently verified credentials, kept in memory for a short time, keyed by a keyed hash.

    Argon2 costs tens of milliseconds by design and Basic clients send the password on every
    request; bearer tokens cost three queries to check. A change of password, group or token
    therefore takes effect within the cache lifetime (CORPFLOW_AUTH_CACHE_SECONDS); so does a
    change of org placement, which the actor carries as its customer scope.
    """

    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)
        self._items: dict[str, tuple[float, Actor]] = {}
        self._lock = threading.Lock()

    def _digest(self, *parts: str) -> str:
        return hmac.new(self._key, "\0".join(parts).encode(), "sha256").hexdigest()

    def get(self, *parts: str) -> Actor | None:
        with self._lock:
            hit = self._items.get(self._digest(*parts))
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1]

    def put(self, actor: Actor, ttl: float, *parts: str) -> None:
        with self._lock:
            if len(self._items) > 10_000:
                self._items.clear()
            self._items[self._digest(*parts)] = (time.monotonic() + ttl, actor)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


AUTH_CACHE = _ActorCache()


def _actor(session: Session, user: User) -> Actor:
    from app.org.units import scope_of

    return Actor(user.id, frozenset(user.group_ids), scope_of(session, user.id))


def authenticate_basic(
    session: Session, user_id: str, password: str, cache_seconds: float = 60
) -> Actor:
    if cache_seconds > 0:
        cached = AUTH_CACHE.get("basic", user_id, password)
        if cached is not None:
            return cached
    user = session.get(User, user_id)
    if user is None or not user.active or not _check_password(user.password_hash, password):
        raise AuthenticationError("invalid user name or password")
    actor = _actor(session, user)
    if cache_seconds > 0:
        AUTH_CACHE.put(actor, cache_seconds, "basic", user_id, password)
    return actor


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, actor: Actor, ttl_hours: int) -> tuple[str, ApiToken]:
    token = secrets.token_urlsafe(32)
    row = ApiToken(
        token_hash=_token_hash(token),
        user_id=actor.user_id,
        expires_at=utcnow() + timedelta(hours=ttl_hours),
    )
    session.add(row)
    session.flush()
    return token, row


def authenticate_bearer(session: Session, token: str, cache_seconds: float = 60) -> Actor:
    if cache_seconds > 0:
        cached = AUTH_CACHE.get("bearer", token)
        if cached is not None:
            return cached
    row = session.scalars(
        select(ApiToken).where(ApiToken.token_hash == _token_hash(token))
    ).one_or_none()
    if row is None or row.expires_at <= utcnow():
        raise AuthenticationError("invalid or expired token")
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        raise AuthenticationError("invalid or expired token")
    actor = _actor(session, user)
    if cache_seconds > 0:
        ttl = min(cache_seconds, (row.expires_at - utcnow()).total_seconds())
        AUTH_CACHE.put(actor, ttl, "bearer", token)
    return actor
