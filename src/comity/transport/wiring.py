"""Which handler takes which inbound message type, timer kind and delivery event."""

from __future__ import annotations

from comity.audit import checkpoint
from comity.cases import service as cases
from comity.evidence import handlers as evidence
from comity.messaging.delivery import DeliveryHooks, receipt_deadline_handler
from comity.messaging.inbox import MessageHandler
from comity.messaging.outbox import RECEIPT_DEADLINE
from comity.nodes.runtime import Node
from comity.timers.service import TimerHandler
from comity.witnesses import service as witnesses


def message_handlers() -> dict[str, MessageHandler]:
    return {
        cases.ACT_MESSAGE: cases.receive_act,
        cases.RECEIPT_MESSAGE: cases.receive_receipt,
        checkpoint.CHECKPOINT_MESSAGE: witnesses.receive_checkpoint,
        **evidence.message_handlers(),
    }


def timer_handlers(node: Node) -> dict[str, TimerHandler]:
    from comity.cases import tasks as case_tasks
    from comity.duty import service as duty
    from comity.notifications import service as notifications

    return {
        RECEIPT_DEADLINE: receipt_deadline_handler(node),
        cases.RETRIEVAL_DEADLINE: cases.retrieval_deadline_handler(node),
        **case_tasks.handlers(),
        duty.ACK_TIMER: duty.escalation_handler(node.settings),
        notifications.EMAIL_TIMER: notifications.email_handler(node.settings),
    }


def delivery_hooks() -> DeliveryHooks:
    return DeliveryHooks(on_delivered=[cases.on_delivered], on_rejected=[])
