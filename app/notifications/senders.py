"""Deliver one notification: e-mail over SMTP, or a JSON webhook signed with HMAC-SHA256."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import smtplib
import urllib.error
import urllib.request
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlsplit

from app.config import Settings
from app.notifications.models import Notification

SIGNATURE_HEADER = "X-Corpflow-Signature"
IDEMPOTENCY_HEADER = "X-Corpflow-Idempotency-Key"


class DeliveryError(Exception):
    """A message could not be delivered; `reason` is short and never contains the body."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason[:500]


def send(settings: Settings, notification: Notification) -> None:
    """Deliver over the notification's channel."""
    if notification.channel == "email":
        send_email(settings, notification)
    elif notification.channel == "webhook":
        send_webhook(settings, notification)
    else:
        raise DeliveryError(f"unknown channel '{notification.channel}'")


def message_id(idempotency_key: str, sender: str) -> str:
    """The same key always gives the same Message-ID, so a re-send is recognisably a duplicate."""
    domain = sender.rpartition("@")[2] or "corpflow"
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:40]
    return f"<{digest}@{domain}>"


def send_email(settings: Settings, notification: Notification) -> None:
    """Send through the configured SMTP server; UTF-8 subject and text."""
    if not settings.smtp_host:
        raise DeliveryError("SMTP is not configured (CORPFLOW_SMTP_HOST)")
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = notification.recipient
    message["Subject"] = notification.subject
    message["Message-ID"] = message_id(notification.idempotency_key, settings.smtp_from)
    message["Date"] = format_datetime(notification.created_at)
    message.set_content(str(notification.body.get("text", "")), charset="utf-8")
    where = f"{settings.smtp_host}:{settings.smtp_port}"
    try:
        with smtplib.SMTP(
            settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds
        ) as smtp:
            smtp.send_message(message, settings.smtp_from, [notification.recipient])
    except smtplib.SMTPResponseException as exc:
        raise DeliveryError(f"SMTP {where} answered {exc.smtp_code}") from exc
    except smtplib.SMTPRecipientsRefused as exc:
        codes = sorted({code for code, _ in exc.recipients.values()})
        raise DeliveryError(f"SMTP {where} refused the recipient ({codes})") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"SMTP {where}: {type(exc).__name__}: {exc}") from exc


def webhook_payload(notification: Notification) -> bytes:
    """The exact bytes that are posted and signed."""
    envelope: dict[str, Any] = {
        "id": notification.id,
        "idempotency_key": notification.idempotency_key,
        "subject": notification.subject,
        "instance_id": notification.instance_id,
        "task_id": notification.task_id,
        "data": notification.body,
    }
    text = json.dumps(envelope, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return text.encode("utf-8")


def signature(secret: str, payload: bytes) -> str:
    """The X-Corpflow-Signature header value for `payload`."""
    digest = hmac.new(secret.encode("utf-8"), payload, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirected POST would be replayed as a GET (or, worse, to another host): a 3xx is a
    # failure the receiving system must fix, not something to follow.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def send_webhook(settings: Settings, notification: Notification) -> None:
    """POST the signed JSON envelope; anything but a 2xx answer is a failure."""
    if not settings.webhook_secret:
        raise DeliveryError("webhooks are not configured (CORPFLOW_WEBHOOK_SECRET)")
    url = notification.recipient
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DeliveryError("the recipient is not an http(s) URL")
    where = parts.netloc
    payload = webhook_payload(notification)
    request = urllib.request.Request(  # noqa: S310  (the scheme is checked above)
        url,
        data=payload,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "corpflow-webhook/1",
            SIGNATURE_HEADER: signature(settings.webhook_secret, payload),
            IDEMPOTENCY_HEADER: notification.idempotency_key,
        },
    )
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=settings.webhook_timeout_seconds) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        exc.close()
        raise DeliveryError(f"webhook {where} answered HTTP {exc.code}") from exc
    except urllib.error.URLError as exc:
        raise DeliveryError(f"webhook {where} unreachable: {exc.reason}") from exc
    except (http.client.HTTPException, OSError) as exc:
        raise DeliveryError(f"webhook {where}: {type(exc).__name__}: {exc}") from exc
    if not 200 <= status < 300:
        raise DeliveryError(f"webhook {where} answered HTTP {status}")
