"""The directory document: a pure model, validated from the registry's YAML and from the
signed JSON that nodes import. No database here; `directory.service` stores it."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from comity.kit.clock import ensure_utc
from comity.kit.errors import ComityError
from comity.kit.validation import first_problem

PARTICIPANT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


class DirectoryInvalid(ComityError):
    status_code = 422
    code = "directory_invalid"


class Role(StrEnum):
    CENTRAL_AUTHORITY = "central-authority"
    CONTACT_POINT_24_7 = "24/7-contact"
    EXTRADITION_AUTHORITY = "extradition-authority"
    DESIGNATED_AUTHORITY = "designated-authority"
    LEGAL_REPRESENTATIVE = "legal-representative"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PublicKey(_Strict):
    """A participant's public key; retired keys still verify what they signed before
    `valid_until`; revoked keys verify nothing."""

    kid: str
    use: Literal["sig", "enc"]
    jwk: dict[str, Any]
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    revoked: bool = False

    @field_validator("jwk")
    @classmethod
    def _public_only(cls, value: dict[str, Any]) -> dict[str, Any]:
        if "d" in value:
            raise ValueError("a directory key must be public: remove the private part 'd'")
        if value.get("kty") != "OKP" or value.get("crv") not in {"Ed25519", "X25519"}:
            raise ValueError("keys must be OKP Ed25519 (sig) or X25519 (enc)")
        return value


class Contact(_Strict):
    role: Role
    name: str
    email: str = ""
    phone: str = ""
    hours: str = ""
    timezone: str = "UTC"
    scope: list[str] = Field(default_factory=list, description="e.g. protocol articles 6-8")


class Declaration(_Strict):
    """A declaration or reservation notified by a party, with what it changes (`effect`)."""

    instrument: str
    article: str
    type: Literal["declaration", "reservation"] = "declaration"
    effect: str = Field(
        description="Machine-readable effect code, e.g. 'simultaneous-notification'"
    )
    text: str = ""
    from_date: date | None = Field(default=None, alias="from")
    until: date | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class DeclaredGround(_Strict):
    """A ground on which the party's own law or its treaties let it refuse or postpone
    assistance (Budapest 25(4) refers to them), with the provision it rests on."""

    ground: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", description="A ground code (law data)")
    type: Literal["refusal", "postponement"] = "refusal"
    basis: str = Field(min_length=1, description="The provision of its law or treaty")
    instruments: list[str] = Field(
        default_factory=list,
        description="Instruments under which the party invokes it; empty: every instrument"
        " that refers to the requested party's law",
    )


class OffencePenalty(_Strict):
    """The maximum penalty the party's law sets for a conduct category it covers (serious
    crime thresholds, e.g. UNTOC art 2(b): at least four years)."""

    conduct: str = Field(description="A conduct category of offence_coverage")
    maximum_years: float = Field(ge=0, description="Maximum deprivation of liberty, in years")
    life: bool = Field(default=False, description="Life imprisonment is the maximum")
    basis: str = Field(min_length=1, description="The provision of its law")


class Ratification(_Strict):
    instrument: str
    in_force_from: date | None = None
    until: date | None = None


class Participant(_Strict):
    id: str = Field(pattern=PARTICIPANT_ID_PATTERN)
    name: str
    type: Literal["state", "provider", "registry"]
    established_in: str | None = None
    endpoint: str = ""
    keys: list[PublicKey] = Field(default_factory=list)
    contacts: list[Contact] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list)
    declarations: list[Declaration] = Field(default_factory=list)
    instruments: list[Ratification] = Field(default_factory=list)
    offence_coverage: list[str] = Field(
        default_factory=list, description="Conduct categories criminal under its law"
    )
    grounds: list[DeclaredGround] = Field(
        default_factory=list,
        description="Refusal and postponement grounds under its own law or treaties",
    )
    penalties: list[OffencePenalty] = Field(
        default_factory=list, description="Maximum penalties for the conduct it covers"
    )

    @model_validator(mode="after")
    def _provider_has_state(self) -> Participant:
        if self.type == "provider" and not self.established_in:
            raise ValueError(f"provider {self.id} must say where it is established")
        uncovered = [p.conduct for p in self.penalties if p.conduct not in self.offence_coverage]
        if uncovered:
            raise ValueError(
                f"{self.id} gives penalties for conduct its offence_coverage does not list:"
                f" {uncovered}"
            )
        return self

    def key(self, kid: str) -> PublicKey | None:
        return next((k for k in self.keys if k.kid == kid), None)

    def current_key(self, use: Literal["sig", "enc"]) -> PublicKey | None:
        """The newest unrevoked key of `use` without an end of validity."""
        usable = [k for k in self.keys if k.use == use and not k.revoked and k.valid_until is None]
        return usable[-1] if usable else None


class Treaty(_Strict):
    """A treaty binding a pair (or group) of parties outside the multilateral instruments."""

    id: str
    instrument: str = "bilateral"
    parties: list[str] = Field(min_length=2)
    title: str = ""
    in_force_from: date | None = None
    until: date | None = None


class Directory(_Strict):
    version: int = Field(ge=1)
    issued_at: datetime
    expires_at: datetime
    registry: str
    participants: list[Participant]
    treaties: list[Treaty] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Directory:
        ids = [p.id for p in self.participants]
        duplicates = {i for i in ids if ids.count(i) > 1}
        if duplicates:
            raise ValueError(f"participant ids listed twice: {sorted(duplicates)}")
        known = set(ids)
        for treaty in self.treaties:
            missing = [p for p in treaty.parties if p not in known]
            if missing:
                raise ValueError(f"treaty {treaty.id} names unknown parties {missing}")
        for participant in self.participants:
            if participant.established_in and participant.established_in not in known:
                raise ValueError(
                    f"{participant.id} is established in unknown party {participant.established_in}"
                )
        if ensure_utc(self.expires_at) <= ensure_utc(self.issued_at):
            raise ValueError("expires_at must be after issued_at")
        return self

    def participant(self, participant_id: str) -> Participant | None:
        return next((p for p in self.participants if p.id == participant_id), None)

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


def parse_directory(raw: Any, source: str = "directory") -> Directory:
    """Validate a directory document; the error names the offending path."""
    try:
        return Directory.model_validate(raw)
    except ValidationError as exc:
        where, why = first_problem(exc, "(top level)")
        raise DirectoryInvalid(f"{source}: {where}: {why}", field=where) from exc
