"""Settings, read once from CORPFLOW_* environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    database_url: str = f"sqlite:///{ROOT / 'var' / 'corpflow.db'}"
    redis_url: str | None = None
    # "rq" with Redis, "thread" (in-process dispatcher) without, "eager" runs jobs right after
    # commit in the committing thread (tests, scripts).
    job_mode: str = "thread"
    deploy_on_startup: bool = True
    model_dirs: tuple[Path, ...] = field(default_factory=lambda: (ROOT / "bpmn", ROOT / "dmn"))
    max_model_bytes: int = 5 * 1024 * 1024
    max_request_bytes: int = 16 * 1024 * 1024
    token_ttl_hours: int = 12
    auth_cache_seconds: int = 60
    # How often the dispatcher looks for due timers, and after how long a timer whose job was
    # sent but which is still pending is sent again (its job was lost with a worker or Redis).
    dispatch_interval_seconds: float = 0.25
    timer_resend_seconds: float = 30.0
    log_level: str = "INFO"
    sql_echo: bool = False
    # The bank's local time zone: working days and "end of day" are counted in it.
    timezone: str = "Asia/Shanghai"
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str = "corpflow@localhost"
    smtp_timeout_seconds: float = 10.0
    # HMAC-SHA256 key for signing webhook bodies (X-Corpflow-Signature: sha256=<hex>).
    webhook_secret: str | None = None
    webhook_timeout_seconds: float = 10.0
    # "production" refuses to start without the personal-data keys; "development" falls back
    # to the published development keys (app/people/cipher.py), fit only for test data.
    # From the environment: "development" on SQLite (embedded), "production" otherwise.
    environment: str = "development"
    # AES-256-GCM key for personal data at rest (ID and phone numbers): base64 of 32 bytes.
    data_key: str | None = None
    # HMAC-SHA256 key for the exact-match lookup hashes of personal data: base64, >= 32 bytes.
    lookup_key: str | None = None

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)

        def get(name: str) -> str | None:
            return env.get(f"CORPFLOW_{name}") or None

        redis_url = get("REDIS_URL")
        database_url = get("DATABASE_URL") or cls.database_url
        embedded = database_url.startswith("sqlite")
        return cls(
            database_url=database_url,
            redis_url=redis_url,
            job_mode=get("JOB_MODE") or ("rq" if redis_url else "thread"),
            deploy_on_startup=_bool(get("DEPLOY_ON_STARTUP"), True),
            max_model_bytes=int(get("MAX_MODEL_BYTES") or cls.max_model_bytes),
            token_ttl_hours=int(get("TOKEN_TTL_HOURS") or cls.token_ttl_hours),
            auth_cache_seconds=int(get("AUTH_CACHE_SECONDS") or cls.auth_cache_seconds),
            dispatch_interval_seconds=float(
                get("DISPATCH_INTERVAL_SECONDS") or cls.dispatch_interval_seconds
            ),
            timer_resend_seconds=float(get("TIMER_RESEND_SECONDS") or cls.timer_resend_seconds),
            log_level=get("LOG_LEVEL") or cls.log_level,
            sql_echo=_bool(get("SQL_ECHO"), False),
            timezone=get("TIMEZONE") or cls.timezone,
            smtp_host=get("SMTP_HOST"),
            smtp_port=int(get("SMTP_PORT") or cls.smtp_port),
            smtp_from=get("SMTP_FROM") or cls.smtp_from,
            webhook_secret=get("WEBHOOK_SECRET"),
            environment=get("ENVIRONMENT") or ("development" if embedded else "production"),
            data_key=get("DATA_KEY"),
            lookup_key=get("LOOKUP_KEY"),
        )


class ConfigError(ValueError):
    """A setting is missing or malformed: the process refuses to start and says which."""
