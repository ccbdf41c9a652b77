"""The directory of participants: the current signed version, each participant's contacts,
languages, declarations, keys and the instruments in force between us and them, and the
versions this node has kept. Every signed-in user may read it; it holds no case data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from babel import Locale, UnknownLocaleError
from fastapi import APIRouter, Request
from fastapi.responses import Response

from comity.directory import service as directory_service
from comity.directory.document import Directory, Participant
from comity.documents.messages import INSTRUMENT_TITLES
from comity.kit.clock import ensure_utc, utc_now
from comity.kit.db import transaction
from comity.kit.errors import ComityError, NotFound
from comity.law import LawError, party_profile
from comity.law.loader import get_law
from comity.law.parties import ratified, treaties_between
from comity.web.core import PageUser, node_of, render
from comity.web.i18n import N_

router = APIRouter(include_in_schema=False)

TYPES = {"state": N_("State"), "provider": N_("Service provider"), "registry": N_("Registry")}
ROLES = {
    "central-authority": N_("Central authority"),
    "24/7-contact": N_("24/7 point of contact"),
    "extradition-authority": N_("Extradition authority"),
    "designated-authority": N_("Designated authority"),
    "legal-representative": N_("Legal representative"),
}
DECLARATION_TYPES = {"declaration": N_("Declaration"), "reservation": N_("Reservation")}
KEY_USES = {"sig": N_("Signature"), "enc": N_("Encryption")}


@dataclass(frozen=True)
class InForce:
    """An instrument binding us and a participant, and from when (None: no date known)."""

    instrument: str
    since: date | None
    until: date | None
    treaty: str = ""


def language_name(code: str, lang: str) -> str:
    try:
        return str(Locale.parse(code).get_display_name(lang) or code)
    except (UnknownLocaleError, ValueError):
        return code


def _later(a: date | None, b: date | None) -> date | None:
    return max(d for d in (a, b) if d is not None) if (a or b) else None


def _earlier(a: date | None, b: date | None) -> date | None:
    return min(d for d in (a, b) if d is not None) if (a or b) else None


def instruments_in_force(directory: Directory, us: str, them: str, on: date) -> list[InForce]:
    """The multilateral instruments both parties are bound by on `on` (from the later of the
    two dates) and the treaties binding the pair."""
    ours, theirs = directory.participant(us), directory.participant(them)
    if ours is None or theirs is None or us == them:
        return []
    found: list[InForce] = []
    law = get_law()
    for inst in sorted(law.instruments.values(), key=lambda i: i.priority):
        if inst.binds_by != "ratification":
            continue
        if ratified(ours, inst.id, on) and ratified(theirs, inst.id, on):
            mine = [r for r in ours.instruments if r.instrument == inst.id]
            other = [r for r in theirs.instruments if r.instrument == inst.id]
            since = _later(mine[0].in_force_from, other[0].in_force_from)
            until = _earlier(mine[0].until, other[0].until)
            found.append(InForce(inst.id, since, until))
    for treaty in treaties_between(directory, us, them, on):
        found.append(InForce(treaty.instrument, treaty.in_force_from, treaty.until, treaty.id))
    return found


def _matches(participant: Participant, query: str, kind: str) -> bool:
    if kind and participant.type != kind:
        return False
    if not query:
        return True
    text = " ".join(
        [participant.id, participant.name, participant.endpoint, *participant.languages]
    ).lower()
    return query.lower() in text


def _current(request: Request) -> tuple[Directory | None, bool, str]:
    """The current directory (even if expired), whether its signature verifies with the
    pinned registry key now, and that key's id."""
    node = node_of(request)
    key = node.settings.registry_key or {}
    with transaction(node.sessions) as session:
        try:
            directory = directory_service.current(session, require_valid=False)
            token = directory_service.current_token(session)
        except ComityError:
            return None, False, str(key.get("kid", ""))
    try:
        directory_service.verify_token(token, node.settings.registry_key)
        verified = True
    except ComityError:
        verified = False
    return directory, verified, str(key.get("kid", ""))


def _common(directory: Directory | None) -> dict[str, Any]:
    expired = directory is not None and ensure_utc(directory.expires_at) <= utc_now()
    return dict(TYPES=TYPES, ROLES=ROLES, INSTRUMENT_TITLES=INSTRUMENT_TITLES, expired=expired)


@router.get("/directory")
def directory_page(request: Request, user: PageUser, q: str = "", type: str = "") -> Response:
    directory, verified, kid = _current(request)
    query = q.strip()[:100]
    kind = type if type in TYPES else ""
    shown = [p for p in directory.participants if _matches(p, query, kind)] if directory else []
    return render(
        request,
        "directory/index.html",
        user,
        directory=directory,
        verified=verified,
        registry_kid=kid,
        participants=shown,
        q=query,
        type=kind,
        language_name=language_name,
        **_common(directory),
    )


@router.get("/directory/history")
def history_page(request: Request, user: PageUser) -> Response:
    node = node_of(request)
    with transaction(node.sessions) as session:
        versions = [
            dict(
                version=s.version,
                issued_at=ensure_utc(s.issued_at),
                expires_at=ensure_utc(s.expires_at),
                imported_at=ensure_utc(s.imported_at),
                source=s.source,
                sha256=s.sha256,
            )
            for s in reversed(directory_service.history(session))
        ]
    return render(request, "directory/history.html", user, versions=versions)


@router.get("/directory/{participant_id}")
def participant_page(request: Request, user: PageUser, participant_id: str) -> Response:
    directory, _verified, _kid = _current(request)
    if directory is None:
        raise NotFound("this node holds no directory yet: import or pull one")
    participant = directory.participant(participant_id)
    if participant is None:
        raise NotFound(f"{participant_id} is not in directory version {directory.version}")
    node = node_of(request)
    today = utc_now().date()
    in_force = instruments_in_force(directory, node.participant_id, participant.id, today)
    unavailable = ""
    effects: dict[tuple[str, str], tuple[str, str]] = {}
    if participant.id != node.participant_id:
        try:
            profile = party_profile(directory, node.participant_id, participant.id, today)
            known = get_law().declaration_effects
            # The effect in plain words is law data, translated where shown; a declaration
            # comity does not model keeps only the party's own text.
            effects = {
                (d.instrument, d.article): (d.effect_text, d.citation)
                for d in profile.declarations
                if d.effect in known
            }
        except LawError as exc:
            unavailable = exc.message
    host = directory.participant(participant.established_in) if participant.established_in else None
    return render(
        request,
        "directory/participant.html",
        user,
        directory=directory,
        participant=participant,
        host=host,
        in_force=in_force,
        effects=effects,
        unavailable=unavailable,
        language_name=language_name,
        DECLARATION_TYPES=DECLARATION_TYPES,
        KEY_USES=KEY_USES,
        today=today,
        **_common(directory),
    )
