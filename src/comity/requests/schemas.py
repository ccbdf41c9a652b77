"""What the requests API and CLI accept and answer (Pydantic)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from comity.directory.document import Contact
from comity.law import Finding, PartyProfile, Route
from comity.law.checking import Check
from comity.requests.models import RequestDraft


class FindingView(BaseModel):
    severity: str
    element: str = Field(description="The request field concerned")
    message: str
    citation: str = Field(description="The article the finding comes from")
    verified: bool
    code: str = Field(description="Stable code of the finding (see comity.law.FINDING_CODES)")
    params: dict[str, Any] = Field(
        description="The values in the message (field, label, party, languages, conduct, ...)"
    )

    model_config = ConfigDict(from_attributes=True)

    @classmethod
    def of(cls, finding: Finding) -> FindingView:
        return cls.model_validate(finding)


class RouteSummaryView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    channel: str
    to: str
    state: str
    citation: str
    verified: bool
    alternatives: list[str]
    copies: list[str]


class NotAppliedView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    instrument: str
    reason: str = Field(description="Why this instrument was not applied")


class AppliedView(BaseModel):
    """The instrument the check applied, why, and the route the request takes."""

    model_config = ConfigDict(from_attributes=True)

    instrument: str
    title: str
    citation: str
    verified: bool
    treaty: str | None
    why: str = Field(description="named, preferred, only or fallback")
    explanation: str
    route: RouteSummaryView
    also_binding: list[str] = Field(description="Other instruments binding the pair, by priority")
    not_applied: list[NotAppliedView]


class CheckView(BaseModel):
    kind: str
    requesting_party: str
    requested_party: str
    on: date
    blocking: bool = Field(description="True when something must be fixed before sending")
    applied: AppliedView | None = Field(
        default=None, description="The instrument applied and why; none when none applies"
    )
    findings: list[FindingView]

    model_config = ConfigDict(from_attributes=True)

    @classmethod
    def of(cls, checked: Check) -> CheckView:
        return cls.model_validate(checked)


class NewDraft(BaseModel):
    kind: str = Field(min_length=1, max_length=64)
    requested: str = Field(min_length=1, max_length=64, description="Requested party id")
    document: dict[str, Any] = Field(description="The request document (see /schema/{kind})")


class DraftEdit(BaseModel):
    version: StrictInt = Field(ge=1, description="The version the edit is based on")
    document: dict[str, Any]


class DraftVersion(BaseModel):
    version: StrictInt = Field(ge=1, description="The version the officer read and approves")


class DraftView(BaseModel):
    id: str
    kind: str
    requesting: str
    requested: str
    status: str
    version: int
    drafter: str
    approver: str | None
    created_at: datetime
    updated_at: datetime
    approved_at: datetime | None
    dispatched_at: datetime | None
    case_id: str | None
    document: dict[str, Any]
    blocking: bool
    findings: list[FindingView]

    @classmethod
    def of(cls, draft: RequestDraft, findings: list[Finding]) -> DraftView:
        return cls(
            id=draft.id,
            kind=draft.kind,
            requesting=draft.requesting,
            requested=draft.requested,
            status=draft.status,
            version=draft.version,
            drafter=draft.drafter,
            approver=draft.approver,
            created_at=draft.created_at,
            updated_at=draft.updated_at,
            approved_at=draft.approved_at,
            dispatched_at=draft.dispatched_at,
            case_id=draft.case_id,
            document=draft.document,
            blocking=any(f.severity == "blocking" for f in findings),
            findings=[FindingView.of(f) for f in findings],
        )


class ContactView(BaseModel):
    role: str
    name: str
    email: str
    phone: str
    hours: str
    timezone: str

    @classmethod
    def of(cls, contact: Contact | None) -> ContactView | None:
        if contact is None:
            return None
        return cls(
            role=contact.role.value,
            name=contact.name,
            email=contact.email,
            phone=contact.phone,
            hours=contact.hours,
            timezone=contact.timezone,
        )


class CopyView(BaseModel):
    to: str
    role: str
    reason: str
    citation: str


class RouteView(BaseModel):
    instrument: str
    channel: str
    to: str
    state: str
    contact: ContactView | None
    citation: str
    verified: bool
    alternatives: list[str]
    copies: list[CopyView]

    @classmethod
    def of(cls, route: Route) -> RouteView:
        return cls(
            instrument=route.instrument,
            channel=route.channel,
            to=route.to,
            state=route.state,
            contact=ContactView.of(route.contact),
            citation=route.citation,
            verified=route.verified,
            alternatives=list(route.alternatives),
            copies=[
                CopyView(to=c.to, role=c.role, reason=c.reason, citation=c.citation)
                for c in route.copies
            ],
        )


class DeclarationEffectView(BaseModel):
    instrument: str
    article: str
    type: str
    effect: str
    effect_text: str
    citation: str
    verified: bool


class ProfileView(BaseModel):
    """What a drafter in `us` needs to know before writing to `party` on `on`."""

    us: str
    party: str
    name: str
    on: date
    instruments: list[str]
    languages: list[str]
    declarations: list[DeclarationEffectView]
    contact_24_7: ContactView | None
    central_authority: ContactView | None
    routes: dict[str, RouteView]
    unavailable: dict[str, str] = Field(description="Kinds with no route, and why")

    @classmethod
    def of(cls, profile: PartyProfile, us: str, on: date) -> ProfileView:
        return cls(
            us=us,
            party=profile.party,
            name=profile.name,
            on=on,
            instruments=profile.instruments,
            languages=profile.languages,
            declarations=[
                DeclarationEffectView(
                    instrument=d.instrument,
                    article=d.article,
                    type=d.type,
                    effect=d.effect,
                    effect_text=d.effect_text,
                    citation=d.citation,
                    verified=d.verified,
                )
                for d in profile.declarations
            ],
            contact_24_7=ContactView.of(profile.contact_24_7),
            central_authority=ContactView.of(profile.central_authority),
            routes={k: RouteView.of(r) for k, r in profile.routes.items()},
            unavailable=profile.unavailable,
        )
