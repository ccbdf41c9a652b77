"""Mounts the web interface on a node's FastAPI application: the pages of every module in
`comity.web.pages`, the static files, security headers, and HTML error pages."""

from __future__ import annotations

import importlib
import logging
import pkgutil
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import FastAPI, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from comity.audit import service as audit
from comity.kit.db import transaction
from comity.kit.errors import ComityError
from comity.web import pages
from comity.web.core import LoginRequired, current_user, render, safe_next
from comity.web.i18n import MissingTranslation

log = logging.getLogger("comity.web")

# Scripts and styles only from this node: no inline script or style, nothing from elsewhere.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
NO_STORE: list[tuple[bytes, bytes]] = [(b"cache-control", b"no-store")]
PAGE_HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    *NO_STORE,
]


class SecurityHeaders:
    """Adds the security headers to every response; pages (not the API, not static files)
    also get the content security policy. Pages and API answers are never cached, as they
    show case data."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        extra = SECURITY_HEADERS
        if path.startswith("/v1/"):
            extra = SECURITY_HEADERS + NO_STORE
        elif not path.startswith("/static/"):
            extra = SECURITY_HEADERS + PAGE_HEADERS

        started = False

        async def with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        try:
            await self.app(scope, receive, with_headers)
        except Exception as exc:
            # The transport's guard (inside these headers) answers and audits every failure
            # of a request; this is the last resort should the guard itself fail. Caught
            # here, inside Starlette's outermost error middleware, so that nothing is
            # re-raised to the server, whose traceback would print the exception's message
            # (which may hold case data).
            log.error("unexpected %s outside the request guard", type(exc).__name__)
            if started:
                return
            response = _internal_error(scope, path)
            await response(scope, receive, with_headers)


def _internal_error(scope: Scope, path: str) -> Response:
    if path.startswith("/v1/"):
        return JSONResponse({"error": "internal", "message": "internal error"}, status_code=500)
    return unexpected_page(Request(scope))


def allowed_methods(scope: Scope) -> list[str]:
    """Every method some route answers at this request's address (for a 405's `Allow`)."""
    app = scope.get("app")
    routes = getattr(getattr(app, "router", None), "routes", [])
    allowed: list[str] = []
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"):
        probe = {**scope, "method": method}
        if any(route.matches(probe)[0] is Match.FULL for route in routes):
            allowed.append(method)
    return allowed


HTTP_ERROR_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
}


def is_page(request: Request) -> bool:
    return not request.url.path.startswith("/v1/")


def error_page(request: Request, exc: ComityError) -> Response:
    try:
        user = current_user(request)
    except LoginRequired:
        user = None
    if exc.status_code == 403 and exc.code != "csrf":
        # A page refused for lack of a role: audited, as the API's refusals are.
        node = request.app.state.node
        with transaction(node.sessions) as session:
            audit.record(
                session,
                "web:access:refused",
                user.username if user else "anonymous",
                request.url.path,
                method=request.method,
            )
    return render(
        request,
        "error.html",
        user,
        status_code=exc.status_code,
        error_code=exc.code,
        message=exc.message,
        field=exc.details.get("field", ""),
    )


def unexpected_page(request: Request, correlation: str = "") -> Response:
    try:
        return render(
            request,
            "error.html",
            None,
            status_code=500,
            error_code="internal",
            message="",
            field="",
            correlation=correlation,
        )
    except Exception:
        return HTMLResponse("<h1>500</h1>", status_code=500)


def mount(app: FastAPI) -> None:
    from pathlib import Path

    static = Path(__file__).parent / "static"
    app.mount("/static", StaticFiles(directory=static), name="static")
    templates: list[str] = []
    for module_info in pkgutil.iter_modules(pages.__path__):
        module: Any = importlib.import_module(f"{pages.__name__}.{module_info.name}")
        router = getattr(module, "router", None)
        if router is not None:
            app.include_router(router)
            templates.extend(getattr(r, "path", "") for r in router.routes)
    # The pages' route templates, for audit entries about a request not yet routed.
    app.state.page_routes = [t for t in templates if t]
    app.add_middleware(SecurityHeaders)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        if request.headers.get("hx-request") == "true":
            # An htmx request (the desk's refresh) would paste the sign-in page into the page
            # it updates: tell htmx to load the sign-in page instead, back to the page shown.
            shown = urlsplit(request.headers.get("hx-current-url", ""))
            back = safe_next(
                (shown.path + (f"?{shown.query}" if shown.query else "")) or exc.next_path
            )
            target = f"/login?next={quote(back, safe='/')}"
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(f"/login?next={quote(exc.next_path, safe='/')}", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        """Starlette's own 404 and 405 as a page for people, as JSON for the API. A 405
        names every method the address answers (Starlette names only the first route's)."""
        headers: dict[str, str] = {}
        if exc.status_code == 405:
            headers["allow"] = ", ".join(allowed_methods(request.scope))
            exc = StarletteHTTPException(405, exc.detail, headers)
        if request.url.path.startswith("/static/"):
            return await http_exception_handler(request, exc)
        if not is_page(request):
            # The API's one error envelope (`error`, `message`), as for every ComityError.
            code = HTTP_ERROR_CODES.get(exc.status_code, "error")
            return JSONResponse(
                {"error": code, "message": str(exc.detail)},
                status_code=exc.status_code,
                headers={**(exc.headers or {}), **headers},
            )
        code = {404: "not_found", 405: "not_found"}.get(exc.status_code, "error")
        error = ComityError("")
        error.status_code = exc.status_code  # type: ignore[misc]
        error.code = code  # type: ignore[misc]
        response = await run_in_threadpool(error_page, request, error)
        response.headers.update(headers)
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        if not is_page(request):
            return await request_validation_exception_handler(request, exc)
        fields = ", ".join(str(e.get("loc", ["?"])[-1]) for e in exc.errors())
        error = ComityError(f"invalid value in the address or form: {fields}", field=fields)
        return await run_in_threadpool(error_page, request, error)

    @app.exception_handler(MissingTranslation)
    async def missing_translation(_request: Request, exc: MissingTranslation) -> Response:
        log.error("missing translation: %s", exc)
        return HTMLResponse(f"<h1>missing translation</h1><p>{_escape(str(exc))}</p>", 500)


def _escape(text: str) -> str:
    import html

    return html.escape(text)
