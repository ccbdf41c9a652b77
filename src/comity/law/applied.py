"""Which instrument a check applied, and why: named by the request, preferred by treaty
priority over others that also bind the pair, the only one binding them, or the fallback
(reciprocity) because no treaty with this kind of request binds them on the date — with the
reason each other instrument does not apply, and the route the request takes. Pure: computed
from the law data and the directory, like the findings, so an officer sees what the findings
were measured against."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from comity.directory.document import Directory
from comity.law.errors import LawError
from comity.law.loader import get_law
from comity.law.routing import applicable_instruments, route

#: Why an instrument was applied (stable codes; the sentence says it in English).
NAMED, PREFERRED, ONLY, FALLBACK = "named", "preferred", "only", "fallback"


@dataclass(frozen=True, slots=True)
class NotApplied:
    """Another instrument offering this kind of request, and why it was not applied."""

    instrument: str
    reason: str


@dataclass(frozen=True, slots=True)
class RouteSummary:
    channel: str
    to: str
    state: str
    citation: str
    verified: bool
    alternatives: list[str] = field(default_factory=list)
    copies: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Applied:
    instrument: str
    title: str
    citation: str
    verified: bool
    treaty: str | None
    why: str
    explanation: str
    route: RouteSummary
    also_binding: list[str] = field(default_factory=list)
    not_applied: list[NotApplied] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def applied(directory: Directory, document: dict[str, Any], on: date) -> Applied | None:
    """The instrument and route a request document is checked under on `on`; None when the
    law cannot name one (the findings then carry the error)."""
    law = get_law()
    kind = str(document.get("kind") or "")
    requesting = str(document.get("requesting_party") or "")
    requested = str(document.get("requested_party") or "")
    named = str(document.get("instrument") or "") or None
    try:
        found = applicable_instruments(directory, requesting, requested, on, kind, named)
        usable = [i for i in found if i.usable or named]
        if not usable:
            return None
        way = route(directory, requesting, requested, kind, on, named)
    except LawError:
        return None
    chosen = usable[0]
    others = [i.instrument for i in usable[1:]]
    not_applied = [
        NotApplied(i.instrument, f"its general procedure is displaced by treaty {i.displaced_by}")
        for i in found
        if not i.usable
    ]
    considered = {i.instrument for i in found}
    for inst in sorted(law.instruments.values(), key=lambda i: i.priority):
        if inst.id in considered or kind not in inst.kinds or named:
            continue
        try:
            applicable_instruments(directory, requesting, requested, on, kind, inst.id)
        except LawError as exc:
            not_applied.append(NotApplied(inst.id, exc.message))
    title = law.instruments[chosen.instrument].title
    when = on.isoformat()
    if named:
        why, text = NAMED, f"the request names {title}, which binds both parties on {when}"
    elif law.instruments[chosen.instrument].fallback_only:
        why = FALLBACK
        text = (
            f"no instrument with a {kind} request binds {requesting} and {requested} on {when}:"
            f" {title} applies as the fallback"
        )
    elif others:
        why = PREFERRED
        text = (
            f"{title} binds both parties on {when} and comes before "
            f"{', '.join(others)} in the order of priority of the law data"
        )
    else:
        why, text = ONLY, f"{title} is the only instrument binding both parties on {when}"
    return Applied(
        instrument=chosen.instrument,
        title=title,
        citation=chosen.citation,
        verified=chosen.verified,
        treaty=chosen.treaty,
        why=why,
        explanation=text,
        route=RouteSummary(
            channel=way.channel,
            to=way.to,
            state=way.state,
            citation=way.citation,
            verified=way.verified,
            alternatives=list(way.alternatives),
            copies=[f"{c.role} of {c.to} ({c.citation})" for c in way.copies],
        ),
        also_binding=others,
        not_applied=not_applied,
    )
