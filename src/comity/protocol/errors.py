"""Why an envelope, receipt or act was refused. Messages are safe to return to a peer node:
they never include the content of a message."""

from __future__ import annotations

from comity.kit.errors import ComityError


class EnvelopeError(ComityError):
    status_code = 400
    code = "envelope_invalid"


class MalformedEnvelope(EnvelopeError):
    code = "envelope_malformed"


class WrongRecipient(EnvelopeError):
    status_code = 421
    code = "wrong_recipient"


class UndecryptableEnvelope(EnvelopeError):
    code = "envelope_undecryptable"


class BadSignature(EnvelopeError):
    status_code = 403
    code = "bad_signature"


class UnknownSenderKey(EnvelopeError):
    status_code = 403
    code = "unknown_sender_key"


class RevokedKey(EnvelopeError):
    status_code = 403
    code = "revoked_key"


class HeaderMismatch(EnvelopeError):
    code = "header_mismatch"


class ReplayedMessage(EnvelopeError):
    status_code = 409
    code = "replayed_message"


class OutsideClockWindow(EnvelopeError):
    code = "outside_clock_window"


class ActNotAllowed(ComityError):
    """The act is not in the transition table for the conversation's current state."""

    status_code = 409
    code = "act_not_allowed"


class WrongParty(ComityError):
    """The act is in the table for this state but belongs to the other party."""

    status_code = 403
    code = "wrong_party"


class InvalidActBody(ComityError):
    status_code = 422
    code = "invalid_act"
