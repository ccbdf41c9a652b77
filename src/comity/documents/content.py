"""What goes into the formal document, decided once for every output format: the title, the
two authorities, the legal basis and each mandatory element with its value, all translated
into the document's language. Pure: reads the law and the directory, writes nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from babel import Locale
from babel.dates import format_date

from comity.directory.document import Contact, Directory, Participant, Role
from comity.documents import messages as m
from comity.documents.catalogs import translations
from comity.documents.errors import LanguageNotAccepted
from comity.law import get_law, required_elements, route
from comity.law.parties import contact, participant, treaties_between

LANGUAGES: tuple[str, ...] = ("ar", "zh", "en", "fr", "ru", "es")
"""The six official languages of the United Nations, which the catalogs translate."""

RTL_LANGUAGES = frozenset({"ar"})

_CHANNEL_ROLE = {
    "central-authority": Role.CENTRAL_AUTHORITY,
    "24/7-contact": Role.CONTACT_POINT_24_7,
    "designated-authority": Role.DESIGNATED_AUTHORITY,
    "provider-direct": Role.LEGAL_REPRESENTATIVE,
}
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True, slots=True)
class Text:
    """A piece of text and the language it is written in; `needs_translation` when that is not
    the document's language (free text is never machine-translated)."""

    value: str
    lang: str
    needs_translation: bool = False


@dataclass(frozen=True, slots=True)
class Authority:
    heading: str
    party: str
    authority: str
    contact: str


@dataclass(frozen=True, slots=True)
class ElementEntry:
    """One mandatory content of the request: its translated label, the provision that requires
    it and the value the drafter gave (`None` when not given)."""

    field: str
    label: str
    citation: str
    value: Text | None


@dataclass(frozen=True, slots=True)
class FormalDocument:
    """The formal document in one language, independent of PDF or DOCX."""

    lang: str
    rtl: bool
    title: str
    kind: str
    requesting: Authority
    requested: Authority
    channel: str
    instrument: str
    instrument_title: str
    articles: str
    treaty: str | None
    elements: list[ElementEntry]
    date: str
    labels: dict[str, str] = field(default_factory=dict)
    source_language: str = "en"
    source_language_name: str = ""

    @property
    def needs_translation(self) -> bool:
        return any(e.value is not None and e.value.needs_translation for e in self.elements)


def _check_language(lang: str, addressee: Participant) -> None:
    if lang not in LANGUAGES:
        raise LanguageNotAccepted(
            f"lang: {lang!r} is not one of the six languages the templates are translated "
            f"into ({', '.join(LANGUAGES)})",
            field="lang",
            accepted=list(LANGUAGES),
        )
    if addressee.languages and lang not in addressee.languages:
        accepted = ", ".join(addressee.languages)
        raise LanguageNotAccepted(
            f"lang: {addressee.name} ({addressee.id}) accepts requests in {accepted}, "
            f"not {lang!r}; render the document in one of those",
            field="lang",
            party=addressee.id,
            accepted=list(addressee.languages),
        )


def _contact_line(found: Contact | None) -> str:
    if found is None:
        return ""
    return " · ".join(part for part in (found.email, found.phone) if part)


def _authority(
    heading: str, party: Participant, role: Role, named: str | None, found: Contact | None
) -> Authority:
    found = found or contact(party, role) or contact(party, Role.CENTRAL_AUTHORITY)
    name = named or (found.name if found else "")
    return Authority(heading, f"{party.name} ({party.id})", name, _contact_line(found))


def _is_free_text(value: str) -> bool:
    """Sentences are free text; codes (`technical-advice`) and ISO dates are not."""
    return any(ch.isspace() for ch in value.strip()) and not _ISO_DATE.match(value.strip())


def _value(raw: Any, lang: str, source: str, gettext: Any) -> Text | None:
    if raw is None or (isinstance(raw, str | list | dict) and not raw):
        return None
    if isinstance(raw, bool):
        return Text(gettext(m.YES if raw else m.NO), lang)
    if isinstance(raw, list):
        items = [str(item) for item in raw]
        free = any(_is_free_text(item) for item in items)
        return Text(", ".join(items), source if free else lang, free and source != lang)
    text = str(raw)
    if _is_free_text(text):
        return Text(text, source, source != lang)
    return Text(text, lang)


def build_document(
    request: dict[str, Any], directory: Directory, lang: str, on: date
) -> FormalDocument:
    """Decide the contents of the formal document for `request` in `lang` on `on`.

    Raises `LanguageNotAccepted` (422, field `lang`) for a language the addressee does not
    accept, and the law's errors for an unknown kind or party or no applicable instrument."""
    law = get_law()
    kind = str(request.get("kind") or "")
    requesting_id = str(request.get("requesting_party") or "")
    requested_id = str(request.get("requested_party") or "")
    if lang not in LANGUAGES:
        _check_language(lang, participant(directory, requested_id, "requested_party"))
    way = route(directory, requesting_id, requested_id, kind, on, request.get("instrument") or None)
    addressee = participant(
        directory, way.to if way.channel == "provider-direct" else way.state, "requested_party"
    )
    _check_language(lang, addressee)
    gettext = translations(lang).gettext
    source = str(request.get("language_of_facts") or "en")
    requesting = participant(directory, requesting_id, "requesting_party")
    receiver = participant(directory, way.to, "requested_party")
    spontaneous = kind == "spontaneous-information"
    role = _CHANNEL_ROLE[way.channel]
    sender_role = Role.CENTRAL_AUTHORITY if role == Role.LEGAL_REPRESENTATIVE else role
    named = next(
        (
            str(request[f])
            for f in ("requesting_authority", "issuing_authority", "providing_authority")
            if request.get(f)
        ),
        None,
    )
    instrument = law.instruments[way.instrument]
    rule = instrument.kinds[kind]
    treaties = treaties_between(directory, requesting_id, way.state, on, way.instrument)
    treaty = (treaties[0].title or treaties[0].id) if treaties else None
    elements = [
        ElementEntry(
            field=element.field,
            label=gettext(element.label),
            # Citations keep the law data's short form (`budapest 29(2)(c)`), which
            # practitioners search for; the legal basis names the instrument in full.
            citation=element.citation,
            value=_value(request.get(element.field), lang, source, gettext),
        )
        for element in required_elements(kind, way.instrument)
    ]
    locale = Locale.parse(lang)
    return FormalDocument(
        lang=lang,
        rtl=lang in RTL_LANGUAGES,
        title=gettext(m.KIND_TITLES.get(kind, law.kinds[kind].title)),
        kind=kind,
        requesting=_authority(
            gettext(m.PROVIDING_PARTY if spontaneous else m.REQUESTING_PARTY),
            requesting,
            sender_role,
            named,
            None,
        ),
        requested=_authority(
            gettext(m.RECEIVING_PARTY if spontaneous else m.REQUESTED_PARTY),
            receiver,
            role,
            None,
            way.contact,
        ),
        channel=gettext(m.CHANNELS[way.channel]),
        instrument=way.instrument,
        instrument_title=gettext(m.INSTRUMENT_TITLES.get(way.instrument, instrument.title)),
        articles=f"{rule.citation}; {way.citation}"
        if way.citation not in rule.citation
        else rule.citation,
        treaty=treaty,
        elements=elements,
        date=format_date(on, format="long", locale=locale),
        labels=_labels(gettext, format_date(on, format="long", locale=locale)),
        source_language=source,
        source_language_name=locale.languages.get(source, source),
    )


def _labels(gettext: Any, when: str) -> dict[str, str]:
    names = {
        "authority": m.AUTHORITY,
        "channel": m.CHANNEL,
        "contact": m.CONTACT,
        "legal_basis": m.LEGAL_BASIS,
        "instrument": m.INSTRUMENT,
        "articles": m.ARTICLES,
        "treaty": m.TREATY,
        "contents": m.CONTENTS,
        "citation": m.CITATION,
        "not_provided": m.NOT_PROVIDED,
        "translation_required": m.TRANSLATION_REQUIRED,
        "original_language": m.ORIGINAL_LANGUAGE,
        "kept_as_written": m.KEPT_AS_WRITTEN,
        "date": m.DATE,
        "place": m.PLACE,
        "signature": m.SIGNATURE,
        "name_and_title": m.NAME_AND_TITLE,
        "seal": m.SEAL,
        "page": m.PAGE,
        "reference": m.REFERENCE,
    }
    labels = {key: gettext(msgid) for key, msgid in names.items()}
    labels["done_at"] = gettext(m.DONE_AT).format(date=when)
    return labels
