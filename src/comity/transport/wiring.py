"""Which handler takes which inbound message type, timer kind and delivery event, and what
other features do when a request moves.

Each feature names its own handlers in one place (`cases.tasks.handlers`,
`duty.service.timer_handlers`, `messaging.delivery.timer_handlers`, ...); they are put
together here. Requests do not know the 24/7 desk: the desk's reactions are handed to them as
`CaseHooks`, installed by `message_handlers` and `timer_handlers` — the assembly every node
process goes through (the app builds its message handlers, the worker its timer handlers).
"""

from __future__ import annotations

from comity.audit import checkpoint
from comity.cases import service as cases
from comity.cases import tasks as case_tasks
from comity.cases import workflow
from comity.cases.messages import ACT_MESSAGE, RECEIPT_MESSAGE
from comity.duty import service as duty
from comity.evidence import handlers as evidence
from comity.messaging import delivery
from comity.messaging.delivery import DeliveryHooks
from comity.messaging.inbox import MessageHandler
from comity.nodes.runtime import Node
from comity.notifications import service as notifications
from comity.timers.service import TimerHandler
from comity.witnesses import service as witnesses


def case_hooks() -> workflow.CaseHooks:
    return workflow.CaseHooks(
        on_urgent_received=[duty.assign],
        on_answered=[duty.acknowledged],
    )


def message_handlers() -> dict[str, MessageHandler]:
    workflow.install(case_hooks())
    return {
        ACT_MESSAGE: cases.receive_act,
        RECEIPT_MESSAGE: cases.receive_receipt,
        checkpoint.CHECKPOINT_MESSAGE: witnesses.receive_checkpoint,
        **evidence.message_handlers(),
    }


def timer_handlers(node: Node) -> dict[str, TimerHandler]:
    workflow.install(case_hooks())
    return {
        **delivery.timer_handlers(node),
        **case_tasks.handlers(node),
        **duty.timer_handlers(node.settings),
        notifications.EMAIL_TIMER: notifications.email_handler(node.settings),
    }


def delivery_hooks() -> DeliveryHooks:
    return DeliveryHooks(on_delivered=[cases.on_delivered], on_rejected=[])
