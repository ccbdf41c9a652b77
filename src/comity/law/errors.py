"""Errors of the law evaluator: each names the field at fault and, where there is one, the
article concerned, so a practitioner can see what to change."""

from __future__ import annotations

from comity.kit.errors import ComityError, ConfigurationError


class LawError(ComityError):
    """A request or question the law cannot answer as put."""

    status_code = 422
    code = "law_error"


class UnknownParty(LawError):
    status_code = 404
    code = "unknown_party"


class UnknownKind(LawError):
    code = "unknown_kind"


class UnknownInstrument(LawError):
    code = "unknown_instrument"


class InstrumentNotInForce(LawError):
    """An explicitly chosen instrument does not bind the pair on the date."""

    code = "instrument_not_in_force"


class NoApplicableInstrument(LawError):
    code = "no_applicable_instrument"


class NoSuchRule(LawError):
    """The instrument has no rule of the kind asked for (e.g. no preservation period)."""

    code = "no_such_rule"


class RefusalGroundNotAllowed(LawError):
    """A refusal or postponement ground the instrument does not permit for the kind."""

    code = "refusal_ground_not_allowed"


class ReasonsRequired(LawError):
    """A refusal or postponement without reasons (whitespace is not a reason)."""

    code = "reasons_required"


class LawDataInvalid(ConfigurationError):
    """A law data file is malformed; the message names the file and line."""

    code = "law_data_invalid"
