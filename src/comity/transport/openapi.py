"""The node's OpenAPI document, made true about errors: every operation documents the error
answers it can give, in the one error envelope every `ComityError` is answered with.

Every operation can answer 400 (a malformed or too deeply nested body, a bad value), 404,
409, 413 (a body over its route's limit), 422 (a value the law or the schema refuses; for a
body that does not fit its model FastAPI's own validation error), 500 (with a correlation
id) and 503 (no directory yet, a peer unreachable). All but the public ones (health, the
directory, inbound envelopes, request schemas) also answer 401 and 403. Inbound envelopes may
be refused with 421 (not for this node), evidence with 428 (conditions not acknowledged).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    """The body of every refusal: a stable code, a message for the practitioner."""

    error: str = Field(description="Stable code, e.g. 'not_found', 'body_too_large'")
    message: str = Field(description="What is wrong and, where there is one, which field")
    details: dict[str, Any] | None = Field(
        default=None, description="Field, findings and other structured details"
    )
    correlation_id: str | None = Field(
        default=None, description="On a 500: the reference under which the node logged it"
    )


ERRORS: dict[str, str] = {
    "400": "Malformed request: a bad value, a body that is not JSON or nests too deeply",
    "401": "No valid credential (bearer token, session, or a peer's signature)",
    "403": "The caller's roles do not allow this",
    "404": "No such object",
    "409": "Refused in the object's current state",
    "413": "The body is over this route's limit",
    "422": "Refused: the content does not meet the schema or the law",
    "421": "The envelope is addressed to another participant",
    "428": "The use conditions attached to the evidence must be acknowledged first",
    "500": "Failure of the node; the answer carries a correlation id, the node an audit entry",
    "503": "Not available yet: no directory imported, or a peer not reachable",
}
PUBLIC = ("/v1/health", "/v1/directory", "/v1/envelopes", "/v1/requests/schema/")
_ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    schemas["ErrorBody"] = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    for path, operations in schema.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, description in ERRORS.items():
                if status in ("401", "403") and path.startswith(PUBLIC):
                    continue
                if status == "421" and not path.startswith("/v1/envelopes"):
                    continue
                if status == "428" and not path.startswith("/v1/evidence/"):
                    continue
                body: dict[str, Any] = dict(_ERROR_REF)
                known = responses.get(status, {}).get("content", {}).get("application/json")
                if known and known.get("schema") and known["schema"] != _ERROR_REF:
                    body = {"anyOf": [_ERROR_REF, known["schema"]]}
                responses[status] = {
                    "description": description,
                    "content": {"application/json": {"schema": body}},
                }
    return schema


def install(app: FastAPI) -> None:
    """Serve the document with the errors documented (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_errors(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    description=app.description,
                    routes=app.routes,
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
