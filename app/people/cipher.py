"""Personal data at rest: AES-256-GCM encryption and HMAC-SHA256 lookup hashes."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.config import ConfigError, Settings

log = logging.getLogger(__name__)

# Published development keys: only for the embedded mode and tests (CORPFLOW_ENVIRONMENT=
# development). Anything encrypted with them is readable by anyone who reads this file.
DEVELOPMENT_DATA_KEY = base64.b64encode(hashlib.sha256(b"corpflow development data key").digest())
DEVELOPMENT_LOOKUP_KEY = base64.b64encode(
    hashlib.sha256(b"corpflow development lookup key").digest()
)
# Stored ciphertexts start with the format version, so keys and formats can be rotated later.
_PREFIX = "v1:"
_NONCE_BYTES = 12


class Cipher:
    """Seals and opens personal data; `lookup` gives the keyed hash exact searches use."""

    def __init__(self, data_key: bytes, lookup_key: bytes) -> None:
        self._aead = AESGCM(data_key)
        self._lookup_key = lookup_key

    def seal(self, plain: str, context: str) -> str:
        """Encrypt `plain`; `context` (row and field) is bound in, so values cannot be swapped."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plain.encode(), context.encode())
        return _PREFIX + base64.b64encode(nonce + sealed).decode()

    def open(self, stored: str, context: str) -> str:
        if not stored.startswith(_PREFIX):
            raise ValueError("unknown personal-data ciphertext format")
        raw = base64.b64decode(stored[len(_PREFIX) :])
        try:
            plain = self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], context.encode())
        except InvalidTag:
            raise ValueError("personal data cannot be decrypted with the configured key") from None
        return plain.decode()

    def lookup(self, kind: str, normalized: str) -> str:
        """The keyed hash of a normalized value: equal values match, nothing else is revealed."""
        message = f"{kind}:{normalized}".encode()
        return hmac.new(self._lookup_key, message, hashlib.sha256).hexdigest()


def _key(name: str, value: str | None, development: bytes, settings: Settings) -> bytes:
    if value is None:
        if settings.environment == "production":
            raise ConfigError(
                f"CORPFLOW_{name} is not set: personal data cannot be protected. Set it to the "
                'base64 of 32 random bytes (python -c "import base64, os; '
                'print(base64.b64encode(os.urandom(32)).decode())"), or set '
                "CORPFLOW_ENVIRONMENT=development to use the published development key."
            )
        value = development.decode()
    try:
        key = base64.b64decode(value, validate=True)
    except binascii.Error:
        raise ConfigError(f"CORPFLOW_{name} is not valid base64") from None
    if len(key) != 32:
        raise ConfigError(f"CORPFLOW_{name} must be the base64 of 32 bytes, got {len(key)} bytes")
    return key


def from_settings(settings: Settings) -> Cipher:
    """The cipher for these settings; raises ConfigError naming the missing or bad key."""
    if settings.environment not in ("production", "development"):
        raise ConfigError("CORPFLOW_ENVIRONMENT must be production or development")
    data_key = _key("DATA_KEY", settings.data_key, DEVELOPMENT_DATA_KEY, settings)
    lookup_key = _key("LOOKUP_KEY", settings.lookup_key, DEVELOPMENT_LOOKUP_KEY, settings)
    if hmac.compare_digest(data_key, lookup_key):
        raise ConfigError("CORPFLOW_DATA_KEY and CORPFLOW_LOOKUP_KEY must be different keys")
    if settings.data_key is None or settings.lookup_key is None:
        log.warning("personal data uses the published development keys: not for real data")
    return Cipher(data_key, lookup_key)


_current: Cipher | None = None


def install(cipher: Cipher) -> None:
    global _current
    _current = cipher


def current() -> Cipher:
    """The process's cipher, installed at start-up (app.bootstrap)."""
    if _current is None:
        raise RuntimeError("the personal-data cipher is not configured; call create_app() first")
    return _current
