"""schemathesis hooks for the live-node run (loaded through SCHEMATHESIS_HOOKS): bodies and
answers of type application/jose (envelopes, receipts, the signed directory) are text."""

from __future__ import annotations

from typing import Any

import schemathesis


@schemathesis.serializer("application/jose")
def jose_body(_ctx: Any, value: Any) -> dict[str, Any]:
    return {"data": value if isinstance(value, bytes) else str(value).encode()}


@schemathesis.deserializer("application/jose")
def jose_answer(_ctx: Any, response: Any) -> str:
    return str(response.content.decode("ascii"))
