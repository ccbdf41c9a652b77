"""The law as typed data: instruments, request kinds, elements, grounds, declaration effects
and the offence taxonomy. Loaded from `data/*.yaml` by `comity.law.loader`; never edited in code.

Every rule carries `citation` (e.g. "budapest 29(2)(c)") and `verified`: true only where the
rule was checked against the primary text; draft or unchecked readings stay `false` until a
lawyer confirms them, which is a change to the data, not to code.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["blocking", "warning", "note"]
# `diplomatic`: a request addressed through diplomatic channels (the right a state keeps under
# untoc 18(13)); an alternative only - the directory names no diplomatic contact to route to.
Channel = Literal[
    "central-authority", "24/7-contact", "provider-direct", "designated-authority", "diplomatic"
]
ElementCondition = Literal[
    "except-service-of-documents", "must-be-true", "if-host-requires-notification"
]
CODE = r"^[a-z0-9][a-z0-9-]*$"


class _Law(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Cited(_Law):
    """A rule with its source."""

    citation: str = Field(min_length=1)
    verified: bool
    source_text: str | None = Field(
        default=None,
        description="The passage the rule rests on, verbatim: required when verified (it must "
        "appear in a text of law/texts/); else a seed document's Chinese text",
    )


class Element(Cited):
    """A mandatory content of a request: the drafter fills `field`, a finding cites it."""

    field: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    paragraph: str | None = None
    severity: Severity = "blocking"
    condition: ElementCondition | None = None
    condition_text: str | None = None


class RouteRule(Cited):
    """The channel a request of this kind takes under this instrument."""

    primary: Channel
    alternatives: list[Channel] = Field(default_factory=list)


class GroundException(Cited):
    """When the ground is not available: the request's `field` is given (true or filled)."""

    field: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: str


class GroundCitation(Cited):
    ground: str = Field(pattern=CODE)
    unless: GroundException | None = Field(
        default=None, description="An exception that takes the ground away (e.g. listed offences)"
    )
    requires_declaration: str | None = Field(
        default=None,
        description="Effect code (declarations.yaml) of the reservation or declaration through"
        " which alone the ground exists: only a requested party that made it may invoke it",
    )


BarCondition = Literal["always", "no-mla-treaty", "budapest-2-to-11", "only-budapest-2-to-11"]


class GroundBar(GroundCitation):
    """A ground the instrument forbids. `when` says when the bar holds: `always`; `no-mla-
    treaty` when the bar is among the paragraphs a binding MLA treaty displaces (untoc 18(7));
    `budapest-2-to-11` when the request concerns an offence of Budapest arts 2-11;
    `only-budapest-2-to-11` when every offence it concerns is one of arts 2-11.
    `condition_citation` is the article that limits the bar."""

    when: BarCondition = "always"
    condition_citation: str | None = None


class GroundsRule(Cited):
    """Grounds the requested party may invoke; `citation` is the article listing them."""

    grounds: list[GroundCitation]
    declared_grounds: Cited | None = Field(
        default=None,
        description="The requested party's own grounds (its law or treaties, declared in the"
        " directory) are also allowed; the article that lets them in",
    )


class DualCriminalityRule(Cited):
    rule: Literal["may-refuse", "not-required", "not-required-unless-reservation"]
    reservation: str | None = Field(
        default=None, pattern=CODE, description="The declaration effect that brings it back"
    )
    severity: Severity = "warning"


class TimeRule(Cited):
    """A period: `days` and/or `hours` after `relative_to` (the start or another rule)."""

    code: str = Field(pattern=CODE)
    description: str
    days: int = Field(default=0, ge=0)
    hours: int = Field(default=0, ge=0)
    relative_to: str = "start"
    bound: Literal["minimum", "maximum"] = "maximum"
    data_type: str | None = None


class SeriousCrime(Cited):
    """The instrument covers only offences punishable by at least `minimum_years` of
    deprivation of liberty, or a more serious penalty (untoc 2(b)); `citation` is the
    definition."""

    minimum_years: float = Field(gt=0)
    field: str = Field(
        pattern=r"^[a-z][a-z0-9_]*$",
        description="Request field: the maximum penalty in years under the requesting party's law",
    )
    life_field: str | None = Field(
        default=None,
        pattern=r"^[a-z][a-z0-9_]*$",
        description="Request field, true when the maximum is life imprisonment",
    )
    offences_without_threshold: list[str] = Field(
        default_factory=list,
        description="Articles establishing offences covered whatever their penalty (untoc "
        "3(1)(a)): a request whose every conduct category cites one needs no threshold",
    )


class ScopeRule(Cited):
    """What a request must concern for the instrument to apply at all; `citation` is the
    article on scope (untoc 3(1)(b))."""

    serious_crime: SeriousCrime | None = None


class KindRule(Cited):
    """How one instrument governs one request kind."""

    route: RouteRule
    displaced_by_mla_treaty: Cited | None = Field(
        default=None, description="Procedure applies only where no MLA treaty binds the pair"
    )
    elements: list[Element]
    additional_elements: list[Element] = Field(
        default_factory=list, description="Kind-specific elements after a shared list"
    )
    refusal: GroundsRule | None = None
    postponement: GroundsRule | None = None
    dual_criminality: DualCriminalityRule | None = None
    time_rules: list[TimeRule] = Field(default_factory=list)
    scope: ScopeRule | None = Field(
        default=None, description="What the request must concern (e.g. a serious crime)"
    )

    @property
    def all_elements(self) -> list[Element]:
        """The mandatory elements in order: the shared list, then the kind-specific ones."""
        return [*self.elements, *self.additional_elements]


class ReasonsRule(Cited):
    """The article requiring reasons, and for which acts (`refusal`, `postponement`)."""

    parts: list[Literal["refusal", "postponement"]] = Field(min_length=1)


class Instrument(Cited):
    id: str = Field(pattern=CODE)
    title: str
    binds_by: Literal["ratification", "treaty", "always"]
    priority: int = Field(ge=0, description="Lower is preferred when several bind a pair")
    fallback_only: bool = Field(default=False, description="Only when nothing else binds")
    is_mla_treaty: bool = False
    applies_from: date | None = None
    entry_into_force: Cited | None = None
    language_rule: Cited
    never_grounds: list[GroundBar] = Field(default_factory=list)
    reasons_rule: ReasonsRule | None = Field(
        default=None, description="The article requiring reasons for a refusal or postponement"
    )
    kinds: dict[str, KindRule]


class Kind(_Law):
    id: str = Field(pattern=CODE)
    letter: str = Field(pattern=r"^[A-Z]$")
    title: str
    description: str
    target: Literal["state", "provider", "either"] = "state"
    fallback_kind: str | None = None
    emergency: bool = Field(
        default=False,
        description="Urgent by nature (a risk to life or safety), marked as such in the "
        "inbox; `emergency_basis` cites the article",
    )
    emergency_basis: Cited | None = Field(
        default=None, description="The article that makes the kind an emergency one"
    )


class Ground(_Law):
    code: str = Field(pattern=CODE)
    title: str
    short_title: str = Field(description="A few words for charts and tables (statistics)")
    type: Literal["refusal", "postponement"] = "refusal"
    never: Cited | None = Field(default=None, description="Set when no instrument allows it")


class EffectAction(_Law):
    """What the evaluator does when the target state's declaration is in force."""

    type: Literal["note", "require-true", "block-if-only", "block-if-contains", "block", "none"]
    field: str | None = None
    values: list[str] = Field(default_factory=list)
    severity: Severity = "blocking"


class DeclarationEffect(Cited):
    code: str = Field(pattern=CODE)
    title: str
    effect_text: str
    instrument: str
    article: str
    type: Literal["declaration", "reservation"]
    kinds: list[str]
    action: EffectAction
    copy_to: Channel | None = Field(
        default=None, description="Where a copy or notification of the request must go"
    )
    adds_alternatives: list[Channel] = Field(default_factory=list)


class ConductCategory(Cited):
    code: str = Field(pattern=CODE)
    title: str
    articles: list[str] = Field(default_factory=list)
    budapest_2_to_11: bool = False

    @property
    def laws(self) -> set[str]:
        """The instruments that establish this offence (from `articles`, e.g. "uncc 7")."""
        return {article.split()[0] for article in self.articles}


class LawFile(_Law):
    """One data file: an instrument and/or catalogue entries."""

    instrument: Instrument | None = None
    kinds: list[Kind] = Field(default_factory=list)
    grounds: list[Ground] = Field(default_factory=list)
    declaration_effects: list[DeclarationEffect] = Field(default_factory=list)
    conduct_categories: list[ConductCategory] = Field(default_factory=list)


class Law(_Law):
    """All the data files together, indexed by id."""

    instruments: dict[str, Instrument]
    kinds: dict[str, Kind]
    grounds: dict[str, Ground]
    declaration_effects: dict[str, DeclarationEffect]
    conduct_categories: dict[str, ConductCategory]
