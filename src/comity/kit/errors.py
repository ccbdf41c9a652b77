"""Business errors. Each carries the HTTP status an edge answers with and a stable code.

Errors are shown to practitioners: the message says what is wrong and, where there is one,
which field or article is concerned. Never a traceback to the user.
"""

from __future__ import annotations

from typing import Any, ClassVar


class ComityError(Exception):
    """Base of every error the system reports to a user or a peer node."""

    status_code: ClassVar[int] = 400
    code: ClassVar[str] = "error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class NotFound(ComityError):
    status_code = 404
    code = "not_found"


class Conflict(ComityError):
    status_code = 409
    code = "conflict"


class Forbidden(ComityError):
    status_code = 403
    code = "forbidden"


class Unauthorized(ComityError):
    status_code = 401
    code = "unauthorized"


class ConfigurationError(ComityError):
    status_code = 500
    code = "configuration"
