"""Notifications by e-mail through a real SMTP server (aiosmtpd on 127.0.0.1), sent by a timer
after the commit, retried when the server is down, and listed in-app for the right people."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message

from comity.kit.db import transaction
from comity.notifications import service as notifications
from comity.notifications.models import Notification
from tests.cases.conversation import frozen, tick
from tests.support import World


class Inbox(Message):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[object] = []

    def handle_message(self, message: object) -> None:
        self.messages.append(message)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


def _notify(world: World) -> int:
    with transaction(world.nodes["XB"].sessions) as session:
        note = notifications.notify(
            session,
            "user:o1",
            "duty-assignment",
            "Request r-1: acknowledge by 13:00 UTC.",
            "r-1",
            "o1@xb.invalid",
        )
        return note.id


def _status(world: World, note_id: int) -> tuple[str, int]:
    with world.nodes["XB"].sessions() as session:
        note = session.get(Notification, note_id)
        assert note is not None
        return note.email_status, note.email_attempts


def test_notification_is_emailed_through_the_smtp_server(world: World, smtp) -> None:
    handler, port = smtp
    world.nodes["XB"].settings.smtp_host = "127.0.0.1"
    world.nodes["XB"].settings.smtp_port = port
    note_id = _notify(world)
    tick(world, "XB")
    assert _status(world, note_id) == ("sent", 1)
    assert len(handler.messages) == 1
    message = handler.messages[0]
    assert message["To"] == "o1@xb.invalid"  # type: ignore[index]
    assert "duty-assignment" in message["Subject"]  # type: ignore[index]
    assert tick(world, "XB") == 0


def test_email_is_retried_until_the_server_answers(world: World, smtp) -> None:
    from datetime import timedelta

    handler, port = smtp
    settings = world.nodes["XB"].settings
    settings.smtp_host = "127.0.0.1"
    settings.smtp_port = _free_port()  # nobody listens there
    with frozen() as clock:
        note_id = _notify(world)
        tick(world, "XB")
        assert _status(world, note_id) == ("pending", 1)
        settings.smtp_port = port
        clock.advance(timedelta(seconds=11))
        tick(world, "XB")
    assert _status(world, note_id) == ("sent", 2)
    assert len(handler.messages) == 1


def test_nothing_is_sent_when_the_step_rolls_back(world: World, smtp) -> None:
    handler, port = smtp
    world.nodes["XB"].settings.smtp_host = "127.0.0.1"
    world.nodes["XB"].settings.smtp_port = port

    def failing_step() -> None:
        with transaction(world.nodes["XB"].sessions) as session:
            notifications.notify(session, "user:o1", "t", "x", None, "o1@xb.invalid")
            raise RuntimeError("the act failed")

    with pytest.raises(RuntimeError):
        failing_step()
    assert tick(world, "XB") == 0
    assert handler.messages == []


def test_in_app_list_shows_own_and_role_notifications_only(world: World) -> None:
    with transaction(world.nodes["XB"].sessions) as session:
        notifications.notify(session, "user:o1", "a", "for o1")
        notifications.notify(session, "role:duty-officer", "b", "for the desk")
        notifications.notify(session, "user:o2", "c", "for o2")
    with world.nodes["XB"].sessions() as session:
        seen = notifications.for_caller(session, "o1", {"duty-officer"})
    assert sorted(n.text for n in seen) == ["for o1", "for the desk"]
    with transaction(world.nodes["XB"].sessions) as session:
        read = notifications.mark_read(session, seen[0].id, "o1", {"duty-officer"})
        assert read.read_at is not None
