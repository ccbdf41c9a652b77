"""Create, list and read notifications; e-mail is sent by a timer after the commit.

An e-mail is a durable timer (`notification-email`) written with the notification, so it is
sent only if the step that caused it commits, survives restarts, and is retried with back-off
when the SMTP server is down. SMTP may deliver twice if the node dies between the server's
answer and our commit: e-mail is at-least-once.
"""

from __future__ import annotations

import smtplib
from datetime import timedelta
from email.message import EmailMessage

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from comity.audit import service as audit
from comity.kit.clock import utc_now
from comity.kit.errors import NotFound
from comity.kit.settings import NodeSettings
from comity.notifications.models import Notification
from comity.timers import service as timers
from comity.timers.models import Timer
from comity.timers.service import TimerHandler

EMAIL_TIMER = "notification-email"


def notify(
    session: Session,
    audience: str,
    topic: str,
    text: str,
    case_id: str | None = None,
    email_to: str | None = None,
) -> Notification:
    """Queue a notification for `audience` (`user:<id>` or `role:<role>`)."""
    note = Notification(
        audience=audience,
        topic=topic,
        case_id=case_id,
        text=text,
        email_to=email_to or None,
        email_status="pending" if email_to else "none",
    )
    session.add(note)
    if email_to:
        session.flush()  # the e-mail timer names the notification's id
        timers.schedule(session, EMAIL_TIMER, f"{note.id}:1", utc_now(), notification=note.id)
    return note


def notify_role(session: Session, role: str, topic: str, text: str, case_id: str | None) -> None:
    notify(session, f"role:{role}", topic, text, case_id)


def for_caller(
    session: Session, user: str, roles: set[str], unread_only: bool = False
) -> list[Notification]:
    audiences = [f"user:{user}", *(f"role:{r}" for r in sorted(roles))]
    query = select(Notification).where(Notification.audience.in_(audiences))
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return list(session.execute(query.order_by(Notification.id.desc()).limit(500)).scalars())


def mark_read(session: Session, notification_id: int, user: str, roles: set[str]) -> Notification:
    note = session.get(Notification, notification_id)
    audiences = {f"user:{user}", *(f"role:{r}" for r in roles)}
    if note is None or note.audience not in audiences:
        raise NotFound(f"no notification {notification_id} for you", field="notification_id")
    if note.read_at is None:
        note.read_at = utc_now()
        audit.record(session, "notifications:notification:read", user, str(note.id))
    return note


def about_case(session: Session, case_id: str) -> list[Notification]:
    return list(
        session.execute(
            select(Notification)
            .where(or_(Notification.case_id == case_id))
            .order_by(Notification.id)
        ).scalars()
    )


def send_email(settings: NodeSettings, to: str, subject: str, text: str) -> None:
    """Send one message through the configured SMTP server; raises on failure."""
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(text)
    with smtplib.SMTP(
        settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds
    ) as client:
        if settings.smtp_starttls:
            client.starttls()
        if settings.smtp_username:
            password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
            client.login(settings.smtp_username, password)
        client.send_message(message)


def email_handler(settings: NodeSettings) -> TimerHandler:
    """Timer handler: send a notification's e-mail, or schedule a retry with back-off."""

    def fire(session: Session, timer: Timer) -> None:
        note = session.get(Notification, int(timer.data.get("notification", 0)))
        if note is None or note.email_status != "pending" or not note.email_to:
            return
        note.email_attempts += 1
        if not settings.smtp_host:
            note.email_status = "failed"
            audit.record(
                session, "notifications:email:failed", "system", str(note.id), code="no_smtp_host"
            )
            return
        try:
            send_email(
                settings,
                note.email_to,
                f"[comity {settings.participant_id}] {note.topic}",
                note.text,
            )
        except (OSError, smtplib.SMTPException) as exc:
            if note.email_attempts >= settings.email_max_attempts:
                note.email_status = "failed"
                audit.record(
                    session,
                    "notifications:email:failed",
                    "system",
                    str(note.id),
                    code=type(exc).__name__,
                )
                return
            delay = timedelta(seconds=min(2**note.email_attempts * 5, 3600))
            timers.schedule(
                session,
                EMAIL_TIMER,
                f"{note.id}:{note.email_attempts + 1}",
                utc_now() + delay,
                notification=note.id,
            )
            return
        note.email_status = "sent"
        note.emailed_at = utc_now()
        audit.record(session, "notifications:email:sent", "system", str(note.id))

    return fire
