"""The law as data with citations, and a pure evaluator over it and the directory.

See `README.md` beside this file: the rules live in `data/*.yaml`; code only applies them.
"""

from comity.law.errors import (
    InstrumentNotInForce,
    LawDataInvalid,
    LawError,
    NoApplicableInstrument,
    NoSuchRule,
    ReasonsRequired,
    RefusalGroundNotAllowed,
    UnknownInstrument,
    UnknownKind,
    UnknownParty,
)
from comity.law.evaluator import (
    FINDING_CODES,
    ApplicableInstrument,
    DeclarationView,
    Finding,
    Notification,
    PartyProfile,
    Route,
    applicable_instruments,
    check_request,
    error_finding,
    party_profile,
    required_elements,
    route,
)
from comity.law.grounds import (
    AllowedGround,
    Refusing,
    allowed_grounds,
    check_postponement_grounds,
    check_refusal_grounds,
)
from comity.law.loader import get_law, load_law
from comity.law.schemas import emergency_kinds, request_schema
from comity.law.timing import Deadline, deadlines, preservation_minimum_days

__all__ = [
    "FINDING_CODES",
    "AllowedGround",
    "ApplicableInstrument",
    "Deadline",
    "DeclarationView",
    "Finding",
    "InstrumentNotInForce",
    "LawDataInvalid",
    "LawError",
    "NoApplicableInstrument",
    "NoSuchRule",
    "Notification",
    "PartyProfile",
    "ReasonsRequired",
    "RefusalGroundNotAllowed",
    "Refusing",
    "Route",
    "UnknownInstrument",
    "UnknownKind",
    "UnknownParty",
    "allowed_grounds",
    "applicable_instruments",
    "check_postponement_grounds",
    "check_refusal_grounds",
    "check_request",
    "deadlines",
    "emergency_kinds",
    "error_finding",
    "get_law",
    "load_law",
    "party_profile",
    "preservation_minimum_days",
    "request_schema",
    "required_elements",
    "route",
]
