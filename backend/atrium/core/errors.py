"""Domain errors. Services raise these; each API layer maps them to its own wire shape in one handler."""

from __future__ import annotations

from typing import Any

from django.db.utils import DataError as DjangoDataError
from psycopg import DataError as PsycopgDataError


class AtriumError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.extra = extra or {}


class ValidationFailedError(AtriumError):
    status_code = 422
    code = "validation_error"


class NotAuthenticatedError(AtriumError):
    status_code = 401
    code = "not_authenticated"


class PermissionDeniedError(AtriumError):
    status_code = 403
    code = "permission_denied"


class NotFoundError(AtriumError):
    status_code = 404
    code = "not_found"


class ConflictError(AtriumError):
    status_code = 409
    code = "conflict"


class ServiceUnavailableError(AtriumError):
    """The deployment cannot serve this request safely right now (e.g. its auth module did not load)."""

    status_code = 503
    code = "service_unavailable"


# Errors the database raises for a value it cannot store or compare (a number out of range, a NUL in
# text, a malformed interval): bad input that slipped past validation. Both APIs answer them 422 with
# the database's one-line reason rather than a 500.
DATA_ERRORS: tuple[type[Exception], ...] = (DjangoDataError, PsycopgDataError)


def data_error_message(exc: object) -> str:
    cause = exc if isinstance(exc, PsycopgDataError) else getattr(exc, "__cause__", None)
    diag = getattr(cause, "diag", None)
    reason = getattr(diag, "message_primary", None) or str(exc).splitlines()[0]
    return f"Invalid value: {reason}."
