"""Users, logins, sessions and API tokens. Services flush; the edge commits.

Every administrative change and every login (succeeded or failed) is written to the audit log.
A failed login never says which factor was wrong, to the caller; the audit entry does, for the
auditor.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from comity.accounts import credentials
from comity.accounts.models import ApiToken, User, UserSession
from comity.accounts.roles import IncompatibleRoles, RoleConflict, check_roles, conflicts
from comity.audit import service as audit
from comity.kit.clock import ensure_utc, utc_now
from comity.kit.db import transaction
from comity.kit.errors import ComityError, Conflict, NotFound, Unauthorized
from comity.kit.jsonutil import sha256_hex
from comity.kit.settings import NodeSettings

SESSION_PREFIX = "cms_"
TOKEN_PREFIX = "cmt_"  # noqa: S105 - a public prefix that marks a token, not a secret
# A session's last use is written at most this often: a read must not always be a write.
_TOUCH_EVERY = timedelta(seconds=60)


class LoginFailed(Unauthorized):
    code = "login_failed"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user logged in with a session, or a system with an API token."""

    user: str
    roles: frozenset[str]
    kind: str


@dataclass(frozen=True)
class Enrolment:
    """A new TOTP secret, shown once to the user for their authenticator app."""

    secret: str
    uri: str


class LoginFailure(StrEnum):
    """Why a login failed: recorded in the audit log, never told to the caller."""

    UNKNOWN_USER = "unknown-user"
    BAD_PASSWORD = "bad-password"  # noqa: S105 - a reason code, not a password
    BAD_TOTP = "bad-totp"
    NO_TOTP = "no-totp-enrolled"
    LOCKED = "locked"
    DISABLED = "disabled"


@dataclass(frozen=True)
class LoginSuccess:
    token: str
    expires_at: datetime
    username: str
    roles: list[str]


@dataclass(frozen=True)
class LoginOutcome:
    """The result of a login attempt. A failure is returned, not raised, so the edge can
    commit the failure count and the audit entry before answering 401."""

    success: LoginSuccess | None = None
    failure: LoginFailure | None = None

    def result(self) -> LoginSuccess:
        if self.success is None:
            raise LoginFailed("login failed: wrong user name, password or code, or locked")
        return self.success


def get_user(session: Session, username: str) -> User:
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise NotFound(f"no user {username!r} on this node", field="username")
    return user


def list_users(session: Session) -> list[User]:
    return list(session.execute(select(User).order_by(User.username)).scalars())


def add_user(
    session: Session,
    username: str,
    display_name: str,
    roles: list[str],
    password: str,
    passphrase: str,
    issuer: str,
    actor: str,
) -> tuple[User, Enrolment]:
    """A new active user with a password and a fresh TOTP secret (returned once)."""
    username = username.strip()
    if not username or len(username) > 120 or any(c.isspace() for c in username):
        raise ComityError("a user name is 1 to 120 characters without spaces", field="username")
    if username.startswith((SESSION_PREFIX, TOKEN_PREFIX)):
        raise ComityError("a user name must not look like a token", field="username")
    exists = session.execute(select(User.id).where(User.username == username)).first()
    if exists:
        raise Conflict(f"user {username!r} already exists", field="username")
    roles = check_roles(roles)
    credentials.check_password_policy(password, username)
    user = User(
        username=username,
        display_name=display_name,
        roles=roles,
        password_hash=credentials.hash_password(password),
    )
    session.add(user)
    session.flush()
    enrolment = _enrol(user, passphrase, issuer)
    session.flush()
    audit.record(session, "accounts:user:created", actor, username, roles=roles)
    return user, enrolment


@contextmanager
def refusal_audited(
    sessions: sessionmaker[Session], actor: str, subject: str, action: str
) -> Iterator[None]:
    """For the edges (CLI, web, demo): wrap the transaction that creates an account, changes
    its roles or issues a token. A combination the separation of duties forbids rolls back
    with that transaction, so its refusal is written here in a transaction of its own
    (`accounts:roles:refused`, with the conflicting pairs) before the error goes on."""
    try:
        yield
    except IncompatibleRoles as exc:
        with transaction(sessions) as session:
            audit.record(
                session,
                "accounts:roles:refused",
                actor,
                subject,
                action=action,
                code=exc.code,
                conflicts=exc.details.get("conflicts"),
            )
        raise


@dataclass(frozen=True)
class AccountConflict:
    """An account or API token that holds roles the separation of duties keeps apart: made
    before the rule existed (the rule refuses new ones)."""

    kind: str  # "user" or "token"
    name: str  # the user name, or the token's id and its user
    active: bool
    conflicts: list[RoleConflict]


def role_conflicts(session: Session) -> list[AccountConflict]:
    """Every user and unrevoked API token whose roles conflict. Nothing is changed: an
    administrator decides which role each person keeps (`comity user roles`)."""
    found = [
        AccountConflict("user", u.username, u.active, conflicts(u.roles))
        for u in list_users(session)
        if conflicts(u.roles)
    ]
    now = utc_now()
    for token in list_tokens(session):
        roles = [r for r in token.roles.split(",") if r]
        if token.revoked_at is None and ensure_utc(token.expires_at) > now and conflicts(roles):
            name = f"{token.token_sha256[:12]} ({token.user})"
            found.append(AccountConflict("token", name, True, conflicts(roles)))
    return found


def _enrol(user: User, passphrase: str, issuer: str) -> Enrolment:
    secret = credentials.new_totp_secret()
    user.totp_ciphertext, user.totp_salt = credentials.seal_totp_secret(secret, user.id, passphrase)
    user.totp_last_step = 0
    return Enrolment(secret=secret, uri=credentials.provisioning_uri(secret, user.username, issuer))


def enroll_totp(
    session: Session, username: str, passphrase: str, issuer: str, actor: str
) -> Enrolment:
    """Replace the user's TOTP secret (lost phone); their open sessions end."""
    user = get_user(session, username)
    enrolment = _enrol(user, passphrase, issuer)
    ended = _end_sessions(session, user)
    audit.record(session, "accounts:user:totp-enrolled", actor, username, sessions_ended=ended)
    return enrolment


def set_password(session: Session, username: str, password: str, actor: str) -> User:
    """A new password; open sessions end and a lockout is lifted."""
    user = get_user(session, username)
    credentials.check_password_policy(password, username)
    user.password_hash = credentials.hash_password(password)
    user.password_changed_at = utc_now()
    user.failed_logins = 0
    user.locked_until = None
    ended = _end_sessions(session, user)
    audit.record(session, "accounts:user:password-changed", actor, username, sessions_ended=ended)
    return user


def set_roles(session: Session, username: str, roles: list[str], actor: str) -> User:
    user = get_user(session, username)
    before = list(user.roles)
    user.roles = check_roles(roles)
    audit.record(
        session, "accounts:user:roles-changed", actor, username, before=before, after=user.roles
    )
    return user


def disable_user(session: Session, username: str, actor: str) -> User:
    """The user can no longer log in; their sessions and the API tokens issued in their name
    end now."""
    user = get_user(session, username)
    user.active = False
    ended = _end_sessions(session, user)
    tokens = revoke_tokens_of(session, username)
    audit.record(
        session, "accounts:user:disabled", actor, username, sessions_ended=ended, tokens=tokens
    )
    return user


def enable_user(session: Session, username: str, actor: str) -> User:
    user = get_user(session, username)
    user.active = True
    user.failed_logins = 0
    user.locked_until = None
    audit.record(session, "accounts:user:enabled", actor, username)
    return user


def unlock_user(session: Session, username: str, actor: str) -> User:
    user = get_user(session, username)
    user.failed_logins = 0
    user.locked_until = None
    audit.record(session, "accounts:user:unlocked", actor, username)
    return user


def _end_sessions(session: Session, user: User) -> int:
    result = session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .values(revoked_at=utc_now())
    )
    return int(getattr(result, "rowcount", 0) or 0)


def login(
    session: Session,
    settings: NodeSettings,
    passphrase: str,
    username: str,
    password: str,
    code: str,
    source: str = "",
) -> LoginOutcome:
    """Check password and TOTP code; on success open a session. Every attempt is audited."""
    now = utc_now()
    # The row lock makes concurrent guesses count one by one against the lockout and stops a
    # TOTP code from being used twice in parallel (PostgreSQL; SQLite has one writer anyway).
    user = session.execute(
        select(User).where(User.username == username[:120]).with_for_update()
    ).scalar_one_or_none()
    password_ok = credentials.verify_password(user.password_hash if user else None, password)
    failure: LoginFailure | None = None
    if user is None:
        failure = LoginFailure.UNKNOWN_USER
    elif not user.active:
        failure = LoginFailure.DISABLED
    elif user.locked_until is not None and user.locked_until > now:
        failure = LoginFailure.LOCKED
    elif not password_ok:
        failure = LoginFailure.BAD_PASSWORD
    elif user.totp_ciphertext is None or user.totp_salt is None:
        failure = LoginFailure.NO_TOTP
    else:
        secret = credentials.open_totp_secret(
            user.totp_ciphertext, user.totp_salt, user.id, passphrase
        )
        step = credentials.matching_totp_step(secret, code, now, user.totp_last_step)
        if step is None:
            failure = LoginFailure.BAD_TOTP
        else:
            user.totp_last_step = step
    if user is None or failure is not None:
        _record_failure(session, settings, user, username, failure, source, now)
        return LoginOutcome(failure=failure or LoginFailure.UNKNOWN_USER)
    if credentials.needs_rehash(user.password_hash):
        user.password_hash = credentials.hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    token = credentials.new_token(SESSION_PREFIX)
    expires = now + timedelta(seconds=settings.session_max_seconds)
    session.add(
        UserSession(
            token_sha256=sha256_hex(token),
            user_id=user.id,
            created_at=now,
            expires_at=expires,
            last_seen_at=now,
            second_factor=True,
        )
    )
    session.flush()
    audit.record(
        session,
        "accounts:login:succeeded",
        user.username,
        user.username,
        session_id=sha256_hex(token)[:12],
        source=source or None,
    )
    return LoginOutcome(
        success=LoginSuccess(
            token=token, expires_at=expires, username=user.username, roles=list(user.roles)
        )
    )


def _record_failure(
    session: Session,
    settings: NodeSettings,
    user: User | None,
    username: str,
    failure: LoginFailure | None,
    source: str,
    now: datetime,
) -> None:
    locked_now = False
    if user is not None and failure in (LoginFailure.BAD_PASSWORD, LoginFailure.BAD_TOTP):
        user.failed_logins += 1
        if user.failed_logins >= settings.login_max_failures:
            user.locked_until = now + timedelta(seconds=settings.login_lockout_seconds)
            user.failed_logins = 0
            locked_now = True
    subject = username[:120]
    audit.record(
        session,
        "accounts:login:failed",
        subject if user is not None else "unknown",
        # An unknown name is often a password typed in the wrong field: keep only a digest.
        subject if user is not None else f"unknown:{sha256_hex(subject)[:16]}",
        reason=(failure or LoginFailure.UNKNOWN_USER).value,
        source=source or None,
    )
    if locked_now and user is not None:
        audit.record(
            session,
            "accounts:user:locked",
            "system",
            user.username,
            until=user.locked_until.isoformat() if user.locked_until else None,
        )


def logout(session: Session, token: str) -> None:
    row = session.get(UserSession, sha256_hex(token))
    if row is None or row.revoked_at is not None:
        return
    row.revoked_at = utc_now()
    user = session.get(User, row.user_id)
    audit.record(
        session,
        "accounts:session:ended",
        user.username if user else "unknown",
        row.token_sha256[:12],
    )


def authenticate(
    session: Session, settings: NodeSettings, bearer: str, *, touch: bool = True
) -> Principal:
    """The principal behind a session or API token; refuses an unknown, revoked or expired
    one, and a session whose user was disabled. `touch=False` for a request the user did not
    make (a page refreshing itself): it does not count as activity, so it never keeps an idle
    session alive."""
    now = utc_now()
    if bearer.startswith(SESSION_PREFIX):
        row = session.get(UserSession, sha256_hex(bearer))
        if row is None or row.revoked_at is not None:
            raise Unauthorized("unknown or ended session: log in again")
        idle_limit = row.last_seen_at + timedelta(seconds=settings.session_idle_seconds)
        if row.expires_at <= now or idle_limit <= now:
            raise Unauthorized("session expired: log in again")
        user = session.get(User, row.user_id)
        if user is None or not user.active or not row.second_factor:
            raise Unauthorized("unknown or ended session: log in again")
        if touch and now - row.last_seen_at >= _TOUCH_EVERY:
            row.last_seen_at = now
        return Principal(user=user.username, roles=frozenset(user.roles), kind="session")
    try:
        token = resolve_token(session, bearer)
    except NotFound:
        raise Unauthorized("unknown or revoked API token") from None
    if ensure_utc(token.expires_at) <= now:
        raise Unauthorized(
            f"API token expired on {ensure_utc(token.expires_at):%Y-%m-%d}: ask an"
            " administrator for a new one"
        )
    roles = frozenset(r for r in token.roles.split(",") if r)
    owner = session.execute(select(User).where(User.username == token.user)).scalar_one_or_none()
    if owner is not None:
        # A token issued to a user acts for that user: never beyond the roles the user holds
        # now, and not at all once the user is disabled.
        if not owner.active:
            raise Unauthorized("the token's user is disabled")
        roles = roles & frozenset(owner.roles)
    return Principal(user=token.user, roles=roles, kind="token")


TOKEN_DAYS = 90
"""How long an API token lasts unless its issuer says otherwise."""
TOKEN_DAYS_MAX = 366


def create_token(
    session: Session, user: str, roles: list[str], actor: str, days: int = TOKEN_DAYS
) -> str:
    """Issue an API token valid for `days` days; the secret is returned once and only its
    hash is kept."""
    roles = check_roles(roles)
    if not 1 <= days <= TOKEN_DAYS_MAX:
        raise ComityError(
            f"an API token lasts 1 to {TOKEN_DAYS_MAX} days, not {days}: issue a new one"
            " before it expires",
            field="days",
        )
    secret = credentials.new_token(TOKEN_PREFIX)
    expires = utc_now() + timedelta(days=days)
    session.add(
        ApiToken(
            token_sha256=sha256_hex(secret), user=user, roles=",".join(roles), expires_at=expires
        )
    )
    session.flush()
    audit.record(
        session,
        "node:token:created",
        actor,
        user,
        roles=roles,
        token=sha256_hex(secret)[:12],
        expires_at=expires.isoformat(),
    )
    return secret


def resolve_token(session: Session, secret: str) -> ApiToken:
    row = session.get(ApiToken, sha256_hex(secret))
    if row is None or row.revoked_at is not None:
        raise NotFound("unknown or revoked API token")
    return row


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.execute(select(ApiToken).order_by(ApiToken.created_at)).scalars())


def revoke_token(session: Session, token_id: str, actor: str) -> ApiToken:
    """Revoke the token whose id (the first characters of its SHA-256, as listed) is given."""
    if len(token_id) < 8:
        raise ComityError("give at least 8 characters of the token id", field="token_id")
    rows = list(
        session.execute(
            select(ApiToken).where(
                ApiToken.token_sha256.startswith(token_id.lower(), autoescape=True)
            )
        ).scalars()
    )
    if len(rows) != 1:
        raise NotFound(f"{len(rows)} tokens match {token_id!r}; give more characters")
    row = rows[0]
    if row.revoked_at is None:
        row.revoked_at = utc_now()
        audit.record(session, "node:token:revoked", actor, row.user, token=row.token_sha256[:12])
    return row


def revoke_tokens_of(session: Session, user: str) -> int:
    result = session.execute(
        update(ApiToken)
        .where(ApiToken.user == user, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utc_now())
    )
    return int(getattr(result, "rowcount", 0) or 0)
