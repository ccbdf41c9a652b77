"""Which function takes which evidence message from a peer (`transport/wiring.py` gathers
the handlers of every feature)."""

from __future__ import annotations

from comity.evidence import consents, offers, use
from comity.evidence.payloads import (
    CONSENT_MESSAGE,
    CONSENT_REQUEST_MESSAGE,
    NOTICE_MESSAGE,
    OFFER_MESSAGE,
    RECEIVED_MESSAGE,
    USE_REPORT_MESSAGE,
    USE_REPORT_REQUEST_MESSAGE,
)
from comity.messaging.inbox import MessageHandler


def message_handlers() -> dict[str, MessageHandler]:
    return {
        OFFER_MESSAGE: offers.receive_offer,
        RECEIVED_MESSAGE: offers.receive_received,
        CONSENT_REQUEST_MESSAGE: consents.receive_consent_request,
        CONSENT_MESSAGE: consents.receive_consent,
        NOTICE_MESSAGE: use.receive_notice,
        USE_REPORT_REQUEST_MESSAGE: use.receive_use_report_request,
        USE_REPORT_MESSAGE: use.receive_use_report,
    }
