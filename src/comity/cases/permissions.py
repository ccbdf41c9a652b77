"""Which roles may perform which act or read a request. Checked at every edge."""

from __future__ import annotations

from comity.kit.errors import Forbidden
from comity.protocol.acts import Act

OFFICIALS = frozenset({"central-authority-officer", "duty-officer"})

# Drafters write requests as drafts (requests/), which need a second officer's approval before
# dispatch; the direct path is the officials' own channel (24/7 desk, central authority).
CREATE_ROLES = OFFICIALS
READ_ROLES = OFFICIALS | {"drafter", "authorising-officer", "provider-responder"}
RESPONDERS = OFFICIALS | {"provider-responder"}
ACT_ROLES: dict[Act, frozenset[str]] = {
    Act.SUBMIT: OFFICIALS | {"authorising-officer"},
    Act.ACKNOWLEDGE: RESPONDERS,
    Act.REQUEST_INFORMATION: RESPONDERS,
    Act.PROVIDE_INFORMATION: OFFICIALS | {"drafter"},
    Act.ACCEPT: RESPONDERS,
    Act.PROPOSE_CONDITIONS: OFFICIALS,
    Act.ACCEPT_CONDITIONS: OFFICIALS | {"authorising-officer"},
    Act.DECLINE_CONDITIONS: OFFICIALS | {"authorising-officer"},
    Act.CONSULT: OFFICIALS,
    Act.POSTPONE: OFFICIALS,
    Act.REFUSE: RESPONDERS,
    Act.EXECUTE_PARTIALLY: RESPONDERS,
    Act.EXECUTE: RESPONDERS,
    Act.STATUS_QUERY: OFFICIALS | {"drafter"},
    Act.STATUS_REPORT: RESPONDERS,
    Act.EXTEND: RESPONDERS,
    Act.CONFIRM_FORMALLY: OFFICIALS | {"authorising-officer"},
    Act.WITHDRAW: OFFICIALS | {"authorising-officer"},
    Act.NOTIFY_DISCLOSURE: OFFICIALS,
    Act.CLOSE: OFFICIALS | {"authorising-officer", "provider-responder"},
}


def require_any(roles: set[str], allowed: frozenset[str], what: str) -> None:
    if not roles & allowed:
        raise Forbidden(
            f"{what} needs one of the roles {', '.join(sorted(allowed))}", roles=sorted(roles)
        )


def require_act(roles: set[str], act: Act) -> None:
    require_any(roles, ACT_ROLES.get(act, OFFICIALS), f"the act '{act.value}'")
