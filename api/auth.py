"""Who is calling: HTTP Basic or bearer token, resolved once per request into an Actor."""

from __future__ import annotations

import base64
import binascii

from flask import current_app, g, request

from api.session import db_session
from app.errors import AuthenticationError
from app.identity.actor import Actor
from app.identity.credentials import authenticate_basic, authenticate_bearer


def credentials_actor() -> Actor | None:
    """The caller from the Authorization header, None when there is none."""
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    value = value.strip()
    session = db_session()
    settings = current_app.extensions["corpflow"].settings
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise AuthenticationError("malformed Basic credentials") from None
        user, sep, password = decoded.partition(":")
        if not sep:
            raise AuthenticationError("malformed Basic credentials")
        return authenticate_basic(session, user, password, settings.auth_cache_seconds)
    if scheme.lower() == "bearer" and value:
        return authenticate_bearer(session, value, settings.auth_cache_seconds)
    raise AuthenticationError("unsupported Authorization scheme; use Basic or Bearer")


def current_actor() -> Actor:
    actor: Actor | None = getattr(g, "actor", None)
    if actor is None:
        actor = credentials_actor()
        if actor is None:
            raise AuthenticationError(
                "authentication required: send HTTP Basic credentials or a bearer token"
            )
        g.actor = actor
    return actor
