"""Sign-in with password and second factor, sign-out, language and personal preferences."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from comity.accounts import service as accounts
from comity.audit import service as audit
from comity.kit.db import transaction
from comity.kit.errors import ComityError
from comity.nodes.runtime import passphrase_of
from comity.web import i18n
from comity.web.core import (
    LANGUAGE_COOKIE,
    PRELOGIN_COOKIE,
    SESSION_COOKIE,
    CheckedForm,
    LoginRequired,
    PageUser,
    WebUser,
    csrf_for,
    current_user,
    flash_query,
    flash_value,
    new_prelogin_secret,
    node_of,
    render,
    safe_next,
    secure_cookies,
)
from comity.web.labels import ROLE_LABELS
from comity.web.nav import home_for

router = APIRouter(include_in_schema=False)
YEAR = 365 * 24 * 3600


def _secure(request: Request) -> bool:
    return secure_cookies(request)


@router.get("/")
def home(request: Request) -> Response:
    """The front door: the first page the user's roles open, or sign-in."""
    try:
        user = current_user(request)
    except LoginRequired:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse(home_for(user.roles), status_code=303)


@router.get("/login")
def login_page(request: Request, next: str = "") -> Response:
    secret = request.cookies.get(PRELOGIN_COOKIE) or new_prelogin_secret()
    response = render(
        request, "login.html", None, next_path=safe_next(next, ""), csrf=csrf_for(secret), error=""
    )
    response.set_cookie(
        PRELOGIN_COOKIE, secret, httponly=True, samesite="strict", secure=_secure(request)
    )
    return response


@router.post("/login")
def login(request: Request, form: CheckedForm) -> Response:
    node = node_of(request)
    username = str(form.get("username", ""))[:120]
    password = str(form.get("password", ""))[:1024]
    code = str(form.get("code", "")).strip()[:16]
    next_path = safe_next(str(form.get("next", "")), "")
    source = request.client.host if request.client else ""
    with transaction(node.sessions) as session:
        outcome = accounts.login(
            session, node.settings, passphrase_of(node.settings), username, password, code, source
        )
    if outcome.success is None:
        secret = request.cookies.get(PRELOGIN_COOKIE) or new_prelogin_secret()
        failed = render(
            request,
            "login.html",
            None,
            status_code=401,
            next_path=next_path,
            csrf=csrf_for(secret),
            error="failed",
            username=username,
        )
        failed.set_cookie(
            PRELOGIN_COOKIE, secret, httponly=True, samesite="strict", secure=_secure(request)
        )
        return failed
    landing = next_path or home_for(frozenset(outcome.success.roles))
    response = RedirectResponse(landing, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        outcome.success.token,
        max_age=node.settings.session_max_seconds,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )
    response.delete_cookie(PRELOGIN_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, user: PageUser, form: CheckedForm) -> Response:
    node = node_of(request)
    with transaction(node.sessions) as session:
        accounts.logout(session, user.session_secret)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.post("/language")
def choose_language(request: Request, form: CheckedForm) -> Response:
    """Switch the interface language; kept for the user (and in a cookie before sign-in)."""
    lang = str(form.get("lang", ""))
    back = safe_next(str(form.get("back", "")))
    if lang not in i18n.LANGUAGES:
        raise ComityError("unknown language", field="lang")
    user: WebUser | None
    try:
        user = current_user(request)
    except LoginRequired:
        user = None
    if user is not None:
        node = node_of(request)
        with transaction(node.sessions) as session:
            row = accounts.get_user(session, user.username)
            row.language = lang
            audit.record(session, "web:preferences:changed", user.username, language=lang)
    response = RedirectResponse(back, status_code=303)
    response.set_cookie(
        LANGUAGE_COOKIE, lang, max_age=YEAR, httponly=True, samesite="lax", secure=_secure(request)
    )
    return response


@router.get("/preferences")
def preferences_page(request: Request, user: PageUser) -> Response:
    from zoneinfo import available_timezones

    return render(
        request,
        "preferences.html",
        user,
        zones=sorted(available_timezones()),
        saved=bool(flash_value(request, user, "saved")),
        ROLE_LABELS=ROLE_LABELS,
    )


@router.post("/preferences")
def save_preferences(request: Request, user: PageUser, form: CheckedForm) -> Response:
    from zoneinfo import available_timezones

    zones = available_timezones()
    time_zone = str(form.get("time_zone", "UTC"))
    lang = str(form.get("lang", user.language))
    if time_zone not in zones:
        raise ComityError("unknown time zone", field="time_zone")
    if lang not in i18n.LANGUAGES:
        raise ComityError("unknown language", field="lang")
    node = node_of(request)
    with transaction(node.sessions) as session:
        row = accounts.get_user(session, user.username)
        row.time_zone = time_zone
        row.language = lang
        audit.record(
            session, "web:preferences:changed", user.username, language=lang, time_zone=time_zone
        )
    response = RedirectResponse(
        "/preferences?" + flash_query(user, "saved", "preferences"), status_code=303
    )
    response.set_cookie(
        LANGUAGE_COOKIE, lang, max_age=YEAR, httponly=True, samesite="lax", secure=_secure(request)
    )
    return response
