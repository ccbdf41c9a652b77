"""The fixed wording of the formal document, marked for extraction into the catalogs.

Element labels and condition texts come from the law data (`comity.law`), not from here.
This catalog is the one place where every text of the law data shown to a reader (in the
document or in the web pages, which fall back to this catalog) is translated: `law_texts`
lists them, and a test keeps the catalogs complete.
"""

from __future__ import annotations

from comity.law import get_law


def law_texts() -> dict[str, str]:
    """Every text of the law data that a document or a page shows, with what it is: element
    labels and condition texts, conduct titles, ground titles and short titles, and the
    effect texts of declarations."""
    law = get_law()
    texts: dict[str, str] = {}
    for instrument in law.instruments.values():
        for rule in instrument.kinds.values():
            for element in rule.all_elements:
                texts.setdefault(element.label, "element label")
                if element.condition_text:
                    texts.setdefault(element.condition_text, "condition text")
    for category in law.conduct_categories.values():
        texts.setdefault(category.title, "conduct title")
    for ground in law.grounds.values():
        texts.setdefault(ground.title, "ground title")
        texts.setdefault(ground.short_title, "ground short title")
    for effect in law.declaration_effects.values():
        texts.setdefault(effect.effect_text, "declaration effect")
    return texts


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for a deferred message
    """Mark `message` for the catalogs without translating it here."""
    return message


KIND_TITLES: dict[str, str] = {
    "mla": N_("Request for mutual legal assistance"),
    "preservation": N_("Request for expedited preservation of stored computer data"),
    "traffic-data-disclosure": N_("Request for expedited disclosure of preserved traffic data"),
    "stored-data-access": N_("Request for mutual assistance in accessing stored computer data"),
    "real-time-traffic": N_(
        "Request for mutual assistance in the real-time collection of traffic data"
    ),
    "interception": N_("Request for mutual assistance in the interception of content data"),
    "contact-point-assistance": N_("Request for assistance through the 24/7 network"),
    "subscriber-information": N_("Order for the disclosure of subscriber information"),
    "domain-registration": N_("Request for domain name registration information"),
    "giving-effect-to-order": N_("Request to give effect to an order for the production of data"),
    "emergency-disclosure": N_("Request for expedited disclosure of data in an emergency"),
    "emergency-mla": N_("Request for emergency mutual assistance"),
    "spontaneous-information": N_("Spontaneous transmission of information"),
}

INSTRUMENT_TITLES: dict[str, str] = {
    "budapest": N_("Convention on Cybercrime (ETS No. 185)"),
    "budapest-p2": N_(
        "Second Additional Protocol to the Convention on Cybercrime on enhanced co-operation "
        "and disclosure of electronic evidence (CETS No. 224)"
    ),
    "untoc": N_("United Nations Convention against Transnational Organized Crime"),
    "uncc": N_("United Nations Convention against Cybercrime"),
    "bilateral": N_("Bilateral treaty on mutual legal assistance in criminal matters"),
    "eu-eevidence": N_(
        "Regulation (EU) 2023/1543 on European Production Orders and European Preservation "
        "Orders for electronic evidence"
    ),
    "reciprocity": N_("Reciprocity (in the absence of a treaty)"),
}

CHANNELS: dict[str, str] = {
    "central-authority": N_("Central authority"),
    "24/7-contact": N_("24/7 point of contact"),
    "designated-authority": N_("Designated authority"),
    "provider-direct": N_("Service provider (direct transmission)"),
    "diplomatic": N_("Diplomatic channels"),
}

REQUESTING_PARTY = N_("Requesting party")
REQUESTED_PARTY = N_("Requested party")
PROVIDING_PARTY = N_("Transmitting party")
RECEIVING_PARTY = N_("Receiving party")
AUTHORITY = N_("Authority")
CHANNEL = N_("Channel of transmission")
CONTACT = N_("Contact")
LEGAL_BASIS = N_("Legal basis")
INSTRUMENT = N_("Instrument")
ARTICLES = N_("Articles")
TREATY = N_("Treaty")
CONTENTS = N_("Contents of the request")
CITATION = N_("Provision")
NOT_PROVIDED = N_("Not provided")
YES = N_("Yes")
NO = N_("No")
TRANSLATION_REQUIRED = N_("Translation required")
ORIGINAL_LANGUAGE = N_("Original language: {language}")
KEPT_AS_WRITTEN = N_(
    "Text in the original language is reproduced as written and must be translated before "
    "transmission."
)
DATE = N_("Date")
PLACE = N_("Place")
SIGNATURE = N_("Signature")
NAME_AND_TITLE = N_("Name and title of the signing official")
SEAL = N_("Official seal")
DONE_AT = N_("Done at ____________________, on {date}")
PAGE = N_("Page {page} of {pages}")
REFERENCE = N_("Reference")
