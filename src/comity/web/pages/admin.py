"""Administration, for administrators only: users (add with a second factor shown once, roles,
disable/enable, unlock, reset the second factor), the 24/7 duty roster, this node's keys
(rotation) and directory updates (pull from the registry, import a signed file). Every change
goes through the services, which audit it; every form is CSRF-checked."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any
from zoneinfo import available_timezones

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from starlette.datastructures import UploadFile

from comity.accounts import service as accounts
from comity.accounts.models import User
from comity.accounts.roles import ROLES
from comity.accounts.roles import conflicts as role_conflicts
from comity.directory import service as directory_service
from comity.directory.pull import pull_directory
from comity.duty import service as duty
from comity.duty.models import ROSTER_ROLES
from comity.kit.clock import ensure_utc, utc_now
from comity.kit.db import transaction
from comity.kit.errors import ComityError
from comity.nodes import service as node_service
from comity.nodes.models import NodeKey
from comity.nodes.runtime import passphrase_of
from comity.web.core import (
    CheckedForm,
    PageUser,
    WebUser,
    flash_query,
    flash_value,
    node_of,
    render,
    require_roles,
)
from comity.web.i18n import N_
from comity.web.labels import ROLE_LABELS, ROSTER_ROLE_LABELS

router = APIRouter(include_in_schema=False)

ADMIN = ("administrator",)
MAX_DIRECTORY_BYTES = 5 * 2**20
KEY_USES = {"sig": N_("Signing (Ed25519)"), "enc": N_("Encryption (X25519)")}
USER_ACTS = {"roles", "disable", "enable", "unlock", "reset-totp"}

UNKNOWN_ACTION = N_("This action is not known: reload the page and try again.")
NOT_YOURSELF = N_("You cannot disable your own account.")
KEEP_ADMIN = N_("You cannot remove your own administrator role.")
RESET_USED = N_(
    "This confirmation was already used: the second factor was reset then, and its secret was "
    "shown once. To make another one, reset again from the list."
)
NO_REGISTRY = N_("No registry address is configured for this node.")
NO_ANSWER = N_("The registry did not answer.")
NO_FILE = N_("Choose a signed directory file to import.")
TOO_LARGE = N_("The file is too large.")
NOT_TEXT = N_("The file is not a signed directory (text).")


def _admin(user: WebUser) -> None:
    require_roles(user, ADMIN, "administration")


def _issuer(request: Request) -> str:
    return f"comity {node_of(request).participant_id}"


def _field(form: Any, name: str, limit: int = 200) -> str:
    return str(form.get(name, "")).strip()[:limit]


def reset_token(user: WebUser, target: User) -> str:
    """The one-time token of a confirmed second-factor reset: a MAC, keyed by the
    administrator's session, over the target and a digest of the secret it has now.

    Resetting replaces that secret, so the same form sent again (a reload of the result page
    resubmits the POST) carries a token that no longer matches and resets nothing. Nothing is
    stored: a form is good for exactly one reset, and only in the session that showed it."""
    state = hashlib.sha256(target.totp_ciphertext or b"").hexdigest()
    message = f"reset-totp:{target.username}:{state}".encode()
    key = hashlib.sha256(("reset-totp:" + user.session_secret).encode()).digest()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


@router.get("/admin")
def admin_home(request: Request, user: PageUser) -> Response:
    _admin(user)
    node = node_of(request)
    with transaction(node.sessions) as session:
        users = accounts.list_users(session)
        roster = duty.roster(session)
        version = directory_service.latest_version(session)
        keys = list(session.execute(select(NodeKey).where(NodeKey.retired_at.is_(None))).scalars())
        summary = dict(
            users=len(users),
            active=sum(1 for u in users if u.active),
            roster=sum(1 for e in roster if e.active),
            version=version,
            keys=[k.kid for k in keys],
        )
    return render(request, "admin/index.html", user, summary=summary)


# Users ---------------------------------------------------------------------------------------


def _users_page(request: Request, user: WebUser, status_code: int = 200, **extra: Any) -> Response:
    node = node_of(request)
    now = utc_now()
    with transaction(node.sessions) as session:
        rows = [
            dict(
                username=u.username,
                display_name=u.display_name,
                roles=list(u.roles),
                active=u.active,
                locked=u.locked_until is not None and ensure_utc(u.locked_until) > now,
                locked_until=ensure_utc(u.locked_until) if u.locked_until else None,
                last_login_at=ensure_utc(u.last_login_at) if u.last_login_at else None,
                has_totp=u.totp_ciphertext is not None,
                conflicting=bool(role_conflicts(u.roles)),
            )
            for u in accounts.list_users(session)
        ]
    values: dict[str, Any] = dict(
        error=None,
        error_field="",
        values={},
        done="",
        problem="",
        confirm_reset="",
        token="",
        roles_error="",
        roles_user="",
    )
    values.update(extra)
    return render(
        request,
        "admin/users.html",
        user,
        status_code=status_code,
        users=rows,
        ROLES=ROLES,
        ROLE_LABELS=ROLE_LABELS,
        **values,
    )


@router.get("/admin/users")
def users_page(request: Request, user: PageUser) -> Response:
    _admin(user)
    done = flash_value(request, user, "done")
    return _users_page(request, user, done=done if done in USER_ACTS else "")


@router.post("/admin/users")
def add_user(request: Request, user: PageUser, form: CheckedForm) -> Response:
    _admin(user)
    node = node_of(request)
    username = _field(form, "username", 120)
    display_name = _field(form, "display_name")
    roles = [str(r) for r in form.getlist("roles")]
    password = str(form.get("password", ""))[:1024]
    generated = not password
    if generated:
        password = secrets.token_urlsafe(18)
    values = dict(username=username, display_name=display_name, roles=roles)
    try:
        with (
            accounts.refusal_audited(node.sessions, user.username, username, "create"),
            transaction(node.sessions) as session,
        ):
            _, enrolment = accounts.add_user(
                session,
                username,
                display_name,
                roles,
                password,
                passphrase_of(node.settings),
                _issuer(request),
                user.username,
            )
    except ComityError as exc:
        field = str(exc.details.get("field", "")) or (
            "roles" if "role" in exc.message else "password" if "password" in exc.message else ""
        )
        return _users_page(
            request, user, status_code=422, error=exc.message, error_field=field, values=values
        )
    return render(
        request,
        "admin/enrolled.html",
        user,
        username=username,
        enrolment=enrolment,
        password=password if generated else "",
        created=True,
    )


@router.post("/admin/users/{username}")
def change_user(request: Request, user: PageUser, form: CheckedForm, username: str) -> Response:
    _admin(user)
    node = node_of(request)
    act = _field(form, "act", 20)
    if act not in USER_ACTS:
        return _users_page(request, user, status_code=400, problem=UNKNOWN_ACTION)
    if username == user.username and act == "disable":
        return _users_page(request, user, status_code=400, problem=NOT_YOURSELF)
    roles = [str(r) for r in form.getlist("roles")]
    if act == "roles" and username == user.username and "administrator" not in roles:
        return _users_page(request, user, status_code=400, problem=KEEP_ADMIN)
    if act == "reset-totp":
        with transaction(node.sessions) as session:
            token = reset_token(user, accounts.get_user(session, username))
        if form.get("confirm") != "yes":
            # Ask first, as key rotation does: the user's authenticator stops working.
            return _users_page(request, user, confirm_reset=username, token=token)
        if not hmac.compare_digest(str(form.get("token", "")), token):
            return _users_page(request, user, status_code=409, problem=RESET_USED)
    if act == "roles":
        try:
            with (
                accounts.refusal_audited(node.sessions, user.username, username, "roles"),
                transaction(node.sessions) as session,
            ):
                accounts.set_roles(session, username, roles, user.username)
        except ComityError as exc:
            return _users_page(
                request, user, status_code=422, roles_error=exc.message, roles_user=username
            )
        return RedirectResponse(
            f"/admin/users?{flash_query(user, 'done', act)}#user-{username}", status_code=303
        )
    with transaction(node.sessions) as session:
        if act == "disable":
            accounts.disable_user(session, username, user.username)
        elif act == "enable":
            accounts.enable_user(session, username, user.username)
        elif act == "unlock":
            accounts.unlock_user(session, username, user.username)
        else:
            enrolment = accounts.enroll_totp(
                session, username, passphrase_of(node.settings), _issuer(request), user.username
            )
    if act == "reset-totp":
        return render(
            request,
            "admin/enrolled.html",
            user,
            username=username,
            enrolment=enrolment,
            password="",
            created=False,
        )
    return RedirectResponse(
        f"/admin/users?{flash_query(user, 'done', act)}#user-{username}", status_code=303
    )


# Roster --------------------------------------------------------------------------------------


def _roster_page(request: Request, user: WebUser, status_code: int = 200, **extra: Any) -> Response:
    node = node_of(request)
    with transaction(node.sessions) as session:
        entries = [
            dict(
                user=e.user,
                name=e.name,
                email=e.email,
                role=e.role,
                timezone=e.timezone,
                shift_start=e.shift_start,
                shift_end=e.shift_end,
                rank=e.rank,
                active=e.active,
                on_duty=duty.on_duty(e, utc_now()),
            )
            for e in duty.roster(session)
        ]
        usernames = [u.username for u in accounts.list_users(session) if u.active]
    values: dict[str, Any] = dict(error=None, error_field="", values={}, saved=False)
    values.update(extra)
    return render(
        request,
        "admin/roster.html",
        user,
        status_code=status_code,
        entries=entries,
        usernames=usernames,
        zones=sorted(available_timezones()),
        ROSTER_ROLES=ROSTER_ROLES,
        ROSTER_ROLE_LABELS=ROSTER_ROLE_LABELS,
        **values,
    )


@router.get("/admin/roster")
def roster_page(request: Request, user: PageUser) -> Response:
    _admin(user)
    return _roster_page(request, user, saved=flash_value(request, user, "saved") == "1")


@router.post("/admin/roster")
def put_roster_entry(request: Request, user: PageUser, form: CheckedForm) -> Response:
    _admin(user)
    node = node_of(request)
    who = _field(form, "user", 120)
    values: dict[str, Any] = dict(
        name=_field(form, "name"),
        email=_field(form, "email", 320),
        role=_field(form, "role", 32) or "officer",
        timezone=_field(form, "timezone", 64) or "UTC",
        shift_start=_field(form, "shift_start", 5) or "00:00",
        shift_end=_field(form, "shift_end", 5) or "00:00",
        active=form.get("active") == "yes",
    )
    try:
        if not who:
            raise ComityError("give the user name of the person on duty", field="user")
        try:
            values["rank"] = int(_field(form, "rank", 6) or "100")
        except ValueError:
            raise ComityError("the rank is a whole number", field="rank") from None
        with transaction(node.sessions) as session:
            accounts.get_user(session, who)
            duty.put_entry(session, user.username, who, **values)
    except ComityError as exc:
        return _roster_page(
            request,
            user,
            status_code=422,
            error=exc.message,
            error_field=str(exc.details.get("field", "")),
            values={"user": who, **values},
        )
    return RedirectResponse(f"/admin/roster?{flash_query(user, 'saved', '1')}", status_code=303)


@router.post("/admin/roster/{who}")
def change_roster_entry(request: Request, user: PageUser, form: CheckedForm, who: str) -> Response:
    """Take a person off the roster (kept, inactive: assignments name them) or back on."""
    _admin(user)
    act = _field(form, "act", 20)
    if act not in {"remove", "restore"}:
        raise ComityError("unknown action", field="act")
    node = node_of(request)
    with transaction(node.sessions) as session:
        if not any(e.user == who for e in duty.roster(session)):
            raise ComityError(f"{who} is not on the roster", field="user")
        duty.put_entry(session, user.username, who, active=act == "restore")
    return RedirectResponse(f"/admin/roster?{flash_query(user, 'saved', '1')}", status_code=303)


# Keys ----------------------------------------------------------------------------------------


def _keys(request: Request) -> list[dict[str, Any]]:
    node = node_of(request)
    with transaction(node.sessions) as session:
        rows = session.execute(select(NodeKey).order_by(NodeKey.created_at)).scalars()
        return [
            dict(
                kid=k.kid,
                use=k.use,
                created_at=ensure_utc(k.created_at),
                retired_at=ensure_utc(k.retired_at) if k.retired_at else None,
                revoked_at=ensure_utc(k.revoked_at) if k.revoked_at else None,
            )
            for k in rows
        ]


@router.get("/admin/keys")
def keys_page(request: Request, user: PageUser) -> Response:
    _admin(user)
    rotated = flash_value(request, user, "rotated")
    return render(
        request,
        "admin/keys.html",
        user,
        keys=_keys(request),
        KEY_USES=KEY_USES,
        rotated=rotated if rotated in KEY_USES else "",
        error=None,
    )


@router.post("/admin/keys")
def rotate_key(request: Request, user: PageUser, form: CheckedForm) -> Response:
    _admin(user)
    use = _field(form, "use", 8)
    if use not in KEY_USES:
        raise ComityError("choose the signing or the encryption key", field="use")
    if form.get("confirm") != "yes":
        return render(
            request,
            "admin/keys.html",
            user,
            status_code=422,
            keys=_keys(request),
            KEY_USES=KEY_USES,
            rotated="",
            error=use,
        )
    node = node_of(request)
    with transaction(node.sessions) as session:
        node_service.rotate_key(
            session,
            node.participant_id,
            "sig" if use == "sig" else "enc",
            passphrase_of(node.settings),
            user.username,
        )
    node.reload_keys()
    return RedirectResponse(f"/admin/keys?{flash_query(user, 'rotated', use)}", status_code=303)


# Directory updates ---------------------------------------------------------------------------


def _directory_page(
    request: Request, user: WebUser, status_code: int = 200, **extra: Any
) -> Response:
    node = node_of(request)
    with transaction(node.sessions) as session:
        history = directory_service.history(session)
        current = history[-1] if history else None
        latest = (
            dict(
                version=current.version,
                issued_at=ensure_utc(current.issued_at),
                expires_at=ensure_utc(current.expires_at),
                imported_at=ensure_utc(current.imported_at),
                source=current.source,
            )
            if current
            else None
        )
    # `refused`: our own message (translated); `reason`: the system's, in English.
    values: dict[str, Any] = dict(refused="", reason="", outcome="", version=None)
    values.update(extra)
    return render(
        request,
        "admin/directory.html",
        user,
        status_code=status_code,
        latest=latest,
        registry_url=node.settings.registry_url,
        registry_kid=str((node.settings.registry_key or {}).get("kid", "")),
        **values,
    )


@router.get("/admin/directory")
def directory_updates(request: Request, user: PageUser) -> Response:
    _admin(user)
    outcome = flash_value(request, user, "outcome")
    return _directory_page(request, user, outcome=outcome if outcome in {"new", "same"} else "")


@router.post("/admin/directory/pull")
def pull_now(request: Request, user: PageUser, form: CheckedForm) -> Response:
    _admin(user)
    node = node_of(request)
    if not node.settings.registry_url:
        return _directory_page(
            request, user, status_code=422, refused=NO_REGISTRY, reason="registry_url"
        )
    try:
        with httpx.Client() as client:
            changed = pull_directory(node, client, actor=user.username)
    except ComityError as exc:
        return _directory_page(request, user, status_code=422, reason=exc.message)
    except httpx.HTTPError as exc:
        return _directory_page(request, user, status_code=502, refused=NO_ANSWER, reason=str(exc))
    outcome = flash_query(user, "outcome", "new" if changed else "same")
    return RedirectResponse(f"/admin/directory?{outcome}", status_code=303)


@router.post("/admin/directory/import")
def import_file(request: Request, user: PageUser, form: CheckedForm) -> Response:
    _admin(user)
    node = node_of(request)
    upload = form.get("directory")
    if not isinstance(upload, UploadFile) or not upload.filename:
        if isinstance(upload, UploadFile):
            upload.file.close()
        return _directory_page(request, user, status_code=422, refused=NO_FILE)
    try:
        raw = upload.file.read(MAX_DIRECTORY_BYTES + 1)
    finally:
        upload.file.close()
    if len(raw) > MAX_DIRECTORY_BYTES:
        return _directory_page(request, user, status_code=422, refused=TOO_LARGE)
    try:
        token = raw.decode("utf-8").strip()
        _, changed = directory_service.import_signed(
            node.sessions,
            token,
            node.settings.registry_key,
            f"upload:{upload.filename}"[:400],
            actor=user.username,
        )
    except UnicodeDecodeError:
        return _directory_page(request, user, status_code=422, refused=NOT_TEXT)
    except ComityError as exc:
        return _directory_page(request, user, status_code=422, reason=exc.message)
    outcome = flash_query(user, "outcome", "new" if changed else "same")
    return RedirectResponse(f"/admin/directory?{outcome}", status_code=303)
