"""Domain exceptions with a stable snake_case code; api/errors.py maps them to HTTP."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every error a use case raises on purpose."""

    code = "domain_error"

    def __init__(self, message: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details


class NotFoundError(DomainError):
    code = "not_found"


class ConflictError(DomainError):
    code = "conflict"


class PermissionDeniedError(DomainError):
    code = "permission_denied"


class AuthenticationError(DomainError):
    code = "authentication_required"


class InvalidInputError(DomainError):
    """Bad input; `errors` maps field names to messages."""

    code = "invalid_input"

    def __init__(
        self,
        message: str,
        *,
        errors: dict[str, Any] | None = None,
        code: str | None = None,
        **details: Any,
    ) -> None:
        super().__init__(message, code=code, **details)
        self.errors = errors or {}


class ModelError(InvalidInputError):
    """A BPMN/DMN file cannot be deployed; names the file, line and element."""

    code = "invalid_model"


class EngineError(DomainError):
    """The engine cannot continue the instance; the request that tried changed nothing."""

    code = "engine_error"
