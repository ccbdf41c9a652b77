"""Which roles may perform which act or read a request. Checked at every edge."""

from __future__ import annotations

from comity.kit.errors import Forbidden
from comity.protocol.acts import Act

OFFICIALS = frozenset({"central-authority-officer", "duty-officer"})

CREATE_ROLES = OFFICIALS | {"drafter"}
READ_ROLES = OFFICIALS | {"drafter", "authorising-officer", "provider-responder"}
ACT_ROLES: dict[Act, frozenset[str]] = {
    Act.SUBMIT: OFFICIALS | {"authorising-officer"},
    Act.ACKNOWLEDGE: OFFICIALS | {"provider-responder"},
    Act.ACCEPT: OFFICIALS | {"provider-responder"},
    Act.REFUSE: OFFICIALS | {"provider-responder"},
    Act.EXECUTE: OFFICIALS | {"provider-responder"},
    Act.WITHDRAW: OFFICIALS | {"authorising-officer"},
    Act.CLOSE: OFFICIALS | {"authorising-officer", "provider-responder"},
}


def require_any(roles: set[str], allowed: frozenset[str], what: str) -> None:
    if not roles & allowed:
        raise Forbidden(
            f"{what} needs one of the roles {', '.join(sorted(allowed))}", roles=sorted(roles)
        )


def require_act(roles: set[str], act: Act) -> None:
    require_any(roles, ACT_ROLES.get(act, OFFICIALS), f"the act '{act.value}'")
