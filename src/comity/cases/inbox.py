"""The inbox: this node's requests, incoming and outgoing, ordered by what is due next, with
the marks an officer must not miss (emergency, preservation about to expire, overdue).

Pure data access: no HTML, no audit (the edge that shows the list audits the listing).
What is an emergency kind and how long before expiry a preservation warns come from data
(the law data and the node's settings), never from a list in this code.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from comity import law
from comity.cases import workflow
from comity.cases.models import Case
from comity.kit.clock import utc_now
from comity.kit.settings import NodeSettings
from comity.protocol.acts import Act, Side
from comity.protocol.kinds import table_for
from comity.timers.models import Timer

INCOMING = "incoming"
OUTGOING = "outgoing"
DIRECTIONS = (INCOMING, OUTGOING)

#: Where a row's due time comes from, besides a timer's own kind.
DUE_DEADLINE = "deadline"
DUE_EXPIRY = "preservation-expiry"
#: The acknowledgement we owe an urgent request we received (24/7 channel): the same time
#: after its arrival as the requesting node waits before flagging it
#: (`acknowledgement_expected_seconds`), so the side that owes the act sees the deadline the
#: other side counts, even when no duty officer was there to be given the desk's own deadline.
DUE_ACK_OWED = "acknowledgement-owed"

#: Timers that are not deadlines of the request itself (mail delivery and the like).
NOT_DEADLINES = frozenset({"notification-email"})

#: Deadlines the requested party owes an answer by.
ANSWER_DEADLINES = frozenset(
    {workflow.REQUEST_DEADLINE, workflow.LAW_DEADLINE, workflow.STATUS_ANSWER, "duty-ack-deadline"}
)

#: Acts that answer a request: while one of them is still open to us, our answer is missing.
ANSWER_ACTS = frozenset(
    {Act.ACKNOWLEDGE, Act.ACCEPT, Act.REFUSE, Act.EXECUTE, Act.EXECUTE_PARTIALLY, Act.STATUS_REPORT}
)


@cache
def emergency_kinds() -> frozenset[str]:
    """Kinds the law data marks `emergency: true` (e.g. budapest-p2 9 and 10)."""
    return law.emergency_kinds()


def direction_of(case: Case) -> str:
    return INCOMING if case.side == Side.REQUESTED.value else OUTGOING


@dataclass
class InboxRow:
    case: Case
    direction: str
    due_at: datetime | None
    due_what: str
    emergency: bool
    expiring: bool
    overdue: bool

    @property
    def id(self) -> str:
        return self.case.id


@dataclass
class Inbox:
    rows: list[InboxRow]
    total: int
    counts: dict[str, int] = field(default_factory=dict)
    states: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)


def _open(case: Case) -> bool:
    return case.state not in workflow.ENDED


def _answer_missing(case: Case) -> bool:
    """Whether an answering act is still open to us (the requested party) now."""
    if case.side != Side.REQUESTED.value or not _open(case):
        return False
    try:
        allowed = table_for(case.kind).allowed(case.state)
    except Exception:  # an unknown kind is shown, never hidden
        return False
    return any(t.by is Side.REQUESTED and t.act in ANSWER_ACTS for t in allowed)


def _acknowledgement_owed(case: Case) -> bool:
    """Whether we (the requested party) still owe the urgent request its acknowledgement."""
    if case.side != Side.REQUESTED.value or not _open(case) or not workflow.urgent(case):
        return False
    try:
        allowed = table_for(case.kind).allowed(case.state)
    except Exception:  # an unknown kind is shown, never hidden
        return False
    return any(t.by is Side.REQUESTED and t.act is Act.ACKNOWLEDGE for t in allowed)


def row_for(case: Case, timers: list[Timer], settings: NodeSettings, now: datetime) -> InboxRow:
    """The inbox row of `case`, given its timers (pending, fired and cancelled)."""
    candidates: list[tuple[datetime, str]] = []
    if _open(case):
        for timer in timers:
            pending = timer.fired_at is None and timer.cancelled_at is None
            if pending and timer.kind not in NOT_DEADLINES:
                candidates.append((timer.due_at, timer.kind))
        if case.deadline_at is not None:
            candidates.append((case.deadline_at, DUE_DEADLINE))
        if case.preserved_until is not None:
            candidates.append((workflow.expiry_time(case), DUE_EXPIRY))
    owed_at = None
    if _acknowledgement_owed(case):
        owed_at = case.created_at + timedelta(seconds=settings.acknowledgement_expected_seconds)
        candidates.append((owed_at, DUE_ACK_OWED))
    due_at, due_what = min(candidates, key=lambda c: c[0]) if candidates else (None, "")
    expiring = False
    if case.preserved_until is not None and _open(case):
        warn = timedelta(days=max(settings.preservation_warning_days, default=0))
        expiring = workflow.expiry_time(case) - now <= warn
    overdue = False
    if _answer_missing(case):
        passed = [
            t.due_at
            for t in timers
            if t.kind in ANSWER_DEADLINES and t.cancelled_at is None and t.due_at <= now
        ]
        if case.deadline_at is not None and case.deadline_at <= now:
            passed.append(case.deadline_at)
        if owed_at is not None and owed_at <= now:
            passed.append(owed_at)
        overdue = bool(passed)
    return InboxRow(
        case=case,
        direction=direction_of(case),
        due_at=due_at,
        due_what=due_what,
        emergency=case.kind in emergency_kinds(),
        expiring=expiring,
        overdue=overdue,
    )


def _sort_key(row: InboxRow) -> tuple[int, float, float]:
    # Due rows first, earliest first; then the rest, the latest change first.
    if row.due_at is not None:
        return (0, row.due_at.timestamp(), 0.0)
    return (1, 0.0, -row.case.state_at.timestamp())


def inbox(
    session: Session,
    settings: NodeSettings,
    direction: str = "",
    state: str = "",
    kind: str = "",
    now: datetime | None = None,
) -> Inbox:
    """The requests of this node matching the filters, sorted by what is due next, with the
    number of requests per direction and per mark (before filtering by them)."""
    now = now or utc_now()
    all_cases = list(session.execute(select(Case)).scalars())
    by_case: dict[str, list[Timer]] = defaultdict(list)
    ids = [c.id for c in all_cases]
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for timer in session.execute(select(Timer).where(Timer.case_id.in_(chunk))).scalars():
            if timer.case_id is not None:
                by_case[timer.case_id].append(timer)
    rows = [row_for(c, by_case.get(c.id, []), settings, now) for c in all_cases]
    counts = {
        "all": len(rows),
        INCOMING: sum(r.direction == INCOMING for r in rows),
        OUTGOING: sum(r.direction == OUTGOING for r in rows),
        "emergency": sum(r.emergency for r in rows),
        "expiring": sum(r.expiring for r in rows),
        "overdue": sum(r.overdue for r in rows),
    }
    states = sorted({r.case.state for r in rows})
    kinds = sorted({r.case.kind for r in rows})
    shown = [
        r
        for r in rows
        if (not direction or r.direction == direction)
        and (not state or r.case.state == state)
        and (not kind or r.case.kind == kind)
    ]
    shown.sort(key=_sort_key)
    return Inbox(rows=shown, total=len(shown), counts=counts, states=states, kinds=kinds)
