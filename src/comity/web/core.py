"""What every page shares: the signed-in user, CSRF, the templates of each language and
rendering.

A page's session is the same login session as the API's (`accounts.service.login`: password
and TOTP), carried in an HttpOnly, SameSite=Strict cookie instead of a bearer header. Every
form that changes something carries a CSRF token derived from the session secret (HMAC), which
a page of another site can neither read nor compute; before sign-in a random token in its own
cookie plays that role (double submit).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import escape
from starlette.datastructures import FormData

from comity.accounts import service as accounts
from comity.accounts.models import User
from comity.audit import service as audit
from comity.kit.clock import utc_now
from comity.kit.db import transaction
from comity.kit.errors import ComityError, Forbidden
from comity.nodes.runtime import Node
from comity.web import i18n, nav

log = logging.getLogger("comity.web")

TEMPLATES = Path(__file__).parent / "templates"
SESSION_COOKIE = "comity_session"
PRELOGIN_COOKIE = "comity_prelogin"
LANGUAGE_COOKIE = "comity_lang"
CSRF_FIELD = "csrf"


class LoginRequired(Exception):
    """No valid session: the page answers with a redirect to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class CsrfRefused(Forbidden):
    code = "csrf"


@dataclass
class WebUser:
    username: str
    display_name: str
    roles: frozenset[str]
    language: str
    time_zone: str
    session_secret: str = field(repr=False)

    @property
    def csrf(self) -> str:
        return csrf_for(self.session_secret)

    def has(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))


def flash_signature(user: WebUser, value: str) -> str:
    """A short MAC over a confirmation shown after a redirect (`?done=acknowledge&sig=...`), so
    a crafted link cannot make a page say that something happened."""
    key = hashlib.sha256(("flash:" + user.session_secret).encode()).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:24]


def flash_query(user: WebUser, name: str, value: str) -> str:
    """`name=value&sig=...` for a redirect URL; read back with `flash_value`."""
    from urllib.parse import urlencode

    return urlencode({name: value, "sig": flash_signature(user, f"{name}={value}")})


def flash_value(request: Request, user: WebUser, name: str) -> str:
    """The confirmation `name` of this page's URL if its signature is ours, else ''."""
    value = request.query_params.get(name, "")
    sig = request.query_params.get("sig", "")
    if value and sig and hmac.compare_digest(sig, flash_signature(user, f"{name}={value}")):
        return value
    return ""


def csrf_for(secret: str) -> str:
    return hmac.new(
        hashlib.sha256(secret.encode()).digest(), b"comity-web-csrf", hashlib.sha256
    ).hexdigest()


def node_of(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


def safe_next(path: str | None, default: str = "/") -> str:
    """Only a path on this site (never `//host` or a scheme) is followed after sign-in."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return default
    return path


def current_user(request: Request) -> WebUser:
    """The signed-in user; the request counts as activity (it extends an idle session)."""
    return _signed_in(request, touch=True)


def polling_user(request: Request) -> WebUser:
    """The signed-in user of a request the page makes by itself (htmx sends `HX-Request`, as
    the 24/7 desk's refresh does): checked as every page's, but not counted as activity, so a
    refresh never keeps an idle session alive. Any other request is an ordinary one."""
    return _signed_in(request, touch=request.headers.get("hx-request") != "true")


def _signed_in(request: Request, touch: bool) -> WebUser:
    secret = request.cookies.get(SESSION_COOKIE, "")
    next_path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET":
        # After sign-in the browser GETs `next`: send it back to the page the form was on
        # (its own origin only), not to an address that only accepts the form.
        next_path = _same_site_referer(request) or "/"
    if not secret.startswith(accounts.SESSION_PREFIX):
        raise LoginRequired(next_path)
    node = node_of(request)
    try:
        with transaction(node.sessions) as session:
            principal = accounts.authenticate(session, node.settings, secret, touch=touch)
            user = accounts.get_user(session, principal.user)
            return _web_user(user, principal.roles, secret)
    except ComityError:
        raise LoginRequired(next_path) from None


def _same_site_referer(request: Request) -> str:
    from urllib.parse import urlsplit

    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc and referer.netloc != request.url.netloc:
        return ""
    path = referer.path + (f"?{referer.query}" if referer.query else "")
    return safe_next(path, "")


def _web_user(user: User, roles: Iterable[str], secret: str) -> WebUser:
    return WebUser(
        username=user.username,
        display_name=user.display_name or user.username,
        roles=frozenset(roles),
        language=user.language,
        time_zone=user.time_zone or "UTC",
        session_secret=secret,
    )


PageUser = Annotated[WebUser, Depends(current_user)]


def require_roles(user: WebUser, roles: Iterable[str], what: str) -> None:
    """Refuse (403, audited) a user who holds none of `roles`."""
    allowed = set(roles)
    if not user.roles & allowed:
        raise Forbidden(f"{what} needs one of the roles: {', '.join(sorted(allowed))}")


async def checked_form(request: Request) -> FormData:
    """The posted form, after checking its CSRF token; a refusal is audited."""
    form = await request.form()
    sent = str(form.get(CSRF_FIELD, ""))
    secret = request.cookies.get(SESSION_COOKIE, "")
    prelogin = request.cookies.get(PRELOGIN_COOKIE, "")
    expected = [csrf_for(secret)] if secret else []
    if prelogin:
        expected.append(csrf_for(prelogin))
    if not sent or not any(hmac.compare_digest(sent, e) for e in expected):
        node = node_of(request)
        try:
            actor = current_user(request).username
        except LoginRequired:
            actor = "anonymous"
        with transaction(node.sessions) as session:
            audit.record(session, "web:csrf:refused", actor, request.url.path)
        log.warning("refused a form without a valid CSRF token on %s", request.url.path)
        raise CsrfRefused("this form has expired or did not come from this site: reload the page")
    return form


CheckedForm = Annotated[FormData, Depends(checked_form)]


def language_of(request: Request, user: WebUser | None) -> str:
    return i18n.choose_language(
        request.query_params.get("lang"),
        user.language if user else None,
        request.cookies.get(LANGUAGE_COOKIE),
        accept=request.headers.get("accept-language", ""),
    )


@cache
def environment(lang: str, area: str = "core") -> Environment:
    """One Jinja2 environment per language and area, its gettext installed with the area's
    own translations first (templates are compiled once per pair; rendering is
    thread-safe)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "xml", "svg"]),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    translations = i18n.translations(lang, area=area)

    # Messages are plain text, never HTML: escape what gettext returns, so that a value passed
    # through `_()` (a label from data, say) can never inject markup; newstyle gettext marks
    # its result safe and escapes only the `%(...)s` values.
    def gettext(message: str) -> str:
        return escape(translations.gettext(message))

    def ngettext(singular: str, plural: str, n: int) -> str:
        return escape(translations.ngettext(singular, plural, n))

    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals["LANGUAGES"] = i18n.LANGUAGES
    env.filters["urlquote"] = lambda value: quote(str(value), safe="")
    return env


def area_of_template(template: str) -> str:
    """`stats/index.html` → `stats`; a top-level template belongs to `core`."""
    return template.split("/", 1)[0] if "/" in template else "core"


def render(
    request: Request,
    template: str,
    user: WebUser | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render `template` in the reader's language, with what the layout needs."""
    lang = language_of(request, user)
    language = i18n.LANGUAGES[lang]
    fmt = i18n.Formatter(lang, user.time_zone if user else "UTC")
    new_prelogin = ""
    if user is not None:
        csrf = user.csrf
    elif request.cookies.get(PRELOGIN_COOKIE):
        csrf = csrf_for(request.cookies[PRELOGIN_COOKIE])
    else:
        # Forms before sign-in (language, sign-in itself) need a token too.
        new_prelogin = new_prelogin_secret()
        csrf = csrf_for(new_prelogin)
    node = node_of(request)
    values: dict[str, Any] = dict(
        request=request,
        user=user,
        lang=lang,
        language=language,
        fmt=fmt,
        csrf=csrf,
        node_id=node.participant_id,
        now=utc_now(),
        path=request.url.path,
        back=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        nav=nav.visible(user.roles) if user else [],
    )
    values.update(context)
    page = environment(lang, area_of_template(template)).get_template(template).render(values)
    response = HTMLResponse(page, status_code=status_code)
    if new_prelogin and "csrf" not in context:
        response.set_cookie(
            PRELOGIN_COOKIE,
            new_prelogin,
            httponly=True,
            samesite="strict",
            secure=secure_cookies(request),
        )
    return response


def secure_cookies(request: Request) -> bool:
    """Cookies get the Secure flag when this request came over HTTPS or the node is published
    at an https address (behind a TLS proxy whose forwarded headers uvicorn does not trust)."""
    return request.url.scheme == "https" or node_of(request).settings.public_url.startswith(
        "https://"
    )


def new_prelogin_secret() -> str:
    return secrets.token_urlsafe(32)
